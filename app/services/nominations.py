"""Nominations as an explicit state machine, from a headteacher's draft to a place on the talent register.

draft -> submitted -> reference_completed -> visit_scheduled -> interview_recorded -> offer_made -> accepted;
declined (nominee), withdrawn (nominating headteacher) or rejected (executive/CEO) from any open state.
Each transition is one function: it checks the role, then the state, then the input, and records an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CLOSED_STATES,
    Designation,
    Nomination,
    NominationEvent,
    NominationState,
    RegisterEntry,
    Role,
    TrustSettings,
    User,
)
from app.models.types import utcnow
from app.services import audit, letters, notify, register
from app.services.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationError
from app.terms import AcademicYear, Term

S = NominationState
LEADERS = frozenset({Role.EXECUTIVE, Role.CEO})
NOMINATED_DESIGNATIONS = tuple(d for d in Designation if d not in (Designation.TRUST_CENTRAL, Designation.EXTERNAL))
MAX_TEXT = 4000
MAX_REASON = 1000

#: Who acts next in each open state; the home pages count what is waiting for each role.
NEXT_STEP = {
    S.DRAFT: (Role.HEADTEACHER, "Submit the nomination"),
    S.SUBMITTED: (Role.HEADTEACHER, "Complete the reference"),
    S.REFERENCE_COMPLETED: (Role.EXECUTIVE, "Schedule the visit"),
    S.VISIT_SCHEDULED: (Role.EXECUTIVE, "Record the observation and interview"),
    S.INTERVIEW_RECORDED: (Role.CEO, "Make or decline the offer"),
    S.OFFER_MADE: (None, "The nominee accepts or declines"),
}


@dataclass
class NominationData:
    nominee_name: str
    nominee_email: str
    nominee_post: str
    designation: Designation | str
    expertise: str
    areas: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    key_stages: list[str] = field(default_factory=list)
    days_autumn: float = 0.0
    days_spring: float = 0.0
    days_summer: float = 0.0
    day_rate: float = 0.0


@dataclass
class ReferenceData:
    expertise: str
    impact: str
    capacity: str
    release_agreed: bool
    safeguarding_confirmed: bool


@dataclass
class OfferTerms:
    designation: Designation | str
    days_autumn: float
    days_spring: float
    days_summer: float
    day_rate: float


# --- reading -----------------------------------------------------------------------------------------------


def get(nomination_id: int) -> Nomination:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound("There is no such nomination.")
    return nomination


def is_nominee(user: User, nomination: Nomination) -> bool:
    return nomination.nominee_user_id == user.id or user.email == nomination.nominee_email


def can_view(user: User, nomination: Nomination) -> bool:
    if user.role in LEADERS:
        return nomination.state != S.DRAFT
    if user.role == Role.HEADTEACHER and user.school_id == nomination.school_id:
        return True
    return is_nominee(user, nomination) and nomination.state != S.DRAFT


def get_for(user: User, nomination_id: int) -> Nomination:
    nomination = get(nomination_id)
    if not can_view(user, nomination):
        raise Forbidden("This nomination belongs to another school.")
    return nomination


def list_for(user: User, state: str = "", open_only: bool = False) -> list[Nomination]:
    query = select(Nomination).order_by(Nomination.updated_at.desc(), Nomination.id.desc())
    if user.role == Role.HEADTEACHER:
        query = query.where(Nomination.school_id == user.school_id)
    elif user.role in LEADERS:
        query = query.where(Nomination.state != S.DRAFT)
    else:
        query = query.where(Nomination.state != S.DRAFT, (Nomination.nominee_user_id == user.id)
                            | (Nomination.nominee_email == user.email))
    if state:
        query = query.where(Nomination.state == state)
    if open_only:
        query = query.where(Nomination.state.not_in(CLOSED_STATES))
    return list(db.session.scalars(query))


def awaiting_count(user: User) -> int:
    """Nominations waiting for this user's role to act."""
    states = [s for s, (role, _) in NEXT_STEP.items() if role == user.role]
    if not states:
        return 0
    query = select(func.count()).select_from(Nomination).where(Nomination.state.in_(states))
    if user.role == Role.HEADTEACHER:
        query = query.where(Nomination.school_id == user.school_id)
    return db.session.scalar(query) or 0


