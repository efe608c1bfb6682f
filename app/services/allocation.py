"""Allocation runs: ORM -> school-support-scenario/1 -> the matcher -> proposed allocations -> CEO approval.

The matcher runs as `python -m matching solve --rank-output ...` in one child process (the allocation and each
request's alternatives, relevance worked out once), so a cancelled or timed-out run can be stopped at once; the
run's allocations are written in the job's single transaction, so a failure leaves none.
Approval raises the capacity and budget ledgers with guarded UPDATEs (`... WHERE committed + :days <= :offered`):
the database serialises two approvals of the same supporter, and the second one sees the first one's days.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Allocation,
    AllocationRun,
    AllocationStatus,
    BudgetLedger,
    CapacityLedger,
    Designation,
    EntryStatus,
    Funding,
    Job,
    RegisterEntry,
    RequestStatus,
    Role,
    RunChoice,
    RunPairRule,
    School,
    SupportRequest,
    TrustSettings,
    User,
)
from app.models.allocation import COMMITTED
from app.models.types import utcnow
from app.services import audit, categories, jobs, notify, register, requests
from app.services.errors import Conflict, DomainError, Forbidden, IllegalTransition, NotFound, ValidationError
from app.terms import AcademicYear, Term

LEADERS = (Role.CEO, Role.EXECUTIVE)
#: Seconds the matcher may run beyond the scenario's own time limit (start-up, reading, writing) before it is
#: stopped and the run fails with a clear message.
MATCHER_GRACE_S = 60.0
PHASES = {"nursery", "primary", "secondary", "special", "all-through", "post-16"}
MAX_REASON = 1000


class CapacityExceeded(Conflict):
    pass


class BudgetExceeded(Conflict):
    pass


# --- building the scenario ---------------------------------------------------------------------------------


def _sid(school_id: int) -> str:
    return f"S{school_id}"


def _pid(entry_id: int) -> str:
    return f"P{entry_id}"


def _rid(request_id: int) -> str:
    return f"R{request_id}"


def _num(text: str) -> int:
    return int(text[1:])


def request_text(r: SupportRequest) -> str:
    """What the matcher reads for a request: the template's words, in the school's own language."""
    parts = [r.title, r.need, r.evidence, r.desired_outcomes, r.area.label, r.key_stage.label,
             r.support_type.label]
    return "\n".join(p for p in parts if p)


def supporter_text(e: RegisterEntry) -> str:
    parts = [e.post, e.expertise, "; ".join(e.areas), "; ".join(e.subjects), "; ".join(e.key_stages)]
    return "\n".join(p for p in parts if p)


def school_budgets(year: int, term: Term) -> dict[int, float | None]:
    """What each school may still spend on charged support this term.

    A school's budget is the largest budget stated on its second-tier (charged) requests for the term, less
    what approved charged support already spends; a school with no charged request has no limit (the trust
    pays for core support)."""
    stated: dict[int, float] = {}
    rows = db.session.execute(
        select(SupportRequest.school_id, func.max(SupportRequest.budget_gbp))
        .where(SupportRequest.academic_year == year, SupportRequest.term == term,
               SupportRequest.funding == Funding.SECOND_TIER)
        .group_by(SupportRequest.school_id))
    for school_id, budget in rows:
        stated[school_id] = float(budget or 0)
    spent = dict(db.session.execute(
        select(BudgetLedger.school_id, BudgetLedger.spent)
        .where(BudgetLedger.academic_year == year, BudgetLedger.term == term)).all())
    return {sid: max(0.0, b - float(spent.get(sid, 0.0))) for sid, b in stated.items()}


def _rules() -> dict:
    settings = db.session.scalar(select(TrustSettings))
    rules = {"min_score": 0.15, "internal_first": True, "time_limit_s": 60, "max_travel_km": 60.0}
    if settings is not None:
        rules.update(min_score=float(settings.min_score), internal_first=bool(settings.internal_first),
                     time_limit_s=int(settings.solver_time_limit_s), max_travel_km=settings.max_travel_km)
    if rules["max_travel_km"] is None:
        del rules["max_travel_km"]
    return rules


@dataclass
class BuiltScenario:
    scenario: dict
    notes: list[str] = field(default_factory=list)


def build_scenario(year: int, term: Term, today: date | None = None) -> BuiltScenario:
    """The school-support-scenario/1 document for one term, from the database as it is now."""
    today = today or date.today()
    term = Term(term)
    open_requests = requests.open_for_matching(year, term)
    pool = [e for e in register.matching_pool(year, term, today=today)]
    remaining = register.remaining_many(pool, year, term)
    pool = [e for e in pool if remaining[e.id] > 0]
    budgets = school_budgets(year, term)
    schools = list(db.session.scalars(select(School).order_by(School.id)))
    need = {s.id: categories.current_need_level(s.id, today) for s in schools}
    notes: list[str] = []
    scenario = {
        "format": "school-support-scenario/1",
        "schools": [
            {"id": _sid(s.id), "name": s.name, "phase": s.phase.value, "need": need[s.id],
             "budget": budgets.get(s.id), "lat": s.latitude, "lon": s.longitude}
            for s in schools
        ],
        "supporters": [
            {"id": _pid(e.id), "name": e.name, "school_id": _sid(e.school_id) if e.school_id else None,
             "kind": e.designation.value, "expertise": supporter_text(e),
             "phases": sorted(p for p in e.phases if p in PHASES),
             "capacity_days": round(remaining[e.id], 2), "day_rate": float(e.day_rate)}
            for e in pool
        ],
        "requests": [
            {"id": _rid(r.id), "school_id": _sid(r.school_id), "text": request_text(r), "phase": r.phase.value,
             "area": r.area.label, "days": float(r.days_requested)}
            for r in open_requests
        ],
        "pins": [],
        "bans": [],
        "rules": _rules(),
    }
    request_ids = {r.id for r in open_requests}
    entry_ids = {e.id for e in pool}
    for rule in db.session.scalars(select(RunPairRule).where(RunPairRule.request_id.in_(request_ids or {0}))):
        pair = {"request_id": _rid(rule.request_id), "supporter_id": _pid(rule.register_entry_id)}
        if rule.register_entry_id not in entry_ids:
            if rule.choice is RunChoice.PIN:
                entry = db.session.get(RegisterEntry, rule.register_entry_id)
                notes.append(f"The pin of {entry.name if entry else 'a supporter'} to request {rule.request_id} "
                             "was left out: they have no days left this term or are no longer on the register.")
            continue
        scenario["pins" if rule.choice is RunChoice.PIN else "bans"].append(pair)
    return BuiltScenario(scenario, notes)


def fingerprint(scenario: dict) -> str:
    return hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest()


# --- starting and running ----------------------------------------------------------------------------------


def _require(actor: User, *allowed: Role) -> None:
    if actor.role not in allowed:
        raise Forbidden("Only " + " or ".join(r.label for r in allowed) + " can do that.")


def start_run(actor: User, year: int, term: Term, parent: AllocationRun | None = None,
              today: date | None = None) -> AllocationRun:
    _require(actor, *LEADERS)
    built = build_scenario(year, Term(term), today=today)
    if not built.scenario["requests"]:
        raise ValidationError(f"There are no accepted requests for {Term(term).label} {AcademicYear(year).label}"
                              " to match. Triage the submitted requests first.", "term")
    if not built.scenario["supporters"]:
        raise ValidationError("Nobody on the talent register has days left that term.", "term")
    run = AllocationRun(academic_year=year, term=Term(term), scenario=built.scenario,
                        fingerprint=fingerprint(built.scenario), created_by_id=actor.id,
                        parent_run_id=parent.id if parent else None)
    db.session.add(run)
    db.session.flush()
    job = jobs.submit("allocation.run", {"run_id": run.id, "notes": built.notes}, actor, commit=False)
    run.job_id = job.id
    audit.record("allocation.run_started", target_type="allocation_run", target_id=run.id, actor=actor,
                 details={"year": year, "term": Term(term).value, "requests": len(built.scenario["requests"]),
                          "supporters": len(built.scenario["supporters"]), "pins": len(built.scenario["pins"]),
                          "bans": len(built.scenario["bans"])})
    db.session.commit()
    jobs.dispatch(job.id)
    return run


def _matcher(command: list[str], scenario_path: Path, out_path: Path, reporter: jobs.Reporter,
             limit_s: float) -> dict:
    """Run `python -m matching ...` and wait for it, beating the heartbeat; kill it on cancel or overrun."""
    err_path = out_path.with_suffix(".err")
    with err_path.open("wb") as err:
        # The command is fixed (this interpreter, the matching package, files we wrote): no shell, no user text.
        proc = subprocess.Popen([sys.executable, "-m", "matching", *command, str(scenario_path),  # noqa: S603
                                 "-o", str(out_path)], stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + limit_s
        try:
            while True:
                try:
                    proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    reporter.beat()  # raises jobs.Cancelled when the user asked to stop
                    if time.monotonic() > deadline:
                        raise DomainError(f"The matcher did not finish within {int(limit_s)} seconds and was "
                                          "stopped. Nothing was saved. Raise the time limit in the trust "
                                          "settings or re-run.") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if proc.returncode != 0:
        lines = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise DomainError("The matcher could not use this scenario: " + (lines[-1] if lines else "no reason given"))
    return json.loads(out_path.read_text(encoding="utf-8"))


@jobs.handler("allocation.run")
def execute(job: Job, reporter: jobs.Reporter) -> dict:
    run = db.session.scalar(select(AllocationRun).where(AllocationRun.id == job.payload["run_id"]))
    if run is None:
        raise DomainError("The allocation run no longer exists.")
    limit = float(run.scenario.get("rules", {}).get("time_limit_s", 60)) + MATCHER_GRACE_S
    with tempfile.TemporaryDirectory(prefix="allocation-") as tmp:
        scenario_path = Path(tmp) / "scenario.json"
        scenario_path.write_text(json.dumps(run.scenario), encoding="utf-8")
        reporter.progress("Scoring relevance, solving the allocation and finding alternatives for each request")
        # One child process for both: relevance (the sentence model and every text's embedding) is worked
        # out once, not again for the ranking.
        ranking_path = Path(tmp) / "ranking.json"
        result = _matcher(["solve", "--rank-top", "4", "--rank-output", str(ranking_path)], scenario_path,
                          Path(tmp) / "result.json", reporter, limit)
        ranking = json.loads(ranking_path.read_text(encoding="utf-8"))
    if result.get("status") == "infeasible":
        raise DomainError("The matcher found no allocation that keeps every rule (often a pin that cannot be "
                          "honoured). Nothing was saved; remove the pin or ban and re-run.")
    _save_proposals(run, result, ranking)
    return {"status": result["status"], "allocations": len(result["allocations"]),
            "unmet": len(result["unmet"]), "objective": result.get("objective")}


def _km(a: School | None, b: School | None) -> float | None:
    if not a or not b or None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6371.0088 * math.asin(math.sqrt(h)), 1)


def _save_proposals(run: AllocationRun, result: dict, ranking: dict) -> None:
    supporters = {s["id"]: s for s in run.scenario["supporters"]}
    days_of = {r["id"]: r["days"] for r in run.scenario["requests"]}
    chosen = {a["request_id"]: a["supporter_id"] for a in result["allocations"]}
    alternatives: dict[str, list[dict]] = {}
    for row in ranking.get("rankings", []):
        rid = row["request_id"]
        alts = []
        for c in row["candidates"]:
            if c["supporter_id"] == chosen.get(rid) or c["supporter_id"] not in supporters:
                continue
            s = supporters[c["supporter_id"]]
            alts.append({"entry_id": _num(c["supporter_id"]), "name": s.get("name", ""), "kind": s.get("kind"),
                         "score": round(float(c["score"]), 3), "why": c.get("why", [])[:5],
                         "cost": round(days_of[rid] * float(s.get("day_rate", 0)), 2)})
            if len(alts) == 3:
                break
        alternatives[rid] = alts
    charged = {r.id: r.funding is Funding.SECOND_TIER for r in db.session.scalars(
        select(SupportRequest).where(SupportRequest.id.in_([_num(a["request_id"]) for a in result["allocations"]]
                                                           or [0])))}
    # A new run replaces the proposals of earlier runs for the same term that nobody has decided on.
    db.session.execute(update(Allocation).where(
        Allocation.academic_year == run.academic_year, Allocation.term == run.term,
        Allocation.status == AllocationStatus.PROPOSED, Allocation.run_id != run.id,
    ).values(status=AllocationStatus.WITHDRAWN, reason="Replaced by a later run"))
    for a in result["allocations"]:
        request_id = _num(a["request_id"])
        db.session.add(Allocation(
            run_id=run.id, request_id=request_id, register_entry_id=_num(a["supporter_id"]),
            academic_year=run.academic_year, term=run.term, days=float(a["days"]),
            relevance=float(a["relevance"]), cost=float(a["cost"]), charged=charged.get(request_id, False),
            travel_km=a.get("travel_km"), why=list(a.get("why", []))[:8],
            alternatives=alternatives.get(a["request_id"], [])))
    run.result = result
    run.solver_status = result.get("status")
    run.objective = result.get("objective")
    run.gap = result.get("gap")
    audit.record("allocation.run_finished", target_type="allocation_run", target_id=run.id, actor=None,
                 actor_email="matcher", details={"status": result.get("status"),
                                                 "allocations": len(result["allocations"]),
                                                 "unmet": len(result["unmet"])})


# --- reading runs ------------------------------------------------------------------------------------------


def get_run(run_id: int) -> AllocationRun:
    run = db.session.get(AllocationRun, run_id)
    if run is None:
        raise NotFound("There is no such allocation run.")
    return run


def list_runs(limit: int = 30) -> list[AllocationRun]:
    jobs.reap_stale()
    return list(db.session.scalars(select(AllocationRun).order_by(AllocationRun.id.desc()).limit(limit)))


def get_allocation(allocation_id: int) -> Allocation:
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("There is no such allocation.")
    return allocation


@dataclass
class Review:
    run: AllocationRun
    allocations: list[Allocation]
    unmet: list[dict]
    days_by_need: dict[int, dict[str, float]]
    cost_by_school: list[dict]
    external_days: float
    changes: list[str]
    need_names: dict[int, str]


def review(run_id: int, today: date | None = None) -> Review:
    run = get_run(run_id)
    if run.result is None:
        raise IllegalTransition("This run has not finished, so there is nothing to review yet.")
    allocations = [a for a in run.allocations if a.status is not AllocationStatus.WITHDRAWN]
    schools = {s["id"]: s for s in run.scenario["schools"]}
    requests_by_id = {r["id"]: r for r in run.scenario["requests"]}
    days_by_need: dict[int, dict[str, float]] = defaultdict(lambda: {"requested": 0.0, "met": 0.0})
    for r in run.scenario["requests"]:
        days_by_need[schools[r["school_id"]]["need"]]["requested"] += r["days"]
    for a in allocations:
        if a.status in (AllocationStatus.PROPOSED, *COMMITTED):
            days_by_need[schools[_sid(a.request.school_id)]["need"]]["met"] += a.days
    cost: dict[str, float] = defaultdict(float)
    for a in allocations:
        if a.status in (AllocationStatus.PROPOSED, *COMMITTED):
            cost[_sid(a.request.school_id)] += a.cost
    cost_by_school = [{"school": schools[sid]["name"], "cost": round(c, 2), "budget": schools[sid].get("budget")}
                      for sid, c in sorted(cost.items(), key=lambda kv: schools[kv[0]]["name"])]
    external = sum(a.days for a in allocations if a.entry.designation is Designation.EXTERNAL
                   and a.status in (AllocationStatus.PROPOSED, *COMMITTED))
    unmet = [{"request_id": _num(u["request_id"]), "reason": u.get("reason", ""),
              "text": requests_by_id.get(u["request_id"], {}).get("text", "").split("\n")[0],
              "school": schools[requests_by_id[u["request_id"]]["school_id"]]["name"]
              if u["request_id"] in requests_by_id else ""}
             for u in run.result.get("unmet", [])]
    scheme_names = {c.need_level: c.name for c in categories.active_scheme().categories}
    return Review(run, allocations, unmet, dict(sorted(days_by_need.items())), cost_by_school, external,
                  changes_since(run, today=today), scheme_names)


def changes_since(run: AllocationRun, today: date | None = None) -> list[str]:
    """Explain, in plain words, what changed in the data since the run was made."""
    now = build_scenario(run.academic_year, run.term, today=today).scenario
    if fingerprint(now) == run.fingerprint:
        return []
    lines: list[str] = []
    this_run = defaultdict(float)
    for a in run.allocations:
        if a.status in COMMITTED:
            this_run[_pid(a.register_entry_id)] += a.days
    then_req = {r["id"]: r for r in run.scenario["requests"]}
    now_req = {r["id"]: r for r in now["requests"]}
    decided = {_rid(a.request_id) for a in run.allocations if a.status in COMMITTED}
    for rid, r in then_req.items():
        if rid not in now_req and rid not in decided:
            row = db.session.get(SupportRequest, _num(rid))
            state = row.status.label.lower() if row else "deleted"
            lines.append(f"Request {_num(rid)} ({r['text'].splitlines()[0][:80]}) is no longer open for matching: "
                         f"it is now {state}.")
        elif rid in now_req and now_req[rid]["days"] != r["days"]:
            lines.append(f"Request {_num(rid)} now asks for {now_req[rid]['days']:g} days (the run used "
                         f"{r['days']:g}).")
    new = [rid for rid in now_req if rid not in then_req]
    if new:
        lines.append(f"{len(new)} request{'s were' if len(new) > 1 else ' was'} accepted after this run; re-run to "
                     "include them.")
    then_sup = {s["id"]: s for s in run.scenario["supporters"]}
    now_sup = {s["id"]: s for s in now["supporters"]}
    for pid, s in then_sup.items():
        if pid not in now_sup and this_run.get(pid, 0) < s["capacity_days"]:
            lines.append(f"{s.get('name', pid)} has no days left this term or is no longer on the register.")
        elif pid in now_sup and now_sup[pid]["capacity_days"] + this_run.get(pid, 0) < s["capacity_days"] - 1e-9:
            lines.append(f"{s.get('name', pid)} now has {now_sup[pid]['capacity_days']:g} days left (the run "
                         f"assumed {s['capacity_days']:g}, less what this run has approved).")
    then_need = {s["id"]: s["need"] for s in run.scenario["schools"]}
    for s in now["schools"]:
        if then_need.get(s["id"]) not in (None, s["need"]):
            lines.append(f"{s['name']} was re-categorised after the run (need level {then_need[s['id']]} -> "
                         f"{s['need']}).")
    if not lines and run.scenario.get("rules") != now.get("rules"):
        lines.append("The trust's matching rules were changed after this run.")
    return lines


# --- the CEO's decisions -----------------------------------------------------------------------------------


def _ensure_row(model, **key) -> None:
    """Create a ledger row if it is missing; a concurrent creator winning the race is fine."""
    if db.session.scalar(select(model.id).filter_by(**key)) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(model(**key))
    except IntegrityError:
        pass


def _commit_days(entry: RegisterEntry, year: int, term: Term, days: float) -> None:
    offered = entry.days_offered(year, term)
    _ensure_row(CapacityLedger, register_entry_id=entry.id, academic_year=year, term=term)
    done = db.session.execute(
        update(CapacityLedger)
        .where(CapacityLedger.register_entry_id == entry.id, CapacityLedger.academic_year == year,
               CapacityLedger.term == term, CapacityLedger.committed + days <= offered + 1e-9)
        .values(committed=CapacityLedger.committed + days)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        left = offered - (db.session.scalar(select(CapacityLedger.committed).where(
            CapacityLedger.register_entry_id == entry.id, CapacityLedger.academic_year == year,
            CapacityLedger.term == term)) or 0)
        raise CapacityExceeded(f"{entry.name} has only {max(left, 0):g} of {offered:g} days left in "
                               f"{term.label} {AcademicYear(year).label}; this needs {days:g}.")


def _spend(school_id: int, year: int, term: Term, amount: float) -> None:
    stated = db.session.scalar(
        select(func.max(SupportRequest.budget_gbp)).where(
            SupportRequest.school_id == school_id, SupportRequest.academic_year == year,
            SupportRequest.term == term, SupportRequest.funding == Funding.SECOND_TIER))
    budget = float(stated or 0)
    _ensure_row(BudgetLedger, school_id=school_id, academic_year=year, term=term)
    done = db.session.execute(
        update(BudgetLedger)
        .where(BudgetLedger.school_id == school_id, BudgetLedger.academic_year == year, BudgetLedger.term == term,
               BudgetLedger.spent + amount <= budget + 1e-6)
        .values(spent=BudgetLedger.spent + amount)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        school = db.session.get(School, school_id)
        raise BudgetExceeded(f"{school.name}'s budget for charged support this term (£{budget:,.2f}) would be "
                             f"overspent by this allocation (£{amount:,.2f}).")


def _release_commitment(a: Allocation) -> None:
    db.session.execute(
        update(CapacityLedger)
        .where(CapacityLedger.register_entry_id == a.register_entry_id, CapacityLedger.academic_year ==
               a.academic_year, CapacityLedger.term == a.term)
        .values(committed=func.max(CapacityLedger.committed - a.days, 0) if db.engine.dialect.name == "sqlite"
                else func.greatest(CapacityLedger.committed - a.days, 0))
        .execution_options(synchronize_session=False))
    if a.charged and a.cost:
        db.session.execute(
            update(BudgetLedger)
            .where(BudgetLedger.school_id == a.request.school_id, BudgetLedger.academic_year == a.academic_year,
                   BudgetLedger.term == a.term)
            .values(spent=func.max(BudgetLedger.spent - a.cost, 0) if db.engine.dialect.name == "sqlite"
                    else func.greatest(BudgetLedger.spent - a.cost, 0))
            .execution_options(synchronize_session=False))


@dataclass
class ApprovalOutcome:
    approved: list[Allocation] = field(default_factory=list)
    refused: list[tuple[Allocation, str]] = field(default_factory=list)


def _approve_one(actor: User, a: Allocation, today: date) -> None:
    if a.status is not AllocationStatus.PROPOSED:
        raise IllegalTransition(f"This allocation is {a.status.label.lower()}; only a proposed one can be approved.")
    if a.request.status is not RequestStatus.ACCEPTED:
        raise Conflict(f"Request {a.request_id} is now {a.request.status.label.lower()}, so it cannot be matched.")
    entry = a.entry
    if entry.status is not EntryStatus.ACTIVE or not entry.consent or entry.valid_until < today:
        raise Conflict(f"{entry.name} is no longer active on the talent register.")
    _commit_days(entry, a.academic_year, a.term, a.days)
    if a.charged and a.cost:
        _spend(a.request.school_id, a.academic_year, a.term, a.cost)
    a.status = AllocationStatus.APPROVED
    a.decided_by_id = actor.id
    a.decided_at = utcnow()
    requests.mark_matched(actor, a.request_id, commit=False)
    if entry.school_id is None:
        # Trust central staff and external consultants have no headteacher to release them.
        a.status = AllocationStatus.RELEASED
        a.released_at = utcnow()
    audit.record("allocation.approved", target_type="allocation", target_id=a.id, actor=actor,
                 details={"request_id": a.request_id, "register_entry_id": a.register_entry_id, "days": a.days,
                          "cost": a.cost})
    _notify_approved(a)


def approve(actor: User, allocation_ids: list[int], today: date | None = None) -> ApprovalOutcome:
    """Approve each allocation on its own: one that would overspend is refused with the reason, the rest stand."""
    _require(actor, Role.CEO)
    today = today or date.today()
    outcome = ApprovalOutcome()
    for allocation_id in sorted(set(allocation_ids)):
        a = get_allocation(allocation_id)
        try:
            with db.session.begin_nested():
                _approve_one(actor, a, today)
        except DomainError as exc:
            db.session.expire(a)
            outcome.refused.append((a, str(exc)))
        else:
            outcome.approved.append(a)
    db.session.commit()
    return outcome


def reject(actor: User, allocation_id: int, reason: str) -> Allocation:
    _require(actor, Role.CEO)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for rejecting this allocation.", "reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Keep the reason to {MAX_REASON} characters.", "reason")
    a = get_allocation(allocation_id)
    if a.status is not AllocationStatus.PROPOSED:
        raise IllegalTransition(f"This allocation is {a.status.label.lower()}; only a proposed one can be rejected.")
    a.status = AllocationStatus.REJECTED
    a.reason = reason
    a.decided_by_id, a.decided_at = actor.id, utcnow()
    audit.record("allocation.rejected", target_type="allocation", target_id=a.id, actor=actor,
                 details={"reason": reason})
    db.session.commit()
    return a


def swap(actor: User, allocation_id: int, entry_id: int) -> Allocation:
    """Replace a proposed allocation's supporter with one of its listed alternatives."""
    _require(actor, Role.CEO)
    a = get_allocation(allocation_id)
    if a.status is not AllocationStatus.PROPOSED:
        raise IllegalTransition("Only a proposed allocation can be swapped.")
    alt = next((x for x in a.alternatives if x["entry_id"] == entry_id), None)
    if alt is None:
        raise ValidationError("Choose one of the alternatives listed for this request.", "entry_id")
    entry = register.get(entry_id)
    a.status = AllocationStatus.WITHDRAWN
    a.reason = f"Swapped for {entry.name}"
    others = [x for x in a.alternatives if x["entry_id"] != entry_id]
    others.insert(0, {"entry_id": a.register_entry_id, "name": a.entry.name, "kind": a.entry.designation.value,
                      "score": a.relevance, "why": a.why, "cost": a.cost})
    new = Allocation(run_id=a.run_id, request_id=a.request_id, register_entry_id=entry_id,
                     academic_year=a.academic_year, term=a.term, days=a.days, relevance=alt["score"],
                     cost=round(a.days * float(entry.day_rate), 2), charged=a.charged,
                     travel_km=_km(entry.school, a.request.school), why=alt.get("why", []),
                     alternatives=others[:3])
    db.session.add(new)
    db.session.flush()
    audit.record("allocation.swapped", target_type="allocation", target_id=new.id, actor=actor,
                 details={"replaced": a.id, "register_entry_id": entry_id})
    db.session.commit()
    return new


