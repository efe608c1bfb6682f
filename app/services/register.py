"""The talent register: entries, availability, search, the matching pool, renewal, import and export."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db
from app.models import (
    AUDIT_AREAS,
    KEY_STAGES,
    SUBJECTS,
    WEEKDAYS,
    Availability,
    Designation,
    DevelopmentKind,
    DevelopmentRecord,
    EntryStatus,
    Phase,
    RegisterEntry,
    RegisterTag,
    Role,
    School,
    TagKind,
    User,
)
from app.models.types import utcnow
from app.services import audit, notify, tabular
from app.services.errors import Conflict, Forbidden, NotFound, ValidationError
from app.terms import AcademicYear, Term, current

BROWSERS = frozenset({Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO, Role.TRUSTEE})
EDITORS = frozenset({Role.EXECUTIVE, Role.CEO})
MAX_EXPERTISE = 4000
MAX_SHORT = 200
REMINDER_DAYS = 30
PER_PAGE = 25
PHASES = tuple(p.value for p in Phase)


# --- years, terms and the commitment hook -------------------------------------------------------------------


def _year(year: AcademicYear | int) -> int:
    return year.start if isinstance(year, AcademicYear) else int(year)


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


#: Functions (entry_ids, academic_year, term) -> {entry_id: days committed}; allocations add theirs.
CommitmentSource = Callable[[Sequence[int], int, Term], dict[int, float]]
_commitment_sources: list[CommitmentSource] = []


def add_commitment_source(source: CommitmentSource) -> CommitmentSource:
    """Allocations call this once (e.g. at import) so committed days come off everyone's availability."""
    if source not in _commitment_sources:
        _commitment_sources.append(source)
    return source


def committed_days_many(entry_ids: Sequence[int], year: AcademicYear | int, term: Term) -> dict[int, float]:
    totals = dict.fromkeys(entry_ids, 0.0)
    if not entry_ids:
        return totals
    for source in _commitment_sources:
        for entry_id, days in source(list(entry_ids), _year(year), Term(term)).items():
            if entry_id in totals:
                totals[entry_id] += float(days or 0)
    return totals


def committed_days(entry: RegisterEntry, year: AcademicYear | int, term: Term) -> float:
    """Days already promised in that term; 0 until allocations register a commitment source."""
    return committed_days_many([entry.id], year, term)[entry.id]


def available_days(entry: RegisterEntry, year: AcademicYear | int, term: Term) -> float:
    """Days offered that term minus days already committed (never below 0)."""
    return max(0.0, entry.days_offered(_year(year), Term(term)) - committed_days(entry, year, term))


def remaining_many(entries: Sequence[RegisterEntry], year: AcademicYear | int, term: Term) -> dict[int, float]:
    committed = committed_days_many([e.id for e in entries], year, term)
    return {e.id: max(0.0, e.days_offered(_year(year), Term(term)) - committed[e.id]) for e in entries}


def _with_children(query: Select) -> Select:
    return query.options(selectinload(RegisterEntry.tags), selectinload(RegisterEntry.availability))


def matching_pool(year: AcademicYear | int, term: Term, today: date | None = None) -> list[RegisterEntry]:
    """Entries the matcher may use: active, consented to be listed, and in date."""
    today = today or date.today()
    del year, term  # every in-date entry is in the pool; its days that term decide whether it can be used
    return list(db.session.scalars(_with_children(
        select(RegisterEntry).where(RegisterEntry.status == EntryStatus.ACTIVE, RegisterEntry.consent.is_(True),
                                    RegisterEntry.valid_until >= today).order_by(RegisterEntry.id))))


# --- reading ------------------------------------------------------------------------------------------------


def can_browse(user: User) -> bool:
    return user.role in BROWSERS


def get(entry_id: int) -> RegisterEntry:
    entry = db.session.get(RegisterEntry, entry_id)
    if entry is None:
        raise NotFound("There is no such entry on the talent register.")
    return entry


def get_for(user: User, entry_id: int) -> RegisterEntry:
    """An entry as `user` may see it: register browsers see every entry; a supporter sees their own."""
    entry = db.session.scalar(
        _with_children(select(RegisterEntry).where(RegisterEntry.id == entry_id))
        .options(selectinload(RegisterEntry.development)))
    if entry is None:
        raise NotFound("There is no such entry on the talent register.")
    if not can_browse(user) and entry.user_id != user.id:
        raise Forbidden("Only headteachers, the executive team, the CEO and trustees can see the talent register.")
    return entry