def for_nominee(user: User) -> list[Nomination]:
    return list(db.session.scalars(select(Nomination).where(
        Nomination.state != S.DRAFT,
        (Nomination.nominee_user_id == user.id) | (Nomination.nominee_email == user.email))
        .order_by(Nomination.id.desc())))


def view_reference(user: User, nomination_id: int) -> Nomination:
    """The headteacher's reference; executive and CEO only, and every reading is audited."""
    return _view_private(user, nomination_id, "nomination.reference_viewed", "reference")


def view_interview(user: User, nomination_id: int) -> Nomination:
    return _view_private(user, nomination_id, "nomination.interview_viewed", "observation and interview notes")


def _view_private(user: User, nomination_id: int, action: str, what: str) -> Nomination:
    nomination = get(nomination_id)
    if user.role not in LEADERS:
        raise Forbidden(f"Only the executive team and the CEO can read the {what}.")
    audit.record(action, target_type="nomination", target_id=nomination.id, actor=user)
    db.session.commit()
    return nomination


def offer_letter(user: User, nomination_id: int) -> tuple[bytes, str]:
    nomination = get_for(user, nomination_id)
    if nomination.offer_made_at is None or nomination.offer_pdf is None:
        raise NotFound("No offer letter has been written for this nomination.")
    filename = f"offer-{nomination.nominee_name.lower().replace(' ', '-')}-{nomination.id}.pdf"
    return nomination.offer_pdf, filename


# --- validation --------------------------------------------------------------------------------------------


def _text(value: str | None, what: str, name: str, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"Enter {what}.", name)
    if len(value) > limit:
        raise ValidationError(f"{what[0].upper() + what[1:]} must be at most {limit:,} characters "
                              f"(it has {len(value):,}).", name)
    return value


def _days(value, name: str, term: str) -> float:
    try:
        days = float(value or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Days in the {term} term must be a number.", name) from exc
    if not 0 <= days <= 60:
        raise ValidationError(f"Days in the {term} term must be between 0 and 60.", name)
    return days


def _rate(value) -> float:
    try:
        rate = float(value or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationError("The day rate must be a number of pounds.", "day_rate") from exc
    if not 0 <= rate <= 5000:
        raise ValidationError("The day rate must be between £0 and £5,000.", "day_rate")
    return rate


def _designation(value) -> Designation:
    try:
        designation = Designation(value)
    except ValueError as exc:
        raise ValidationError("Choose a designation.", "designation") from exc
    if designation not in NOMINATED_DESIGNATIONS:
        raise ValidationError("Trust central staff and external consultants are added to the register by the "
                              "executive team, not nominated.", "designation")
    return designation


def _validate(data: NominationData) -> NominationData:
    data.nominee_name = _text(data.nominee_name, "the nominee's name", "nominee_name", 200)
    data.nominee_email = _text(data.nominee_email, "the nominee's email address", "nominee_email", 254).lower()
    if "@" not in data.nominee_email or " " in data.nominee_email:
        raise ValidationError("Enter a valid email address for the nominee.", "nominee_email")
    data.nominee_post = _text(data.nominee_post, "the nominee's post", "nominee_post", 200)
    data.designation = _designation(data.designation)
    data.expertise = _text(data.expertise, "the nature of their expertise", "expertise")
    data.areas = register._choices(data.areas, register.AUDIT_AREAS, "audit areas", "areas")
    data.subjects = register._choices(data.subjects, register.SUBJECTS, "subjects", "subjects")
    data.phases = register._choices(data.phases, register.PHASES, "phases", "phases")
    data.key_stages = register._choices(data.key_stages, register.KEY_STAGES, "key stages", "key_stages")
    for term in Term:
        setattr(data, f"days_{term.value}", _days(getattr(data, f"days_{term.value}"), f"days_{term.value}",
                                                  term.label))
    data.day_rate = _rate(data.day_rate)
    return data


def _check_nominee(actor: User, data: NominationData, year: int, nomination_id: int | None = None) -> User | None:
    """Only a nominee's own headteacher may nominate them, once a year."""
    account = db.session.scalar(select(User).where(User.email == data.nominee_email))
    if account is not None and account.school_id is not None and account.school_id != actor.school_id:
        raise Forbidden(f"{data.nominee_email} works at another school; only their own headteacher can "
                        "nominate them.")
    entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.email == data.nominee_email))
    if entry is not None and entry.school_id is not None and entry.school_id != actor.school_id:
        raise Forbidden(f"{entry.name} is on the register for another school; only their own headteacher can "
                        "nominate them.")
    earlier = db.session.scalar(select(Nomination).where(
        Nomination.nominee_email == data.nominee_email, Nomination.academic_year == year,
        Nomination.state.not_in([S.WITHDRAWN, S.DECLINED, S.REJECTED]), Nomination.id != (nomination_id or 0)))
    if earlier is not None:
        raise Conflict(f"{earlier.nominee_name} has already been nominated this academic year "
                       f"({AcademicYear(year)}, {earlier.state.label.lower()}). A person can be nominated once a year.")
    return account