def set_pair_rule(actor: User, request_id: int, entry_id: int, choice: RunChoice | None) -> None:
    """Pin or ban a pair for every later run (choice None clears it)."""
    _require(actor, Role.CEO)
    if db.session.get(SupportRequest, request_id) is None:
        raise NotFound("There is no such request.")
    register.get(entry_id)
    existing = db.session.scalar(select(RunPairRule).where(RunPairRule.request_id == request_id,
                                                           RunPairRule.register_entry_id == entry_id))
    if choice is None:
        if existing:
            db.session.delete(existing)
    elif existing:
        existing.choice = RunChoice(choice)
    else:
        db.session.add(RunPairRule(request_id=request_id, register_entry_id=entry_id, choice=RunChoice(choice),
                                   created_by_id=actor.id))
    audit.record(f"allocation.{choice.value if choice else 'unpinned'}", target_type="support_request",
                 target_id=request_id, actor=actor, details={"register_entry_id": entry_id})
    db.session.commit()


def pair_rules(request_ids: list[int]) -> dict[tuple[int, int], RunChoice]:
    rows = db.session.scalars(select(RunPairRule).where(RunPairRule.request_id.in_(request_ids or [0])))
    return {(r.request_id, r.register_entry_id): r.choice for r in rows}


def rerun(actor: User, run_id: int) -> AllocationRun:
    run = get_run(run_id)
    return start_run(actor, run.academic_year, run.term, parent=run)