def entry_of_user(user: User) -> RegisterEntry | None:
    return db.session.scalar(select(RegisterEntry).where(RegisterEntry.user_id == user.id))


def allocations_for(entry: RegisterEntry) -> list:
    """Support approved for this person so far, newest first."""
    from app.models import Allocation
    from app.models.allocation import COMMITTED

    return list(db.session.scalars(select(Allocation).where(
        Allocation.register_entry_id == entry.id, Allocation.status.in_(list(COMMITTED)))
        .order_by(Allocation.academic_year.desc(), Allocation.id.desc())))


# --- writing -----------------------------------------------------------------------------------------------


@dataclass
class EntryData:
    name: str
    email: str
    post: str
    designation: Designation
    expertise: str
    school_id: int | None = None
    areas: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    key_stages: list[str] = field(default_factory=list)
    # {academic year start: {term: days}}
    availability: dict[int, dict[Term, float]] = field(default_factory=dict)
    preferred_days: list[str] = field(default_factory=list)
    max_travel_km: float | None = None
    day_rate: float = 0.0
    consent: bool = True
    status: EntryStatus = EntryStatus.ACTIVE
    valid_until: date | None = None
    user_id: int | None = None


def _text(value: str | None, what: str, name: str, limit: int = MAX_SHORT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"Enter the {what}.", name)
    if len(value) > limit:
        raise ValidationError(f"The {what} must be at most {limit:,} characters (it has {len(value):,}).", name)
    return value


def _choices(values: Iterable[str], allowed: Sequence[str], what: str, name: str) -> list[str]:
    by_lower = {a.lower(): a for a in allowed}
    out: list[str] = []
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        if value.lower() not in by_lower:
            raise ValidationError(f"'{value}' is not one of the {what} ({', '.join(allowed)}).", name)
        if by_lower[value.lower()] not in out:
            out.append(by_lower[value.lower()])
    return out


def validate(data: EntryData) -> EntryData:
    data.name = _text(data.name, "person's name", "name")
    data.email = _text(data.email, "email address", "email", 254).lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", data.email):
        raise ValidationError("Enter a valid email address.", "email")
    data.post = _text(data.post, "post (job title)", "post")
    try:
        data.designation = Designation(data.designation)
    except ValueError as exc:
        raise ValidationError(f"'{data.designation}' is not a designation.", "designation") from exc
    data.expertise = _text(data.expertise, "nature of their expertise", "expertise", MAX_EXPERTISE)
    if data.designation in (Designation.TRUST_CENTRAL, Designation.EXTERNAL):
        data.school_id = None
    elif not data.school_id:
        raise ValidationError("Choose the school where the person works.", "school_id")
    if data.school_id and db.session.get(School, data.school_id) is None:
        raise ValidationError("That school is not in the trust.", "school_id")
    data.areas = _choices(data.areas, AUDIT_AREAS, "audit areas", "areas")
    data.subjects = _choices(data.subjects, SUBJECTS, "subjects", "subjects")
    data.phases = _choices(data.phases, PHASES, "phases", "phases")
    data.key_stages = _choices(data.key_stages, KEY_STAGES, "key stages", "key_stages")
    data.preferred_days = _choices(data.preferred_days, WEEKDAYS, "days of the school week", "preferred_days")
    for year, terms in data.availability.items():
        for term, days in terms.items():
            if days is None or not 0 <= float(days) <= 100:
                raise ValidationError(f"Days in the {Term(term).label} term of {AcademicYear(year)} must be "
                                      "between 0 and 100.", f"days_{Term(term).value}")
    if data.max_travel_km is not None and not 0 <= data.max_travel_km <= 500:
        raise ValidationError("Travel distance must be between 0 and 500 km.", "max_travel_km")
    if data.day_rate is None or not 0 <= float(data.day_rate) <= 5000:
        raise ValidationError("The day rate must be between £0 and £5,000.", "day_rate")
    data.status = EntryStatus(data.status)
    return data


def _search_text(entry: RegisterEntry, tags: dict[TagKind, list[str]], school: School | None) -> str:
    parts = [entry.name, entry.post, entry.designation.label, entry.expertise, school.name if school else ""]
    for values in tags.values():
        parts.extend(values)
    return re.sub(r"\s+", " ", " ".join(parts).lower()).strip()