# --- transitions ---------------------------------------------------------------------------------------------


def _require_role(actor: User, roles: Iterable[Role], doing: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"Your role ({actor.role.label}) cannot {doing}.")


def _require_head_of(actor: User, nomination: Nomination, doing: str) -> None:
    if actor.role != Role.HEADTEACHER or actor.school_id != nomination.school_id:
        raise Forbidden(f"Only the headteacher of {nomination.school.name} can {doing}.")


def _require_state(nomination: Nomination, allowed: Iterable[NominationState], doing: str) -> None:
    allowed = tuple(allowed)
    if nomination.state not in allowed:
        raise IllegalTransition(
            f"You cannot {doing} now: the nomination of {nomination.nominee_name} is "
            f"'{nomination.state.label}'. That is possible only when it is "
            + " or ".join(f"'{s.label}'" for s in allowed) + ".")


def _move(actor: User, nomination: Nomination, action: str, to: NominationState, note: str | None = None,
          details: dict | None = None) -> None:
    before = nomination.state
    nomination.state = to
    nomination.updated_at = utcnow()
    nomination.events.append(NominationEvent(at=utcnow(), actor_id=actor.id, actor_name=actor.name, action=action,
                                             from_state=before, to_state=to, note=(note or None) and note[:1000]))
    audit.record(f"nomination.{action}", target_type="nomination", target_id=nomination.id, actor=actor,
                 details={"from": before.value if before else None, "to": to.value, **(details or {})})


def create(actor: User, data: NominationData, today: date | None = None) -> Nomination:
    """A headteacher starts a nomination (a draft) for a member of their own staff."""
    _require_role(actor, (Role.HEADTEACHER,), "nominate staff; headteachers nominate their own staff")
    data = _validate(data)
    year = AcademicYear.of(today or date.today()).start
    account = _check_nominee(actor, data, year)
    nomination = Nomination(school_id=actor.school_id, nominated_by_id=actor.id, academic_year=year,
                            nominee_user_id=account.id if account else None, state=S.DRAFT, events=[],
                            **{k: v for k, v in data.__dict__.items()})
    db.session.add(nomination)
    db.session.flush()
    nomination.events.append(NominationEvent(at=utcnow(), actor_id=actor.id, actor_name=actor.name,
                                             action="created", from_state=None, to_state=S.DRAFT))
    audit.record("nomination.created", target_type="nomination", target_id=nomination.id, actor=actor,
                 details={"nominee": nomination.nominee_email, "school_id": nomination.school_id})
    db.session.commit()
    return nomination


def update_draft(actor: User, nomination_id: int, data: NominationData) -> Nomination:
    nomination = get(nomination_id)
    _require_head_of(actor, nomination, "change this nomination")
    _require_state(nomination, (S.DRAFT,), "change the nomination")
    data = _validate(data)
    _check_nominee(actor, data, nomination.academic_year, nomination.id)
    for key, value in data.__dict__.items():
        setattr(nomination, key, value)
    audit.record("nomination.draft_updated", target_type="nomination", target_id=nomination.id, actor=actor)
    db.session.commit()
    return nomination


def submit(actor: User, nomination_id: int) -> Nomination:
    nomination = get(nomination_id)
    _require_head_of(actor, nomination, "submit this nomination")
    _require_state(nomination, (S.DRAFT,), "submit the nomination")
    _move(actor, nomination, "submitted", S.SUBMITTED)
    for user in db.session.scalars(select(User).where(User.role == Role.EXECUTIVE, User.active.is_(True))):
        notify.queue(user.email, f"New nomination: {nomination.nominee_name}, {nomination.school.name}",
                     f"Dear {user.name},\n\n{actor.name} has nominated {nomination.nominee_name} "
                     f"({nomination.nominee_post}, {nomination.school.name}) as "
                     f"{nomination.designation.label}.\n\nExpertise: {nomination.expertise}\n\n"
                     "The headteacher's reference follows; you will then be asked to arrange a visit.\n")
    db.session.commit()
    return nomination