def cancel_run(actor: User, run_id: int) -> None:
    _require(actor, *LEADERS)
    run = get_run(run_id)
    if run.job_id is None:
        raise IllegalTransition("This run has no job to cancel.")
    jobs.cancel(run.job_id, actor)


def retry_run(actor: User, run_id: int) -> None:
    _require(actor, *LEADERS)
    run = get_run(run_id)
    if run.job_id is None:
        raise IllegalTransition("This run has no job to retry.")
    jobs.retry(run.job_id, actor)


# --- release by the supporter's headteacher, acceptance by the supporter -----------------------------------


def require_releaser(actor: User, allocation_id: int) -> Allocation:
    a = get_allocation(allocation_id)
    if not (actor.role is Role.HEADTEACHER and actor.school_id == a.entry.school_id):
        raise Forbidden("Only the headteacher of the supporter's school can release them.")
    return a


def release(actor: User, allocation_id: int, agree: bool, reason: str = "") -> Allocation:
    a = require_releaser(actor, allocation_id)
    if a.status is not AllocationStatus.APPROVED:
        raise IllegalTransition(f"This allocation is {a.status.label.lower()}; it is not waiting for release.")
    if agree:
        a.status = AllocationStatus.RELEASED
        a.released_by_id, a.released_at = actor.id, utcnow()
        audit.record("allocation.released", target_type="allocation", target_id=a.id, actor=actor)
        _notify_released(a)
    else:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("Say why you cannot release them, so the CEO can find someone else.", "reason")
        if len(reason) > MAX_REASON:
            raise ValidationError(f"Keep the reason to {MAX_REASON} characters.", "reason")
        a.status = AllocationStatus.RELEASE_DECLINED
        a.reason = reason
        a.released_by_id, a.released_at = actor.id, utcnow()
        _release_commitment(a)
        requests.reopen(actor, a.request_id, commit=False)
        audit.record("allocation.release_declined", target_type="allocation", target_id=a.id, actor=actor,
                     details={"reason": reason})
        _notify_release_declined(a)
    db.session.commit()
    return a