def _apply(entry: RegisterEntry, data: EntryData) -> dict:
    """Copy validated data onto the entry; returns what changed (for the audit log)."""
    changes = {}
    for name in ("name", "email", "post", "designation", "expertise", "school_id", "max_travel_km", "day_rate",
                 "consent", "status", "user_id"):
        value = getattr(data, name)
        if getattr(entry, name, None) != value:
            changes[name] = str(value)
            setattr(entry, name, value)
    preferred = ";".join(data.preferred_days)
    if entry.preferred_days != preferred:
        entry.preferred_days = preferred
        changes["preferred_days"] = preferred
    if data.valid_until and entry.valid_until != data.valid_until:
        entry.valid_until = data.valid_until
        changes["valid_until"] = data.valid_until.isoformat()
    tags = {TagKind.AREA: data.areas, TagKind.SUBJECT: data.subjects, TagKind.PHASE: data.phases,
            TagKind.KEY_STAGE: data.key_stages}
    wanted = {(k, v) for k, values in tags.items() for v in values}
    have = {(t.kind, t.value): t for t in entry.tags}
    if set(have) != wanted:
        changes["tags"] = sorted(v for _, v in wanted)
        for key, tag in have.items():
            if key not in wanted:
                entry.tags.remove(tag)
        for kind, values in tags.items():
            for value in values:
                if (kind, value) not in have:
                    entry.tags.append(RegisterTag(kind=kind, value=value))
    existing = {(a.academic_year, a.term): a for a in entry.availability}
    for year, terms in data.availability.items():
        for term, days in terms.items():
            row = existing.get((year, Term(term)))
            if row is None:
                entry.availability.append(Availability(academic_year=year, term=Term(term), days=float(days)))
                changes[f"days_{year}_{Term(term).value}"] = float(days)
            elif row.days != float(days):
                row.days = float(days)
                changes[f"days_{year}_{Term(term).value}"] = float(days)
    school = db.session.get(School, entry.school_id) if entry.school_id else None
    entry.search_text = _search_text(entry, tags, school)
    return changes


def _check_email_free(email: str, entry_id: int | None = None) -> None:
    other = db.session.scalar(select(RegisterEntry).where(RegisterEntry.email == email))
    if other is not None and other.id != entry_id:
        raise Conflict(f"{other.name} ({email}) is already on the talent register.")


def _require_editor(actor: User) -> None:
    if actor.role not in EDITORS:
        raise Forbidden("Only the executive team and the CEO can change the talent register.")


def create(actor: User, data: EntryData, *, commit: bool = True, today: date | None = None) -> RegisterEntry:
    """Add an entry directly: external consultants and trust central staff, or an import."""
    _require_editor(actor)
    data = validate(data)
    _check_email_free(data.email)
    entry = RegisterEntry(valid_until=data.valid_until or one_year_after(today or date.today()), tags=[],
                          availability=[], preferred_days="", search_text="")
    _apply(entry, data)
    db.session.add(entry)
    db.session.flush()
    audit.record("register.entry_created", target_type="register_entry", target_id=entry.id, actor=actor,
                 details={"name": entry.name, "designation": entry.designation.value})
    if commit:
        db.session.commit()
    return entry


def update(actor: User, entry_id: int, data: EntryData, *, commit: bool = True) -> RegisterEntry:
    _require_editor(actor)
    entry = get(entry_id)
    data = validate(data)
    _check_email_free(data.email, entry.id)
    changes = _apply(entry, data)
    if changes:
        audit.record("register.entry_updated", target_type="register_entry", target_id=entry.id, actor=actor,
                     details=changes)
    if commit:
        db.session.commit()
    return entry


def place_from_nomination(actor: User, data: EntryData, valid_until: date) -> RegisterEntry:
    """Put an accepted nominee on the register, or renew their existing entry (same email). No commit."""
    data = validate(data)
    data.valid_until = valid_until
    data.status = EntryStatus.ACTIVE
    entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.email == data.email))
    if entry is None:
        entry = RegisterEntry(valid_until=valid_until, tags=[], availability=[], preferred_days="", search_text="")
        _apply(entry, data)
        db.session.add(entry)
        db.session.flush()
        action = "register.entry_created"
    else:
        data.user_id = data.user_id or entry.user_id
        data.preferred_days = data.preferred_days or entry.preferred_day_list
        data.max_travel_km = data.max_travel_km if data.max_travel_km is not None else entry.max_travel_km
        _apply(entry, data)
        action = "register.entry_renewed"
    audit.record(action, target_type="register_entry", target_id=entry.id, actor=actor,
                 details={"name": entry.name, "valid_until": valid_until.isoformat(), "from": "nomination"})
    return entry


