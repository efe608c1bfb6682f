"""UK GDPR: subject access exports, erasure by anonymisation, and the retention schedule with its purge."""

from __future__ import annotations

import calendar
import enum
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import Date, DateTime, String, Table, Text, cast, delete, func, or_, select

from app.extensions import db
from app.models import (
    CLOSED_STATES,
    AuditCheckpoint,
    AuditEvent,
    EntryStatus,
    Job,
    JobStatus,
    Nomination,
    NominationEvent,
    NominationState,
    OutboxMessage,
    RegisterEntry,
    RetentionAction,
    RetentionRule,
    Role,
    User,
)
from app.models.register import DevelopmentRecord
from app.models.types import utcnow
from app.models.user import new_session_token
from app.services import audit, passwords
from app.services.errors import Conflict, Forbidden, NotFound, ValidationError

#: Only these roles may export or erase a person's data.
DATA_PROTECTION_ROLES = (Role.ADMIN, Role.CEO)
ERASED_DOMAIN = "invalid.example"
MIN_MONTHS, MAX_MONTHS = 1, 240

#: The tables whose rows are "the person": everything else is reached through foreign keys to them.
SUBJECT_TABLES = ("users", "register_entries", "nominations")
#: A column whose name contains one of these is never exported, whoever it belongs to.
SECRET_WORDS = ("password", "token", "secret", "hash", "totp", "otp_", "csrf", "salt", "api_key", "recovery")
#: Where the person is described by a reference to users, the column ends like this; other user columns
#: (created_by_id, actor_id, decided_by_id ...) record someone acting.
SUBJECT_USER_SUFFIX = "user_id"
#: Timestamp columns that best date a row, in order of preference.
DATE_COLUMNS = ("at", "created_at", "decided_at", "raised_at", "visit_date", "submitted_at", "updated_at")

ROLE_PHRASES = {
    Role.ADMIN: "an administrator",
    Role.CEO: "the CEO",
    Role.EXECUTIVE: "a member of the executive team",
    Role.HEADTEACHER: "a headteacher",
    Role.SCHOOL_STAFF: "a member of school staff",
    Role.TRUSTEE: "a trustee",
}
SOMEONE_ELSE = "another member of staff"


def digest_email(email: str) -> str:
    """The audit log names the person looked up by a one-way digest, never the address itself."""
    return hashlib.sha256(normalise(email).encode()).hexdigest()


def normalise(email: str) -> str:
    return (email or "").strip().lower()


def _require(actor: User | None) -> None:
    # None: the command line, run by whoever operates the server.
    if actor is not None and actor.role not in DATA_PROTECTION_ROLES:
        raise Forbidden("Only an administrator or the CEO can export or erase a person's data.")


# --- finding the person ------------------------------------------------------------------------------------


@dataclass
class Subject:
    email: str
    ids: dict[str, set[int]]

    @property
    def found(self) -> bool:
        return any(self.ids.values())


def find(email: str) -> Subject:
    """The person's own rows in the subject tables: by email, then by the links between them."""
    email = normalise(email)
    user_ids = set(db.session.scalars(select(User.id).where(func.lower(User.email) == email)))
    entry_ids = set(db.session.scalars(select(RegisterEntry.id).where(or_(
        func.lower(RegisterEntry.email) == email, RegisterEntry.user_id.in_(user_ids or {-1})))))
    nomination_ids = set(db.session.scalars(select(Nomination.id).where(or_(
        func.lower(Nomination.nominee_email) == email, Nomination.nominee_user_id.in_(user_ids or {-1}),
        Nomination.entry_id.in_(entry_ids or {-1})))))
    return Subject(email, {"users": user_ids, "register_entries": entry_ids, "nominations": nomination_ids})


def _is_secret(name: str) -> bool:
    name = name.lower()
    return any(word in name for word in SECRET_WORDS)


def _is_email_column(column) -> bool:
    return isinstance(column.type, String) and (column.name == "email" or column.name.endswith("_email")
                                                or column.name in ("to", "recipient"))


def _is_actor_column(name: str) -> bool:
    return name.startswith("actor") or name.endswith("_by_email")


@dataclass(frozen=True)
class Link:
    """How a column can point at the person: `about` (the row is theirs) or not (they acted on it)."""

    column: str
    kind: str  # "fk" or "email"
    target: str | None  # subject table for foreign keys
    about: bool


