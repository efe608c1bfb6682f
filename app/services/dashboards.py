"""What each role sees on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Role, School, User


@dataclass
class HomeSummary:
    role: Role
    school: School | None = None
    counts: dict[str, int] = field(default_factory=dict)
    schools: list[School] = field(default_factory=list)
    nominations: list = field(default_factory=list)
    register_entry: object | None = None
    nominations_as_nominee: list = field(default_factory=list)


def home_summary(user: User) -> HomeSummary:
    summary = HomeSummary(role=user.role, school=user.school)
    summary.counts["schools"] = db.session.scalar(select(func.count()).select_from(School)) or 0
    if user.role in (Role.CEO, Role.EXECUTIVE, Role.TRUSTEE, Role.ADMIN):
        summary.schools = list(db.session.scalars(select(School).order_by(School.name)))
        summary.counts["pupils"] = sum(s.pupils or 0 for s in summary.schools)
    _talent(user, summary)
    if user.role == Role.ADMIN:
        summary.counts["users"] = db.session.scalar(select(func.count()).select_from(User)) or 0
        summary.counts["disabled"] = db.session.scalar(
            select(func.count()).select_from(User).where(User.active.is_(False))) or 0
    return summary


def _talent(user: User, summary: HomeSummary) -> None:
    """Nominations and renewals waiting for this user; a supporter's own register page."""
    from app.services import nominations, register

    if user.role in (Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO):
        summary.counts["nominations_awaiting"] = nominations.awaiting_count(user)
        summary.counts["renewals_due"] = len(register.renewals_due(user))
    if user.role == Role.HEADTEACHER:
        summary.nominations = nominations.list_for(user)[:10]
    summary.register_entry = register.entry_of_user(user)
    if user.role in (Role.HEADTEACHER, Role.SCHOOL_STAFF):
        summary.nominations_as_nominee = nominations.for_nominee(user)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - the health check reports, it does not raise
        db.session.rollback()
        return False