def set_status(actor: User, entry_id: int, status: EntryStatus, reason: str = "") -> RegisterEntry:
    """Pause (e.g. on leave), withdraw, or make active again; never deletes."""
    _require_editor(actor)
    entry = get(entry_id)
    status = EntryStatus(status)
    if status == EntryStatus.LAPSED:
        raise ValidationError("Entries lapse by themselves when their year runs out.", "status")
    if status == EntryStatus.ACTIVE and entry.valid_until < date.today():
        raise Conflict(f"{entry.name}'s entry ran out on {entry.valid_until:%d %B %Y}; renew it instead.")
    reason = _text(reason, "reason", "reason", 1000, required=status == EntryStatus.WITHDRAWN)
    if entry.status != status:
        audit.record("register.status_changed", target_type="register_entry", target_id=entry.id, actor=actor,
                     details={"from": entry.status.value, "to": status.value, "reason": reason})
        entry.status = status
        db.session.commit()
    return entry


def require_development_access(actor: User, entry_id: int) -> RegisterEntry:
    entry = get(entry_id)
    if actor.role not in EDITORS and entry.user_id != actor.id:
        raise Forbidden("Only the person, the executive team or the CEO can add to the development record.")
    return entry


def add_development(actor: User, entry_id: int, kind: DevelopmentKind, on: date | None, text: str) -> DevelopmentRecord:
    entry = require_development_access(actor, entry_id)
    try:
        kind = DevelopmentKind(kind)
    except ValueError as exc:
        raise ValidationError("Choose what kind of development this was.", "kind") from exc
    if on is None:
        raise ValidationError("Enter the date.", "on")
    text = _text(text, "description", "text", 1000)
    record = DevelopmentRecord(entry_id=entry.id, kind=kind, on=on, text=text)
    db.session.add(record)
    db.session.flush()
    audit.record("register.development_added", target_type="register_entry", target_id=entry.id, actor=actor,
                 details={"kind": kind.value})
    db.session.commit()
    return record


# --- browsing and search ------------------------------------------------------------------------------------


SORTS = {
    "name": "Name",
    "designation": "Designation",
    "school": "School",
    "days": "Days left this term",
    "day_rate": "Day rate",
    "valid_until": "Valid until",
}


@dataclass
class Filters:
    q: str = ""
    area: str = ""
    subject: str = ""
    phase: str = ""
    key_stage: str = ""
    designation: str = ""
    school_id: int | None = None
    available: bool = False
    status: str = EntryStatus.ACTIVE.value  # "" means any status
    sort: str = "name"


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _has_tag(kind: TagKind, value: str):
    return select(RegisterTag.id).where(RegisterTag.entry_id == RegisterEntry.id, RegisterTag.kind == kind,
                                        RegisterTag.value == value).exists()


def search_query(filters: Filters, year: int, term: Term) -> Select:
    # Availability is unique per (entry, year, term), so this outer join never repeats an entry.
    this_term = aliased(Availability)
    days = func.coalesce(this_term.days, 0.0)
    query = select(RegisterEntry).outerjoin(this_term, and_(
        this_term.entry_id == RegisterEntry.id, this_term.academic_year == year, this_term.term == term))
    for word in re.findall(r"\w[\w'+-]*", (filters.q or "").lower())[:8]:
        query = query.where(RegisterEntry.search_text.like(_like(word), escape="\\"))
    for kind, value in ((TagKind.AREA, filters.area), (TagKind.SUBJECT, filters.subject),
                        (TagKind.PHASE, filters.phase), (TagKind.KEY_STAGE, filters.key_stage)):
        if value:
            query = query.where(_has_tag(kind, value))
    if filters.designation:
        query = query.where(RegisterEntry.designation == filters.designation)
    if filters.school_id:
        query = query.where(RegisterEntry.school_id == filters.school_id)
    if filters.status:
        query = query.where(RegisterEntry.status == filters.status)
    if filters.available:
        query = query.where(days > 0)
    order = {
        "name": (RegisterEntry.name,),
        "designation": (RegisterEntry.designation, RegisterEntry.name),
        "school": (School.name.nulls_first(), RegisterEntry.name),
        "days": (days.desc(), RegisterEntry.name),
        "day_rate": (RegisterEntry.day_rate, RegisterEntry.name),
        "valid_until": (RegisterEntry.valid_until, RegisterEntry.name),
    }.get(filters.sort, (RegisterEntry.name,))
    if filters.sort == "school":
        query = query.outerjoin(School, School.id == RegisterEntry.school_id)
    return _with_children(query.order_by(*order, RegisterEntry.id))


