"""What each role sees on its home page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import SCHOOL_ROLES, Role, School, SupportRequest, User
from app.models.request import OPEN_STATUSES


@dataclass
class HomeSummary:
    role: Role
    school: School | None = None
    counts: dict[str, int] = field(default_factory=dict)
    schools: list[School] = field(default_factory=list)
    #: school improvement: category, priorities, requests, visits (see _school_improvement, _trust_improvement)
    improvement: dict[str, Any] = field(default_factory=dict)
    nominations: list = field(default_factory=list)
    register_entry: object | None = None
    nominations_as_nominee: list = field(default_factory=list)


def home_summary(user: User) -> HomeSummary:
    summary = HomeSummary(role=user.role, school=user.school)
    summary.counts["schools"] = db.session.scalar(select(func.count()).select_from(School)) or 0
    if user.role in (Role.CEO, Role.EXECUTIVE, Role.TRUSTEE, Role.ADMIN):
        summary.schools = list(db.session.scalars(select(School).order_by(School.name)))
        summary.counts["pupils"] = sum(s.pupils or 0 for s in summary.schools)
    if user.role in SCHOOL_ROLES and user.school_id:
        summary.improvement = _school_improvement(user)
    elif user.role in (Role.CEO, Role.EXECUTIVE, Role.TRUSTEE):
        summary.improvement = _trust_improvement(user, summary.schools)
    _talent(user, summary)
    _allocations(user, summary)
    if user.role == Role.ADMIN:
        summary.counts["users"] = db.session.scalar(select(func.count()).select_from(User)) or 0
        summary.counts["disabled"] = db.session.scalar(
            select(func.count()).select_from(User).where(User.active.is_(False))) or 0
    return summary


def _school_improvement(user: User) -> dict[str, Any]:
    """A school's own dashboard: its category, priorities, requests and their state, visits due this term."""
    from app.services import categories, priorities, requests, visits
    from app.terms import current

    year, term = current()
    tracker = visits.tracker(year, term, school_ids=[user.school_id])
    return {
        "year": year, "term": term,
        "categorisation": categories.current_categorisation(user.school_id),
        "priorities": priorities.for_school(user.school_id, year),
        "minimum_priorities": priorities.MIN_PER_SCHOOL,
        "requests": requests.list_for(user, limit=10),
        "visits": tracker[0] if tracker else None,
        "can_see_visits": user.role == Role.HEADTEACHER,
    }


def _trust_improvement(user: User, schools: list[School]) -> dict[str, Any]:
    """The trust dashboard: every school by category, overdue visits, open requests by area (counts only)."""
    from app.services import categories, priorities, visits
    from app.terms import current

    year, term = current()
    current_rows = categories.current_categorisations()
    by_school = priorities.all_school_priorities(year)
    open_by_area = Counter(db.session.scalars(select(SupportRequest.area)
                                              .where(SupportRequest.status.in_(OPEN_STATUSES))))
    return {
        "year": year, "term": term, "scheme": categories.active_scheme(),
        "rows": [{"school": s, "categorisation": current_rows.get(s.id),
                  "priorities": len(by_school.get(s.id, []))} for s in schools],
        "minimum_priorities": priorities.MIN_PER_SCHOOL,
        "overdue": visits.overdue(),
        "open_by_area": sorted(open_by_area.items(), key=lambda item: (-item[1], item[0].label)),
        "open_total": sum(open_by_area.values()),
        "can_act": user.role in (Role.CEO, Role.EXECUTIVE),
    }
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


def _allocations(user: User, summary: HomeSummary) -> None:
    """What allocation work waits for this person: approvals, releases, acceptances."""
    from app.models import Allocation, AllocationStatus
    from app.services import allocation

    if user.role is Role.CEO:
        summary.counts["to_approve"] = db.session.scalar(
            select(func.count()).select_from(Allocation).where(Allocation.status == AllocationStatus.PROPOSED)) or 0
    if user.role is Role.HEADTEACHER:
        summary.counts["to_release"] = len(allocation.awaiting_release(user))
    if user.role in (Role.HEADTEACHER, Role.SCHOOL_STAFF):
        summary.counts["to_accept"] = sum(1 for a in allocation.assignments_of(user)
                                          if a.status is AllocationStatus.RELEASED)
