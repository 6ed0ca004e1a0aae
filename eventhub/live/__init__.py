"""Socket.IO ``/live``: the namespace's handlers, join-window notices and presence."""

from .namespace import LiveNamespace, init_app, join_path, joinable, shutdown

__all__ = ["LiveNamespace", "init_app", "join_path", "joinable", "shutdown"]