def accept(actor: User, allocation_id: int) -> Allocation:
    a = get_allocation(allocation_id)
    if not (a.entry.user_id == actor.id or actor.role in LEADERS):
        raise Forbidden("Only the supporter (or the executive team on their behalf) can accept this.")
    if a.status is not AllocationStatus.RELEASED:
        raise IllegalTransition(f"This allocation is {a.status.label.lower()}; it cannot be accepted now.")
    a.status = AllocationStatus.ACCEPTED
    a.accepted_at = utcnow()
    requests.mark_approved(actor, a.request_id, commit=False, system=True)
    requests.start(actor, a.request_id, commit=False, system=True)
    audit.record("allocation.accepted", target_type="allocation", target_id=a.id, actor=actor)
    _notify_accepted(a)
    db.session.commit()
    return a


def awaiting_release(user: User) -> list[Allocation]:
    if user.role is not Role.HEADTEACHER or user.school_id is None:
        return []
    return list(db.session.scalars(
        select(Allocation).join(RegisterEntry, Allocation.register_entry_id == RegisterEntry.id)
        .where(RegisterEntry.school_id == user.school_id, Allocation.status == AllocationStatus.APPROVED)
        .order_by(Allocation.id)))


def assignments_of(user: User) -> list[Allocation]:
    """A supporter's own allocations from approval onwards."""
    return list(db.session.scalars(
        select(Allocation).join(RegisterEntry, Allocation.register_entry_id == RegisterEntry.id)
        .where(RegisterEntry.user_id == user.id, Allocation.status.in_(
            [AllocationStatus.APPROVED, AllocationStatus.RELEASED, AllocationStatus.ACCEPTED]))
        .order_by(Allocation.id.desc())))


