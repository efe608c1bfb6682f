"""School categories: schemes and entitlements, the yearly audit, its suggested category, and the CEO's decisions.

Need levels run from 1 (least need) to the number of categories in the scheme. Two rules turn one into another:

Switching scheme (`map_level`): a school keeps its *position* on the need scale. The lowest category maps to
the lowest, the highest to the highest, and levels in between are spread in proportion, halves rounding up
(towards more support): new = 1 + floor((old - 1) * (new_levels - 1) / (old_levels - 1) + 0.5).
For example Three categories -> RAG: 1 -> GREEN, 2 -> AMBER, 3 -> URGENT ACTION; Four levels -> Core and second
tier: Levels 1-2 -> Core, Levels 3-4 -> Second tier. The switch records a new categorisation for every
categorised school, effective from the switch date, so the history shows both. A mapped row remembers the
decision it came from, and every later switch maps from that decision, not from the mapped row: mapping never
drifts through a chain of schemes, and switching back restores the CEO's decided category exactly. A mapped
row keeps the board's confirmation of the decision it came from: the board confirmed the need, not its name.

The audit's suggested category (`suggest`) first scores the school on a five-point need scale:
  5  Safeguarding Not Met, or any area graded Urgent Improvement;
  4  Leadership and Governance graded Needs Attention, or three or more areas Needs Attention;
  3  two areas Needs Attention;
  2  one area Needs Attention, or every area Expected Standard or better but Leadership and Governance only
     Expected Standard;
  1  every area Expected Standard or better and Leadership and Governance Strong Standard or better.
(Early Years may be "not applicable" and is then left out.) The score is mapped onto the active scheme with
level = 1 + floor((score - 1) * (levels - 1) / 4), so score 5 is always the highest need and score 1 always the
lowest: on a three-category scheme scores 3-4 (two or more Needs Attention, or weak leadership) give the middle
category; on RAG with urgent action the score is the level itself.

A school with no categorisation has need level 1 (`current_need_level`), so allocation treats it as needing
the least support until the CEO decides otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Area,
    AuditGrade,
    Category,
    CategoryDispute,
    CategoryScheme,
    DisputeOutcome,
    Grade,
    Role,
    School,
    SchoolAudit,
    SchoolCategorisation,
    TrustSettings,
    User,
)
from app.models.category import COLOURS
from app.models.types import utcnow
from app.services import audit
from app.services.errors import Forbidden, IllegalTransition, NotFound, ValidationError
from app.terms import AcademicYear

MAX_TEXT = 4000
DEFAULT_SCHEME = "Three categories"

# (name, description, [(name, colour, description, visits/term, peer reviews/year, executive reviews/term,
#   safeguarding reviews/year, charged)]) -- migration 0003 seeds the same data into every database.
PRESETS = [
    ("Three categories", "Category 1 to 3, from good or outstanding to inadequate or sponsored.", [
        ("Category 1", "green", "Good or outstanding.", 1, 1, 0, 1, False),
        ("Category 2", "amber", "Requires improvement.", 2, 1, 1, 1, False),
        ("Category 3", "red", "Inadequate, or recently sponsored into the trust.", 4, 1, 1, 2, False),
    ]),
    ("Risk matrix", "Categories derived from the yearly audit (risk assessment matrix).", [
        ("Category 1", "green", "Consistently good, with strong leaders: light-touch monitoring.", 1, 1, 0, 1, False),
        ("Category 2", "amber", "Targeted support in the areas the audit identifies.", 2, 1, 1, 1, False),
        ("Category 3", "red", "Intensive support across the school.", 4, 1, 1, 2, False),
    ]),
    ("Core and second tier", "Every school receives core support; second-tier support is paid from the "
                             "school's own funds.", [
        ("Core", "blue", "The core support every school receives from the trust.", 1, 1, 0, 1, False),
        ("Second tier", "purple", "Support beyond the core entitlement, paid from the school's own funds.",
         3, 1, 1, 1, True),
    ]),
    ("RAG with urgent action", "Five ratings from GREEN to URGENT ACTION.", [
        ("GREEN", "green", "Strong school: monitoring only.", 1, 1, 0, 1, False),
        ("YELLOW", "yellow", "Good, with one area to watch.", 1, 1, 0, 1, False),
        ("AMBER", "amber", "Several areas need attention: targeted support.", 2, 1, 1, 1, False),
        ("RED", "red", "Significant weaknesses: intensive support.", 3, 1, 1, 2, False),
        ("URGENT ACTION", "purple", "Safeguarding or urgent concerns: immediate trust intervention.",
         4, 1, 2, 2, False),
    ]),
    ("Four levels", "Level 1 self-improving to Level 4 serious concern.", [
        ("Level 1", "green", "Self-improving: the school leads its own improvement.", 1, 1, 0, 1, False),
        ("Level 2", "teal", "Light touch: termly check-in.", 1, 1, 0, 1, False),
        ("Level 3", "amber", "Needs support: two visits a term.", 2, 1, 1, 1, False),
        ("Level 4", "red", "Serious concern: four or more visits a term.", 4, 1, 2, 2, False),
    ]),
]

SUGGESTION_RULES = [
    "Safeguarding Not Met, or any area graded Urgent Improvement: the highest need.",
    "Leadership and Governance graded Needs Attention, or three or more areas Needs Attention: need score 4 of 5.",
    "Two areas Needs Attention: need score 3 of 5.",
    "One area Needs Attention, or everything Expected Standard or better with Leadership and Governance at "
    "Expected Standard: need score 2 of 5.",
    "Every area Expected Standard or better and Leadership and Governance Strong Standard or better: the lowest "
    "need.",
    "The need score is mapped onto the trust's active scheme: score 5 is always its highest category and score 1 "
    "its lowest; scores in between are spread evenly, rounding down.",
]


def _require(actor: User, *allowed: Role) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"Only the {' or '.join(r.label for r in allowed)} can do that.")


def _text(value: str | None, what: str, field_name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"Enter {what}.", field_name)
    if len(value) > limit:
        raise ValidationError(f"{what[0].upper() + what[1:]} must be at most {limit:,} characters.", field_name)
    return value


# --- schemes and entitlements ------------------------------------------------------------------


def ensure_presets(*, commit: bool = True) -> int:
    """Add any of the five preset schemes that are missing (edited ones are left alone); return how many."""
    existing = set(db.session.scalars(select(CategoryScheme.name)))
    added = 0
    for name, description, cats in PRESETS:
        if name in existing:
            continue
        scheme = CategoryScheme(name=name, description=description, is_preset=True)
        for level, (cname, colour, cdesc, visits, peer, execr, safe, charged) in enumerate(cats, start=1):
            scheme.categories.append(Category(
                need_level=level, name=cname, colour=colour, description=cdesc, visits_per_term=visits,
                peer_reviews_per_year=peer, executive_reviews_per_term=execr, safeguarding_reviews_per_year=safe,
                charged=charged))
        db.session.add(scheme)
        added += 1
    if added:
        db.session.flush()
        audit.record("category.presets_seeded", details={"schemes": added})
        if commit:
            db.session.commit()
    return added


def schemes() -> list[CategoryScheme]:
    return list(db.session.scalars(select(CategoryScheme).order_by(CategoryScheme.id)))


def get_scheme(scheme_id: int) -> CategoryScheme:
    scheme = db.session.get(CategoryScheme, scheme_id)
    if scheme is None:
        raise NotFound("There is no such category scheme.")
    return scheme


def scheme_by_name(name: str) -> CategoryScheme | None:
    return db.session.scalar(select(CategoryScheme).where(CategoryScheme.name == name))


def _settings() -> TrustSettings | None:
    return db.session.scalar(select(TrustSettings).order_by(TrustSettings.id).limit(1))


def active_scheme() -> CategoryScheme:
    """The scheme the CEO chose; the "Three categories" preset until then (seeded if a database lacks it)."""
    settings = _settings()
    if settings is not None and settings.category_scheme_id:
        scheme = db.session.get(CategoryScheme, settings.category_scheme_id)
        if scheme is not None:
            return scheme
    scheme = scheme_by_name(DEFAULT_SCHEME)
    if scheme is None:
        ensure_presets()
        scheme = scheme_by_name(DEFAULT_SCHEME) or schemes()[0]
    return scheme


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("There is no such category.")
    return category


@dataclass(frozen=True)
class CategoryData:
    name: str
    colour: str
    description: str
    visits_per_term: int
    peer_reviews_per_year: int
    executive_reviews_per_term: int
    safeguarding_reviews_per_year: int
    charged: bool


def update_category(actor: User, category_id: int, data: CategoryData) -> Category:
    """The CEO renames a category or changes its entitlement."""
    _require(actor, Role.CEO)
    category = get_category(category_id)
    name = _text(data.name, "the category's name", "name", limit=100)
    if data.colour not in COLOURS:
        raise ValidationError("Choose one of the listed colours.", "colour")
    description = _text(data.description, "a description", "description", required=False, limit=1000)
    numbers = {}
    for field_name in ("visits_per_term", "peer_reviews_per_year", "executive_reviews_per_term",
                       "safeguarding_reviews_per_year"):
        value = getattr(data, field_name)
        if value is None or not 0 <= int(value) <= 20:
            raise ValidationError("Enter a whole number from 0 to 20.", field_name)
        numbers[field_name] = int(value)
    clash = db.session.scalar(select(Category).where(Category.scheme_id == category.scheme_id,
                                                     Category.name == name, Category.id != category.id))
    if clash:
        raise ValidationError(f"Another category in this scheme is already called {name}.", "name")
    changes = {}
    for key, value in {"name": name, "colour": data.colour, "description": description,
                       "charged": bool(data.charged), **numbers}.items():
        if getattr(category, key) != value:
            changes[key] = {"from": getattr(category, key), "to": value}
            setattr(category, key, value)
    if changes:
        audit.record("category.updated", target_type="category", target_id=category.id, details=changes,
                     actor=actor)
        db.session.commit()
    return category


def map_level(level: int, from_levels: int, to_levels: int) -> int:
    """Keep a school's position on the need scale when the number of levels changes (see module docstring)."""
    if from_levels <= 1 or to_levels <= 1:
        return 1
    return 1 + math.floor((level - 1) * (to_levels - 1) / (from_levels - 1) + 0.5)