def links(table: Table) -> list[Link]:
    """Every column of `table` that can name a person; the walk and its test both use this."""
    found = []
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target in SUBJECT_TABLES and fk.column.name == "id":
                about = target != "users" or column.name.endswith(SUBJECT_USER_SUFFIX)
                found.append(Link(column.name, "fk", target, about))
        if _is_email_column(column):
            found.append(Link(column.name, "email", None, not _is_actor_column(column.name)))
    return found


def _polymorphic(table: Table) -> bool:
    return "target_type" in table.c and "target_id" in table.c


def _target_types(table_name: str) -> set[str]:
    singular = table_name[:-3] + "y" if table_name.endswith("ies") else table_name.rstrip("s")
    return {singular, table_name}


def _row_date(table: Table, row) -> str | None:
    names = [n for n in DATE_COLUMNS if n in table.c]
    names += [c.name for c in table.columns if isinstance(c.type, DateTime | Date) and c.name not in names]
    for name in names:
        value = row._mapping[name]
        if value is not None:
            return value.isoformat()
    return None


# --- the export ---------------------------------------------------------------------------------------------


class _People:
    """Other people's names and emails, and what to call them instead in the person's export."""

    def __init__(self, subject: Subject):
        self.subject = subject
        own = subject.ids
        self.user_phrase = {uid: ROLE_PHRASES.get(role, SOMEONE_ELSE)
                            for uid, role in db.session.execute(select(User.id, User.role))}
        own_names = {normalise(n) for n in db.session.scalars(
            select(User.name).where(User.id.in_(own["users"] or {-1})))}
        own_names |= {normalise(n) for n in db.session.scalars(
            select(RegisterEntry.name).where(RegisterEntry.id.in_(own["register_entries"] or {-1})))}
        own_names |= {normalise(n) for n in db.session.scalars(
            select(Nomination.nominee_name).where(Nomination.id.in_(own["nominations"] or {-1})))}
        replace: dict[str, str] = {}
        for uid, name, email in db.session.execute(select(User.id, User.name, User.email)):
            if uid not in own["users"]:
                replace.setdefault(normalise(email), self.user_phrase[uid])
                if normalise(name) not in own_names:
                    replace.setdefault(normalise(name), self.user_phrase[uid])
        for eid, name, email in db.session.execute(select(RegisterEntry.id, RegisterEntry.name, RegisterEntry.email)):
            if eid not in own["register_entries"]:
                replace.setdefault(normalise(email), SOMEONE_ELSE)
                if normalise(name) not in own_names:
                    replace.setdefault(normalise(name), SOMEONE_ELSE)
        for nid, name, email in db.session.execute(
                select(Nomination.id, Nomination.nominee_name, Nomination.nominee_email)):
            if nid not in own["nominations"]:
                replace.setdefault(normalise(email), SOMEONE_ELSE)
                if normalise(name) not in own_names:
                    replace.setdefault(normalise(name), SOMEONE_ELSE)
        replace.pop(subject.email, None)
        replace = {k: v for k, v in replace.items() if len(k) >= 3}
        self.replace = replace
        words = sorted(replace, key=len, reverse=True)
        self.pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                                  re.IGNORECASE) if words else None

    def phrase_for(self, table_name: str, value):
        """Their own rows keep their numbers (to cross-refer in the export); anyone else is named by role."""
        if value in self.subject.ids[table_name]:
            return value
        return self.user_phrase.get(value, SOMEONE_ELSE) if table_name == "users" else SOMEONE_ELSE

    def scrub(self, value):
        if isinstance(value, str):
            if self.pattern is None:
                return value
            return self.pattern.sub(lambda m: self.replace[m.group(0).lower()], value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items() if not _is_secret(str(k))}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return f"[file held, {len(value)} bytes]"
    return value