def for_entry(entry_id: int) -> list[Allocation]:
    return list(db.session.scalars(select(Allocation).where(
        Allocation.register_entry_id == entry_id, Allocation.status.in_(list(COMMITTED)))
        .order_by(Allocation.academic_year.desc(), Allocation.id.desc())))


def committed_days(entry_ids, year: int, term: Term) -> dict[int, float]:
    """The register's commitment source: days the ledger holds for each supporter."""
    rows = db.session.execute(select(CapacityLedger.register_entry_id, CapacityLedger.committed).where(
        CapacityLedger.register_entry_id.in_(list(entry_ids) or [0]), CapacityLedger.academic_year == year,
        CapacityLedger.term == Term(term)))
    return {entry_id: float(days) for entry_id, days in rows}


register.add_commitment_source(committed_days)


# --- notifications -----------------------------------------------------------------------------------------


def _headteacher_emails(school_id: int | None) -> list[str]:
    if school_id is None:
        return []
    return list(db.session.scalars(select(User.email).where(User.school_id == school_id,
                                                            User.role == Role.HEADTEACHER,
                                                            User.active.is_(True))))


def _summary(a: Allocation) -> str:
    return (f"{a.entry.name} ({a.entry.designation.label}) to support {a.request.school.name} with "
            f"\"{a.request.title}\": {a.days:g} days in {a.term.label} {AcademicYear(a.academic_year).label}.")


