"""Video-meeting providers behind one interface.

This package knows nothing of Flask or of EventHub's models: it takes and returns the plain
dataclasses of :mod:`integrations.base` and raises the errors defined there.
"""
