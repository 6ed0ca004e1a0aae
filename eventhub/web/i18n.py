"""Which language a page is shown in: ``?lang=``, then the visitor's choice, then the browser."""

from __future__ import annotations

from flask import current_app, g, request, session


def select_locale() -> str:
    """Flask-Babel's locale selector; a ``?lang=`` choice is kept in the session."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") if request else None
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    participant = g.get("participant")
    if participant is not None and participant.language in languages:
        return participant.language
    return request.accept_languages.best_match(languages) or "en"
