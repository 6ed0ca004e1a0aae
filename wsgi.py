"""The WSGI application for gunicorn and ``flask --app wsgi``."""

from eventhub import create_app

app = create_app()