def _conditions(table: Table, subject: Subject, table_links: list[Link]):
    """(about, acting) lists of SQL conditions that select rows naming the person."""
    about, acting = [], []
    if table.name in SUBJECT_TABLES and subject.ids[table.name]:
        about.append(table.c.id.in_(subject.ids[table.name]))
    for link in table_links:
        column = table.c[link.column]
        if link.kind == "fk":
            if not subject.ids[link.target]:
                continue
            condition = column.in_(subject.ids[link.target])
        else:
            condition = func.lower(column) == subject.email
        (about if link.about else acting).append(condition)
    if _polymorphic(table):
        for target in SUBJECT_TABLES:
            if subject.ids[target]:
                about.append(table.c.target_type.in_(_target_types(target))
                             & table.c.target_id.in_([str(i) for i in subject.ids[target]]))
    if table.name == "audit_events" and subject.email:
        # Events whose details name the person's email (a failed sign-in with an address that has no account,
        # a nomination sent to it) are about them even when no record of theirs is the target.
        about.append(func.lower(cast(table.c.details, Text)).like(f"%{_like_escape(subject.email)}%", escape="\\"))
    return about, acting


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _mentions(details, subject: Subject) -> bool:
    """True if any string in an audit event's details is the person's email."""
    if isinstance(details, dict):
        return any(_mentions(v, subject) for v in details.values())
    if isinstance(details, list):
        return any(_mentions(v, subject) for v in details)
    return isinstance(details, str) and normalise(details) == subject.email


def _export_row(table: Table, row, table_links: list[Link], people: _People) -> dict:
    values = dict(row._mapping)
    fk_targets = {link.column: link.target for link in table_links if link.kind == "fk"}
    out = {}
    # The person who acted on a row about the subject is someone else; so are their IP address and email.
    actor_is_other = "actor_id" in values and values["actor_id"] is not None and \
        values["actor_id"] not in people.subject.ids["users"]
    for name, value in values.items():
        if _is_secret(name) or name == "search_text":
            continue
        if name == "ip" and actor_is_other:
            continue
        if name in fk_targets and value is not None:
            out[name] = people.phrase_for(fk_targets[name], value)
        elif _is_email_column(table.c[name]) and _is_actor_column(name) and value is not None:
            out[name] = "you" if normalise(value) == people.subject.email else (
                people.user_phrase.get(values.get("actor_id"), SOMEONE_ELSE))
        else:
            out[name] = people.scrub(_plain(value))
    return out


def subject_access(email: str, actor: User | None = None) -> dict:
    """Everything the service holds about the person with this email, and nobody else's data.

    Rows about them are exported in full (other people in them named by role); rows where they only acted on
    someone else's record are listed by table, id, their role (the column) and date, without the content.
    """
    _require(actor)
    subject = find(email)
    people = _People(subject)
    tables: dict[str, list[dict]] = {}
    acted: list[dict] = []
    for table in db.metadata.sorted_tables:
        table_links = links(table)
        about, acting = _conditions(table, subject, table_links)
        if not about and not acting:
            continue
        rows = db.session.execute(select(table).where(or_(*about, *acting)).order_by(*table.primary_key.columns))
        for row in rows:
            mapping = row._mapping
            if _is_about(table, mapping, subject, table_links):
                tables.setdefault(table.name, []).append(_export_row(table, row, table_links, people))
                continue
            for link in table_links:
                if not link.about and _matches(link, mapping[link.column], subject):
                    entry = {"table": table.name, "id": mapping["id"], "role": link.column,
                             "date": _row_date(table, row)}
                    if table.name == "audit_events":
                        entry["action"] = mapping["action"]
                    acted.append(entry)
    return {
        "format": "subject-access/1",
        "email": subject.email,
        "generated_at": utcnow().isoformat(),
        "found": subject.found or bool(tables) or bool(acted),
        "tables": tables,
        "acted_on_others_records": acted,
        "notes": [
            "Rows about you are shown in full; other people in them are named by their role.",
            "Where you acted on someone else's record, only the table, the record's number, your role in it and "
            "the date are shown: the rest is other people's personal data.",
            "The audit log is kept unchanged for the period in the retention schedule, even after erasure.",
        ],
    }


def _matches(link: Link, value, subject: Subject) -> bool:
    if value is None:
        return False
    if link.kind == "fk":
        return value in subject.ids[link.target]
    return normalise(value) == subject.email


def _is_about(table: Table, mapping, subject: Subject, table_links: list[Link]) -> bool:
    if table.name in SUBJECT_TABLES and mapping["id"] in subject.ids[table.name]:
        return True
    if table.name == "audit_events" and _mentions(mapping["details"], subject):
        return True
    if any(link.about and _matches(link, mapping[link.column], subject) for link in table_links):
        return True
    if _polymorphic(table) and mapping["target_type"]:
        for target in SUBJECT_TABLES:
            if mapping["target_type"] in _target_types(target) and str(mapping["target_id"]).isdigit() and \
                    int(mapping["target_id"]) in subject.ids[target]:
                return True
    return False