def set_active_scheme(actor: User, scheme_id: int, on_date: date | None = None) -> int:
    """The CEO switches scheme; every categorised school is mapped by need level. Returns how many were mapped."""
    _require(actor, Role.CEO, Role.ADMIN)
    scheme = get_scheme(scheme_id)
    if not scheme.categories:
        raise ValidationError("That scheme has no categories.", "scheme_id")
    on_date = on_date or date.today()
    previous = active_scheme()
    settings = _settings()
    if settings is None:
        name = current_app.config["TRUST_NAME"] if has_app_context() else "Trust"
        settings = TrustSettings(trust_name=name)
        db.session.add(settings)
    if previous.id == scheme.id and settings.category_scheme_id == scheme.id:
        return 0
    by_level = {c.need_level: c for c in scheme.categories}
    mapped = 0
    for school_id, current in current_categorisations(on_date).items():
        if current.category.scheme_id == scheme.id:
            continue
        decision = current.mapped_from or current
        old = decision.category
        if old.scheme_id == scheme.id:
            target = old
            rationale = f"Restored {old.name}, as decided, when the trust switched back to {scheme.name}."
        else:
            target = by_level[map_level(old.need_level, old.scheme.levels, scheme.levels)]
            rationale = (f"Mapped from {old.scheme.name}: {old.name} (need level {old.need_level} of "
                         f"{old.scheme.levels}) when the trust switched to {scheme.name}.")
        db.session.add(SchoolCategorisation(
            school_id=school_id, academic_year=AcademicYear.of(on_date).start, category_id=target.id,
            rationale=rationale, effective_from=on_date, decided_by_id=actor.id, audit_id=current.audit_id,
            mapped_from_id=decision.id, board_confirmed_at=decision.board_confirmed_at,
            board_confirmed_by_id=decision.board_confirmed_by_id))
        mapped += 1
    settings.category_scheme_id = scheme.id
    audit.record("category.scheme_changed", target_type="category_scheme", target_id=scheme.id, actor=actor,
                 details={"from": previous.name, "to": scheme.name, "schools_mapped": mapped})
    db.session.commit()
    return mapped