def search(filters: Filters, page: int = 1, per_page: int = PER_PAGE, today: date | None = None):
    """One page of entries plus each one's days left this term: (pagination, {entry_id: days})."""
    year, term = current(today)
    pagination = db.paginate(search_query(filters, year.start, term), page=max(page, 1), per_page=per_page,
                             error_out=False)
    return pagination, remaining_many(pagination.items, year, term)


# --- renewal and the daily job ------------------------------------------------------------------------------


def _headteachers(school_id: int | None) -> list[User]:
    if school_id is None:
        roles = (Role.EXECUTIVE,)
        query = select(User).where(User.role.in_(roles), User.active.is_(True))
    else:
        query = select(User).where(User.role == Role.HEADTEACHER, User.school_id == school_id, User.active.is_(True))
    return list(db.session.scalars(query))


def renewals_due(user: User, today: date | None = None) -> list[RegisterEntry]:
    """Entries within 30 days of running out, or lapsed, that this user should act on."""
    today = today or date.today()
    query = select(RegisterEntry).where(
        RegisterEntry.status.in_([EntryStatus.ACTIVE, EntryStatus.LAPSED]),
        RegisterEntry.valid_until <= today + timedelta(days=REMINDER_DAYS)).order_by(RegisterEntry.valid_until)
    if user.role == Role.HEADTEACHER:
        query = query.where(RegisterEntry.school_id == user.school_id)
    elif user.role not in EDITORS:
        return []
    return list(db.session.scalars(query))


def confirm_renewal(actor: User, entry_id: int, still_in_post: bool, still_available: bool) -> RegisterEntry:
    """The headteacher (the executive for people with no school) confirms the person should stay on."""
    entry = get(entry_id)
    if entry.school_id is not None:
        if actor.role != Role.HEADTEACHER or actor.school_id != entry.school_id:
            raise Forbidden(f"Only the headteacher of {entry.school.name} can confirm {entry.name}'s renewal.")
    elif actor.role not in EDITORS:
        raise Forbidden("Only the executive team can confirm the renewal of trust and external staff.")
    if entry.status == EntryStatus.WITHDRAWN:
        raise Conflict(f"{entry.name} has withdrawn from the register.")
    if not still_in_post:
        raise ValidationError(f"Confirm that {entry.name} is still in post, or ask the executive team to withdraw "
                              "the entry.", "still_in_post")
    if not still_available:
        raise ValidationError(f"Confirm that {entry.name} can still give time, or ask the executive team to pause "
                              "the entry.", "still_available")
    entry.renewal_confirmed_at = utcnow()
    entry.renewal_confirmed_by_id = actor.id
    audit.record("register.renewal_confirmed", target_type="register_entry", target_id=entry.id, actor=actor)
    for ceo in db.session.scalars(select(User).where(User.role == Role.CEO, User.active.is_(True))):
        notify.queue(ceo.email, f"Renewal ready: {entry.name}",
                     f"{actor.name} has confirmed that {entry.name} is still in post and available to support "
                     f"other schools. Their register entry runs until {entry.valid_until:%d %B %Y}; please renew it.")
    db.session.commit()
    return entry


def renew(actor: User, entry_id: int, today: date | None = None) -> RegisterEntry:
    """The CEO renews an entry for a year: from its current end date, or from today if it has lapsed."""
    today = today or date.today()
    entry = get(entry_id)
    if actor.role != Role.CEO:
        raise Forbidden("Only the CEO can renew a place on the talent register.")
    if entry.status == EntryStatus.WITHDRAWN:
        raise Conflict(f"{entry.name} has withdrawn from the register; they need a new nomination.")
    if entry.renewal_confirmed_at is None and entry.school_id is not None:
        raise Conflict(f"The headteacher of {entry.school.name} has not yet confirmed that {entry.name} is still "
                       "in post and available.")
    old = entry.valid_until
    entry.valid_until = one_year_after(max(old, today))
    if entry.status == EntryStatus.LAPSED:
        entry.status = EntryStatus.ACTIVE
    entry.renewal_confirmed_at = None
    entry.renewal_confirmed_by_id = None
    audit.record("register.entry_renewed", target_type="register_entry", target_id=entry.id, actor=actor,
                 details={"from": old.isoformat(), "to": entry.valid_until.isoformat()})
    db.session.commit()
    return entry


