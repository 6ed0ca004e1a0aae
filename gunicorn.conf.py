"""gunicorn's settings file, read from the working directory (README: Production)."""


def post_worker_init(worker):
    """An EventHub worker, its app loaded: the garbage collector tuned for thousands of
    connections (eventhub/gctune.py). Other apps served from here are left as they are."""
    if getattr(worker.wsgi, "import_name", None) == "eventhub":
        from eventhub.gctune import tune

        worker.log.info(tune())
