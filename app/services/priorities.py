"""Improvement priorities: two or three per school per year, one or two trust-wide ones spanning three years."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import SCHOOL_ROLES, Area, ImprovementPriority, Role, School, User
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ValidationError
from app.terms import AcademicYear

MIN_PER_SCHOOL = 2
MAX_PER_SCHOOL = 3
MAX_TRUST_WIDE = 2
TRUST_WIDE_YEARS = 3


@dataclass(frozen=True)
class PriorityData:
    area: Area
    title: str
    description: str
    success_criteria: str


def _year(year: AcademicYear | int) -> int:
    return year.start if isinstance(year, AcademicYear) else int(year)


def get(priority_id: int) -> ImprovementPriority:
    row = db.session.get(ImprovementPriority, priority_id)
    if row is None:
        raise NotFound("There is no such priority.")
    return row


def for_school(school_id: int, year: AcademicYear | int) -> list[ImprovementPriority]:
    return list(db.session.scalars(select(ImprovementPriority).where(
        ImprovementPriority.school_id == school_id, ImprovementPriority.start_year == _year(year))
        .order_by(ImprovementPriority.id)))


def trust_wide(year: AcademicYear | int | None = None) -> list[ImprovementPriority]:
    query = select(ImprovementPriority).where(ImprovementPriority.school_id.is_(None))
    if year is not None:
        y = _year(year)
        query = query.where(ImprovementPriority.start_year <= y, ImprovementPriority.end_year >= y)
    return list(db.session.scalars(query.order_by(ImprovementPriority.start_year, ImprovementPriority.id)))


def available_for(school_id: int, year: AcademicYear | int) -> list[ImprovementPriority]:
    """The priorities a school's support request may serve: its own this year and the trust-wide ones."""
    return for_school(school_id, year) + trust_wide(year)


def all_school_priorities(year: AcademicYear | int) -> dict[int, list[ImprovementPriority]]:
    result: dict[int, list[ImprovementPriority]] = {}
    for row in db.session.scalars(select(ImprovementPriority).where(
            ImprovementPriority.school_id.is_not(None), ImprovementPriority.start_year == _year(year))
            .order_by(ImprovementPriority.id)):
        result.setdefault(row.school_id, []).append(row)
    return result


def _check(data: PriorityData) -> PriorityData:
    try:
        area = Area(data.area)
    except ValueError as exc:
        raise ValidationError("Choose an area.", "area") from exc
    title = (data.title or "").strip()
    if not title:
        raise ValidationError("Enter the priority in a sentence.", "title")
    if len(title) > 200:
        raise ValidationError("The priority must be at most 200 characters.", "title")
    fields = {}
    for name, what in (("description", "a description"), ("success_criteria", "the success criteria")):
        value = (getattr(data, name) or "").strip()
        if not value:
            raise ValidationError(f"Enter {what}.", name)
        if len(value) > 2000:
            raise ValidationError(f"{what[0].upper() + what[1:]} must be at most 2,000 characters.", name)
        fields[name] = value
    return PriorityData(area=area, title=title, **fields)


def can_edit(actor: User, school_id: int | None) -> bool:
    if school_id is None:
        return actor.role == Role.CEO
    if actor.role in (Role.CEO, Role.EXECUTIVE):
        return True
    return actor.role == Role.HEADTEACHER and actor.school_id == school_id


def create(actor: User, school_id: int | None, year: AcademicYear | int, data: PriorityData,
           *, commit: bool = True) -> ImprovementPriority:
    """A school priority (headteacher, executive, CEO) or, with no school, a trust-wide one (CEO)."""
    if not can_edit(actor, school_id):
        raise Forbidden("Only the CEO sets trust-wide priorities, and only a school's headteacher or the "
                        "executive team set the school's." if actor.role not in SCHOOL_ROLES
                        else "You can only set priorities for your own school, as its headteacher.")
    data = _check(data)
    y = _year(year)
    if school_id is not None:
        if db.session.get(School, school_id) is None:
            raise NotFound("There is no such school.")
        count = db.session.scalar(select(func.count()).select_from(ImprovementPriority).where(
            ImprovementPriority.school_id == school_id, ImprovementPriority.start_year == y)) or 0
        if count >= MAX_PER_SCHOOL:
            raise Conflict(f"A school has at most {MAX_PER_SCHOOL} priorities a year; edit one of them instead.")
        end = y
    else:
        end = y + TRUST_WIDE_YEARS - 1
        overlapping = db.session.scalar(select(func.count()).select_from(ImprovementPriority).where(
            ImprovementPriority.school_id.is_(None), ImprovementPriority.start_year <= end,
            ImprovementPriority.end_year >= y)) or 0
        if overlapping >= MAX_TRUST_WIDE:
            raise Conflict(f"The trust has at most {MAX_TRUST_WIDE} trust-wide priorities at a time.")
    row = ImprovementPriority(school_id=school_id, start_year=y, end_year=end, area=data.area, title=data.title,
                              description=data.description, success_criteria=data.success_criteria,
                              created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record("priority.created", target_type="priority", target_id=row.id, actor=actor,
                 details={"school_id": school_id, "year": AcademicYear(y).label, "title": row.title})
    if commit:
        db.session.commit()
    return row


def update(actor: User, priority_id: int, data: PriorityData) -> ImprovementPriority:
    row = get(priority_id)
    if not can_edit(actor, row.school_id):
        raise Forbidden("You cannot change this priority.")
    data = _check(data)
    changes = {}
    for key in ("area", "title", "description", "success_criteria"):
        if getattr(row, key) != getattr(data, key):
            changes[key] = {"to": str(getattr(data, key))[:200]}
            setattr(row, key, getattr(data, key))
    if changes:
        audit.record("priority.updated", target_type="priority", target_id=row.id, actor=actor, details=changes)
        db.session.commit()
    return row


def serves_school(priority: ImprovementPriority, school_id: int, year: int) -> bool:
    if priority.school_id is None:
        return priority.start_year <= year <= priority.end_year
    return priority.school_id == school_id and priority.start_year == year


