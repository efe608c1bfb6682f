"""Email through an outbox: queue inside the caller's transaction, deliver later through the configured backend."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from app.models.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

#: What the "memory" backend has sent, for tests; cleared with `clear_memory()`.
MEMORY: list[EmailMessage] = []


def queue(to: str, subject: str, body: str) -> OutboxMessage | None:
    """Add a message to the outbox; the caller's commit saves it with the change it reports."""
    to = (to or "").strip()
    if not to or "@" not in to:
        return None
    message = OutboxMessage(to=to[:254], subject=subject[:200], body=body, attempts=0)
    db.session.add(message)
    return message


def _email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].partition("@")[2] or None)
    email.set_content(message.body)
    return email


def _send_console(email: EmailMessage) -> None:
    log.info("email to %s: %s", email["To"], email["Subject"])
    print(email.as_string())  # noqa: T201 - the console backend is for developers watching the terminal


def _send_file(email: EmailMessage, message_id: int) -> None:
    folder = Path(current_app.config["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{utcnow():%Y%m%d-%H%M%S}-{message_id:06d}.eml").write_bytes(bytes(email))


def _send_smtp(email: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def _send(email: EmailMessage, message_id: int) -> None:
    backend = current_app.config.get("MAIL_BACKEND", "console")
    if backend == "console":
        _send_console(email)
    elif backend == "file":
        _send_file(email, message_id)
    elif backend == "smtp":
        _send_smtp(email)
    elif backend == "memory":
        MEMORY.append(email)
    else:
        raise RuntimeError(f"MAIL_BACKEND '{backend}' is not one of console, file, smtp, memory")


def pending(limit: int = 500) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id).limit(limit)))


def deliver_pending(limit: int = 500) -> tuple[int, int]:
    """Send what is waiting; returns (sent, failed). A failure is kept for a later attempt, up to MAX_ATTEMPTS."""
    sent = failed = 0
    for message in pending(limit):
        message.attempts += 1
        try:
            _send(_email(message), message.id)
        except (OSError, smtplib.SMTPException, RuntimeError) as exc:
            message.last_error = str(exc)[:500]
            failed += 1
        else:
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
        # One commit per message: a crash half-way never sends the same message twice.
        db.session.commit()
    return sent, failed


def clear_memory() -> None:
    MEMORY.clear()