def daily(today: date | None = None) -> dict[str, int]:
    """Lapse entries past their date and send renewal reminders once, 30 days ahead. Safe to run twice."""
    today = today or date.today()
    lapsed = list(db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.status == EntryStatus.ACTIVE, RegisterEntry.valid_until < today)))
    for entry in lapsed:
        entry.status = EntryStatus.LAPSED
        audit.record("register.lapsed", target_type="register_entry", target_id=entry.id,
                     details={"valid_until": entry.valid_until.isoformat()})
    due = list(db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.status == EntryStatus.ACTIVE, RegisterEntry.valid_until >= today,
        RegisterEntry.valid_until <= today + timedelta(days=REMINDER_DAYS),
        or_(RegisterEntry.reminder_sent_for.is_(None), RegisterEntry.reminder_sent_for != RegisterEntry.valid_until),
    )))
    for entry in due:
        when = f"{entry.valid_until.day} {entry.valid_until:%B %Y}"
        for head in _headteachers(entry.school_id):
            notify.queue(head.email, f"Talent register renewal due: {entry.name}",
                         f"Dear {head.name},\n\n{entry.name}'s place on the talent register runs until {when}. "
                         "Please confirm in the app that they are still in post and able to support other "
                         "schools, so that the CEO can renew it for another year.\n")
        notify.queue(entry.email, "Your place on the talent register",
                     f"Dear {entry.name},\n\nYour place on the talent register runs until {when}. Your headteacher "
                     "has been asked to confirm that you are still available; the CEO then renews it for a year.\n")
        entry.reminder_sent_for = entry.valid_until
        audit.record("register.renewal_reminded", target_type="register_entry", target_id=entry.id,
                     details={"valid_until": entry.valid_until.isoformat()})
    db.session.commit()
    return {"lapsed": len(lapsed), "reminded": len(due)}


# --- export and import --------------------------------------------------------------------------------------


HEADER = ("Name", "Email", "School URN", "Post", "Designation", "Expertise", "Areas", "Subjects", "Phases",
          "Key stages", "Academic year", "Autumn days", "Spring days", "Summer days", "Preferred days",
          "Travel km", "Day rate", "Consent", "Status", "Valid until")
REQUIRED_COLUMNS = ("Name", "Email", "Post", "Designation", "Expertise")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def export_rows(filters: Filters, today: date | None = None) -> tuple[tuple[str, ...], list[list]]:
    year, _ = current(today)
    rows = []
    for entry in db.session.scalars(search_query(filters, year.start, Term.AUTUMN)):
        rows.append([
            entry.name, entry.email, entry.school.urn if entry.school else "", entry.post, entry.designation.value,
            entry.expertise, "; ".join(entry.areas), "; ".join(entry.subjects), "; ".join(entry.phases),
            "; ".join(entry.key_stages), year.label,
            *(_number(entry.days_offered(year.start, t)) for t in Term),
            "; ".join(entry.preferred_day_list), _number(entry.max_travel_km), _number(entry.day_rate),
            "Yes" if entry.consent else "No", entry.status.value, entry.valid_until.isoformat(),
        ])
    return HEADER, rows


def export(filters: Filters, fmt: str, today: date | None = None) -> bytes:
    header, rows = export_rows(filters, today)
    if fmt == "xlsx":
        return tabular.write_xlsx(header, rows, title="Talent register")
    return tabular.write_csv(header, rows)


def _list(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;\n]", value or "") if v.strip()]


