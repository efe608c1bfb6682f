"""The CEO's, executive's and trustees' dashboards for one term, and the allocations export.

Supply is what the talent register offers: the days each active, consented supporter gives that term, counted
under every audit area and phase they are tagged with (so it is the days that *could* go there, not a share).
Demand is the days asked for by requests the executive accepted for that term (accepted, matched, approved, in
progress, completed). Committed days and cost are those of allocations approved and not since declined.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Allocation,
    AllocationRun,
    AllocationStatus,
    Area,
    Availability,
    EntryStatus,
    Funding,
    Phase,
    RegisterEntry,
    RequestStatus,
    Role,
    School,
    SupportRequest,
    TagKind,
    User,
)
from app.models.allocation import COMMITTED
from app.services import tabular, visits
from app.services.errors import Forbidden, NotFound, ValidationError
from app.terms import AcademicYear, Term, current

READERS = (Role.CEO, Role.EXECUTIVE, Role.TRUSTEE)
EXPORTERS = (Role.CEO, Role.EXECUTIVE)
#: Requests that count as demand: the executive accepted them for matching (and what follows).
DEMAND = frozenset({RequestStatus.ACCEPTED, RequestStatus.MATCHED, RequestStatus.APPROVED,
                    RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED, RequestStatus.IMPACT_EVALUATED})
#: Allocations listed in the export: approved and everything after it.
EXPORTED = (AllocationStatus.APPROVED, AllocationStatus.RELEASED, AllocationStatus.RELEASE_DECLINED,
            AllocationStatus.ACCEPTED)
AREA_BY_LABEL = {a.label: a for a in Area}


def period(year_text: str | None, term_text: str | None, today: date | None = None) -> tuple[AcademicYear, Term]:
    """The term a report is for, from the GET form; this term when nothing (or nonsense) is given."""
    this_year, this_term = current(today)
    try:
        year = AcademicYear.parse(year_text) if year_text else this_year
    except ValueError:
        year = this_year
    if not 2000 <= year.start <= this_year.start + 5:
        year = this_year  # a far-off year has no data, and 9999/00 has no dates at all
    try:
        term = Term(term_text) if term_text else this_term
    except ValueError:
        term = this_term
    return year, term


def year_choices(today: date | None = None) -> list[AcademicYear]:
    this_year, _ = current(today)
    first = db.session.scalar(select(func.min(Allocation.academic_year)))
    start = min(this_year.start - 1, first or this_year.start)
    return [AcademicYear(y) for y in range(this_year.start + 1, start - 1, -1)]


def _require(actor: User, allowed=READERS) -> None:
    if actor.role not in allowed:
        raise Forbidden("Reports are for the CEO, the executive team and trustees.")


# --- supply against demand -----------------------------------------------------------------------------------


#: Coverage bands: the word is always written in the cell, the colour only repeats it.
BANDS = {
    "short": ("Short", "#b2182b", "#ffffff"),      # offered < half of the days requested
    "tight": ("Tight", "#f4a582", "#1a1a1a"),      # offered at least half, but less than requested
    "covered": ("Covered", "#92c5de", "#1a1a1a"),  # offered at least what is requested
    "spare": ("Spare", "#2166ac", "#ffffff"),      # days offered, nothing requested
    "none": ("None", "#f0f0f0", "#1a1a1a"),        # neither
}


def band(offered: float, requested: float) -> str:
    if requested <= 0:
        return "spare" if offered > 0 else "none"
    if offered >= requested:
        return "covered"
    return "tight" if offered >= requested / 2 else "short"


@dataclass
class Cell:
    offered: float = 0.0
    requested: float = 0.0

    @property
    def band(self) -> str:
        return band(self.offered, self.requested)

    @property
    def gap(self) -> float:
        return self.requested - self.offered


@dataclass
class SupplyDemand:
    phases: list[Phase]
    areas: list[Area]
    cells: dict[tuple[Area, Phase], Cell]
    by_area: dict[Area, Cell]


def _supply(year: AcademicYear, term: Term) -> list[tuple[RegisterEntry, float]]:
    rows = db.session.execute(
        select(RegisterEntry, Availability.days)
        .join(Availability, Availability.entry_id == RegisterEntry.id)
        .options(selectinload(RegisterEntry.tags))
        .where(Availability.academic_year == year.start, Availability.term == term, Availability.days > 0,
               RegisterEntry.status == EntryStatus.ACTIVE, RegisterEntry.consent.is_(True))).unique()
    return [(entry, float(days)) for entry, days in rows]


def _demand(year: AcademicYear, term: Term) -> list[SupportRequest]:
    return list(db.session.scalars(select(SupportRequest).where(
        SupportRequest.academic_year == year.start, SupportRequest.term == term,
        SupportRequest.status.in_(list(DEMAND)))))


def supply_demand(year: AcademicYear, term: Term) -> SupplyDemand:
    cells: dict[tuple[Area, Phase], Cell] = defaultdict(Cell)
    by_area: dict[Area, Cell] = {a: Cell() for a in Area}
    for entry, days in _supply(year, term):
        areas = [AREA_BY_LABEL[v] for v in entry.tag_values(TagKind.AREA) if v in AREA_BY_LABEL]
        phases = [Phase(v) for v in entry.tag_values(TagKind.PHASE) if v in Phase._value2member_map_]
        for area in areas:
            by_area[area].offered += days
            for phase in phases:
                cells[(area, phase)].offered += days
    for r in _demand(year, term):
        days = float(r.days_requested)
        by_area[r.area].requested += days
        cells[(r.area, r.phase)].requested += days
    used = {phase for (_, phase), c in cells.items() if c.offered or c.requested}
    phases = [p for p in Phase if p in used] or [Phase.PRIMARY, Phase.SECONDARY]
    return SupplyDemand(phases, list(Area), {(a, p): cells.get((a, p), Cell()) for a in Area for p in phases},
                        by_area)


# --- capacity used -------------------------------------------------------------------------------------------


@dataclass
class CapacityRow:
    label: str
    offered: float
    committed: float
    school: str = ""

    @property
    def share(self) -> float:
        return self.committed / self.offered if self.offered else 0.0


def _committed(year: AcademicYear, term: Term) -> list[Allocation]:
    return list(db.session.scalars(select(Allocation).where(
        Allocation.academic_year == year.start, Allocation.term == term,
        Allocation.status.in_(list(COMMITTED))).order_by(Allocation.id)))


def capacity(year: AcademicYear, term: Term) -> tuple[list[CapacityRow], list[CapacityRow]]:
    """Days committed against days offered, per supporter and per releasing school (trust-wide staff apart)."""
    committed: dict[int, float] = defaultdict(float)
    for a in _committed(year, term):
        committed[a.register_entry_id] += a.days
    people: list[CapacityRow] = []
    schools: dict[str, CapacityRow] = {}
    for entry, days in _supply(year, term):
        school = entry.school.name if entry.school else "Trust central and external"
        people.append(CapacityRow(entry.name, days, committed.get(entry.id, 0.0), school))
        row = schools.setdefault(school, CapacityRow(school, 0.0, 0.0))
        row.offered += days
        row.committed += committed.get(entry.id, 0.0)
    people.sort(key=lambda r: (-r.share, r.label))
    return people, sorted(schools.values(), key=lambda r: (-r.share, r.label))


# --- cost against budget -------------------------------------------------------------------------------------


@dataclass
class CostRow:
    school: str
    charged: float
    core: float
    budget: float | None

    @property
    def status(self) -> str:
        if self.budget is None:
            return "No charged request" if not self.charged else "No budget stated"
        return "Over budget" if self.charged > self.budget + 1e-6 else "Within budget"


def costs(year: AcademicYear, term: Term) -> list[CostRow]:
    """Per school: charged (second-tier) and core cost of committed support, and the budget it stated."""
    budgets = dict(db.session.execute(
        select(SupportRequest.school_id, func.max(SupportRequest.budget_gbp))
        .where(SupportRequest.academic_year == year.start, SupportRequest.term == term,
               SupportRequest.funding == Funding.SECOND_TIER)
        .group_by(SupportRequest.school_id)).all())
    charged: dict[int, float] = defaultdict(float)
    core: dict[int, float] = defaultdict(float)
    for a in _committed(year, term):
        (charged if a.charged else core)[a.request.school_id] += a.cost
    ids = set(budgets) | set(charged) | set(core)
    names = dict(db.session.execute(select(School.id, School.name).where(School.id.in_(ids or {0}))).all())
    rows = [CostRow(names[i], round(charged.get(i, 0.0), 2), round(core.get(i, 0.0), 2),
                    float(budgets[i]) if budgets.get(i) is not None else None) for i in ids]
    return sorted(rows, key=lambda r: r.school)


# --- unmet demand --------------------------------------------------------------------------------------------


@dataclass
class UnmetRequest:
    request: SupportRequest
    reason: str


@dataclass
class Unmet:
    run: AllocationRun | None
    requests: list[UnmetRequest] = field(default_factory=list)

    @property
    def by_area(self) -> dict[Area, tuple[int, float]]:
        out: dict[Area, list[float]] = {a: [0, 0.0] for a in Area}
        for u in self.requests:
            out[u.request.area][0] += 1
            out[u.request.area][1] += float(u.request.days_requested)
        return {a: (int(n), d) for a, (n, d) in out.items()}


def latest_run(year: AcademicYear, term: Term) -> AllocationRun | None:
    return db.session.scalar(select(AllocationRun).where(
        AllocationRun.academic_year == year.start, AllocationRun.term == term, AllocationRun.result.is_not(None))
        .order_by(AllocationRun.id.desc()).limit(1))


def unmet(year: AcademicYear, term: Term) -> Unmet:
    """Requests the latest run left unmet, and accepted requests with no approved allocation."""
    run = latest_run(year, term)
    reasons: dict[int, str] = {}
    if run is not None:
        for u in (run.result or {}).get("unmet", []):
            reasons[int(str(u["request_id"])[1:])] = u.get("reason") or "The latest run found nobody suitable."
    covered = {a.request_id for a in _committed(year, term)}
    waiting = db.session.scalars(select(SupportRequest).where(
        SupportRequest.academic_year == year.start, SupportRequest.term == term,
        SupportRequest.status == RequestStatus.ACCEPTED))
    for r in waiting:
        reasons.setdefault(r.id, "Accepted, with no approved allocation yet.")
    rows = []
    for request_id, reason in sorted(reasons.items()):
        r = db.session.get(SupportRequest, request_id)
        if r is not None and r.id not in covered and r.status is RequestStatus.ACCEPTED:
            rows.append(UnmetRequest(r, reason))
    return Unmet(run, rows)


# --- everything on one page ----------------------------------------------------------------------------------


@dataclass
class Dashboard:
    year: AcademicYear
    term: Term
    aggregate_only: bool
    supply: SupplyDemand
    people: list[CapacityRow]
    schools: list[CapacityRow]
    costs: list[CostRow]
    unmet: Unmet
    entitlement: list[visits.TrackerLine]


def dashboard(actor: User, year: AcademicYear, term: Term, today: date | None = None) -> Dashboard:
    """The whole dashboard; trustees get aggregates only (no per-supporter rows, no request titles)."""
    _require(actor)
    people, schools = capacity(year, term)
    trustee = actor.role is Role.TRUSTEE
    left = unmet(year, term)
    if trustee:
        people = []
    return Dashboard(year, term, trustee, supply_demand(year, term), people, schools, costs(year, term), left,
                     visits.tracker(year, term, today or date.today()))


# --- export --------------------------------------------------------------------------------------------------


EXPORT_HEADER = ("School", "URN", "Request", "Area", "Supporter", "Designation", "Supporter's school", "Days",
                 "Term", "Relevance", "Cost (£)", "Charged to the school", "Travel (km)", "State", "Approved by",
                 "Approved at")


def export_allocations(actor: User, year: AcademicYear, term: Term, run_id: int | None = None) -> list[Allocation]:
    _require(actor, EXPORTERS)
    query = select(Allocation).order_by(Allocation.id)
    if run_id is not None:
        if db.session.get(AllocationRun, run_id) is None:
            raise NotFound("There is no such allocation run.")
        query = query.where(Allocation.run_id == run_id, Allocation.status != AllocationStatus.WITHDRAWN)
    else:
        query = query.where(Allocation.academic_year == year.start, Allocation.term == term,
                            Allocation.status.in_(EXPORTED))
    return list(db.session.scalars(query))


def export_rows(allocations: list[Allocation]) -> list[list]:
    from app.formatting import LONDON

    names = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({a.decided_by_id for a in allocations if a.decided_by_id} or {0}))).all())
    rows = []
    for a in allocations:
        r, e = a.request, a.entry
        approved = a.status not in (AllocationStatus.PROPOSED, AllocationStatus.REJECTED)
        rows.append([
            r.school.name, r.school.urn, r.title, r.area.label, e.name, e.designation.label,
            e.school.name if e.school else "", a.days, f"{a.term.label} {AcademicYear(a.academic_year).label}",
            round(a.relevance, 3), round(a.cost, 2), "Yes" if a.charged else "No",
            round(a.travel_km, 1) if a.travel_km is not None else "", a.status.label,
            names.get(a.decided_by_id, "") if approved else "",
            a.decided_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if approved and a.decided_at else "",
        ])
    return rows


def export(actor: User, fmt: str, year: AcademicYear, term: Term, run_id: int | None = None) -> tuple[bytes, str]:
    """The allocations as CSV or XLSX, every cell neutralised against formula injection; (content, filename)."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("Choose CSV or XLSX.", "fmt")
    rows = export_rows(export_allocations(actor, year, term, run_id))
    name = f"allocations-run-{run_id}" if run_id else f"allocations-{year.start}-{term.value}"
    if fmt == "csv":
        return tabular.write_csv(EXPORT_HEADER, rows), f"{name}.csv"
    return tabular.write_xlsx(EXPORT_HEADER, rows, title="Allocations"), f"{name}.xlsx"
