"""Keep participants' secret tokens out of access logs.

A personal link is the participant's only credential (``/p/<token>``, ``/join/<id>?t=<token>``,
``/calendars/p/<token>.ics``); werkzeug's and gunicorn's access logs would write it in full.
"""

from __future__ import annotations

import logging
import re

# A path segment after /p/ (pages and feeds) and the t= query parameter of join links.
_TOKEN = re.compile(r"(/p/|[?&]t=)[A-Za-z0-9_\-]{8,}")


def redact_tokens(text: str) -> str:
    """``text`` with every personal token replaced by ``***``."""
    return _TOKEN.sub(r"\1***", text)


class TokenFilter(logging.Filter):
    """A logging filter that redacts personal tokens from the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log passes a mapping
            record.args = {k: redact_tokens(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


ACCESS_LOGGERS = ("werkzeug", "gunicorn.access", "engineio.server", "socketio.server")


def install() -> None:
    """Put the filter on the access loggers (once per process)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenFilter) for f in logger.filters):
            logger.addFilter(TokenFilter())
