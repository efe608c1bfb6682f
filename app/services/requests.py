"""Support requests on the trust-wide template and their lifecycle, one explicit state machine.

draft -> submitted (headteacher, with consent) -> accepted | declined | draft (returned for more information)
accepted -> matched -> approved (CEO) -> in_progress -> completed -> impact_evaluated (headteacher).
matched / approved / in_progress are driven by the allocation feature through mark_matched, mark_approved and
start; the executive may mark a request completed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    SCHOOL_ROLES,
    Area,
    Funding,
    KeyStage,
    Phase,
    RequestStatus,
    Role,
    School,
    SupportRequest,
    SupportType,
    User,
)
from app.models.types import utcnow
from app.services import audit, priorities
from app.services.errors import Forbidden, IllegalTransition, NotFound, ValidationError
from app.terms import AcademicYear, Term

S = RequestStatus
LEADERS = frozenset({Role.CEO, Role.EXECUTIVE})
HEAD = "headteacher of the school"
#: Steps the allocation workflow takes on someone's behalf (release, acceptance); its own checks decide who.
ALLOCATION = "the allocation workflow"

#: action -> (states it may start from, state it leads to, who may take it)
TRANSITIONS: dict[str, tuple[frozenset[RequestStatus], RequestStatus, frozenset[Role] | str]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED, HEAD),
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED, LEADERS),
    "return": (frozenset({S.SUBMITTED}), S.DRAFT, LEADERS),
    "decline": (frozenset({S.SUBMITTED}), S.DECLINED, LEADERS),
    "match": (frozenset({S.ACCEPTED}), S.MATCHED, LEADERS),
    "approve": (frozenset({S.MATCHED}), S.APPROVED, frozenset({Role.CEO})),
    "start": (frozenset({S.APPROVED}), S.IN_PROGRESS, LEADERS),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED, LEADERS),
    "evaluate": (frozenset({S.COMPLETED}), S.IMPACT_EVALUATED, HEAD),
    # The allocation workflow reopens a request when the supporter's headteacher cannot release them.
    "reopen": (frozenset({S.MATCHED}), S.ACCEPTED, ALLOCATION),
}

TEXT_LIMITS = {"title": 200, "need": 4000, "evidence": 4000, "desired_outcomes": 2000, "preferred_dates": 300}
MAX_DAYS = Decimal(60)
MAX_BUDGET = Decimal("1000000")


@dataclass(frozen=True)
class RequestData:
    priority_id: int | None
    title: str
    area: Area | str
    phase: Phase | str
    key_stage: KeyStage | str
    need: str
    evidence: str
    desired_outcomes: str
    target_date: date | None
    support_type: SupportType | str
    days_requested: Decimal | float | str | None
    academic_year: int
    term: Term | str
    funding: Funding | str
    preferred_dates: str = ""
    budget_gbp: Decimal | float | str | None = None


def _enum(cls, value, field_name: str, what: str):
    try:
        return cls(value)
    except ValueError as exc:
        raise ValidationError(f"Choose {what}.", field_name) from exc


def validate(school_id: int, data: RequestData, today: date | None = None) -> dict:
    """Check a request against the template; return the cleaned values for the model."""
    today = today or date.today()
    values: dict = {}
    for name, limit in TEXT_LIMITS.items():
        value = (getattr(data, name) or "").strip()
        if not value and name != "preferred_dates":
            raise ValidationError({"title": "Give the request a short title.",
                                   "need": "Describe the need.",
                                   "evidence": "Give the evidence for the need.",
                                   "desired_outcomes": "Describe the desired outcomes and how you will measure "
                                                       "them."}[name], name)
        if len(value) > limit:
            raise ValidationError(f"This must be at most {limit:,} characters (it has {len(value):,}).", name)
        values[name] = value
    values["area"] = _enum(Area, data.area, "area", "the area")
    values["phase"] = _enum(Phase, data.phase, "phase", "the phase")
    values["key_stage"] = _enum(KeyStage, data.key_stage, "key_stage", "the key stage")
    values["support_type"] = _enum(SupportType, data.support_type, "support_type", "the type of support")
    values["funding"] = _enum(Funding, data.funding, "funding", "how the support is funded")
    values["term"] = _enum(Term, data.term, "term", "the preferred term")
    if data.target_date is None:
        raise ValidationError("Enter the date by which the outcomes should be met.", "target_date")
    if data.target_date < today:
        raise ValidationError("The target date cannot be in the past.", "target_date")
    values["target_date"] = data.target_date
    try:
        days = Decimal(str(data.days_requested)) if data.days_requested not in (None, "") else None
    except InvalidOperation:
        days = None
    if days is None:
        raise ValidationError("Enter the number of days of support, for example 3 or 2.5.", "days_requested")
    if days <= 0 or days > MAX_DAYS:
        raise ValidationError("Days requested must be more than 0 and at most 60.", "days_requested")
    if (days * 2) != (days * 2).to_integral_value():
        raise ValidationError("Days requested must be whole or half days, such as 2 or 2.5.", "days_requested")
    values["days_requested"] = days
    year = AcademicYear(int(data.academic_year))
    if year.term_dates(values["term"])[1] < today:
        raise ValidationError("The preferred term has already ended; choose this term or a later one.", "term")
    values["academic_year"] = year.start
    budget = None
    if data.budget_gbp not in (None, ""):
        try:
            budget = Decimal(str(data.budget_gbp)).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise ValidationError("Enter the budget in pounds, for example 1500.", "budget_gbp") from exc
        if budget < 0 or budget > MAX_BUDGET:
            raise ValidationError("The budget must be between £0 and £1,000,000.", "budget_gbp")
    values["budget_gbp"] = budget
    if values["funding"] == Funding.SECOND_TIER and budget is None:
        raise ValidationError("Second-tier support is charged to the school: enter the budget you have.",
                              "budget_gbp")
    if not data.priority_id:
        raise ValidationError("Choose the improvement priority this request serves.", "priority_id")
    priority = db.session.get(priorities.ImprovementPriority, int(data.priority_id))
    if priority is None or not priorities.serves_school(priority, school_id, year.start):
        raise ValidationError("Choose one of your school's priorities for that year, or a trust-wide priority.",
                              "priority_id")
    values["priority_id"] = priority.id
    return values


def _can_see(actor: User, row: SupportRequest) -> bool:
    if actor.role in LEADERS:
        return True
    return actor.role in SCHOOL_ROLES and actor.school_id == row.school_id


def get_request(request_id: int) -> SupportRequest:
    row = db.session.get(SupportRequest, request_id)
    if row is None:
        raise NotFound("There is no such support request.")
    return row


def get_for(actor: User, request_id: int) -> SupportRequest:
    row = get_request(request_id)
    if not _can_see(actor, row):
        raise Forbidden("This request belongs to another school.")
    return row


def _visible_query(actor: User, status: RequestStatus | None = None):
    """A school's staff see their own school's requests; the executive and CEO see every school's."""
    query = (select(SupportRequest).options(joinedload(SupportRequest.school))
             .order_by(SupportRequest.updated_at.desc(), SupportRequest.id.desc()))
    if actor.role in SCHOOL_ROLES:
        query = query.where(SupportRequest.school_id == actor.school_id)
    elif actor.role not in LEADERS:
        raise Forbidden("Support requests are private to schools and the executive team.")
    if status is not None:
        query = query.where(SupportRequest.status == status)
    return query