def complete_reference(actor: User, nomination_id: int, ref: ReferenceData) -> Nomination:
    nomination = get(nomination_id)
    _require_head_of(actor, nomination, "write the reference")
    _require_state(nomination, (S.SUBMITTED,), "complete the reference")
    expertise = _text(ref.expertise, "their expertise", "expertise")
    impact = _text(ref.impact, "the evidence of impact", "impact")
    capacity = _text(ref.capacity, "their capacity to support others", "capacity")
    if not ref.release_agreed:
        raise ValidationError("Confirm that the school agrees to release them for the days offered.",
                              "release_agreed")
    if not ref.safeguarding_confirmed:
        raise ValidationError("Confirm that there are no safeguarding concerns and their checks are current.",
                              "safeguarding_confirmed")
    nomination.ref_expertise, nomination.ref_impact, nomination.ref_capacity = expertise, impact, capacity
    nomination.ref_release_agreed = nomination.ref_safeguarding_confirmed = True
    _move(actor, nomination, "reference_completed", S.REFERENCE_COMPLETED)
    db.session.commit()
    return nomination


def schedule_visit(actor: User, nomination_id: int, when: datetime | None) -> Nomination:
    nomination = get(nomination_id)
    _require_role(actor, LEADERS, "schedule a visit")
    _require_state(nomination, (S.REFERENCE_COMPLETED, S.VISIT_SCHEDULED), "schedule the visit")
    if when is None:
        raise ValidationError("Enter the date and time of the visit.", "visit_at")
    if when.tzinfo is None:
        raise ValidationError("The visit time needs a time zone.", "visit_at")
    nomination.visit_at = when.astimezone(UTC)
    nomination.visit_by_id = actor.id
    _move(actor, nomination, "visit_scheduled", S.VISIT_SCHEDULED, details={"visit_at": when.isoformat()})
    db.session.commit()
    return nomination


def record_interview(actor: User, nomination_id: int, observation: str, interview: str,
                     recommended: bool | None) -> Nomination:
    nomination = get(nomination_id)
    _require_role(actor, LEADERS, "record the interview")
    _require_state(nomination, (S.VISIT_SCHEDULED,), "record the interview")
    observation = _text(observation, "the observation notes", "observation_notes")
    interview = _text(interview, "the interview notes", "interview_notes")
    if recommended is None:
        raise ValidationError("Say whether you recommend an offer.", "recommended")
    nomination.observation_notes, nomination.interview_notes = observation, interview
    nomination.recommended = recommended
    _move(actor, nomination, "interview_recorded", S.INTERVIEW_RECORDED, details={"recommended": recommended})
    db.session.commit()
    return nomination


def trust_name() -> str:
    settings = db.session.scalar(select(TrustSettings))
    return settings.trust_name if settings else current_app.config["TRUST_NAME"]


def make_offer(actor: User, nomination_id: int, terms: OfferTerms, today: date | None = None) -> Nomination:
    """The CEO's formal written offer: a PDF letter kept with the nomination; the nominee and head are told."""
    nomination = get(nomination_id)
    _require_role(actor, (Role.CEO,), "make an offer; only the CEO can")
    _require_state(nomination, (S.INTERVIEW_RECORDED,), "make an offer")
    if not nomination.recommended:
        raise IllegalTransition(f"The interview did not recommend {nomination.nominee_name}. Record the "
                                "decision as 'not taken forward' instead, with the reason.")
    today = today or date.today()
    nomination.designation = _designation(terms.designation)
    for term in Term:
        setattr(nomination, f"days_{term.value}", _days(getattr(terms, f"days_{term.value}"),
                                                        f"days_{term.value}", term.label))
    nomination.day_rate = _rate(terms.day_rate)
    nomination.offer_made_at = utcnow()
    nomination.offer_valid_until = register.one_year_after(today)
    nomination.offer_pdf = letters.offer_letter(nomination, trust=trust_name(), ceo_name=actor.name, on=today)
    _move(actor, nomination, "offer_made", S.OFFER_MADE,
          details={"valid_until": nomination.offer_valid_until.isoformat()})
    body = (f"{nomination.nominee_name} has been offered a place on the {trust_name()} talent register as "
            f"{nomination.designation.label}, valid until {nomination.offer_valid_until:%d %B %Y}. The offer "
            "letter can be downloaded from the nomination page; please accept or decline it there.\n")
    notify.queue(nomination.nominee_email, "Your offer to join the talent register", f"Dear "
                 f"{nomination.nominee_name},\n\n{body}")
    for head in db.session.scalars(select(User).where(User.role == Role.HEADTEACHER,
                                                      User.school_id == nomination.school_id,
                                                      User.active.is_(True))):
        notify.queue(head.email, f"Offer made: {nomination.nominee_name}", f"Dear {head.name},\n\n{body}")
    db.session.commit()
    return nomination


