"""Eligible request-supporter pairs: relevance per block, then the static hard rules, pins and bans."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching import similarity
from matching.scenario import PHASES, Scenario, ScenarioError

# Above this many request x supporter cells the text similarity is computed per (phase, area) block.
BLOCK_CELLS = 20_000_000
# Default top-k relevant supporters per request when blocking (the similarity contract's top_k).
DEFAULT_TOP_K = 60

_NO_PHASE = len(PHASES)


def _phase_bits(phase: str | None) -> int:
    return 0 if phase is None else 1 << PHASES.index(phase)


def _compatible_bits(phase: str | None) -> int:
    """Supporter phase bits a request of this phase accepts (all-through pairs with primary and secondary)."""
    if phase is None:
        return -1
    bits = _phase_bits(phase)
    if phase == "all-through":
        bits |= _phase_bits("primary") | _phase_bits("secondary")
    if phase in ("primary", "secondary"):
        bits |= _phase_bits("all-through")
    return bits


def phases_compatible(request_phase: str | None, supporter_phases: tuple[str, ...]) -> bool:
    """Rule 3: compatible where both sides state a phase."""
    if request_phase is None or not supporter_phases:
        return True
    return any(_phase_bits(p) & _compatible_bits(request_phase) for p in supporter_phases)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (vectorised; NaN where a coordinate is missing)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass
class Arrays:
    """Per-request and per-supporter numbers the rules need, indexed like the scenario lists."""

    req_school: np.ndarray
    req_days: np.ndarray
    req_weight: np.ndarray
    req_budget: np.ndarray  # inf when the school has no budget
    req_lat: np.ndarray
    req_lon: np.ndarray
    req_phase_ok: np.ndarray  # bitmask of supporter phases accepted; -1 when the request states none
    sup_school: np.ndarray  # -1 for trust central staff and externals
    sup_cap: np.ndarray
    sup_rate: np.ndarray
    sup_external: np.ndarray
    sup_lat: np.ndarray
    sup_lon: np.ndarray
    sup_phases: np.ndarray  # bitmask; 0 when none stated
    school_budget: np.ndarray


def arrays(scenario: Scenario) -> Arrays:
    school_index = {s.id: i for i, s in enumerate(scenario.schools)}
    nan = float("nan")
    s_lat = np.array([nan if s.lat is None else s.lat for s in scenario.schools] + [nan])
    s_lon = np.array([nan if s.lon is None else s.lon for s in scenario.schools] + [nan])
    budget = np.array([math.inf if s.budget is None else s.budget for s in scenario.schools])
    rules = scenario.rules
    req_school = np.array([school_index[r.school_id] for r in scenario.requests], dtype=np.int64)
    sup_school = np.array(
        [school_index.get(p.school_id, -1) if p.school_id else -1 for p in scenario.supporters],
        dtype=np.int64,
    )
    need = np.array([rules.need_weight(s.need) for s in scenario.schools])
    return Arrays(
        req_school=req_school,
        req_days=np.array([r.days for r in scenario.requests], dtype=float),
        req_weight=need[req_school] if len(req_school) else np.zeros(0),
        req_budget=budget[req_school] if len(req_school) else np.zeros(0),
        req_lat=s_lat[req_school],
        req_lon=s_lon[req_school],
        req_phase_ok=np.array([_compatible_bits(r.phase) for r in scenario.requests], dtype=np.int64),
        sup_school=sup_school,
        sup_cap=np.array([p.capacity_days for p in scenario.supporters], dtype=float),
        sup_rate=np.array([p.day_rate for p in scenario.supporters], dtype=float),
        sup_external=np.array([p.external for p in scenario.supporters], dtype=bool),
        sup_lat=s_lat[sup_school],
        sup_lon=s_lon[sup_school],
        sup_phases=np.array(
            [sum(_phase_bits(p) for p in set(sp_.phases)) for sp_ in scenario.supporters], dtype=np.int64
        ),
        school_budget=budget,
    )


@dataclass
class Pairs:
    """Eligible pairs (rules 2, 3, 5, 6-bans, 7, and capacity and budget for the pair on its own)."""

    req: np.ndarray
    sup: np.ndarray
    rel: np.ndarray
    pinned: np.ndarray
    weight: np.ndarray  # days * need_weight * relevance (objective 1)
    cost: np.ndarray
    travel: np.ndarray  # 0 where travel does not apply
    travel_known: np.ndarray
    similarity_s: float
    truncated: int  # requests whose top-k cut dropped a supporter scoring at or above min_score

    def __len__(self) -> int:
        return len(self.req)

    def subset(self, keep: np.ndarray) -> Pairs:
        return Pairs(
            self.req[keep],
            self.sup[keep],
            self.rel[keep],
            self.pinned[keep],
            self.weight[keep],
            self.cost[keep],
            self.travel[keep],
            self.travel_known[keep],
            self.similarity_s,
            self.truncated,
        )


def _blocks(scenario: Scenario, a: Arrays):
    """Yield (request indices, supporter indices) blocks holding every pair that passes rules 3 and 5."""
    n_req, n_sup = len(scenario.requests), len(scenario.supporters)
    if n_req * n_sup <= BLOCK_CELLS:
        yield np.arange(n_req), np.arange(n_sup)
        return
    max_km = scenario.rules.max_travel_km
    groups: dict[tuple, list[int]] = defaultdict(list)
    if max_km is not None:
        lats = np.concatenate([a.req_lat[~np.isnan(a.req_lat)], a.sup_lat[~np.isnan(a.sup_lat)]])
        top_lat = min(89.0, float(np.max(np.abs(lats))) + 1.0) if len(lats) else 0.0
        dlat, dlon = max_km / 111.0, max_km / (111.0 * math.cos(math.radians(top_lat)))
        r_cell = np.stack([np.floor(a.req_lat / dlat), np.floor(a.req_lon / dlon)], axis=1)
        s_cell = np.stack([np.floor(a.sup_lat / dlat), np.floor(a.sup_lon / dlon)], axis=1)
    for i in range(n_req):
        cell = None
        if max_km is not None and not np.isnan(r_cell[i, 0]):
            cell = (int(r_cell[i, 0]), int(r_cell[i, 1]))
        groups[(int(a.req_phase_ok[i]), cell)].append(i)
    cell_members: dict[tuple[int, int], list[int]] = defaultdict(list)
    unlocated = []
    for j in range(n_sup):
        if max_km is None or np.isnan(s_cell[j, 0]):
            unlocated.append(j)
        else:
            cell_members[(int(s_cell[j, 0]), int(s_cell[j, 1]))].append(j)
    unlocated_arr = np.array(unlocated, dtype=np.int64)
    everyone = np.arange(n_sup)
    for (phase_ok, cell), reqs in sorted(groups.items(), key=lambda kv: kv[1][0]):
        if cell is None:
            sups = everyone
        else:
            near = [
                j
                for dy in (-1, 0, 1)
                for dx in (-1, 0, 1)
                for j in cell_members.get((cell[0] + dy, cell[1] + dx), ())
            ]
            sups = np.union1d(np.array(near, dtype=np.int64), unlocated_arr)
        if phase_ok != -1:
            ph = a.sup_phases[sups]
            sups = sups[(ph == 0) | ((ph & phase_ok) != 0)]
        yield np.array(reqs, dtype=np.int64), sups


def relevance(scenario: Scenario, a: Arrays, top_k: int | None) -> tuple[sp.coo_matrix, float, int]:
    """Sparse relevance (requests x supporters) from `scores` or similarity; seconds; truncations."""
    n_req, n_sup = len(scenario.requests), len(scenario.supporters)
    if scenario.scores is not None:
        r_index = {r.id: i for i, r in enumerate(scenario.requests)}
        s_index = {p.id: j for j, p in enumerate(scenario.supporters)}
        rows = [r_index[r] for r, _, _ in scenario.scores]
        cols = [s_index[s] for _, s, _ in scenario.scores]
        vals = [v for _, _, v in scenario.scores]
        return sp.coo_matrix((vals, (rows, cols)), shape=(n_req, n_sup)), 0.0, 0
    started = time.perf_counter()
    if top_k is None and n_req * n_sup > BLOCK_CELLS:
        top_k = DEFAULT_TOP_K
    rows_all, cols_all, vals_all = [], [], []
    truncated = 0
    req_texts = [r.text for r in scenario.requests]
    sup_texts = [p.expertise for p in scenario.supporters]
    blocks = _blocks(scenario, a)
    for reqs, sups, row, col, val in similarity.score_blocks(req_texts, sup_texts, blocks, top_k=top_k):
        if top_k is not None and top_k < len(sups):
            # A request is truncated when its k-th kept score still passes min_score: more may have been cut.
            counts = np.bincount(row[val >= max(scenario.rules.min_score, 1e-12)], minlength=len(reqs))
            truncated += int(np.sum(counts >= top_k))
        rows_all.append(reqs[row])
        cols_all.append(sups[col])
        vals_all.append(val)
    if rows_all:
        rows, cols, vals = np.concatenate(rows_all), np.concatenate(cols_all), np.concatenate(vals_all)
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0)
    return (
        sp.coo_matrix((vals, (rows, cols)), shape=(n_req, n_sup)),
        time.perf_counter() - started,
        truncated,
    )


def pin_relevance(scenario: Scenario, rel: sp.coo_matrix, pins: list[tuple[int, int]]) -> list[float]:
    """Relevance of pinned pairs, which may lie outside the top-k."""
    if not pins:
        return []
    table = {(int(r), int(c)): float(v) for r, c, v in zip(rel.row, rel.col, rel.data, strict=True)}
    out = []
    for i, j in pins:
        blocked = len(scenario.requests) * len(scenario.supporters) > BLOCK_CELLS
        if (i, j) in table or scenario.scores is not None or not blocked:
            out.append(table.get((i, j), 0.0))
        else:
            m = similarity.score([scenario.requests[i].text], [scenario.supporters[j].expertise])
            out.append(float(m[0, 0]))
    return out


def eligible_pairs(scenario: Scenario, top_k: int | None = None, a: Arrays | None = None) -> Pairs:
    """All pairs a solution may use: rules 2, 3, 5, 7, bans, pins, and rules 1 and 4 pair by pair."""
    a = a or arrays(scenario)
    rules = scenario.rules
    rel, sim_s, truncated = relevance(scenario, a, top_k)
    rel = rel.tocsr()
    rel.sum_duplicates()
    rel = rel.tocoo()
    r, s, v = rel.row.astype(np.int64), rel.col.astype(np.int64), rel.data.astype(float)
    keep = (v > 0) & (v >= rules.min_score)
    r, s, v = r[keep], s[keep], v[keep]
    r, s, v, travel, known = _static_filter(scenario, a, r, s, v)
    pinned = np.zeros(len(r), dtype=bool)

    r_index = {x.id: i for i, x in enumerate(scenario.requests)}
    s_index = {x.id: j for j, x in enumerate(scenario.supporters)}
    n_sup = len(scenario.supporters)
    if scenario.bans:
        banned = np.array([r_index[b.request_id] * n_sup + s_index[b.supporter_id] for b in scenario.bans])
        keep = ~np.isin(r * n_sup + s, banned)
        r, s, v, travel, known, pinned = r[keep], s[keep], v[keep], travel[keep], known[keep], pinned[keep]
    if scenario.pins:
        pin_ij = _validate_pins(scenario, a)
        pinned_req = np.array(sorted({i for i, _ in pin_ij}), dtype=np.int64)
        keep = ~np.isin(r, pinned_req)
        r, s, v, travel, known = r[keep], s[keep], v[keep], travel[keep], known[keep]
        n_free = len(r)
        pr = np.array([i for i, _ in pin_ij], dtype=np.int64)
        ps = np.array([j for _, j in pin_ij], dtype=np.int64)
        pv = np.array(pin_relevance(scenario, rel, pin_ij))
        d = haversine_km(a.req_lat[pr], a.req_lon[pr], a.sup_lat[ps], a.sup_lon[ps])
        r, s, v = np.concatenate([r, pr]), np.concatenate([s, ps]), np.concatenate([v, pv])
        travel = np.concatenate([travel, np.nan_to_num(d, nan=0.0)])
        known = np.concatenate([known, ~np.isnan(d)])
        pinned = np.concatenate([np.zeros(n_free, dtype=bool), np.ones(len(pr), dtype=bool)])
    order = np.lexsort((s, r))
    r, s, v, travel, known, pinned = r[order], s[order], v[order], travel[order], known[order], pinned[order]
    days = a.req_days[r]
    return Pairs(
        req=r,
        sup=s,
        rel=v,
        pinned=pinned,
        weight=days * a.req_weight[r] * v,
        cost=days * a.sup_rate[s],
        travel=travel,
        travel_known=known,
        similarity_s=sim_s,
        truncated=truncated,
    )


def _static_filter(scenario: Scenario, a: Arrays, r, s, v):
    rules = scenario.rules
    ok = a.sup_school[s] != a.req_school[r]  # rule 2
    ph_ok, ph_sup = a.req_phase_ok[r], a.sup_phases[s]
    ok &= (ph_ok == -1) | (ph_sup == 0) | ((ph_ok & ph_sup) != 0)  # rule 3
    dist = haversine_km(a.req_lat[r], a.req_lon[r], a.sup_lat[s], a.sup_lon[s])
    known = ~np.isnan(dist)
    if rules.max_travel_km is not None:
        ok &= ~known | (dist <= rules.max_travel_km)  # rule 5
    days = a.req_days[r]
    ok &= a.sup_cap[s] >= days  # rule 1 for the pair on its own
    ok &= days * a.sup_rate[s] <= a.req_budget[r]  # rule 4 for the pair on its own
    travel = np.nan_to_num(dist, nan=0.0)
    return r[ok], s[ok], v[ok], travel[ok], known[ok]


def _validate_pins(scenario: Scenario, a: Arrays) -> list[tuple[int, int]]:
    """Pins must keep rules 1-5 (and not be banned, nor give one request two supporters)."""
    r_index = {x.id: i for i, x in enumerate(scenario.requests)}
    s_index = {x.id: j for j, x in enumerate(scenario.supporters)}
    bans = {(b.request_id, b.supporter_id) for b in scenario.bans}
    seen: dict[str, str] = {}
    out = []
    load: dict[int, float] = defaultdict(float)
    spend: dict[int, float] = defaultdict(float)
    for pin in dict.fromkeys(scenario.pins):
        name = f"pin {pin.request_id}->{pin.supporter_id}"
        req = scenario.requests[r_index[pin.request_id]]
        sup = scenario.supporters[s_index[pin.supporter_id]]
        school = scenario.school(req.school_id)
        if pin.request_id in seen:
            raise ScenarioError(
                f"{name} clashes with pin {pin.request_id}->{seen[pin.request_id]}: "
                "a request is met by one supporter"
            )
        seen[pin.request_id] = pin.supporter_id
        if (pin.request_id, pin.supporter_id) in bans:
            raise ScenarioError(f"{name} is also banned")
        if sup.school_id == req.school_id:
            raise ScenarioError(
                f"{name} breaks rule 2: {sup.id} works at {req.school_id}, the requesting school"
            )
        if not phases_compatible(req.phase, sup.phases):
            raise ScenarioError(
                f"{name} breaks rule 3: {req.id} is {req.phase} but {sup.id} covers {', '.join(sup.phases)}"
            )
        i, j = r_index[pin.request_id], s_index[pin.supporter_id]
        if scenario.rules.max_travel_km is not None:
            d = float(haversine_km(a.req_lat[i], a.req_lon[i], a.sup_lat[j], a.sup_lon[j]))
            if not math.isnan(d) and d > scenario.rules.max_travel_km:
                raise ScenarioError(
                    f"{name} breaks rule 5: {d:.1f} km is beyond max_travel_km "
                    f"{scenario.rules.max_travel_km:g}"
                )
        load[j] += req.days
        if load[j] > sup.capacity_days + 1e-9:
            raise ScenarioError(
                f"{name} breaks rule 1: pins give {sup.id} {load[j]:g} days, capacity {sup.capacity_days:g}"
            )
        spend[a.req_school[i]] += req.days * sup.day_rate
        if school.budget is not None and spend[a.req_school[i]] > school.budget + 1e-6:
            raise ScenarioError(
                f"{name} breaks rule 4: pins cost {school.id} {spend[a.req_school[i]]:.2f}, "
                f"budget {school.budget:.2f}"
            )
        out.append((i, j))
    return out