def list_for(actor: User, status: RequestStatus | None = None, limit: int | None = None) -> list[SupportRequest]:
    query = _visible_query(actor, status)
    return list(db.session.scalars(query.limit(limit) if limit else query))


def page_for(actor: User, status: RequestStatus | None = None, page: int = 1, per_page: int = 50):
    """One page of the requests `actor` may see, newest first (a trust has thousands over the years)."""
    return db.paginate(_visible_query(actor, status), page=min(max(page, 1), 100_000), per_page=per_page,
                       error_out=False)


def anonymised_counts() -> dict:
    """What trustees see: counts by state and by area, no schools and no text."""
    rows = db.session.execute(select(SupportRequest.status, SupportRequest.area)).all()
    return {"by_status": Counter(s for s, _ in rows), "by_area": Counter(a for _, a in rows), "total": len(rows)}


def create(actor: User, school_id: int, data: RequestData, *, today: date | None = None,
           commit: bool = True) -> SupportRequest:
    """A headteacher or member of school staff drafts a request for their own school."""
    if actor.role not in SCHOOL_ROLES or actor.school_id != school_id:
        raise Forbidden("Only staff of the school can draft its support requests.")
    if db.session.get(School, school_id) is None:
        raise NotFound("There is no such school.")
    values = validate(school_id, data, today)
    row = SupportRequest(school_id=school_id, status=S.DRAFT, created_by_id=actor.id, **values)
    db.session.add(row)
    db.session.flush()
    audit.record("request.created", target_type="support_request", target_id=row.id, actor=actor,
                 details={"school_id": school_id, "title": row.title})
    if commit:
        db.session.commit()
    return row


