"""The audit log: record events in a hash chain, search them, verify the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditCheckpoint, AuditEvent, User
from app.models.types import utcnow

GENESIS = "0" * 64
_SECRET_WORDS = ("password", "token", "secret", "hash", "totp", "csrf")


def _storable(text: str) -> str:
    # PostgreSQL cannot store NUL in text or JSON; keep a visible mark of it instead of failing the request.
    return text.replace("\x00", "\ufffd")


def _scrub(value):
    """Drop anything that looks like a secret, however deep it sits in the details."""
    if isinstance(value, dict):
        return {
            _storable(str(k)): ("[removed]" if any(w in str(k).lower() for w in _SECRET_WORDS) else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _storable(str(value))


def _fit(value: str | None, length: int) -> str | None:
    # An over-long value from the outside (an email typed at sign-in) must not turn a request into a 500.
    return _storable(value)[:length] if isinstance(value, str) else value


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        {
            "at": event.at.isoformat(),
            "actor_id": event.actor_id,
            "actor_email": event.actor_email,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "ip": event.ip,
            "details": event.details,
        },
        sort_keys=True,
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _lock_chain() -> None:
    # Two writers must not both chain onto the same last row.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7270001)"))


def record(
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    details: dict | None = None,
    actor: User | None = None,
    actor_email: str | None = None,
    commit: bool = False,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit saves it with the change it describes)."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    _lock_chain()
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    if last is None:  # every event so far purged under the retention schedule: chain on from the checkpoint
        checkpoint = latest_checkpoint()
        last = checkpoint.last_hash if checkpoint else None
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_email=_fit(actor.email if actor else actor_email, 254),
        action=_fit(action, 80),
        target_type=_fit(target_type, 60),
        target_id=_fit(None if target_id is None else str(target_id), 60),
        ip=_fit(request.remote_addr if has_request_context() else None, 45),
        details=_scrub(details or {}),
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event.prev_hash, event)
    db.session.add(event)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    target_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(filters: AuditFilter, page: int = 1, per_page: int = 50):
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action))
    if filters.actor:
        query = query.where(func.lower(AuditEvent.actor_email).contains(filters.actor.lower()))
    if filters.target_type:
        query = query.where(AuditEvent.target_type == filters.target_type)
    if filters.since:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.at < filters.until)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


#: The purge's own event names the checkpoint it wrote, so a forged checkpoint is not vouched for by the chain.
CHECKPOINT_KEY = "checkpoint_digest"
def as_dict(event: AuditEvent) -> dict:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_lines(since: datetime | None = None):
    """One JSON object per event, oldest first. JSON escapes CR, LF (and every other control character, and
    with ensure_ascii also U+2028/U+2029), so no value can start a line of its own."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    for event in db.session.scalars(query).yield_per(1000):
        yield json.dumps(as_dict(event), ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n"


def verify_chain() -> list[str]:
    """Return a line for each event whose hash or link does not match; empty when the log is intact.

    Events removed under the retention schedule leave a checkpoint (the last removed event's id and hash);
    the chain is checked from there, and the purge event that wrote the checkpoint must still be in it.
    """
    problems: list[str] = []
    checkpoint = latest_checkpoint()
    # A purge removes a whole prefix of the chain, so every event left follows the checkpoint. (Not `id >
    # last_event_id`: SQLite reuses ids once every event has gone.)
    prev = checkpoint.last_hash if checkpoint else GENESIS
    vouched = checkpoint is None
    query = select(AuditEvent).order_by(AuditEvent.id)
    for event in db.session.scalars(query).yield_per(1000):
        if event.prev_hash != prev:
            problems.append(f"event {event.id}: link broken (an earlier event was removed or changed)")
        if _digest(event.prev_hash, event) != event.hash:
            problems.append(f"event {event.id}: contents changed after it was written")
        if checkpoint and (event.details or {}).get(CHECKPOINT_KEY) == checkpoint.last_hash:
            vouched = True
        prev = event.hash
    if not vouched:
        problems.append(f"checkpoint {checkpoint.id}: no purge event in the log records it")
    return problems