# --- current categories ------------------------------------------------------------------------


def _latest_first():
    return (SchoolCategorisation.effective_from.desc(), SchoolCategorisation.decided_at.desc(),
            SchoolCategorisation.id.desc())


def current_categorisation(school_id: int, on_date: date | None = None) -> SchoolCategorisation | None:
    """The latest categorisation in effect on the date (today by default)."""
    on_date = on_date or date.today()
    return db.session.scalar(
        select(SchoolCategorisation)
        .where(SchoolCategorisation.school_id == school_id, SchoolCategorisation.effective_from <= on_date)
        .order_by(*_latest_first()).limit(1))


def current_category(school_id: int, on_date: date | None = None) -> Category | None:
    """The school's category now (or on a date); None when the school has not been categorised."""
    current = current_categorisation(school_id, on_date)
    return current.category if current else None


def current_need_level(school_id: int, on_date: date | None = None) -> int:
    """Need level for allocation: 1 (least need) when the school has never been categorised."""
    category = current_category(school_id, on_date)
    return category.need_level if category else 1


def current_categorisations(on_date: date | None = None) -> dict[int, SchoolCategorisation]:
    """Every categorised school's categorisation in effect on the date, in one query."""
    on_date = on_date or date.today()
    rows = db.session.scalars(select(SchoolCategorisation)
                              .where(SchoolCategorisation.effective_from <= on_date)
                              .order_by(SchoolCategorisation.school_id, *_latest_first()))
    result: dict[int, SchoolCategorisation] = {}
    for row in rows:
        result.setdefault(row.school_id, row)
    return result