def _notify_approved(a: Allocation) -> None:
    base = current_app.config.get("BASE_URL", "")
    for email in _headteacher_emails(a.request.school_id):
        notify.queue(email, "Support approved for your school",
                     f"The CEO has approved support for your request.\n\n{_summary(a)}\n\n"
                     "The supporter's headteacher will now be asked to release them.")
    for email in _headteacher_emails(a.entry.school_id):
        notify.queue(email, "Please confirm you can release a member of staff",
                     f"The CEO has approved this support:\n\n{_summary(a)}\n\nPlease confirm the release, or say "
                     f"why you cannot, on your home page {base}/allocations/releases.")
    if a.entry.email:
        notify.queue(a.entry.email, "You have been matched to support a school",
                     f"{_summary(a)}\n\nYou will be asked to accept once your headteacher has released you.")


def _notify_released(a: Allocation) -> None:
    if a.entry.email:
        notify.queue(a.entry.email, "Please accept your support assignment",
                     f"Your headteacher has released you for this support:\n\n{_summary(a)}\n\n"
                     "Sign in to accept it under 'My assignments'.")


def _notify_release_declined(a: Allocation) -> None:
    for email in db.session.scalars(select(User.email).where(User.role == Role.CEO, User.active.is_(True))):
        notify.queue(email, "A headteacher could not release a supporter",
                     f"{_summary(a)}\n\nReason given: {a.reason}\n\nThe request is open for matching again.")


def _notify_accepted(a: Allocation) -> None:
    for email in _headteacher_emails(a.request.school_id):
        notify.queue(email, "Your support is confirmed",
                     f"{_summary(a)}\n\nThe supporter has accepted and will be in touch to arrange dates.")