def export_for(actor: User | None, email: str) -> dict:
    """The export, audited by target id or by a digest of the email, never the address itself."""
    _require(actor)
    if "@" not in normalise(email):
        raise ValidationError("Enter the person's email address.", "email")
    data = subject_access(email, actor)
    user_ids = find(email).ids["users"]
    audit.record("privacy.subject_access", target_type="user" if user_ids else None,
                 target_id=min(user_ids) if user_ids else None, actor=actor,
                 actor_email=None if actor else "command line",
                 details={"email_digest": digest_email(email), "found": data["found"]})
    db.session.commit()
    return data


# --- erasure ----------------------------------------------------------------------------------------------


def placeholder(n: int) -> str:
    return f"Former member of staff {n}"


def _anonymise_entry(entry: RegisterEntry) -> None:
    entry.name = placeholder(entry.id)
    entry.email = f"erased-entry-{entry.id}@{ERASED_DOMAIN}"
    entry.post = "Former post"
    entry.expertise = ""
    entry.search_text = ""
    entry.preferred_days = ""
    if entry.status in (EntryStatus.ACTIVE, EntryStatus.PAUSED):
        entry.status = EntryStatus.WITHDRAWN
    db.session.execute(delete(DevelopmentRecord).where(DevelopmentRecord.entry_id == entry.id))


def _anonymise_nomination(nomination: Nomination) -> None:
    nomination.nominee_name = placeholder(nomination.id)
    nomination.nominee_email = f"erased-nomination-{nomination.id}@{ERASED_DOMAIN}"
    nomination.nominee_post = "Former post"
    nomination.expertise = ""
    for name in ("ref_expertise", "ref_impact", "ref_capacity", "observation_notes", "interview_notes", "reason",
                 "offer_pdf"):
        setattr(nomination, name, None)
    for event in nomination.events:
        event.note = None


def is_anonymised(email: str) -> bool:
    return normalise(email).endswith("@" + ERASED_DOMAIN)


def anonymise(actor: User | None, email: str, reason: str) -> dict[str, int]:
    """Erase a person by anonymisation: rows stay (counts and allocations still add up), what identifies them goes.

    The audit log is not rewritten: it is tamper-evident and kept for its retention period as a record the
    trust is legally obliged to keep.
    """
    _require(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the person's data is being erased (for example, their written request).",
                              "reason")
    if len(reason) > 500:
        raise ValidationError("Keep the reason to 500 characters or fewer.", "reason")
    subject = find(email)
    if not subject.found:
        raise NotFound("Nobody with that email address has data in the service.")
    if actor is not None and actor.id in subject.ids["users"]:
        raise Conflict("You cannot erase your own account; ask another administrator or the CEO.")
    counts = {"accounts": 0, "register_entries": 0, "nominations": 0, "emails_deleted": 0}
    for user in db.session.scalars(select(User).where(User.id.in_(subject.ids["users"] or {-1}))):
        user.name = placeholder(user.id)
        user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
        user.active = False
        user.password_hash = passwords.hash_password(secrets.token_urlsafe(32))
        user.session_token = new_session_token()
        user.last_login_at = None
        db.session.execute(NominationEvent.__table__.update().where(
            NominationEvent.actor_id == user.id).values(actor_name=placeholder(user.id)))
        counts["accounts"] += 1
    for entry in db.session.scalars(select(RegisterEntry).where(RegisterEntry.id.in_(subject.ids["register_entries"]
                                                                                     or {-1}))):
        _anonymise_entry(entry)
        counts["register_entries"] += 1
    for nomination in db.session.scalars(select(Nomination).where(Nomination.id.in_(subject.ids["nominations"]
                                                                                    or {-1}))):
        _anonymise_nomination(nomination)
        counts["nominations"] += 1
    counts["emails_deleted"] = db.session.execute(
        delete(OutboxMessage).where(func.lower(OutboxMessage.to) == subject.email)).rowcount or 0
    user_ids = sorted(subject.ids["users"])
    audit.record("privacy.erased", target_type="user" if user_ids else None,
                 target_id=user_ids[0] if user_ids else None, actor=actor,
                 actor_email=None if actor else "command line",
                 details={"email_digest": digest_email(email), "reason": reason, **counts})
    db.session.commit()
    return counts


