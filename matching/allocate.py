"""Build the allocation integer programme per component, solve it in objective order with PuLP, decode."""

from __future__ import annotations

import math
import os
import re
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from matching import prices, similarity, windows
from matching.candidates import Arrays, Pairs, arrays, eligible_pairs
from matching.scenario import Scenario

RESULT_FORMAT = "school-support-result/1"
# Relative tolerance for "the higher objective is kept" between stages, and the MIP gap we call optimal.
STAGE_TOL = 1e-7
OPTIMAL_GAP = 1e-6


# --------------------------------------------------------------------------------------------------
# Rule 8 (internal first)
# --------------------------------------------------------------------------------------------------


def day_granularity(scenario: Scenario) -> float:
    """Largest step q such that every days and capacity_days value is a multiple of q."""
    values = [r.days for r in scenario.requests] + [p.capacity_days for p in scenario.supporters]
    for q in (1.0, 0.5, 0.25, 0.1, 0.05, 0.01, 0.001):
        if all(abs(v / q - round(v / q)) < 1e-9 for v in values):
            return q
    return 1e-6


@dataclass
class InternalFirst:
    """Rule-8 links kept after pre-reduction: (request, internal supporter, M = cap_i - days_r + q)."""

    req: np.ndarray
    sup: np.ndarray
    m: np.ndarray


def internal_first(pairs: Pairs, a: Arrays, q: float, *, reduce: bool = True) -> tuple[Pairs, InternalFirst]:
    """Model rule 8 as linear implications, dropping external pairs that can never be allowed.

    Let y_r = sum of x[r,e] over the external (unpinned) pairs of request r, and let load_i = sum of
    days_r' * x[r',i] over every pair of internal supporter i. Rule 8 says: y_r = 1 only if every
    internal i eligible for r (rules 2, 3, 5, 7, not banned, relevance > 0, and days_r fits i's capacity
    and the school's budget on its own) ends with spare capacity cap_i - load_i < days_r. Days come in
    steps of q, so that is load_i >= cap_i - days_r + q =: M (M > 0 since cap_i >= days_r), and the
    constraint is the big-M implication

        load_i - M * y_r >= 0                  (named internal_first_<request>_<supporter>)

    which is void when y_r = 0 (load_i >= 0) and forces i to be nearly full when y_r = 1. Its big-M is
    the smallest valid one, so the LP relaxation stays tight. When i's other requests cannot fill it
    to M even all together, y_r = 1 is impossible and r's external pairs are dropped before modelling.
    Pinned pairs are exempt (the CEO agreed that external support) but count in load_i.
    """
    n_sup = len(a.sup_cap)
    days_r = a.req_days[pairs.req]
    ext = a.sup_external[pairs.sup] & ~pairs.pinned
    reqs_with_ext = np.unique(pairs.req[ext])
    cand = ~a.sup_external[pairs.sup] & np.isin(pairs.req, reqs_with_ext)
    link_r, link_s = pairs.req[cand], pairs.sup[cand]
    m = a.sup_cap[link_s] - a.req_days[link_r] + q
    if reduce:
        max_load = np.bincount(pairs.sup, weights=days_r, minlength=n_sup)
        other = max_load[link_s] - a.req_days[link_r]
        impossible = other < m - 1e-9
        blocked = np.unique(link_r[impossible])
        keep = ~(ext & np.isin(pairs.req, blocked))
        pairs = pairs.subset(keep)
        alive = ~np.isin(link_r, blocked)
        link_r, link_s, m = link_r[alive], link_s[alive], m[alive]
    return pairs, InternalFirst(link_r, link_s, m)


# --------------------------------------------------------------------------------------------------
# Greedy (baseline and warm start)
# --------------------------------------------------------------------------------------------------