def history(school_id: int) -> list[SchoolCategorisation]:
    return list(db.session.scalars(select(SchoolCategorisation).where(SchoolCategorisation.school_id == school_id)
                                   .order_by(*_latest_first())))


def get_categorisation(categorisation_id: int) -> SchoolCategorisation:
    row = db.session.get(SchoolCategorisation, categorisation_id)
    if row is None:
        raise NotFound("There is no such categorisation.")
    return row


# --- the yearly audit --------------------------------------------------------------------------


@dataclass
class AuditData:
    carried_out_on: date
    safeguarding_met: bool
    safeguarding_evidence: str = ""
    #: area -> (grade or None for not applicable, evidence notes)
    grades: dict[Area, tuple[Grade | None, str]] = field(default_factory=dict)


def get_audit(school_id: int, year: int) -> SchoolAudit | None:
    return db.session.scalar(select(SchoolAudit).where(SchoolAudit.school_id == school_id,
                                                       SchoolAudit.academic_year == year))


def latest_audit(school_id: int) -> SchoolAudit | None:
    return db.session.scalar(select(SchoolAudit).where(SchoolAudit.school_id == school_id)
                             .order_by(SchoolAudit.academic_year.desc()).limit(1))


def save_audit(actor: User, school_id: int, year: int, data: AuditData, *, commit: bool = True) -> SchoolAudit:
    """Record (or revise) the school's audit for the academic year."""
    _require(actor, Role.CEO, Role.EXECUTIVE)
    if db.session.get(School, school_id) is None:
        raise NotFound("There is no such school.")
    if data.carried_out_on is None:
        raise ValidationError("Enter the date of the audit.", "carried_out_on")
    if data.carried_out_on > date.today():
        raise ValidationError("The audit date cannot be in the future.", "carried_out_on")
    for area in Area:
        if area not in data.grades:
            raise ValidationError(f"Grade {area.label}.", f"grade_{area.value}")
        grade, evidence = data.grades[area]
        if grade is None and area != Area.EARLY_YEARS:
            raise ValidationError(f"Grade {area.label}; only Early Years may be not applicable.",
                                  f"grade_{area.value}")
        _text(evidence, f"the evidence for {area.label}", f"evidence_{area.value}", required=False)
    row = get_audit(school_id, year)
    created = row is None
    if row is None:
        row = SchoolAudit(school_id=school_id, academic_year=year)
        db.session.add(row)
    row.carried_out_on = data.carried_out_on
    row.safeguarding_met = bool(data.safeguarding_met)
    row.safeguarding_evidence = _text(data.safeguarding_evidence, "the safeguarding evidence",
                                      "safeguarding_evidence", required=False)
    row.recorded_by_id = actor.id
    existing = {g.area: g for g in row.grades}
    for area in Area:
        grade, evidence = data.grades[area]
        item = existing.get(area)
        if item is None:
            item = AuditGrade(area=area)
            row.grades.append(item)
        item.grade = grade
        item.evidence = (evidence or "").strip()
    db.session.flush()
    audit.record("category.audit_recorded" if created else "category.audit_revised", target_type="school_audit",
                 target_id=row.id, actor=actor,
                 details={"school_id": school_id, "year": AcademicYear(year).label,
                          "safeguarding_met": row.safeguarding_met,
                          "grades": {a.value: (g.value if g else None) for a, (g, _) in data.grades.items()}})
    if commit:
        db.session.commit()
    return row