def preview_erasure(actor: User | None, email: str) -> dict[str, int]:
    """What anonymising this person would touch, for the confirmation step."""
    _require(actor)
    subject = find(email)
    if not subject.found:
        raise NotFound("Nobody with that email address has data in the service.")
    if actor is not None and actor.id in subject.ids["users"]:
        raise Conflict("You cannot erase your own account; ask another administrator or the CEO.")
    emails = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        func.lower(OutboxMessage.to) == subject.email))
    return {"accounts": len(subject.ids["users"]), "register_entries": len(subject.ids["register_entries"]),
            "nominations": len(subject.ids["nominations"]), "emails": emails}


# --- the retention schedule -------------------------------------------------------------------------------

# (record_type, description, starts, keep_months, action); migration 0008_privacy seeds the same rows.
DEFAULT_RULES = [
    ("nominations_unsuccessful", "Unsuccessful nominations (declined, withdrawn or not taken forward), with their "
     "references and interview notes", "after the nomination closed", 6, RetentionAction.DELETE),
    ("register_entries_lapsed", "Talent register entries that lapsed or were withdrawn, with their development "
     "records", "after the entry lapsed or was withdrawn", 72, RetentionAction.ANONYMISE),
    ("audit_events", "Audit log events (sign-ins and changes)", "after the event", 72, RetentionAction.DELETE),
    ("outbox_sent", "Emails sent by the service", "after they were sent", 12, RetentionAction.DELETE),
    ("jobs_finished", "Finished background jobs (allocation runs in progress, imports)", "after they finished", 12,
     RetentionAction.DELETE),
    ("allocation_runs", "Allocation runs (the matcher's proposals and the CEO's decisions)", "after the run", 72,
     RetentionAction.DELETE),
]


def ensure_rules() -> int:
    """Add any default rule that is missing; never changes a rule the CEO has edited. Safe to run twice."""
    have = set(db.session.scalars(select(RetentionRule.record_type)))
    added = 0
    for record_type, description, starts, months, action in DEFAULT_RULES:
        if record_type not in have:
            db.session.add(RetentionRule(record_type=record_type, description=description, starts=starts,
                                         keep_months=months, action=action))
            added += 1
    if added:
        db.session.commit()
    return added


def schedule() -> list[RetentionRule]:
    return list(db.session.scalars(select(RetentionRule).order_by(RetentionRule.keep_months, RetentionRule.id)))


def rule_for(record_type: str) -> RetentionRule | None:
    return db.session.scalar(select(RetentionRule).where(RetentionRule.record_type == record_type))


def get_rule(rule_id: int) -> RetentionRule:
    rule = db.session.get(RetentionRule, rule_id)
    if rule is None:
        raise NotFound("There is no such retention rule.")
    return rule


def set_keep_months(actor: User, rule_id: int, months) -> RetentionRule:
    _require(actor)
    rule = get_rule(rule_id)
    try:
        months = int(months)
    except (TypeError, ValueError) as exc:
        raise ValidationError("Enter the number of months as a whole number.", "keep_months") from exc
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationError(f"Keep records for between {MIN_MONTHS} and {MAX_MONTHS} months (20 years).",
                              "keep_months")
    if months != rule.keep_months:
        audit.record("privacy.retention_changed", target_type="retention_rule", target_id=rule.id, actor=actor,
                     details={"record_type": rule.record_type, "from": rule.keep_months, "to": months})
        rule.keep_months = months
        db.session.commit()
    return rule


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


#: record_type -> purge(cutoff datetime, dry_run) -> number of records deleted or anonymised (None: not applicable).
Purger = Callable[[datetime, bool], int | None]
PURGERS: dict[str, Purger] = {}


def purger(record_type: str) -> Callable[[Purger], Purger]:
    """Register the purge function for a record type; other features add theirs the same way."""

    def register(fn: Purger) -> Purger:
        PURGERS[record_type] = fn
        return fn

    return register


def _closed_at():
    return (select(func.max(NominationEvent.at)).where(NominationEvent.nomination_id == Nomination.id,
                                                       NominationEvent.to_state == Nomination.state)
            .correlate(Nomination).scalar_subquery())