def update(actor: User, request_id: int, data: RequestData, *, today: date | None = None) -> SupportRequest:
    row = get_for(actor, request_id)
    if actor.role not in SCHOOL_ROLES:
        raise Forbidden("Only the school's staff can edit its request.")
    if row.status != S.DRAFT:
        raise IllegalTransition(f"Only a draft can be edited; this request is {row.status.label.lower()}.")
    values = validate(row.school_id, data, today)
    for key, value in values.items():
        setattr(row, key, value)
    audit.record("request.updated", target_type="support_request", target_id=row.id, actor=actor)
    db.session.commit()
    return row


def allowed_actions(actor: User, row: SupportRequest) -> set[str]:
    return {a for a in TRANSITIONS if _may(actor, row, a) and row.status in TRANSITIONS[a][0]}


def _may(actor: User, row: SupportRequest, action: str) -> bool:
    who = TRANSITIONS[action][2]
    if who == HEAD:
        return actor.role == Role.HEADTEACHER and actor.school_id == row.school_id
    if who == ALLOCATION:
        return False  # only the allocation service takes these steps, with system=True
    return actor.role in who


def transition(actor: User, request_id: int, action: str, *, note: str | None = None, commit: bool = True,
               system: bool = False, **changes) -> SupportRequest:
    """The one way a request changes state: checks the role and the current state, records the event."""
    if action not in TRANSITIONS:
        raise IllegalTransition(f"'{action}' is not a step in the support request workflow.")
    row = get_request(request_id)
    sources, target, _ = TRANSITIONS[action]
    # `system`: the allocation service already checked that this actor may release or accept the support.
    if not (system or _may(actor, row, action)):
        raise Forbidden("You may not take that step on this request.")
    if row.status not in sources:
        raise IllegalTransition(f"This request is {row.status.label.lower()}, so it cannot be taken to "
                                f"'{target.label.lower()}' now.")
    before = row.status
    for key, value in changes.items():
        setattr(row, key, value)
    row.status = target
    audit.record(f"request.{action}", target_type="support_request", target_id=row.id, actor=actor,
                 details={"from": before.value, "to": target.value, **({"note": note[:500]} if note else {})})
    if commit:
        db.session.commit()
    return row


def submit(actor: User, request_id: int, consent: bool) -> SupportRequest:
    """Only the headteacher submits, and only with their consent ticked."""
    row = get_for(actor, request_id)
    if actor.role != Role.HEADTEACHER:
        raise Forbidden("Only the headteacher can submit the school's request.")
    if not consent:
        raise ValidationError("Tick the box to give your consent as headteacher.", "consent")
    if row.target_date < date.today():
        raise ValidationError("The target date has passed; edit the request before submitting it.", "target_date")
    return transition(actor, request_id, "submit", headteacher_consent=True, submitted_by_id=actor.id,
                      submitted_at=utcnow())


def triage(actor: User, request_id: int, decision: str, note: str | None = None) -> SupportRequest:
    """The executive accepts, returns for more information (with a note the school sees) or declines (reason)."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError("The note must be at most 2,000 characters.", "note")
    if decision in ("return", "decline") and not note:
        raise ValidationError("Say what more information is needed." if decision == "return"
                              else "Give the reason for declining.", "note")
    if decision not in ("accept", "return", "decline"):
        raise ValidationError("Choose accept, return or decline.", "decision")
    return transition(actor, request_id, decision, note=note or None, executive_note=note or None,
                      triaged_by_id=actor.id, triaged_at=utcnow())


def mark_matched(actor: User, request_id: int, *, commit: bool = True) -> SupportRequest:
    return transition(actor, request_id, "match", commit=commit)


def mark_approved(actor: User, request_id: int, *, commit: bool = True, system: bool = False) -> SupportRequest:
    return transition(actor, request_id, "approve", commit=commit, system=system)


def start(actor: User, request_id: int, *, commit: bool = True, system: bool = False) -> SupportRequest:
    return transition(actor, request_id, "start", commit=commit, system=system)


def reopen(actor: User, request_id: int, *, commit: bool = True) -> SupportRequest:
    """Back to accepted, ready for the next run, when the matched supporter cannot be released."""
    return transition(actor, request_id, "reopen", commit=commit, system=True)


def complete(actor: User, request_id: int, *, commit: bool = True) -> SupportRequest:
    return transition(actor, request_id, "complete", completed_at=utcnow(), commit=commit)


def open_for_matching(year: AcademicYear | int, term: Term | str) -> list[SupportRequest]:
    """Accepted (triaged) requests preferring that term: what the matcher should allocate."""
    start_year = year.start if isinstance(year, AcademicYear) else int(year)
    return list(db.session.scalars(select(SupportRequest).where(
        SupportRequest.status == S.ACCEPTED, SupportRequest.academic_year == start_year,
        SupportRequest.term == Term(term)).order_by(SupportRequest.submitted_at, SupportRequest.id)))