@dataclass(frozen=True)
class Suggestion:
    score: int  # 1 to 5 on the trust's need scale
    category: Category
    reasons: list[str]


def need_score(audit_row: SchoolAudit) -> tuple[int, list[str]]:
    """The five-point need score of an audit and the reasons, by the rules in the module docstring."""
    graded = [(g.area, g.grade) for g in audit_row.grades if g.grade is not None]
    urgent = [a.label for a, g in graded if g == Grade.URGENT]
    attention = [a.label for a, g in graded if g == Grade.NEEDS_ATTENTION]
    leadership = next((g for a, g in graded if a == Area.LEADERSHIP), None)
    if not audit_row.safeguarding_met or urgent:
        reasons = (["Safeguarding is Not Met."] if not audit_row.safeguarding_met else [])
        reasons += [f"Urgent Improvement in {', '.join(urgent)}."] if urgent else []
        return 5, reasons
    if leadership == Grade.NEEDS_ATTENTION or len(attention) >= 3:
        return 4, [f"Needs Attention in {', '.join(attention)}."]
    if len(attention) == 2:
        return 3, [f"Needs Attention in {', '.join(attention)}."]
    if len(attention) == 1:
        return 2, [f"Needs Attention in {attention[0]}."]
    if leadership is not None and leadership.rank >= Grade.STRONG.rank:
        return 1, ["Every area is Expected Standard or better and Leadership and Governance is "
                   f"{leadership.label}."]
    return 2, ["Every area is Expected Standard or better, but Leadership and Governance is Expected Standard."]


def suggest(audit_row: SchoolAudit, scheme: CategoryScheme | None = None) -> Suggestion:
    scheme = scheme or active_scheme()
    score, reasons = need_score(audit_row)
    levels = scheme.levels
    level = 1 + math.floor((score - 1) * (levels - 1) / 4)
    category = next(c for c in scheme.categories if c.need_level == level)
    return Suggestion(score=score, category=category, reasons=reasons)


# --- decisions, board confirmation, disputes ---------------------------------------------------