@purger("nominations_unsuccessful")
def _purge_nominations(cutoff: datetime, dry_run: bool) -> int:
    unsuccessful = [s for s in CLOSED_STATES if s != NominationState.ACCEPTED]
    closed = func.coalesce(_closed_at(), Nomination.updated_at)
    rows = list(db.session.scalars(select(Nomination).where(Nomination.state.in_(unsuccessful), closed < cutoff)))
    if not dry_run:
        for nomination in rows:
            db.session.delete(nomination)  # its timeline goes with it
    return len(rows)


@purger("register_entries_lapsed")
def _purge_entries(cutoff: datetime, dry_run: bool) -> int:
    rows = list(db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.status.in_([EntryStatus.LAPSED, EntryStatus.WITHDRAWN]), RegisterEntry.updated_at < cutoff,
        RegisterEntry.email.notlike(f"%@{ERASED_DOMAIN}"))))
    if not dry_run:
        for entry in rows:
            _anonymise_entry(entry)
            for nomination in db.session.scalars(select(Nomination).where(Nomination.entry_id == entry.id)):
                _anonymise_nomination(nomination)
    return len(rows)


@purger("audit_events")
def _purge_audit(cutoff: datetime, dry_run: bool) -> int:
    # Only ever a prefix of the chain, so that what stays still links up from the checkpoint.
    last_id = db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.at < cutoff))
    if last_id is None:
        return 0
    count = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= last_id))
    if count == 0 or dry_run:
        return count
    last_hash = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_id))
    db.session.execute(delete(AuditEvent).where(AuditEvent.id <= last_id))
    db.session.add(AuditCheckpoint(last_event_id=last_id, last_hash=last_hash, purged=count))
    db.session.flush()
    return count


@purger("outbox_sent")
def _purge_outbox(cutoff: datetime, dry_run: bool) -> int:
    where = (OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < cutoff)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    return db.session.execute(delete(OutboxMessage).where(*where)).rowcount or 0


@purger("jobs_finished")
def _purge_jobs(cutoff: datetime, dry_run: bool) -> int:
    finished = [s for s in JobStatus if s.finished]
    where = (Job.status.in_(finished), Job.finished_at.is_not(None), Job.finished_at < cutoff)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(Job).where(*where))
    return db.session.execute(delete(Job).where(*where)).rowcount or 0


def purge_table_by_age(table_name: str, column: str = "created_at") -> Purger:
    """A purge for a table another feature adds: rows older than the cutoff go; not applicable until it exists."""

    def purge(cutoff: datetime, dry_run: bool) -> int | None:
        table = db.metadata.tables.get(table_name)
        if table is None or column not in table.c:
            return None
        where = table.c[column] < cutoff
        if dry_run:
            return db.session.scalar(select(func.count()).select_from(table).where(where))
        return db.session.execute(delete(table).where(where)).rowcount or 0

    return purge


PURGERS["allocation_runs"] = purge_table_by_age("allocation_runs")


@dataclass(frozen=True)
class PurgeLine:
    record_type: str
    description: str
    cutoff: date
    action: RetentionAction
    count: int | None  # None: nothing to purge with (the feature or its purge function is not there)


def purge_expired(today: date | None = None, dry_run: bool = False) -> list[PurgeLine]:
    """Apply the retention schedule. One audit event when anything changed; a second run changes nothing."""
    today = today or date.today()
    ensure_rules()
    lines = []
    # The audit log goes last, so that it never loses events newer than this run's changes.
    rules = sorted(schedule(), key=lambda r: r.record_type == "audit_events")
    for rule in rules:
        cutoff = months_before(today, rule.keep_months)
        fn = PURGERS.get(rule.record_type)
        count = fn(_start_of(cutoff), dry_run) if fn else None
        lines.append(PurgeLine(rule.record_type, rule.description, cutoff, rule.action, count))
    if dry_run:
        db.session.rollback()
        return lines
    done = {line.record_type: line.count for line in lines if line.count}
    if done:
        details = {"today": today.isoformat(), "counts": done}
        if done.get("audit_events"):
            details[audit.CHECKPOINT_KEY] = audit.latest_checkpoint().last_hash
        audit.record("privacy.purged", actor_email="retention schedule", details=details)
    db.session.commit()
    return lines
