"""Visits and notes of visit, and the per-term entitlement tracker.

Tracker rules: a visit is *made* when it is recorded with a date in the term on or before today. Quality
assurance, school improvement and learning-walk visits count towards "visits per term"; executive reviews
count towards "executive reviews per term"; peer reviews and safeguarding reviews are yearly entitlements.
What is *owed* comes from the school's category in effect on the earlier of today and the term's last day.
A term's line is "Overdue" when the term has ended short, "Behind" when the term is past its midpoint and fewer
than half the owed visits (rounded up) are made, "Done" when all are made, and "Due" otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Area, Category, Role, School, User, Visit, VisitType
from app.models.types import utcnow
from app.services import audit, categories
from app.services.errors import Forbidden, IllegalTransition, NotFound, ValidationError
from app.terms import AcademicYear, Term

LEADERS = (Role.CEO, Role.EXECUTIVE)
TERMLY_VISITS = frozenset({VisitType.QUALITY_ASSURANCE, VisitType.SCHOOL_IMPROVEMENT, VisitType.LEARNING_WALK})
MAX_TEXT = 4000


@dataclass(frozen=True)
class VisitData:
    school_id: int
    visit_date: date | None
    visitor_id: int | None
    visit_type: VisitType | str
    evaluation: dict  # {Area or its value: text}
    evidence: str = ""
    going_well: str = ""
    next_steps: str = ""


def visitors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role.in_(LEADERS), User.active.is_(True))
                                   .order_by(User.name)))


def _text(value: str | None, field_name: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ValidationError(f"This must be at most {MAX_TEXT:,} characters.", field_name)
    return value


def _clean(data: VisitData) -> dict:
    if db.session.get(School, data.school_id) is None:
        raise ValidationError("Choose the school visited.", "school_id")
    if data.visit_date is None:
        raise ValidationError("Enter the date of the visit.", "visit_date")
    visitor = db.session.get(User, data.visitor_id) if data.visitor_id else None
    if visitor is None or visitor.role not in LEADERS:
        raise ValidationError("Choose who visited: the CEO or a member of the executive team.", "visitor_id")
    try:
        visit_type = VisitType(data.visit_type)
    except ValueError as exc:
        raise ValidationError("Choose the type of visit.", "visit_type") from exc
    evaluation = {}
    for key, text in (data.evaluation or {}).items():
        area = Area(key)
        text = _text(text, f"evaluation_{area.value}")
        if text:
            evaluation[area.value] = text
    return {"school_id": data.school_id, "visit_date": data.visit_date, "visitor_id": visitor.id,
            "visit_type": visit_type, "evaluation": evaluation, "evidence": _text(data.evidence, "evidence"),
            "going_well": _text(data.going_well, "going_well"), "next_steps": _text(data.next_steps, "next_steps")}


def get(visit_id: int) -> Visit:
    row = db.session.get(Visit, visit_id)
    if row is None:
        raise NotFound("There is no such visit.")
    return row


def get_for(actor: User, visit_id: int) -> Visit:
    """The executive sees every visit; a headteacher sees shared notes of visits to their own school."""
    row = get(visit_id)
    if actor.role in LEADERS:
        return row
    if actor.role == Role.HEADTEACHER and actor.school_id == row.school_id and row.shared:
        return row
    raise Forbidden("This note of visit is not shared with you.")


def list_for(actor: User, school_id: int | None = None) -> list[Visit]:
    query = select(Visit).order_by(Visit.visit_date.desc(), Visit.id.desc())
    if actor.role == Role.HEADTEACHER:
        query = query.where(Visit.school_id == actor.school_id, Visit.shared_at.is_not(None))
    elif actor.role not in LEADERS:
        raise Forbidden("Notes of visit are shared with the headteacher and the executive team only.")
    if school_id is not None:
        query = query.where(Visit.school_id == school_id)
    return list(db.session.scalars(query))


def create(actor: User, data: VisitData, *, commit: bool = True) -> Visit:
    if actor.role not in LEADERS:
        raise Forbidden("Only the executive team records visits.")
    row = Visit(**_clean(data))
    db.session.add(row)
    db.session.flush()
    audit.record("visit.recorded", target_type="visit", target_id=row.id, actor=actor,
                 details={"school_id": row.school_id, "date": row.visit_date.isoformat(),
                          "type": row.visit_type.value})
    if commit:
        db.session.commit()
    return row


def update(actor: User, visit_id: int, data: VisitData) -> Visit:
    if actor.role not in LEADERS:
        raise Forbidden("Only the executive team edits notes of visit.")
    row = get(visit_id)
    for key, value in _clean(data).items():
        setattr(row, key, value)
    audit.record("visit.updated", target_type="visit", target_id=row.id, actor=actor)
    db.session.commit()
    return row


def share(actor: User, visit_id: int, *, commit: bool = True) -> Visit:
    """Publish the note of visit to the school's headteacher (and through them the chair)."""
    if actor.role not in LEADERS:
        raise Forbidden("Only the executive team shares notes of visit.")
    row = get(visit_id)
    if row.shared:
        raise IllegalTransition("This note of visit is already shared.")
    if not (row.going_well or row.next_steps or row.evaluation):
        raise ValidationError("Write the note of visit before sharing it.", "next_steps")
    row.shared_at = utcnow()
    audit.record("visit.shared", target_type="visit", target_id=row.id, actor=actor)
    if commit:
        db.session.commit()
    return row