def _float(value: str, what: str, default: float | None = None) -> float | None:
    value = (value or "").replace("£", "").replace(",", "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ValidationError(f"{what} '{value}' is not a number.") from exc


_DESIGNATIONS = {**{d.value: d for d in Designation}, **{d.label.lower(): d for d in Designation},
                 "sle": Designation.SLE, "nle": Designation.NLE}


def _import_row(row: dict[str, str], schools_by_urn: dict[str, School], today: date) -> EntryData:
    row = {k: tabular.restore(v) for k, v in row.items()}
    designation = _DESIGNATIONS.get(row.get("Designation", "").strip().lower())
    if designation is None:
        raise ValidationError(f"Designation '{row.get('Designation', '')}' is not one of: "
                              + ", ".join(d.value for d in Designation) + ".")
    urn = row.get("School URN", "").strip()
    school = schools_by_urn.get(urn) if urn else None
    if urn and school is None:
        raise ValidationError(f"No school in the trust has URN {urn}.")
    year_text = row.get("Academic year", "").strip()
    try:
        year = AcademicYear.parse(year_text) if year_text else current(today)[0]
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    availability = {year.start: {t: _float(row.get(f"{t.label} days", ""), f"{t.label} days", 0.0) for t in Term}}
    consent = row.get("Consent", "Yes").strip().lower() or "yes"
    if consent not in ("yes", "no", "y", "n", "true", "false"):
        raise ValidationError(f"Consent '{row.get('Consent')}' should be Yes or No.")
    status_text = (row.get("Status", "") or "active").strip().lower()
    if status_text not in {s.value for s in EntryStatus}:
        raise ValidationError(f"Status '{row.get('Status')}' is not one of active, paused, lapsed, withdrawn.")
    valid_text = row.get("Valid until", "").strip()
    try:
        valid_until = date.fromisoformat(valid_text[:10]) if valid_text else None
    except ValueError as exc:
        raise ValidationError(f"Valid until '{valid_text}' is not a date like 2027-08-31.") from exc
    return validate(EntryData(
        name=row.get("Name", ""), email=row.get("Email", ""), post=row.get("Post", ""), designation=designation,
        expertise=row.get("Expertise", ""), school_id=school.id if school else None,
        areas=_list(row.get("Areas", "")), subjects=_list(row.get("Subjects", "")),
        phases=_list(row.get("Phases", "")), key_stages=_list(row.get("Key stages", "")),
        availability=availability, preferred_days=_list(row.get("Preferred days", "")),
        max_travel_km=_float(row.get("Travel km", ""), "Travel km"),
        day_rate=_float(row.get("Day rate", ""), "Day rate", 0.0), consent=consent in ("yes", "y", "true"),
        status=EntryStatus(status_text), valid_until=valid_until,
    ))


def preview_import(filename: str, raw: bytes, today: date | None = None) -> tabular.Preview:
    today = today or date.today()
    rows = tabular.read_table(filename, raw)
    preview = tabular.Preview()
    if not rows:
        preview.errors.append(tabular.RowError(1, "The file has a header but no people."))
        return preview
    missing = [c for c in REQUIRED_COLUMNS if c not in rows[0]]
    if missing:
        preview.errors.append(tabular.RowError(1, "Missing column(s): " + ", ".join(missing)
                                               + ". Start from an export of the register."))
        return preview
    schools_by_urn = {s.urn: s for s in db.session.scalars(select(School))}
    existing = set(db.session.scalars(select(RegisterEntry.email)))
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        try:
            data = _import_row(row, schools_by_urn, today)
        except ValidationError as exc:
            preview.errors.append(tabular.RowError(number, str(exc)))
            continue
        if data.email in seen:
            preview.errors.append(tabular.RowError(number, f"{data.email} is also on row {seen[data.email]}."))
            continue
        seen[data.email] = number
        preview.rows.append({"data": data, "action": "update" if data.email in existing else "add"})
    return preview


def import_entries(actor: User, filename: str, raw: bytes, today: date | None = None) -> tabular.Preview:
    """Add or update every person in the file (matched by email), or nothing at all if any row is bad."""
    _require_editor(actor)
    preview = preview_import(filename, raw, today)
    if not preview.ok:
        return preview
    for item in preview.rows:
        data: EntryData = item["data"]
        entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.email == data.email))
        if entry is None:
            entry = RegisterEntry(valid_until=data.valid_until or one_year_after(today or date.today()), tags=[],
                                  availability=[], preferred_days="", search_text="")
            db.session.add(entry)
        data.user_id = entry.user_id
        _apply(entry, data)
    audit.record("register.imported", target_type="register_entry", actor=actor,
                 details={"file": filename[:100], "rows": len(preview.rows),
                          "added": sum(1 for r in preview.rows if r["action"] == "add")})
    db.session.commit()
    return preview


def schools_with_entries() -> list[School]:
    return list(db.session.scalars(select(School).where(
        select(RegisterEntry.id).where(RegisterEntry.school_id == School.id).exists()).order_by(School.name)))