def categorise(actor: User, school_id: int, category_id: int, rationale: str, effective_from: date | None = None,
               *, audit_id: int | None = None, commit: bool = True) -> SchoolCategorisation:
    """The CEO decides a school's category (at the start of a year or mid-year, effective from a date)."""
    _require(actor, Role.CEO)
    if db.session.get(School, school_id) is None:
        raise NotFound("There is no such school.")
    category = get_category(category_id)
    if category.scheme_id != active_scheme().id:
        raise ValidationError("Choose a category from the trust's active scheme.", "category_id")
    rationale = _text(rationale, "the rationale for the decision", "rationale")
    effective_from = effective_from or date.today()
    if audit_id is not None:
        audit_row = db.session.get(SchoolAudit, audit_id)
        if audit_row is None or audit_row.school_id != school_id:
            raise ValidationError("That audit is not this school's.", "audit_id")
    row = SchoolCategorisation(school_id=school_id, academic_year=AcademicYear.of(effective_from).start,
                               category_id=category.id, audit_id=audit_id, rationale=rationale,
                               effective_from=effective_from, decided_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record("category.decided", target_type="school_categorisation", target_id=row.id, actor=actor,
                 details={"school_id": school_id, "category": category.name, "scheme": category.scheme.name,
                          "effective_from": effective_from.isoformat()})
    if commit:
        db.session.commit()
    return row


def confirm_by_board(actor: User, categorisation_id: int, *, commit: bool = True) -> SchoolCategorisation:
    """Record that the board confirmed the decision (entered by the CEO or an administrator)."""
    _require(actor, Role.CEO, Role.ADMIN)
    row = get_categorisation(categorisation_id)
    if row.board_confirmed_at is not None:
        raise IllegalTransition("The board has already confirmed this categorisation.")
    row.board_confirmed_at = utcnow()
    row.board_confirmed_by_id = actor.id
    audit.record("category.board_confirmed", target_type="school_categorisation", target_id=row.id, actor=actor)
    if commit:
        db.session.commit()
    return row


def open_dispute(categorisation: SchoolCategorisation) -> CategoryDispute | None:
    return next((d for d in categorisation.disputes if d.outcome is None), None)


def get_dispute(dispute_id: int) -> CategoryDispute:
    dispute = db.session.get(CategoryDispute, dispute_id)
    if dispute is None:
        raise NotFound("There is no such dispute.")
    return dispute


def raise_dispute(actor: User, categorisation_id: int, statement: str) -> CategoryDispute:
    """The school's headteacher disputes its category in writing."""
    row = get_categorisation(categorisation_id)
    if actor.role != Role.HEADTEACHER or actor.school_id != row.school_id:
        raise Forbidden("Only the school's headteacher can dispute its category.")
    statement = _text(statement, "why the school disputes its category", "statement")
    if open_dispute(row) is not None:
        raise IllegalTransition("This category is already disputed and awaits the Chair's decision.")
    dispute = CategoryDispute(categorisation_id=row.id, statement=statement, raised_by_id=actor.id)
    db.session.add(dispute)
    db.session.flush()
    audit.record("category.disputed", target_type="category_dispute", target_id=dispute.id, actor=actor,
                 details={"categorisation_id": row.id})
    db.session.commit()
    return dispute


def decide_dispute(actor: User, dispute_id: int, outcome: DisputeOutcome, decision: str,
                   new_category_id: int | None = None) -> CategoryDispute:
    """Record the Chair's final decision (entered by the CEO or an administrator on the Chair's behalf)."""
    _require(actor, Role.CEO, Role.ADMIN)
    dispute = get_dispute(dispute_id)
    if dispute.outcome is not None:
        raise IllegalTransition("The Chair's decision on this dispute is already recorded.")
    outcome = DisputeOutcome(outcome)
    decision = _text(decision, "the Chair's decision", "decision")
    dispute.outcome = outcome
    dispute.decision = decision
    dispute.decided_at = utcnow()
    dispute.recorded_by_id = actor.id
    if outcome == DisputeOutcome.CHANGED:
        if not new_category_id:
            raise ValidationError("Choose the category the Chair decided on.", "new_category_id")
        old = dispute.categorisation
        category = get_category(new_category_id)
        if category.scheme_id != active_scheme().id or category.id == old.category_id:
            raise ValidationError("Choose a different category from the trust's active scheme.", "new_category_id")
        db.session.add(SchoolCategorisation(
            school_id=old.school_id, academic_year=AcademicYear.of(date.today()).start, category_id=category.id,
            audit_id=old.audit_id, rationale=f"Chair's decision on the school's dispute: {decision}",
            effective_from=date.today(), decided_by_id=actor.id, board_confirmed_at=utcnow(),
            board_confirmed_by_id=actor.id))
    audit.record("category.dispute_decided", target_type="category_dispute", target_id=dispute.id, actor=actor,
                 details={"outcome": outcome.value, "new_category_id": new_category_id})
    db.session.commit()
    return dispute