# --- entitlement tracker -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrackerLine:
    school: School
    category: Category | None
    year: AcademicYear
    term: Term
    owed: int
    made: int
    planned: int
    executive_owed: int
    executive_made: int
    status: str  # Done, Due, Behind, Overdue, Not categorised

    @property
    def short(self) -> int:
        return max(self.owed - self.made, 0) + max(self.executive_owed - self.executive_made, 0)

    @property
    def flagged(self) -> bool:
        return self.status in ("Overdue", "Behind")


def _status(owed: int, made: int, start: date, end: date, today: date) -> str:
    if made >= owed:
        return "Done"
    if today > end:
        return "Overdue"
    midpoint = start + (end - start) / 2
    if today > midpoint and made < math.ceil(owed / 2):
        return "Behind"
    return "Due"


def tracker(year: AcademicYear, term: Term, today: date | None = None,
            school_ids: list[int] | None = None) -> list[TrackerLine]:
    """One line per school for the term: visits owed by category against visits made."""
    today = today or date.today()
    start, end = year.term_dates(term)
    on = min(today, end)
    current = categories.current_categorisations(on)
    query = select(School).order_by(School.name)
    if school_ids is not None:
        query = query.where(School.id.in_(school_ids))
    schools = list(db.session.scalars(query))
    visits = db.session.scalars(select(Visit).where(Visit.visit_date >= start, Visit.visit_date <= end))
    made: dict[int, list[Visit]] = {}
    for v in visits:
        made.setdefault(v.school_id, []).append(v)
    lines = []
    for school in schools:
        cat = current[school.id].category if school.id in current else None
        rows = made.get(school.id, [])
        done = [v for v in rows if v.visit_date <= today]
        termly = sum(1 for v in done if v.visit_type in TERMLY_VISITS)
        executive = sum(1 for v in done if v.visit_type == VisitType.EXECUTIVE_REVIEW)
        planned = sum(1 for v in rows if v.visit_date > today)
        owed = cat.visits_per_term if cat else 0
        exec_owed = cat.executive_reviews_per_term if cat else 0
        if cat is None:
            status = "Not categorised"
        else:
            a = _status(owed, termly, start, end, today)
            b = _status(exec_owed, executive, start, end, today)
            order = ["Overdue", "Behind", "Due", "Done"]
            status = min(a, b, key=order.index)
        lines.append(TrackerLine(school, cat, year, term, owed, termly, planned, exec_owed, executive, status))
    return lines


def previous_term(year: AcademicYear, term: Term) -> tuple[AcademicYear, Term]:
    order = list(Term)
    index = order.index(term)
    if index == 0:
        return AcademicYear(year.start - 1), order[-1]
    return year, order[index - 1]


def overdue(today: date | None = None, school_ids: list[int] | None = None) -> list[TrackerLine]:
    """Flagged lines for this term (behind) and last term (ended short)."""
    from app.terms import current

    today = today or date.today()
    year, term = current(today)
    lines = [line for line in tracker(year, term, today, school_ids) if line.flagged]
    py, pt = previous_term(year, term)
    lines += [line for line in tracker(py, pt, today, school_ids) if line.flagged]
    return lines