def accept(actor: User, nomination_id: int, consent: bool, today: date | None = None) -> Nomination:
    """The nominee accepts (or the executive records their acceptance): they go on the register for a year."""
    nomination = get(nomination_id)
    if not (is_nominee(actor, nomination) or actor.role in LEADERS):
        raise Forbidden("Only the nominee, or the executive team on their behalf, can accept the offer.")
    _require_state(nomination, (S.OFFER_MADE,), "accept the offer")
    if not consent:
        raise ValidationError("Confirm that you agree to be listed on the talent register.", "consent")
    year = AcademicYear.of(today or date.today()).start
    data = register.EntryData(
        name=nomination.nominee_name, email=nomination.nominee_email, post=nomination.nominee_post,
        designation=nomination.designation, expertise=nomination.expertise, school_id=nomination.school_id,
        areas=list(nomination.areas), subjects=list(nomination.subjects), phases=list(nomination.phases),
        key_stages=list(nomination.key_stages), day_rate=nomination.day_rate, consent=True,
        availability={year: {t: nomination.days_for(t.value) for t in Term}},
        user_id=nomination.nominee_user_id or (actor.id if is_nominee(actor, nomination) else None),
    )
    entry = register.place_from_nomination(actor, data, nomination.offer_valid_until)
    nomination.entry_id = entry.id
    by = "the nominee" if is_nominee(actor, nomination) else f"{actor.name} on the nominee's behalf"
    _move(actor, nomination, "accepted", S.ACCEPTED, note=f"Accepted by {by}.", details={"entry_id": entry.id})
    db.session.commit()
    return nomination


OPEN_AFTER_DRAFT = (S.SUBMITTED, S.REFERENCE_COMPLETED, S.VISIT_SCHEDULED, S.INTERVIEW_RECORDED, S.OFFER_MADE)


def decline(actor: User, nomination_id: int, reason: str) -> Nomination:
    nomination = get(nomination_id)
    if not (is_nominee(actor, nomination) or actor.role in LEADERS):
        raise Forbidden("Only the nominee, or the executive team on their behalf, can decline.")
    _require_state(nomination, OPEN_AFTER_DRAFT, "decline")
    nomination.reason = _text(reason, "the reason", "reason", MAX_REASON)
    _move(actor, nomination, "declined", S.DECLINED, note=nomination.reason)
    db.session.commit()
    return nomination


def withdraw(actor: User, nomination_id: int, reason: str) -> Nomination:
    nomination = get(nomination_id)
    _require_head_of(actor, nomination, "withdraw this nomination")
    _require_state(nomination, (S.DRAFT, *OPEN_AFTER_DRAFT), "withdraw the nomination")
    nomination.reason = _text(reason, "the reason", "reason", MAX_REASON)
    _move(actor, nomination, "withdrawn", S.WITHDRAWN, note=nomination.reason)
    db.session.commit()
    return nomination


def reject(actor: User, nomination_id: int, reason: str) -> Nomination:
    nomination = get(nomination_id)
    _require_role(actor, LEADERS, "decide not to take a nomination forward")
    _require_state(nomination, OPEN_AFTER_DRAFT, "decide not to take it forward")
    nomination.reason = _text(reason, "the reason", "reason", MAX_REASON)
    _move(actor, nomination, "rejected", S.REJECTED, note=nomination.reason)
    head_emails = [u.email for u in db.session.scalars(select(User).where(
        User.role == Role.HEADTEACHER, User.school_id == nomination.school_id, User.active.is_(True)))]
    for email in head_emails:
        notify.queue(email, f"Nomination not taken forward: {nomination.nominee_name}",
                     f"The nomination of {nomination.nominee_name} has not been taken forward.\n\n"
                     f"Reason: {nomination.reason}\n")
    db.session.commit()
    return nomination