def greedy_choice(
    pairs: Pairs,
    a: Arrays,
    idx: np.ndarray,
    internal_first_on: bool,
    links: InternalFirst | None = None,
    key: np.ndarray | None = None,
) -> np.ndarray:
    """Pins, then internal pairs by weight, then externals rule 8 allows; returns chosen pair indices.

    `key` (one value per pair, higher first) replaces the weight as the order, e.g. the weight net of
    supporters' day prices (`matching.prices`); ties still go by cost, then travel.
    """
    load = defaultdict(float)
    spend = defaultdict(float)
    taken: set[int] = set()
    chosen = []

    def fits(k: int) -> bool:
        r, s = pairs.req[k], pairs.sup[k]
        days = a.req_days[r]
        return (
            load[s] + days <= a.sup_cap[s] + 1e-9
            and spend[a.req_school[r]] + pairs.cost[k] <= a.school_budget[a.req_school[r]] + 1e-6
        )

    def take(k: int) -> None:
        r, s = int(pairs.req[k]), pairs.sup[k]
        taken.add(r)
        load[s] += a.req_days[r]
        spend[a.req_school[r]] += pairs.cost[k]
        chosen.append(int(k))

    for k in idx[pairs.pinned[idx]]:
        take(k)
    free = idx[~pairs.pinned[idx]]
    order = free[
        np.lexsort(
            (
                pairs.sup[free],
                pairs.req[free],
                pairs.travel[free],
                pairs.cost[free],
                -(pairs.weight if key is None else key)[free],
            )
        )
    ]
    ext = a.sup_external[pairs.sup[order]]
    internal_of: dict[int, list[int]] = defaultdict(list)
    if links is not None:
        # Rule 8 looks at every eligible internal, including ones whose pair was pruned from `pairs`.
        for r, i in zip(links.req.tolist(), links.sup.tolist(), strict=True):
            internal_of[r].append(i)
    else:
        for k in order[~ext]:
            internal_of[int(pairs.req[k])].append(int(pairs.sup[k]))
    for k in order[~ext]:
        if int(pairs.req[k]) not in taken and fits(k):
            take(k)
    for k in order[ext]:
        r = int(pairs.req[k])
        if r in taken or not fits(k):
            continue
        days = a.req_days[r]
        if internal_first_on and any(a.sup_cap[i] - load[i] >= days - 1e-9 for i in internal_of[r]):
            continue
        take(k)
    return np.array(sorted(chosen), dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# Model and solver
# --------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class _Names:
    """PuLP/LP-file-safe names built from the trust's own ids, kept unique."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, *parts: str) -> str:
        base = "_".join(_UNSAFE.sub("_", p) for p in parts)
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}__{n}"
        self.used.add(name)
        return name


class _WarmHiGHS(pulp.HiGHS):
    """PuLP's HiGHS API solver, plus a warm start (which PuLP's HiGHS API does not offer)."""

    def __init__(self, start: dict[str, float] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start = start

    def buildSolverModel(self, lp):  # noqa: N802 - PuLP's name
        """As PuLP's, but in bulk: its per-column integrality call alone costs 0.3 s on 10,000 pairs."""
        import highspy

        inf = highspy.kHighsInf
        h = lp.solverModel
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        variables = lp.variables()
        for i, var in enumerate(variables):
            var.index = i
        n = len(variables)
        cost = np.array([sign * lp.objective.get(v, 0.0) for v in variables], dtype=float)
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        h.addCols(n, cost, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        integer = np.array([i for i, v in enumerate(variables) if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer) and self.mip:
            kinds = np.array([highspy.HighsVarType.kInteger] * len(integer))
            h.changeColsIntegrality(len(integer), integer, kinds)
        starts, index, value, row_lo, row_hi = [], [], [], [], []
        for i, constraint in enumerate(lp._constraints.values()):  # as PuLP's own HiGHS API
            constraint.index = i
            starts.append(len(index))
            for var, coef in constraint.items():
                if coef != 0:
                    index.append(var.index)
                    value.append(coef)
            lb, ub = constraint.getLb(), constraint.getUb()
            row_lo.append(-inf if lb is None else lb)
            row_hi.append(inf if ub is None else ub)
        if starts:
            h.addRows(
                len(starts),
                np.array(row_lo),
                np.array(row_hi),
                len(index),
                np.array(starts, dtype=np.int32),
                np.array(index, dtype=np.int32),
                np.array(value),
            )

    def callSolver(self, lp):  # noqa: N802 - PuLP's name
        if self.start:
            h = lp.solverModel
            values = [0.0] * h.getNumCol()
            for var in lp.variables():
                values[var.index] = self.start.get(var.name, 0.0)
            sol = h.getSolution()
            sol.col_value = values
            sol.value_valid = True
            h.setSolution(sol)
        lp.solverModel.run()


@dataclass
class StageOutcome:
    proven: bool
    found: bool
    objective: float
    bound: float


@dataclass
class ComponentOutcome:
    chosen: np.ndarray
    proven: bool
    bound: float
    model_s: float = 0.0
    solve_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def _highs_available() -> bool:
    try:
        return bool(pulp.HiGHS(msg=False).available())
    except Exception:  # noqa: BLE001 - any failure to load highspy means "use CBC"
        return False


class _Model:
    """One component's integer programme: x[k] in {0,1} for each eligible pair k."""

    def __init__(
        self,
        pairs: Pairs,
        a: Arrays,
        idx: np.ndarray,
        links: InternalFirst,
        scenario: Scenario,
        prune_redundant: bool,
    ) -> None:
        self.idx = idx
        names = _Names()
        req_ids = [r.id for r in scenario.requests]
        sup_ids = [p.id for p in scenario.supporters]
        self.prob = pulp.LpProblem("allocation", pulp.LpMaximize)
        self.x = [
            self.prob.add_variable(
                names("x", req_ids[pairs.req[k]], sup_ids[pairs.sup[k]]),
                lowBound=1 if pairs.pinned[k] else 0,
                upBound=1,
                cat=pulp.LpInteger,
            )
            for k in idx
        ]
        w, c, t = pairs.weight[idx], pairs.cost[idx], pairs.travel[idx]
        self.relevance = pulp.LpAffineExpression(zip(self.x, w.tolist(), strict=True))
        self.cost = pulp.LpAffineExpression(zip(self.x, c.tolist(), strict=True))
        self.travel = pulp.LpAffineExpression(zip(self.x, t.tolist(), strict=True))
        self.has_cost, self.has_travel = bool(np.any(c > 0)), bool(np.any(t > 0))
        self.w, self.c, self.t = w, c, t
        # Most each request can add to total cost and travel (bounds on any two answers' difference).
        self.cost_span = float(_per_request_max(pairs.req[idx], c).sum())
        self.travel_span = float(_per_request_max(pairs.req[idx], t).sum())
        self.relevance_span = float(_per_request_max(pairs.req[idx], w).sum())
        self.n_requests = len(np.unique(pairs.req[idx]))
        self.prob.setObjective(self.relevance)
        req, sup = pairs.req[idx], pairs.sup[idx]
        days = a.req_days[req]
        self.rows: dict[tuple[str, int], pulp.LpConstraint] = {}

        def add(constraint, key=None):
            self.prob.addConstraint(constraint)
            if key is not None:
                self.rows[key] = constraint

        LE, GE = pulp.LpConstraintLE, pulp.LpConstraintGE  # noqa: N806

        by_req = _group(req)
        for r, pos in by_req.items():
            if len(pos) > 1 or not prune_redundant:
                add(
                    pulp.LpConstraint(
                        pulp.LpAffineExpression([(self.x[p], 1.0) for p in pos]),
                        LE,
                        names("one_supporter", req_ids[r]),
                        1.0,
                    ),
                    ("one", r),
                )
        by_sup = _group(sup)
        for s, pos in by_sup.items():
            if days[pos].sum() > a.sup_cap[s] + 1e-9 or not prune_redundant:
                add(
                    pulp.LpConstraint(
                        pulp.LpAffineExpression([(self.x[p], float(days[p])) for p in pos]),
                        LE,
                        names("capacity", sup_ids[s]),
                        float(a.sup_cap[s]),
                    ),
                    ("capacity", s),
                )
        school_ids = [s.id for s in scenario.schools]
        for sc, pos in _group(a.req_school[req]).items():
            budget = a.school_budget[sc]
            if math.isinf(budget):
                continue
            # Needed only if the dearest option of every request together could overrun the budget.
            dearest: dict[int, float] = defaultdict(float)
            for p in pos:
                dearest[int(req[p])] = max(dearest[int(req[p])], float(c[p]))
            worst = sum(dearest.values())
            if worst > budget + 1e-6 or not prune_redundant:
                add(
                    pulp.LpConstraint(
                        pulp.LpAffineExpression([(self.x[p], float(c[p])) for p in pos]),
                        LE,
                        names("budget", school_ids[sc]),
                        float(budget),
                    ),
                    ("budget", sc),
                )
        ext_pos: dict[int, list[int]] = defaultdict(list)
        for p in range(len(idx)):
            if a.sup_external[sup[p]] and not pairs.pinned[idx[p]]:
                ext_pos[int(req[p])].append(p)
        # Rule 8 through two small definitions so each implication row has two nonzeros, not |load|.
        self.aux: list[tuple[pulp.LpVariable, list[tuple[int, float]]]] = []
        loads: dict[int, pulp.LpVariable] = {}
        externals: dict[int, pulp.LpVariable] = {}
        in_comp = np.isin(links.req, req)
        for r, i, m in zip(links.req[in_comp], links.sup[in_comp], links.m[in_comp], strict=True):
            r, i = int(r), int(i)
            if not ext_pos.get(r):
                continue
            if i not in loads:
                terms = [(p, float(days[p])) for p in by_sup.get(i, [])]
                loads[i] = self._define(names("load", sup_ids[i]), terms, float(a.sup_cap[i]), names)
                self.rows[("load", i)] = self._last_row
            if r not in externals:
                externals[r] = self._define(
                    names("external", req_ids[r]), [(p, 1.0) for p in ext_pos[r]], 1.0, names
                )
                self.rows[("external", r)] = self._last_row
            add(
                pulp.LpConstraint(
                    pulp.LpAffineExpression([(loads[i], 1.0), (externals[r], -float(m))]),
                    GE,
                    names("internal_first", req_ids[r], sup_ids[i]),
                    0.0,
                )
            )

    def _define(self, name: str, terms: list[tuple[int, float]], upper: float, names) -> pulp.LpVariable:
        var = self.prob.add_variable(name, lowBound=0, upBound=upper)
        expr = pulp.LpAffineExpression([(var, 1.0)] + [(self.x[p], -c) for p, c in terms])
        self._last_row = pulp.LpConstraint(expr, pulp.LpConstraintEQ, names(name, "def"), 0.0)
        self.prob.addConstraint(self._last_row)
        self.aux.append((var, terms))
        return var

    def start_values(self, start: np.ndarray) -> dict[str, float]:
        out = {v.name: float(on) for v, on in zip(self.x, start, strict=True)}
        for var, terms in self.aux:
            out[var.name] = float(sum(c for p, c in terms if start[p]))
        return out

    def values(self) -> np.ndarray:
        return np.array([(v.varValue or 0.0) > 0.5 for v in self.x], dtype=bool)


def _per_request_max(req: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.zeros(int(req.max()) + 1 if len(req) else 0)
    np.maximum.at(out, req, v)
    return out


def _group(keys: np.ndarray) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for p, k in enumerate(keys.tolist()):
        out[k].append(p)
    return out


def _solve_lexicographic(
    model: _Model,
    start: np.ndarray | None,
    deadline: float,
    solver: str,
    trivial_bound: float,
    gap_rel: float = OPTIMAL_GAP / 10,
) -> tuple[np.ndarray, bool, float, list[str]]:
    """Stage 1 maximises need-weighted relevance; stage 2 minimises cost keeping it; stage 3 travel.

    Stages are solved in turn on the same HiGHS model, so a lower priority can never buy back a higher
    one. With HiGHS, when the tiers have integer units (see _TierGrid), stage 2 optimises relevance and
    cost together in one objective from the stage-1 answer, and stage 3 cost and travel with relevance
    kept exactly; otherwise (and with CBC) a row keeps the earlier objective to within STAGE_TOL relative.
    """
    stages = [("relevance", model.relevance, pulp.LpMaximize)]
    if model.has_cost:
        stages.append(("cost", model.cost, pulp.LpMinimize))
    if model.has_travel:
        stages.append(("travel", model.travel, pulp.LpMinimize))
    if solver == "highs":
        return _highs_stages(model, stages, start, deadline, gap_rel)
    return _cbc_stages(model, stages, start, deadline, trivial_bound, gap_rel)


def _highs_stages(model, stages, start, deadline, gap_rel):
    import highspy

    prob = model.prob
    warm = None
    if start is not None:
        warm = model.start_values(start)
    remaining = max(0.05, deadline - time.perf_counter())
    solver = _WarmHiGHS(start=warm, msg=False, timeLimit=remaining, gapRel=gap_rel, gapAbs=1e-9)
    solver.createAndConfigureSolver(prob)
    solver.buildSolverModel(prob)
    h = prob.solverModel
    solver.callSolver(prob)
    if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        # Impossible (pins alone are feasible): HiGHS 1.15 presolve can wrongly say so on big-M rows.
        h.setOptionValue("presolve", "off")
        h.setOptionValue("time_limit", max(0.05, deadline - time.perf_counter()))
        h.run()
    proven, values, bound, notes = True, None, math.inf, []
    stage_level = 0.0
    inf = highspy.kHighsInf
    grid = _TierGrid.of(model) if len(stages) > 1 else None
    a_star = 0.0
    for n, (label, expr, sense) in enumerate(stages):
        if n > 0 and grid is not None:
            left = deadline - time.perf_counter()
            if left <= 0.01:
                proven = False
                notes.append(f"time limit reached before the {label} stage")
                break
            # Pairs that no answer keeping the tiers proven so far can use are fixed at 0 from the last
            # stage's LP (_reduced_cost_fixing), so the tie-break searches among the near-ties only.
            # Every stage-2 optimum keeps W within n_requests grid steps of W* (its grid relevance is
            # at least the stage-1 answer's), and every stage-3 optimum keeps the proven f* exactly.
            h.setOptionValue("time_limit", max(0.05, left))
            if n == 1:
                _reduced_cost_fixing(h, stage_level, model.n_requests * RELEVANCE_GRID, True, values)
            else:
                _reduced_cost_fixing(h, stage_level, 0.5 / grid.c_span, False, values)
            cols = np.array([v.index for v in model.x], dtype=np.int32)
            costs = np.zeros(h.getNumCol())
            if n == 1:
                # Relevance (on its grid) and the next tier in one objective: see _TierGrid.
                if label == "cost":
                    costs[cols] = -grid.w_units + grid.c_units / grid.c_span
                    abs_gap = 0.5 / grid.c_span
                else:
                    costs[cols] = -grid.w_units + model.t / grid.t_span
                    abs_gap = TRAVEL_RESOLUTION_KM / grid.t_span
            else:
                # Travel after cost: relevance kept exactly (integer units), cost and travel in one objective.
                h.addRow(a_star - 0.5, inf, len(cols), cols, grid.w_units)
                costs[cols] = grid.c_units + model.t / grid.t_span
                abs_gap = TRAVEL_RESOLUTION_KM / grid.t_span
            h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
            sol = h.getSolution()
            sol.col_value = list(values)
            sol.value_valid = True
            h.setSolution(sol)
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("mip_abs_gap", abs_gap)
            # These stages start from the answer in hand and can only improve it in tier order.
            share = GRID_STAGE_SHARE if n + 1 < len(stages) else 1.0
            h.setOptionValue("time_limit", max(0.5, share * left))
            h.run()
        elif n > 0:
            prev_label, prev_expr, prev_sense = stages[n - 1]
            level = stage_level
            tol = STAGE_TOL * max(1.0, abs(level))
            cols = np.array([v.index for v in prev_expr], dtype=np.int32)
            coefs = np.array(list(prev_expr.values()), dtype=float)
            lo, hi = (level - tol, inf) if prev_sense == pulp.LpMaximize else (-inf, level + tol)
            h.addRow(lo, hi, len(cols), cols, coefs)
            prob.addConstraint(
                pulp.LpConstraint(
                    prev_expr,
                    pulp.LpConstraintGE if prev_sense == pulp.LpMaximize else pulp.LpConstraintLE,
                    f"keep_{prev_label}",
                    level,
                )
            )
            _reduced_cost_fixing(h, level, tol, prev_sense == pulp.LpMaximize, values)
            costs = np.zeros(h.getNumCol())
            for v, coef in expr.items():
                costs[v.index] = coef
            h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
            sol = h.getSolution()
            sol.col_value = list(values)
            sol.value_valid = True
            h.setSolution(sol)
            left = deadline - time.perf_counter()
            if left <= 0.01:
                proven = False
                notes.append(f"time limit reached before the {label} stage")
                break
            # Tie-break stages get a quarter of what is left: they must not hold the answer back.
            h.setOptionValue("time_limit", max(0.5, 0.25 * left))
            h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        if info.primal_solution_status != 2:  # no feasible point in this stage: keep the previous one
            proven = False
            notes.append(f"no solution in the {label} stage ({h.modelStatusToString(status)})")
            if values is None:
                return (start if start is not None else np.zeros(len(model.x), bool)), False, math.inf, notes
            break
        values = np.array(h.getSolution().col_value)
        if grid is not None:
            x_now = values[[v.index for v in model.x]] > 0.5
            a_star = float(grid.w_units[x_now].sum())
        sign = -1.0 if sense == pulp.LpMaximize else 1.0
        stage_level = sign * info.objective_function_value
        if n == 0:
            bound = sign * info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else math.inf
        if status != highspy.HighsModelStatus.kOptimal:
            proven = False
            notes.append(f"{label} stage stopped: {h.modelStatusToString(status)}")
            break
        if (
            n == 0
            and info.mip_gap > OPTIMAL_GAP
            and abs(info.mip_dual_bound - info.objective_function_value) > 1e-9
        ):
            # Stopped at a looser gap target: a good answer, but not a proven optimum.
            proven = False
            notes.append(f"relevance stage stopped at gap {info.mip_gap:.2e}")
            break
    chosen = np.zeros(len(model.x), dtype=bool)
    for p, v in enumerate(model.x):
        chosen[p] = values[v.index] > 0.5
    return chosen, proven, bound, notes


TRAVEL_RESOLUTION_KM = 0.01
# Share of the time left for a grid stage that has another after it (the last one may use the rest).
GRID_STAGE_SHARE = 0.75
RELEVANCE_GRID = 1e-4
# Largest |objective| / resolution asked of HiGHS: 1e-13 relative, well above double rounding (1e-16).
_MAX_RESOLVED = 1e13


@dataclass
class _TierGrid:
    """Integer units for the tiers, so one MIP objective orders them provably.

    Relevance weights are compared on a grid of RELEVANCE_GRID (w_units = round(w / grid)); costs are
    whole multiples of a unit u found in the data (c_units = cost / u, exact). For any two answers x, y
    the cost difference is below c_span = (most each request can cost, summed) / u + 1 units, so with

        f(x) = -W(x) + B(x) / c_span          (W, B integers)

    f(x) < f(y) iff W(x) > W(y), or W(x) = W(y) and B(x) < B(y): a difference of one relevance unit
    outweighs any cost difference. Distinct values of f differ by at least 1 / c_span, so HiGHS proving
    f optimal to an absolute gap below that (0.5 / c_span) proves the lexicographic (relevance, cost)
    optimum. Travel, the last tier, is real-valued: with t_span above any travel difference,
    B(x) + T(x) / t_span under the exact row W(x) >= W* orders cost then travel, and is proven to
    TRAVEL_RESOLUTION_KM. Relevance ties closer than the grid count as ties (broken by cost); the
    relevance stage before them is solved on the exact weights and gives the start and the bound.
    None when costs have no unit or the numbers are too large for doubles to resolve one unit.
    """

    w_units: np.ndarray
    c_units: np.ndarray
    c_span: float
    t_span: float

    @classmethod
    def of(cls, model: _Model) -> _TierGrid | None:
        w_units = np.round(model.w / RELEVANCE_GRID)
        unit = next(
            (
                u
                for u in (100.0, 50.0, 25.0, 10.0, 5.0, 1.0, 0.5, 0.1, 0.05, 0.01)
                if np.all(np.abs(model.c / u - np.round(model.c / u)) < 1e-6)
            ),
            None,
        )
        if unit is None:
            return None
        c_units = np.round(model.c / unit)
        c_span = math.floor(model.cost_span / unit) + 1.0
        t_span = math.ceil(model.travel_span) + 1.0
        top = float(model.relevance_span / RELEVANCE_GRID) + 1.0
        if top * c_span > _MAX_RESOLVED or c_span * t_span / TRAVEL_RESOLUTION_KM > _MAX_RESOLVED:
            return None
        return cls(w_units, c_units, c_span, t_span)


def _reduced_cost_fixing(h, level: float, tol: float, maximise: bool, incumbent: np.ndarray) -> int:
    """Fix to 0 (or 1) every pair that no solution keeping the last stage's objective can move.

    From the LP relaxation of the stage just solved (written as min c.x): for every x feasible for it,
    c.x >= v_LP + rc_j * (x_j - x*_j) for each column j (rows contribute y_i (A_i x - b_i) >= 0). The
    next stages keep c.x <= L + tol (L the proven MIP optimum in min form), so a column at 0 with
    rc_j > L + tol - v_LP can never be 1, and one at 1 with -rc_j above that can never be 0. This is
    exact, and leaves the next stage only the near-ties, which is what keeps it fast.
    """
    import highspy

    n = h.getNumCol()
    cols = np.arange(n, dtype=np.int32)
    integer = np.array(h.getLp().integrality_)
    h.changeColsIntegrality(n, cols, np.array([highspy.HighsVarType.kContinuous] * n))
    h.run()
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    if ok:
        sol = h.getSolution()
        x, rc = np.array(sol.col_value), np.array(sol.col_dual)
        v_lp = h.getInfo().objective_function_value
        limit = (-level if maximise else level) + tol
        slack = limit - v_lp + 1e-6 * max(1.0, abs(level))
        lower = np.array(h.getLp().col_lower_)
        upper = np.array(h.getLp().col_upper_)
    h.changeColsIntegrality(n, cols, integer)
    if not ok or slack < 0:
        return 0
    to_zero = (x < 1e-9) & (rc > slack) & (lower < 0.5) & (incumbent < 0.5)
    to_one = (x > 1 - 1e-9) & (-rc > slack) & (upper > 0.5) & (incumbent > 0.5)
    for mask, lo, hi in ((to_zero, 0.0, 0.0), (to_one, 1.0, 1.0)):
        idx = cols[mask]
        if len(idx):
            h.changeColsBounds(len(idx), idx, np.full(len(idx), lo), np.full(len(idx), hi))
    return int(to_zero.sum() + to_one.sum())


def _cbc_stages(model, stages, start, deadline, trivial_bound, gap_rel):
    prob = model.prob
    if start is not None:
        warm = model.start_values(start)
        for v in prob.variables():
            v.setInitialValue(warm.get(v.name, 0.0))
    proven, bound, notes, chosen = True, trivial_bound, [], start
    level = 0.0
    for n, (label, expr, sense) in enumerate(stages):
        left = deadline - time.perf_counter()
        if left <= 0.01:
            proven = False
            notes.append(f"time limit reached before the {label} stage")
            break
        if n > 0:
            prev_label, prev_expr, prev_sense = stages[n - 1]
            tol = STAGE_TOL * max(1.0, abs(level))
            if prev_sense == pulp.LpMaximize:
                prob.addConstraint(
                    pulp.LpConstraint(prev_expr, pulp.LpConstraintGE, f"keep_{prev_label}", level - tol)
                )
            else:
                prob.addConstraint(
                    pulp.LpConstraint(prev_expr, pulp.LpConstraintLE, f"keep_{prev_label}", level + tol)
                )
            prob.sense = sense
            prob.setObjective(expr)
        prob.solve(
            pulp.PULP_CBC_CMD(
                msg=False,
                timeLimit=max(1, math.ceil(left)),
                gapRel=gap_rel,
                warmStart=start is not None,
            )
        )
        if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            proven = False
            notes.append(f"CBC found no solution in the {label} stage")
            break
        chosen = model.values()
        level = float(pulp.value(expr) or 0.0)
        if n == 0 and prob.sol_status == pulp.LpSolutionOptimal:
            bound = level
        if prob.sol_status != pulp.LpSolutionOptimal:
            proven = False
            notes.append(f"{label} stage stopped at the time limit")
            break
        if n == 0 and gap_rel > OPTIMAL_GAP:
            proven = False  # CBC does not report its final gap here, so a loose target is never "optimal"
            break
        for v in model.x:
            v.setInitialValue(v.varValue or 0.0)
    if chosen is None:
        chosen = np.zeros(len(model.x), dtype=bool)
    return chosen, proven, bound, notes


# --------------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------------


def components(pairs: Pairs, a: Arrays, links: InternalFirst | None = None) -> list[np.ndarray]:
    """Pair indices of each independent block: requests and supporters joined by eligible pairs, and
    requests of one school joined when its budget is finite (capacity, budget and rule 8 never cross)."""
    n_req, n_sup = len(a.req_days), len(a.sup_cap)
    rows = [pairs.req]
    cols = [n_req + pairs.sup]
    if links is not None and len(links.req):
        # Rule 8 ties a request to every eligible internal, even one whose pair was pruned.
        rows.append(links.req)
        cols.append(n_req + links.sup)
    charged = pairs.cost > 0
    req_charged = np.unique(pairs.req[charged])
    if len(req_charged):
        sch = a.req_school[req_charged]
        finite = ~np.isinf(a.school_budget[sch])
        req_charged, sch = req_charged[finite], sch[finite]
        first = {}
        link_a, link_b = [], []
        for r, s in zip(req_charged.tolist(), sch.tolist(), strict=True):
            if s in first:
                link_a.append(first[s])
                link_b.append(r)
            else:
                first[s] = r
        rows.append(np.array(link_a, dtype=np.int64))
        cols.append(np.array(link_b, dtype=np.int64))
    r_all, c_all = np.concatenate(rows), np.concatenate(cols)
    n = n_req + n_sup
    graph = sp.coo_matrix((np.ones(len(r_all)), (r_all, c_all)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    comp_of_pair = label[pairs.req]
    order = np.argsort(comp_of_pair, kind="stable")
    splits = np.flatnonzero(np.diff(comp_of_pair[order])) + 1
    groups = np.split(order, splits) if len(order) else []
    return sorted(groups, key=lambda g: int(pairs.req[g].min()))


def _best_single(pairs: Pairs, idx: np.ndarray) -> np.ndarray:
    """A component with one request: the best pair by (relevance, -cost, -travel), already rule-checked."""
    pin = idx[pairs.pinned[idx]]
    if len(pin):
        return pin[:1]
    k = np.lexsort((pairs.sup[idx], pairs.travel[idx], pairs.cost[idx], -pairs.weight[idx]))[0]
    return idx[[k]] if pairs.weight[idx[k]] > 0 else idx[:0]


def restricted_links(full: Pairs, kept: np.ndarray, a: Arrays, links: InternalFirst):
    """Rule 8 inside the restricted models: drop external pairs that the kept pairs can never allow.

    With only the kept pairs, internal i's load is at most the days of its kept pairs. Where that
    (without the request's own pair) cannot reach M, the request can never go external in the
    restricted problem, so its external pairs leave the models (they count as pruned, so the LP
    bound still covers them) and so do its rule-8 rows. The rest of the rows are kept.
    """
    if len(links.req) == 0:
        return kept, links
    n_sup = len(a.sup_cap)
    days = a.req_days[full.req]
    max_load = np.bincount(full.sup[kept], weights=days[kept], minlength=n_sup)
    kept_keys = full.req[kept] * n_sup + full.sup[kept]
    own = np.isin(links.req * n_sup + links.sup, kept_keys)
    other = max_load[links.sup] - np.where(own, a.req_days[links.req], 0.0)
    blocked = np.unique(links.req[other < links.m - 1e-9])
    ext = a.sup_external[full.sup] & ~full.pinned
    kept = kept & ~(ext & np.isin(full.req, blocked))
    alive = ~np.isin(links.req, blocked)
    return kept, InternalFirst(links.req[alive], links.sup[alive], links.m[alive])


def first_k_per_group(order: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """The positions in `order` (already sorted by group, best first) that rank below k in their group."""
    if len(order) == 0:
        return order
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[rank < k]


def restrict_by(pairs: Pairs, key: np.ndarray, k: int) -> np.ndarray:
    """Mask keeping each request's k pairs with the smallest key (ties: higher weight), and every pin."""
    keep = np.zeros(len(pairs), dtype=bool)
    keep[first_k_per_group(np.lexsort((pairs.sup, -pairs.weight, key, pairs.req)), pairs.req, k)] = True
    return keep | pairs.pinned


def restrict(pairs: Pairs, k: int) -> np.ndarray:
    """Mask keeping each request's k best pairs by (relevance weight, then lower cost), and every pin."""
    keep = np.zeros(len(pairs), dtype=bool)
    keep[first_k_per_group(np.lexsort((pairs.sup, pairs.cost, -pairs.weight, pairs.req)), pairs.req, k)] = True
    return keep | pairs.pinned


class PricingLP:
    """LP relaxation of the whole problem over a subset of pairs, built straight into HiGHS with numpy.

    Used only for bounds: column generation prices the pruned pairs against its row duals, so the
    models can keep a few pairs per request while gap and status stay honest for every eligible pair.
    Rows match `_Model`: one supporter per request, capacity, budget, and rule 8 through load and
    external definitions.
    """

    def __init__(self, full: Pairs, a: Arrays, links: InternalFirst) -> None:
        self.full, self.a = full, a
        n_req, n_sup, n_sch = len(a.req_days), len(a.sup_cap), len(a.school_budget)
        ext = a.sup_external[full.sup] & ~full.pinned
        self.ext = ext
        has_ext = np.zeros(n_req, dtype=bool)
        has_ext[full.req[ext]] = True
        alive = has_ext[links.req]
        self.l_req, self.l_sup, self.l_m = links.req[alive], links.sup[alive], links.m[alive]
        # Row numbering: one[r], capacity[s], budget[school], load[s], external[r], then rule-8 rows.
        self.one = np.arange(n_req)
        self.cap = n_req + np.arange(n_sup)
        finite = ~np.isinf(a.school_budget)
        self.bud = np.where(finite, n_req + n_sup + np.arange(n_sch), -1)
        base = n_req + n_sup + n_sch
        load_sups = np.unique(self.l_sup)
        self.load = np.full(n_sup, -1)
        self.load[load_sups] = base + np.arange(len(load_sups))
        base += len(load_sups)
        ext_reqs = np.unique(self.l_req)
        self.extrow = np.full(n_req, -1)
        self.extrow[ext_reqs] = base + np.arange(len(ext_reqs))
        base += len(ext_reqs)
        self.n_rows = base + len(self.l_req)
        self.load_sups, self.ext_reqs = load_sups, ext_reqs
        self.row_lo = np.concatenate(
            [
                np.full(n_req + n_sup + n_sch, -np.inf),
                np.zeros(base - n_req - n_sup - n_sch),
                np.zeros(len(self.l_req)),
            ]
        )
        self.row_hi = np.concatenate(
            [
                np.ones(n_req),
                a.sup_cap,
                np.where(finite, a.school_budget, np.inf),
                np.zeros(base - n_req - n_sup - n_sch),
                np.full(len(self.l_req), np.inf),
            ]
        )

    def _column_kinds(self, j: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The x columns j's entries, one (row, value) array pair per kind of row, aligned with j.

        Each column has at most one entry of each kind (one, capacity, budget, load, external); row -1
        where it has none. `column_entries` and `reduced_costs` both read the layout from here."""
        f, a = self.full, self.a
        r, s = f.req[j], f.sup[j]
        days = a.req_days[r]
        return [
            (self.one[r], np.ones(len(j))),
            (self.cap[s], days),
            (self.bud[a.req_school[r]], f.cost[j]),
            (self.load[s], -days),
            (np.where(self.ext[j], self.extrow[r], -1), -np.ones(len(j))),
        ]

    def column_entries(self, j: np.ndarray):
        """(row, col position, value) of the x columns j."""
        kinds = self._column_kinds(j)
        rows = np.concatenate([k[0] for k in kinds])
        cols = np.tile(np.arange(len(j)), len(kinds))
        vals = np.concatenate([k[1] for k in kinds])
        ok = rows >= 0
        return rows[ok], cols[ok], vals[ok]

    def reduced_costs(self, j: np.ndarray, dual: np.ndarray) -> np.ndarray:
        """Each x column's cost less its entries times the row duals.

        This gathers kind by kind instead of scattering `column_entries` with `np.subtract.at`, which
        took 0.08 s a call over the region's 860,000 pairs. The kinds are subtracted in the same order
        and a missing entry subtracts 0, so the result is the same to the last bit."""
        d = -self.full.weight[j].astype(float)
        for rows, vals in self._column_kinds(j):
            # a row of -1 (no entry) reads the last dual, which np.where then discards
            d -= np.where(rows >= 0, vals * dual[rows], 0.0)
        return d

    def solve(self, j: np.ndarray, time_limit: float, **options):
        """LP optimum (relevance units) and row duals over x columns j; None if HiGHS does not finish."""
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", max(0.05, time_limit))
        for name, value in options.items():
            h.setOptionValue(name, value)
        inf = highspy.kHighsInf
        lo = np.where(self.full.pinned[j], 1.0, 0.0)
        n_x = len(j)
        n_aux = len(self.load_sups) + len(self.ext_reqs)
        rows, cols, vals = self.column_entries(j)
        # Auxiliary columns load_i (0..cap) and external_r (0..1): their definitions and rule-8 rows.
        aux_load = n_x + np.arange(len(self.load_sups))
        aux_ext = n_x + len(self.load_sups) + np.arange(len(self.ext_reqs))
        load_col = np.full(len(self.a.sup_cap), -1)
        load_col[self.load_sups] = aux_load
        ext_col = np.full(len(self.a.req_days), -1)
        ext_col[self.ext_reqs] = aux_ext
        r8 = self.n_rows - len(self.l_req) + np.arange(len(self.l_req))
        rows = np.concatenate([rows, self.load[self.load_sups], self.extrow[self.ext_reqs], r8, r8])
        cols = np.concatenate([cols, aux_load, aux_ext, load_col[self.l_sup], ext_col[self.l_req]])
        vals = np.concatenate([vals, np.ones(n_aux), np.ones(len(self.l_req)), -self.l_m])
        cost = np.concatenate([-self.full.weight[j], np.zeros(n_aux)])
        col_lo = np.concatenate([lo, np.zeros(n_aux)])
        col_hi = np.concatenate([np.ones(n_x), self.a.sup_cap[self.load_sups], np.ones(len(self.ext_reqs))])
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, n_x + n_aux))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_x + n_aux, self.n_rows
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lo, col_hi
        lp.row_lower_ = np.where(np.isinf(self.row_lo), -inf, self.row_lo)
        lp.row_upper_ = np.where(np.isinf(self.row_hi), inf, self.row_hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        h.passModel(lp)
        # Where each x column sits in the model, and its pair (add_and_resolve appends after the aux).
        self.x_pos, self.x_pairs = np.arange(n_x), np.asarray(j).copy()
        h.run()
        self.h = h
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return -h.getInfo().objective_function_value, np.array(h.getSolution().row_dual)

    def dual_bound(self, *, reprice: bool = True) -> float:
        """A bound (relevance units) from the last model's row duals, whatever state HiGHS stopped in.

        Weak duality, worked out here rather than taken from the solver: for any row prices y, with
        d = c - A'y, every x within the column bounds and row bounds has
        c'x >= sum of y_i * (the row bound y_i presses on) + sum_j min(d_j * lower_j, d_j * upper_j).
        A price on a side with no bound counts as zero. So the (minimised) LP, and every answer, is
        at least that, and the relevance any answer reaches is at most its negative.

        With `reprice` (the default), each request's one-supporter row gets the best price for the
        others as they stand, rather than the solver's: that is a Lagrangian bound with the row kept,
        each request choosing its cheapest pair or none, so it is valid too and never weaker. With e_j
        the reduced cost of pair j before its request's price, request r then adds min(0, min_j e_j),
        or e_p if pair p is pinned. An exact optimum's prices already have this form; a first-order
        method's (PDLP at national size) are only near it, and a small error in each of 1.8 million
        columns adds up.
        """
        import highspy

        h = self.h
        lp = h.getLp()
        inf = highspy.kHighsInf
        y = np.array(h.getSolution().row_dual, dtype=float)
        if len(y) != lp.num_row_ or not np.all(np.isfinite(y)):
            return math.inf
        lo, hi = np.array(lp.row_lower_), np.array(lp.row_upper_)
        y = np.where((y > 0) & (lo <= -inf), 0.0, y)
        y = np.where((y < 0) & (hi >= inf), 0.0, y)
        row_terms = np.where(y > 0, y * np.where(lo <= -inf, 0.0, lo), y * np.where(hi >= inf, 0.0, hi))
        a = lp.a_matrix_
        matrix = sp.csc_matrix(
            (np.array(a.value_), np.array(a.index_), np.array(a.start_)), shape=(lp.num_row_, lp.num_col_)
        )
        d = np.array(lp.col_cost_) - matrix.T @ y
        col_terms = np.where(d > 0, d * np.array(lp.col_lower_), d * np.array(lp.col_upper_))
        if not reprice:
            return float(-(row_terms.sum() + col_terms.sum()))
        pos, pair = self.x_pos, self.x_pairs
        req = self.full.req[pair]
        e = d[pos] + y[self.one[req]]
        pinned = self.full.pinned[pair]
        best = np.zeros(len(self.one))  # min(0, cheapest unpinned pair) per request
        np.minimum.at(best, req[~pinned], e[~pinned])
        has_pin = np.zeros(len(self.one), dtype=bool)
        has_pin[req[pinned]] = True
        best[has_pin] = 0.0
        np.add.at(best, req[pinned], e[pinned])
        rest = np.ones(len(d), dtype=bool)
        rest[pos] = False
        total = row_terms.sum() - row_terms[self.one].sum() + col_terms[rest].sum() + best.sum()
        return float(-total)

    def add_and_resolve(self, j: np.ndarray, time_limit: float):
        """Add x columns j to the last model solved and re-solve from its basis (warm simplex)."""
        import highspy

        h = self.h
        rows, cols, vals = self.column_entries(j)
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, len(j)))
        lo = np.where(self.full.pinned[j], 1.0, 0.0)
        self.x_pos = np.concatenate([self.x_pos, h.getNumCol() + np.arange(len(j))])
        self.x_pairs = np.concatenate([self.x_pairs, j])
        h.addCols(
            len(j),
            -self.full.weight[j].astype(float),
            lo,
            np.ones(len(j)),
            matrix.nnz,
            matrix.indptr[:-1].astype(np.int32),
            matrix.indices.astype(np.int32),
            matrix.data,
        )
        h.setOptionValue("time_limit", max(0.05, time_limit))
        # New columns leave the last basis primal feasible: primal simplex from it, no presolve.
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return -h.getInfo().objective_function_value, np.array(h.getSolution().row_dual)


def _pairs_and_links(
    scenario: Scenario, top_k: int | None, *, reduce: bool = True
) -> tuple[Arrays, Pairs, InternalFirst]:
    """The scenario's arrays, its eligible pairs and its rule-8 links (none when rule 8 is off)."""
    a = arrays(scenario)
    pairs = eligible_pairs(scenario, top_k, a)
    if scenario.rules.internal_first:
        pairs, links = internal_first(pairs, a, day_granularity(scenario), reduce=reduce)
    else:
        links = InternalFirst(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return a, pairs, links


def certified_lp_bound(scenario: Scenario, time_limit: float, per_request: int = 6) -> tuple[float, int]:
    """The LP relaxation over every eligible pair as a certified bound, for benchmarks (not for runs).

    See `_bound_over_every_pair`. Returns (bound, eligible pairs); the bound covers the pairs the run
    considers (at national size, each request's top-k relevance).
    """
    a, pairs, links = _pairs_and_links(scenario, None)
    lp = PricingLP(pairs, a, fewer_links(links, pairs, a, per_request))
    return _bound_over_every_pair(lp, time_limit), len(pairs)


def _bound_over_every_pair(lp: PricingLP, time_limit: float, **options) -> float:
    """Solve `lp` over all its pairs and work the bound out of its row prices (`PricingLP.dual_bound`).

    Above PDLP_MIN_COLUMNS pairs HiGHS's first-order method (PDLP) is run to the time limit; the bound
    is valid however far it got. Used by the benchmark's certified bound and by `BackgroundLP`'s child.
    """
    n = len(lp.full)
    if n > PDLP_MIN_COLUMNS:
        options.setdefault("solver", "pdlp")
    lp.solve(np.arange(n), time_limit, presolve="off", **options)
    return lp.dual_bound()


class BackgroundLP:
    """The LP over every eligible pair, solved in a child process while the run goes on.

    A national run is too big for `lp_bound` (one LP over its 1.8 million pairs takes minutes), so until
    the fifteenth session its bound was the prices' (2.69% above its answer, against 2.01% above for
    this LP). The run's own work after the prices is HiGHS on one core at a time (the models, then the
    window search), so on a 2-core machine the LP can use the other for the run's whole length.

    It runs in a child process, not a thread: highspy lets go of the GIL while HiGHS solves, but HiGHS
    has reported crashes with two instances solving in one process (ERGO-Code/HiGHS#810, #3141). The
    child is started by `spawn`, so it inherits none of the parent's threads (ONNX Runtime's, HiGHS's)
    or their locks, and it gets only the arrays the LP reads. Whatever state it stops in, its bound is
    worked out from its row prices (`PricingLP.dual_bound`), so it is valid; if it fails, overruns or
    dies, the run keeps its other bounds and says so.
    """

    def __init__(self, full: Pairs, a: Arrays, links: InternalFirst, deadline: float, per_request: int = 6) -> None:
        import multiprocessing  # noqa: PLC0415 - only big runs start a child

        ctx = multiprocessing.get_context("spawn")
        self.deadline = deadline
        self._recv, send = ctx.Pipe(duplex=False)
        empty = np.zeros(0)
        # Only what PricingLP reads: relevance and travel stay here.
        fields = Pairs(full.req, full.sup, empty, full.pinned, full.weight, full.cost, empty, empty, 0.0, 0)
        # The child's clock is not this one: it gets seconds to go, not a deadline.
        seconds = max(0.0, deadline - time.perf_counter())
        reserve = min(BACKGROUND_RESERVE_S, BACKGROUND_RESERVE_SHARE * seconds)
        guide = min(BACKGROUND_GUIDE_S, BACKGROUND_GUIDE_SHARE * seconds)
        self._proc = ctx.Process(
            target=_background_lp_child,
            args=(fields, a, fewer_links(links, full, a, per_request), seconds, reserve, guide, send),
            name="matching-lp-bound",
            daemon=True,
        )
        self._proc.start()
        send.close()
        # Should the run fail before `collect` (a pin that breaks a rule, say), the child goes with it.
        weakref.finalize(self, _stop_child, self._proc)
        self.note = ""
        self._bounds: list[float] = []  # every bound the child has sent so far
        self._guide: np.ndarray | None = None
        self._guide_taken = False
        self._final: tuple[str, object] | None = None  # ("bound", value) or ("error", text), the last message
        self._eof = False

    def _receive(self, until: float, *, stop_at_guide: bool = False) -> None:
        """Read the child's messages until its last one (or, with `stop_at_guide`, its first solve's
        values) is here, or the clock (`time.perf_counter`) passes `until`. A closed pipe marks it gone."""
        try:
            while self._final is None and not self._eof and not (stop_at_guide and self._guide is not None):
                if not self._recv.poll(max(0.0, until - time.perf_counter())):
                    return
                kind, *rest = self._recv.recv()
                if kind == "guide":
                    values, bound = rest
                    self._guide = values
                    if isinstance(bound, float) and math.isfinite(bound):
                        self._bounds.append(bound)
                else:
                    self._final = (kind, rest[0])
                    if kind == "bound" and isinstance(rest[0], float) and math.isfinite(rest[0]):
                        self._bounds.append(rest[0])
        except (EOFError, OSError):
            self._eof = True

    def guide(self) -> np.ndarray | None:
        """The LP's value for every pair from the child's first, short solve, once it is here (else None).

        Handed over once: later calls give None. Never waits."""
        if self._guide_taken:
            return None
        self._receive(time.perf_counter(), stop_at_guide=True)
        values, self._guide = self._guide, None
        self._guide_taken = values is not None
        return values

    def collect(self, *, wait: bool, grace: float = 1.0) -> float:
        """The child's bound (relevance units): with `wait`, waiting at most until the deadline plus `grace`
        seconds, else only what is there now. The smallest bound it sent, which may be its first solve's
        if the second did not finish; infinity, with `note` saying why, if there is none. The child is
        always stopped."""
        try:
            self._receive(self.deadline + grace if wait else time.perf_counter())
        finally:
            self._recv.close()
            _stop_child(self._proc)
        bound = min(self._bounds, default=math.inf)
        if self._final is not None and self._final[0] == "bound" and math.isfinite(self._final[1]):
            self.note = f"LP bound over every eligible pair, solved beside the run: {bound:.2f}"
            return bound
        if self._final is not None and self._final[0] == "bound":
            why = "the solver stopped before it had row prices"
        elif self._final is not None:
            why = f"the child process solving it failed ({self._final[1]})"
        elif self._eof:
            why = f"the child process solving it stopped (exit code {self._proc.exitcode})"
        elif wait:
            why = "the child process solving it was still running at the time limit"
        else:
            why = "the run finished before the child process solving it"
        if math.isfinite(bound):
            self.note = (
                f"LP bound over every eligible pair, from the first of the two solves beside the run: "
                f"{bound:.2f} (the second gave none: {why})"
            )
        else:
            self.note = f"no LP bound: {why}"
        return bound


def _stop_child(proc) -> None:
    if proc.is_alive():
        proc.kill()
    proc.join()


# Seconds the LP child keeps back from its share, for what HiGHS's clock does not count: building the
# LP before it, and working out the bound from the prices after it (1.0-1.7 s at national size, 1.8
# million pairs); and above how many pairs it uses PDLP rather than the simplex method.
BACKGROUND_RESERVE_S = 20.0
BACKGROUND_RESERVE_SHARE = 0.2
# The child's first solve, whose values start the window search (`windows.improve`'s guide), runs this
# long (at most this share of the child's time); its second runs to the time limit for the bound.
# National instance (sixteenth session), the guided start (`guided_start`) from PDLP stopped after
# 19 s: 503,394; 34 s: 505,743; 54 s: 505,792; 105 s: 505,679; 205 s: 505,934; against 498,634 by the
# weight net of the prices. So the values are good early; the bound is not yet (520,001 after 34 s,
# 517,831 after 54 s, 516,862 after 105 s, 516,634 after 300 s), which is what the second solve is for.
BACKGROUND_GUIDE_S = 30.0
BACKGROUND_GUIDE_SHARE = 0.25
PDLP_MIN_COLUMNS = 300_000
# Runs with more starting columns than this have no `lp_bound` (LP_MAX_COLUMNS), so they start a
# BackgroundLP. Its own name so that tests can send small runs either way.
BACKGROUND_LP_MIN_COLUMNS = 300_000


def _exit_with(parent) -> None:
    parent.join()
    os._exit(0)


def _background_lp_child(
    full: Pairs, a: Arrays, links: InternalFirst, seconds: float, reserve: float, guide: float, send
) -> None:
    """`BackgroundLP`'s child: two solves of the LP within `seconds` less `reserve`.

    The first, `guide` seconds long, sends ("guide", the LP's value for each pair, its bound) for the
    window search to start from; the second, from scratch (PDLP takes no warm start) to the end, sends
    ("bound", its bound). Any failure sends ("error", what it was) instead of the message it stopped.
    """
    import multiprocessing  # noqa: PLC0415
    import threading  # noqa: PLC0415

    started = time.perf_counter()
    # If the run is killed (the app cancels an allocation by stopping `python -m matching solve`), it
    # cannot stop this child: the child stops itself, as HiGHS leaves the GIL free while it solves.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="exit-with-parent", daemon=True).start()
    try:
        lp = PricingLP(full, a, links)
        if guide > 0:
            bound = float(_bound_over_every_pair(lp, guide, threads=1))
            values = np.asarray(lp.h.getSolution().col_value, dtype=float)[: len(full)]
            if len(values) == len(full) and np.all(np.isfinite(values)):
                send.send(("guide", np.clip(values, 0.0, 1.0).astype(np.float32), bound))
            lp.h = None  # let the first solve's HiGHS go before the second builds its own
        left = seconds - (time.perf_counter() - started) - reserve
        send.send(("bound", float(_bound_over_every_pair(lp, left, threads=1))))
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the parent, which keeps its bounds
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


# Above this many columns the first LP of `lp_bound` takes minutes (national: 720,000 took > 275 s).
LP_MAX_COLUMNS = 300_000
# Above this many pairs in one block the restricted MIP is not attempted (see `allocate`).
MIP_MAX_PAIRS = 300_000
# Rounds of supporters' and schools' prices (`matching.prices`) in a run over 50,000 pairs: two per
# second of the run's time limit, at most PRICE_ROUNDS (region, 27 s: 54 rounds, 0.5 s; national, 560 s:
# 1,000 rounds, 25 s); PRICE_SHARE of the time left only stops them on a machine far slower. National
# instance, priced greedy then 400 s of window search: greedy by weight 449,550 -> 464,062; days priced,
# 300 rounds 461,890 -> 470,306; budgets priced too, 300 rounds 464,262 and 1,000 rounds (25 s) 465,515
# before the windows. Region: 25,495 by weight, 25,556 after 30 rounds, 25,566 after 300.
PRICE_ROUNDS = 1000
PRICE_ROUNDS_PER_SECOND = 2.0
PRICE_SHARE = 0.15
# Share of the time left that the LP bound may use. It was half until the eleventh session, when on an
# AMD EPYC the region's similarity took 20-22 s of its 27 and the LP, which needs about 1.5 s there,
# stopped unconverged: the gap read 0.55% instead of 0.28%. The restricted MIPs had under 2 s either
# way and kept the priced greedy answer, and where time is ample the LP converges long before this.
LP_SHARE = 0.9


def fewer_links(links: InternalFirst, pairs: Pairs, a: Arrays, per_request: int) -> InternalFirst:
    """A subset of the rule-8 rows: for each request, the internals hardest to fill to M.

    Leaving rows out of a maximisation only relaxes it, so an LP over these rows is still an upper
    bound for the full problem. "Hardest to fill" is M minus the days of every pair the internal
    could take: the rows most likely to cut off an LP answer that sends the request out.
    """
    if len(links.req) == 0:
        return links
    potential = np.bincount(pairs.sup, weights=a.req_days[pairs.req], minlength=len(a.sup_cap))
    hardness = links.m - potential[links.sup]
    pick = np.sort(first_k_per_group(np.lexsort((links.sup, -hardness, links.req)), links.req, per_request))
    return InternalFirst(links.req[pick], links.sup[pick], links.m[pick])


@dataclass
class LPBound:
    """The LP relaxation over every eligible pair: a bound for the whole problem and reduced costs."""

    value: float
    reduced: np.ndarray  # d_k >= 0 (up to tolerance): an answer using pair k is worth at most value - d_k
    seconds: float


def lp_bound(
    full: Pairs,
    a: Arrays,
    links: InternalFirst,
    start: np.ndarray,
    deadline: float,
    per_request: int = 6,
    per_round: int = 3,
) -> LPBound | None:
    """LP relaxation over all eligible pairs, by column generation from the pairs in `start`.

    Rows left out (integrality, most rule-8 implications: see `fewer_links`) only widen the feasible
    set of a maximisation, so the LP value bounds every answer. Each round solves the LP over the
    columns so far and prices every other pair against its duals; pairs with negative reduced cost
    join. Once none is left the LP is the one over all pairs, and by duality an answer that uses pair
    k is worth at most `value - reduced[k]`. Later rounds add columns to the same HiGHS model, so the
    simplex starts from the last basis. If time runs out first, `value` is the smallest over the rounds
    of the LP value plus, per request, its most negative reduced cost (still a valid bound: weak
    duality for the one-supporter-per-request rows), and `reduced` is all zero. None if no LP finished.
    """
    t0 = time.perf_counter()
    lp = PricingLP(full, a, fewer_links(links, full, a, per_request))
    cols = start | full.pinned
    every = np.arange(len(full))
    out = lp.solve(np.flatnonzero(cols), deadline - time.perf_counter())
    best = math.inf
    while out is not None:
        value, dual = out
        reduced = lp.reduced_costs(every, dual)
        negative = ~cols & (reduced < -1e-7) & ~full.pinned
        if not np.any(negative):
            reduced = np.where(full.pinned, np.inf, np.maximum(reduced, 0.0))
            return LPBound(float(value), reduced, time.perf_counter() - t0)
        # Not converged yet: the LP value plus, per request, its most negative reduced cost is valid.
        worst = np.zeros(len(a.req_days))
        np.minimum.at(worst, full.req[negative], reduced[negative])
        best = min(best, float(value - worst.sum()))
        if time.perf_counter() > deadline:
            break
        # Each request's few most negative pairs join: adding every negative pair at once can mean
        # most of a national run's pairs, and the LP then takes minutes.
        cand = np.flatnonzero(negative)
        cand = cand[restrict_by(full.subset(cand), reduced[cand], per_round)]
        cols[cand] = True
        out = lp.add_and_resolve(cand, deadline - time.perf_counter())
    if math.isinf(best):
        return None
    return LPBound(best, np.zeros(len(full)), time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


@dataclass
class Solution:
    """What `solve` found, before it becomes the contract's JSON."""

    pairs: Pairs
    chosen: np.ndarray
    status: str
    bound: float
    timings: dict[str, float]
    notes: list[str]
    components: int = 0
    models: int = 0


def allocate(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    solver: str = "auto",
    top_k: int | None = None,
    decompose: bool = True,
    gap_rel: float | None = None,
    candidates: int | None = None,
) -> Solution:
    """Solve the scenario; `decompose=False` gives one plain model over every eligible pair (baseline).

    `gap_rel` lets the relevance stage stop at a relative MIP gap (the answer is then `feasible`, with
    that gap); by default it runs to a proven optimum or the time limit. `candidates` keeps only each
    request's best k pairs in the models (default: 12 once there are over 50,000 eligible pairs); the
    bound then comes from `pruned_bound`, so gap and status stay honest for the full problem.
    """
    started = time.perf_counter()
    limit = scenario.rules.time_limit_s if time_limit_s is None else time_limit_s
    deadline = started + limit
    if solver == "auto":
        solver = "highs" if _highs_available() else "cbc"
    a, pairs, links = _pairs_and_links(scenario, top_k, reduce=decompose)
    full, kept, model_links = pairs, None, links
    if candidates is None and decompose and len(pairs) > 50_000:
        candidates = 12
    lp_value, min_pruned_d = math.inf, 0.0
    lagrangian_bound = math.inf
    notes_pre: list[str] = []
    background: BackgroundLP | None = None
    if candidates is not None and decompose:
        first = restrict(full, candidates)
        if first.sum() > BACKGROUND_LP_MIN_COLUMNS and solver == "highs" and not full.pinned.all():
            # Too big for `lp_bound` in the run: solved beside it, in a child process (BackgroundLP).
            background = BackgroundLP(full, a, links, deadline)
        every = np.arange(len(full))
        warm_full = greedy_choice(full, a, every, scenario.rules.internal_first, links)
        greedy_value = float(full.weight[warm_full].sum())
        # Supporters' and schools' prices (matching.prices) give a bound, and a greedy pass by priced
        # weight that starts the models and the window search higher than one by weight.
        found = prices.find_prices(
            full,
            a,
            greedy_value,
            time.perf_counter() + PRICE_SHARE * max(0.0, deadline - time.perf_counter()),
            # set by the run's time limit, not the clock, so the same input gets the same prices
            rounds=min(PRICE_ROUNDS, max(1, int(PRICE_ROUNDS_PER_SECOND * limit))),
            budgets=True,
        )
        lagrangian_bound = found.bound
        priced = prices.priced_weight(full, a, found)
        if found.rounds:
            warm_priced = greedy_choice(full, a, every, scenario.rules.internal_first, links, priced)
            priced_value = float(full.weight[warm_priced].sum())
            if priced_value > greedy_value + 1e-9:
                warm_full = warm_priced
            notes_pre.append(
                f"supporters' and schools' prices ({found.rounds} rounds): a greedy pass by priced weight "
                f"gave {priced_value:.2f} against {greedy_value:.2f} by weight"
            )
        # The start's pairs are kept (below), so each model's warm start is the whole start.
        # The LP over every pair may use most of the time left (LP_SHARE); the restricted MIPs get the rest.
        kept = restrict(full, candidates // 2)
        start = first
        start[warm_full] = True
        relaxed = None
        if background is None and start.sum() <= LP_MAX_COLUMNS:
            relaxed = lp_bound(full, a, links, start, time.perf_counter() + LP_SHARE * (deadline - time.perf_counter()))
        elif background is None:
            notes_pre.append(
                f"no LP bound: {int(start.sum()):,} starting columns is beyond what one LP solves in time; "
                "the bound is from the prices"
            )
        if relaxed is not None:
            # Each request also keeps the pairs the LP prices best (lowest reduced cost) ...
            kept |= restrict_by(full, relaxed.reduced, candidates)
        else:
            # ... or those best net of the prices.
            kept |= restrict_by(full, -priced, candidates)
        kept[warm_full] = True
        kept, model_links = restricted_links(full, kept, a, links)
        if relaxed is not None:
            lp_value = relaxed.value
            pruned_d = relaxed.reduced[~kept]
            min_pruned_d = float(pruned_d.min()) if len(pruned_d) else math.inf
        pairs = full.subset(kept)
    prep_s = time.perf_counter() - started - pairs.similarity_s
    groups = components(pairs, a, model_links) if decompose else ([np.arange(len(pairs))] if len(pairs) else [])
    # Blocks beyond one MIP go last, so each model gets its share of the time and the window search
    # (after the loop) whatever the models leave.
    groups.sort(key=lambda g: len(g) > MIP_MAX_PAIRS)

    chosen_all, proven_all, bound_total = [], True, 0.0
    model_s = solve_s = 0.0
    notes: list[str] = list(notes_pre)
    models = 0
    skipped = 0
    searched: list[np.ndarray] = []  # requests of the blocks too big for one MIP
    searched_pairs = 0
    left_pairs = sum(len(g) for g in groups)
    for idx in groups:
        # Each component may use twice its share of the time left, so one hard block cannot starve the rest.
        now = time.perf_counter()
        share = len(idx) / max(1, left_pairs)
        left_pairs -= len(idx)
        comp_deadline = min(deadline, now + 2 * share * max(0.0, deadline - now)) if left_pairs else deadline
        reqs = np.unique(pairs.req[idx])
        if decompose and len(reqs) == 1:
            pick = _best_single(pairs, idx)
            chosen_all.append(pick)
            bound_total += float(pairs.weight[pick].sum())
            continue
        t0 = time.perf_counter()
        start = None
        if decompose and kept is not None:
            start = np.isin(np.flatnonzero(kept)[idx], warm_full)
        elif decompose:
            warm = greedy_choice(pairs, a, idx, scenario.rules.internal_first, model_links)
            start = np.isin(idx, warm)
        best = np.zeros(len(a.req_days))
        np.maximum.at(best, pairs.req[idx], pairs.weight[idx])
        trivial = float(best.sum())
        too_big = len(idx) > MIP_MAX_PAIRS
        if start is not None and (too_big or time.perf_counter() >= deadline):
            # HiGHS does not stop inside the root LP of a model too big (a national block of 668,927
            # pairs overran 570 s by minutes): its greedy answer is improved window by window instead.
            # Once out of time, more models would overrun the limit: the block keeps its greedy answer.
            proven_all = False
            bound_total += trivial
            chosen_all.append(idx[start])
            if too_big:
                # Searched window by window once every other block has its answer (below).
                searched.append(reqs)
                searched_pairs += len(idx)
            else:
                skipped += 1
            continue
        model = _Model(pairs, a, idx, model_links, scenario, prune_redundant=decompose)
        t1 = time.perf_counter()
        picked, proven, bound, stage_notes = _solve_lexicographic(
            model, start, comp_deadline, solver, trivial, gap_rel or OPTIMAL_GAP / 10
        )
        if start is not None and pairs.weight[idx[start]].sum() > pairs.weight[idx[picked]].sum() + 1e-9:
            # The solver stopped before reaching its own warm start: the greedy answer is better and valid.
            picked, proven = start, False
        t2 = time.perf_counter()
        models += 1
        model_s += t1 - t0
        solve_s += t2 - t1
        notes.extend(stage_notes)
        chosen_all.append(idx[picked])
        proven_all &= proven
        bound_total += min(bound, trivial)
        del model
    if skipped:
        notes.append(f"time limit reached: {skipped} blocks kept their greedy answer without a model")
    chosen = np.sort(np.concatenate(chosen_all)) if chosen_all else np.zeros(0, np.int64)
    objective = float(pairs.weight[chosen].sum())
    if kept is not None:
        # The trivial bound (every request met by its best pair) is always valid for the full problem.
        best = np.zeros(len(a.req_days))
        np.maximum.at(best, full.req, full.weight)
        if math.isinf(lp_value):
            by_lp = math.inf
        else:
            # An answer using no pruned pair is bounded by the models; one using pruned pair k by
            # lp_value - d_k (LP duality); neither can beat the LP itself.
            by_lp = min(lp_value, max(bound_total, lp_value - max(0.0, min_pruned_d - 1e-6)))
        bound_total = min(float(best.sum()), by_lp, lagrangian_bound)
        # Map the chosen restricted pairs back to indices of the full pair list.
        chosen = np.flatnonzero(kept)[chosen]
        pairs = full
        proven_all &= bound_total <= objective * (1 + OPTIMAL_GAP) + 1e-9
        # Pruning can starve the models of fall-back pairs: never return less than one greedy pass.
        if float(full.weight[warm_full].sum()) > objective + 1e-9:
            chosen, objective, proven_all = np.sort(warm_full), float(full.weight[warm_full].sum()), False
            notes.append("the greedy pass over all pairs beat the pruned models; returning it")
    if searched:
        # A block too big for one MIP (national: about 690,000 pairs) is improved window by window. Each
        # window re-decides its requests over all their eligible pairs, not only the few each request
        # kept for the models, with every other request's answer held fixed around it (measured on the
        # national instance, windows of 600 requests: +6,960 in 150 s this way, against +6,069 over the
        # kept pairs).
        gain, info = 0.0, {"windows": 0, "improved": 0}
        if time.perf_counter() < deadline - 0.5:
            t1 = time.perf_counter()
            current = np.zeros(len(full), dtype=bool)
            current[chosen] = True
            searched_reqs = np.concatenate(searched)
            guide = None
            if background is not None:

                def guide(now: np.ndarray) -> np.ndarray | None:
                    values = background.guide()
                    if values is None:
                        return None
                    return guided_start(
                        full, a, links, now, searched_reqs, values, scenario.rules.internal_first, tie=priced
                    )

            better, info = windows.improve(
                full, a, np.arange(len(full)), current, links, deadline, requests=searched_reqs, guide=guide
            )
            solve_s += time.perf_counter() - t1
            chosen = np.flatnonzero(better)
            gain = float(full.weight[chosen].sum()) - objective
            objective += gain
        offered = info.get("guided", {})
        if offered:
            took = "the search went on from it" if offered.get("taken") else "the search kept its own answer"
            notes.append(
                f"{offered['at'] - started:.0f} s in, a greedy pass ordered by the values of the LP solved beside "
                f"the run gave {offered['offered']:.2f}, against {offered['had']:.2f} reached by then: {took}"
            )
        beyond = f"{len(searched)} block(s) of {searched_pairs:,} pairs in all are beyond one MIP"
        if info["windows"]:
            notes.append(
                f"{beyond}: their greedy answer was improved by {gain:.2f} in {info['improved']} of "
                f"{info['windows']} windows of nearby requests"
            )
        else:
            notes.append(f"{beyond}: they keep their greedy answer, as no window was searched in the time left")
    if background is not None:
        # The window search runs to the time limit, and the LP child to just before it; a run that ended
        # sooner takes the LP bound only if it is already there rather than wait for it.
        bound_total = min(bound_total, background.collect(wait=bool(searched)))
        notes.append(background.note)
    status = "optimal" if proven_all else "feasible"
    total = time.perf_counter() - started
    timings = {"similarity": pairs.similarity_s, "model": prep_s + model_s, "solve": solve_s, "total": total}
    if pairs.truncated:
        notes.append(
            f"note: top-k relevance cut {pairs.truncated} requests whose k-th supporter still passed "
            "min_score; the answer is optimal for the top-k relevance"
        )
    return Solution(
        pairs=pairs,
        chosen=chosen,
        status=status,
        bound=max(bound_total, objective),
        timings=timings,
        notes=notes,
        components=len(groups),
        models=models,
    )


def guided_start(
    full: Pairs,
    a: Arrays,
    links: InternalFirst,
    current: np.ndarray,
    searched: np.ndarray,
    values: np.ndarray,
    internal_first_on: bool,
    tie: np.ndarray | None = None,
) -> np.ndarray:
    """An answer (bool over `full`) from the LP's values: a greedy pass over the `searched` requests'
    pairs ordered by sqrt(LP value) x weight, around the rest of `current`, which it keeps as it is.
    Pairs the LP leaves at 0 (most of them) are ordered among themselves by `tie`, where given (the
    weight net of the prices).

    The LP's answer is spread thin (after 54 s of PDLP at national size, 4% of requests have a pair at
    1), but its values still say which pairs fit together under the supporters' days and schools'
    budgets. Measured there, from those 54 s, greedy passes by: sqrt(value) x weight with ties by the
    priced weight, 505,792; without the ties, 504,895; value x weight, 503,914; value, 491,184; the
    weight net of the prices, 498,634; weight alone, 479,085.
    """
    in_search = np.zeros(len(a.req_days), dtype=bool)
    in_search[searched] = True
    fixed = current & ~in_search[full.req]
    idx = np.flatnonzero(fixed | in_search[full.req])
    key = np.sqrt(np.clip(values, 0.0, 1.0)) * full.weight
    if tie is not None:
        key = key + GUIDE_TIE * tie
    # The rest of the answer goes first (in each of the greedy's internal and external passes), so the
    # searched requests get what it leaves.
    key = np.where(fixed, np.inf, key)
    chosen = np.zeros(len(full), dtype=bool)
    chosen[greedy_choice(full, a, idx, internal_first_on, links, key)] = True
    return chosen


# `guided_start`'s weight for its tie-break: small enough to order only pairs of (nearly) equal LP value.
# National, ties by the priced weight at 0.001 and 0.01 of it: 505,792 and 505,795; by the LP's own row
# prices at 0.00001, 0.001, 0.01, 0.1, 1: 505,772, 505,770, 505,822, 505,581, 503,009.
GUIDE_TIE = 1e-3


def solve(scenario: Scenario, **kwargs) -> dict:
    """school-support-result/1 for the scenario (see `allocate` for the options)."""
    sol = allocate(scenario, **kwargs)
    return to_result(scenario, sol)


def to_result(scenario: Scenario, sol: Solution) -> dict:
    pairs = sol.pairs
    objective = float(pairs.weight[sol.chosen].sum())
    gap = 0.0 if sol.bound <= 1e-12 else max(0.0, (sol.bound - objective) / sol.bound)
    allocations = []
    met = set()
    for k in sol.chosen:
        req = scenario.requests[pairs.req[k]]
        sup = scenario.supporters[pairs.sup[k]]
        met.add(req.id)
        why = similarity.explain(req.text, sup.expertise)
        if not why and scenario.scores is not None:
            why = ["relevance given in the scenario"]
        if pairs.pinned[k]:
            why = ["pinned by the CEO", *why]
        allocations.append(
            {
                "request_id": req.id,
                "supporter_id": sup.id,
                "days": _num(req.days),
                "relevance": round(float(pairs.rel[k]), 4),
                "cost": round(float(pairs.cost[k]), 2),
                "travel_km": round(float(pairs.travel[k]), 1) if pairs.travel_known[k] else None,
                "why": why,
            }
        )
    has_pair = set(np.unique(pairs.req).tolist())
    unmet = []
    for i, req in enumerate(scenario.requests):
        if req.id in met:
            continue
        if i in has_pair:
            reason = (
                "eligible supporters were needed for higher-value requests, or their capacity or "
                "the school's budget ran out"
            )
        else:
            reason = (
                "no eligible supporter: none passes the phase, own-school, travel, capacity, budget "
                "and min_score rules"
            )
        unmet.append({"request_id": req.id, "reason": reason})
    return {
        "format": RESULT_FORMAT,
        "status": sol.status,
        "objective": round(objective, 6),
        "bound": round(sol.bound, 6),
        "gap": round(gap, 8),
        "allocations": allocations,
        "unmet": unmet,
        "timings_s": {k: round(v, 4) for k, v in sol.timings.items()},
    }


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def greedy(scenario: Scenario, *, top_k: int | None = None) -> dict:
    """Baseline: one greedy pass (pins, internals by weight, then externals rule 8 allows)."""
    started = time.perf_counter()
    a = arrays(scenario)
    pairs = eligible_pairs(scenario, top_k, a)
    chosen = greedy_choice(pairs, a, np.arange(len(pairs)), scenario.rules.internal_first)
    total = time.perf_counter() - started
    # The trivial bound: every request met by its best pair.
    best = np.zeros(len(scenario.requests))
    np.maximum.at(best, pairs.req, pairs.weight)
    sol = Solution(
        pairs=pairs,
        chosen=chosen,
        status="feasible",
        bound=float(best.sum()),
        timings={
            "similarity": pairs.similarity_s,
            "model": 0.0,
            "solve": total - pairs.similarity_s,
            "total": total,
        },
        notes=[],
    )
    return to_result(scenario, sol)


def rank(scenario: Scenario, top: int = 5) -> dict:
    """school-support-ranking/1: per request, supporters passing rules 2, 3 and 5, best first."""
    from matching.candidates import _static_filter, relevance  # noqa: PLC0415 - shared rule code

    a = arrays(scenario)
    n_req, n_sup = len(scenario.requests), len(scenario.supporters)
    rel, _, _ = relevance(scenario, a, None if n_req * n_sup <= 20_000_000 else max(top * 20, 100))
    rel = rel.tocoo()
    # Rules 2, 3 and 5 only: capacity and budget are the allocator's business, so relax them here.
    full_cap = Arrays(
        **{**a.__dict__, "sup_cap": np.full(n_sup, np.inf), "req_budget": np.full(n_req, np.inf)}
    )
    r, s, v, _, _ = _static_filter(
        scenario, full_cap, rel.row.astype(np.int64), rel.col.astype(np.int64), rel.data.astype(float)
    )
    by_req: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for i, j, x in zip(r.tolist(), s.tolist(), v.tolist(), strict=True):
        by_req[i].append((-x, j))
    rankings = []
    for i, req in enumerate(scenario.requests):
        best = sorted(by_req.get(i, []), key=lambda t: (t[0], scenario.supporters[t[1]].id))[:top]
        rankings.append(
            {
                "request_id": req.id,
                "candidates": [
                    {
                        "supporter_id": scenario.supporters[j].id,
                        "score": round(-x, 4),
                        "why": similarity.explain(req.text, scenario.supporters[j].expertise),
                    }
                    for x, j in best
                ],
            }
        )
    return {"format": "school-support-ranking/1", "rankings": rankings}
