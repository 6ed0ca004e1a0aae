"""The outbox: the mails EventHub wrote, to read them in the browser.

Without ``SMTP_URL`` this is where an organizer reads what the demo would have sent (the same
messages are ``.eml`` files under ``instance/outbox/``); with SMTP it shows what was sent, what
waits for a retry and why. Mails carry participants' personal links: organizers only (the
blueprint checks), as for ``access_url``.
"""

from __future__ import annotations

import email
from email import policy
from typing import Any

from flask import Response, g, render_template, request

from ...services import mail
from . import bp

PAGE = 50


def _int_arg(name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, 0), maximum)


@bp.get("/outbox")
def outbox():
    """Every mail, newest first, with its state, attempts and last error."""
    state = request.args.get("state") or None
    if state not in (None, "collecting", "pending", "sent", "failed", "skipped"):
        state = None
    offset = _int_arg("offset", 0, 2**31)
    mails, total = mail.list_outbox(g.user, PAGE, offset, state)
    return render_template("manage/outbox.html", mails=mails, total=total, offset=offset,
                           page=PAGE, state=state, smtp=bool(_smtp()))


def _smtp() -> bool:
    from flask import current_app

    return bool(current_app.config.get("SMTP_URL"))


def _parts(message: email.message.EmailMessage) -> dict[str, Any]:
    """Text, HTML and calendar attachments of a stored message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    attachments = [(part.get_filename() or "attachment", part.get_content_type(),
                    part.get_param("method") or "", part.get_content())
                   for part in message.iter_attachments()]
    return {"text": text.get_content() if text else "", "html": html.get_content() if html else "",
            "attachments": attachments}


@bp.get("/outbox/<int:mail_id>")
def outbox_mail(mail_id: int):
    """One mail: its headers, the plain text, the HTML (sandboxed), its iTIP attachments."""
    row = mail.get_outbox_mail(g.user, mail_id)
    parsed = email.message_from_string(row.message, policy=policy.default) if row.message \
        else None
    headers = ([(name, str(parsed[name])) for name in
                ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe")
                if parsed[name]] if parsed is not None else [])
    return render_template("manage/outbox_mail.html", mail=row, headers=headers,
                           **(_parts(parsed) if parsed is not None else
                              {"text": "", "html": "", "attachments": []}))


@bp.get("/outbox/<int:mail_id>.eml")
def outbox_eml(mail_id: int):
    """The message as an ``.eml`` file, to open in a mail program."""
    row = mail.get_outbox_mail(g.user, mail_id)
    if not row.message:
        return Response("not composed yet\n", status=404, mimetype="text/plain")
    return Response(row.message, mimetype="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="{mail.eml_name(row)}.eml"',
        "Cache-Control": "no-store"})
