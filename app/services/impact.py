"""Impact of completed support: the headteacher's rating and narrative, and the supporter's note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Role, SupportRequest, User
from app.models.types import utcnow
from app.services import audit, requests
from app.services.errors import Forbidden, IllegalTransition, ValidationError

MAX_TEXT = 4000


@dataclass(frozen=True)
class Impact:
    request_id: int
    school_id: int
    title: str
    rating: int | None
    narrative: str | None
    supporter_note: str | None
    evaluated_at: datetime | None


def evaluate(actor: User, request_id: int, rating: int | None, narrative: str) -> SupportRequest:
    """The requesting school's headteacher rates impact against the success criteria (1 to 5) and explains."""
    if rating is None or not 1 <= int(rating) <= 5:
        raise ValidationError("Choose a rating from 1 (no impact) to 5 (criteria fully met).", "rating")
    narrative = (narrative or "").strip()
    if not narrative:
        raise ValidationError("Describe the impact against the success criteria.", "narrative")
    if len(narrative) > MAX_TEXT:
        raise ValidationError(f"The narrative must be at most {MAX_TEXT:,} characters.", "narrative")
    return requests.transition(actor, request_id, "evaluate", impact_rating=int(rating),
                               impact_narrative=narrative, impact_by_id=actor.id, impact_at=utcnow())


def add_supporter_note(actor: User, request_id: int, note: str) -> SupportRequest:
    """The supporter's note on completed support (entered by the executive until supporters have accounts)."""
    if actor.role not in (Role.CEO, Role.EXECUTIVE):
        raise Forbidden("Only the executive team can record the supporter's note.")
    row = requests.get_request(request_id)
    if row.status not in (requests.S.COMPLETED, requests.S.IMPACT_EVALUATED):
        raise IllegalTransition("A supporter's note can be added once the support is completed.")
    note = (note or "").strip()
    if not note:
        raise ValidationError("Enter the supporter's note.", "note")
    if len(note) > MAX_TEXT:
        raise ValidationError(f"The note must be at most {MAX_TEXT:,} characters.", "note")
    row.supporter_note = note
    row.supporter_note_by_id = actor.id
    audit.record("request.supporter_note", target_type="support_request", target_id=row.id, actor=actor)
    db.session.commit()
    return row


def for_requests(ids) -> dict[int, Impact]:
    """Impact of the given requests (for a register entry's history once allocations link them)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(SupportRequest).where(SupportRequest.id.in_(ids)))
    return {r.id: Impact(r.id, r.school_id, r.title, r.impact_rating, r.impact_narrative, r.supporter_note,
                         r.impact_at) for r in rows}
