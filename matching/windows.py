"""Large-neighbourhood search for a block too big for one integer programme.

A national run has one block of about 700,000 pairs: HiGHS does not finish even the root LP of a
model that size in the time a run has. Instead, the block's answer (greedy to begin with) is improved
one window at a time: a window is a few hundred requests that sit close together on the map, and
its integer programme re-decides those requests over all their eligible pairs, with everything
outside the window held as it is. Supporters' capacity and schools' budgets then have what the
outside leaves, and rule 8 is kept both ways (see `_WindowModel`), so every accepted window leaves a
valid answer that is worth strictly more. The first pass uses windows of 150 requests; later passes
use wider windows (up to 1,200 requests) with shifted boundaries, so requests at a window's edge get a
turn with their other neighbours. The search stops when a pass of the widest windows finds nothing or
time is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # pragma: no cover - types only
    from matching.allocate import InternalFirst
    from matching.candidates import Arrays, Pairs

# Requests per window in the first pass; later passes widen it (PASSES). Measured on the national
# instance (sixth session), windows over all of each request's eligible pairs, from greedy, the first
# three over all 60,000 requests and the rest over the 58,229 of the block too big for one MIP:
# - 150 requests, four passes: +8,882, all done in 135 s;
# - 300 requests, four passes: +10,974 in 150 s, +13,127 when all were done at 264 s;
# - 600 requests: +6,960 in 150 s (69 windows of about 2.2 s each);
# - 150, then 300 twice, then 600, each window to a gap of 1e-6: +14,524 in 470 s;
# - PASSES with WINDOW_GAP: +16,649 in 470 s.
WINDOW_REQUESTS = 150
# Longest one window may run, so that one hard window cannot use up the time of the others.
WINDOW_SECONDS = 8.0
# Relative MIP gap at which a window stops: a window has to find a better answer, not prove it best,
# and proofs took most of the time. National, one pass of 600-request windows from greedy, 100 s:
# gap 1e-6 solved 30 windows (+3,550), 1e-3 solved 71 (+6,795), 1e-2 solved 83 (+8,129).
WINDOW_GAP = 1e-2
# The same once the search has taken the guided start (`improve`'s guide), which is within about 1% of the
# LP already: at 1e-2 HiGHS may stop at the window's start. National, 420 s of windows from the guided
# start of 505,792 (two runs side by side on the 2 cores): 1e-2, 510,759 (611 of 824 windows improved);
# 1e-3, 510,999 (768 of 811).
GUIDED_WINDOW_GAP = 1e-3
# Grid for ordering requests along the map (degrees): Morton order over cells this size keeps
# neighbours together.
GRID_DEGREES = 0.05
TOL = 1e-6
# Each pass: windows of WINDOW_REQUESTS times this many requests, starting at this share of a window.
# Narrow windows are quick and find most of the gain; wider ones find what needs more requests moved
# together. Later passes also shift the boundaries, so requests at one pass's edge sit mid-window in
# another.
PASSES = ((1, 0.0), (2, 0.5), (4, 0.25), (4, 0.75), (8, 0.0), (8, 0.5), (8, 0.25), (8, 0.75))


def _morton(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Interleave the bits of two 16-bit cell numbers: cells close on the map get close keys."""
    key = np.zeros(len(ix), dtype=np.int64)
    for bit in range(16):
        key |= ((ix >> bit) & 1) << (2 * bit)
        key |= ((iy >> bit) & 1) << (2 * bit + 1)
    return key


def window_order(reqs: np.ndarray, a: Arrays) -> np.ndarray:
    """The block's requests in map order (unlocated last, in index order), each school's together."""
    lat, lon = a.req_lat[reqs], a.req_lon[reqs]
    located = ~(np.isnan(lat) | np.isnan(lon))
    ix = np.zeros(len(reqs), dtype=np.int64)
    iy = np.zeros(len(reqs), dtype=np.int64)
    if located.any():
        ix[located] = np.clip((lon[located] - lon[located].min()) / GRID_DEGREES, 0, 65535).astype(np.int64)
        iy[located] = np.clip((lat[located] - lat[located].min()) / GRID_DEGREES, 0, 65535).astype(np.int64)
    key = np.where(located, _morton(ix, iy), np.iinfo(np.int64).max)
    return reqs[np.lexsort((reqs, a.req_school[reqs], key))]


def windows(ordered: np.ndarray, a: Arrays, size: int, offset: int = 0) -> list[np.ndarray]:
    """Consecutive runs of about `size` requests, cut only where the school changes.

    A school's requests share its budget, so they are always in one window together.
    """
    schools = a.req_school[ordered]
    cuts = np.flatnonzero(np.diff(schools)) + 1  # positions where a new school starts
    out, start = [], 0
    target = offset if 0 < offset < len(ordered) else size
    for c in cuts.tolist():
        if c >= target:
            out.append(ordered[start:c])
            start, target = c, c + size
    out.append(ordered[start:])
    return [w for w in out if len(w)]


class _WindowModel:
    """The integer programme of one window, with the rest of the block's answer held fixed.

    Columns: x_k for the window's pairs, then load_i (days of internal i's window pairs) and ext_r
    (request r goes to an external). Rows: one supporter per request; capacity and budget net of what
    the outside uses; the two definitions; and rule 8 twice over:

    - a window request r may go external only if each eligible internal i ends at least M full:
      load_i - M * ext_r >= -outside_load_i;
    - a request outside the window that went external stays allowed only if each of its internals
      stays at least M full: a lower bound on load_i of M - outside_load_i.
    """

    def __init__(self, block: _Block, in_window: np.ndarray, current: np.ndarray) -> None:
        b, a = block, block.a
        n_req, n_sup = len(a.req_days), len(a.sup_cap)
        self.cols = block.pairs_of(np.flatnonzero(in_window))  # positions in the block
        cols = self.cols
        n = len(cols)
        # What the outside uses: the answer's pairs for requests outside the window.
        chosen = np.flatnonzero(current)
        outside = chosen[~in_window[b.req[chosen]]]
        out_load = np.bincount(b.sup[outside], weights=b.days[outside], minlength=n_sup)
        out_spend = np.bincount(a.req_school[b.req[outside]], weights=b.cost[outside], minlength=len(a.school_budget))
        req, sup = b.req[cols], b.sup[cols]
        days, cost, ext = b.days[cols], b.cost[cols], b.ext[cols]
        rows, idx, vals, lo, hi = [], [], [], [], []
        n_rows = 0

        def add(row_of_entry, col_of_entry, value, row_lo, row_hi):
            nonlocal n_rows
            rows.append(row_of_entry + n_rows)
            idx.append(col_of_entry)
            vals.append(value)
            lo.append(row_lo)
            hi.append(row_hi)
            n_rows += len(row_lo)

        pos = np.arange(n)
        r_u, r_inv = np.unique(req, return_inverse=True)
        add(r_inv, pos, np.ones(n), np.full(len(r_u), -np.inf), np.ones(len(r_u)))
        s_u, s_inv = np.unique(sup, return_inverse=True)
        add(s_inv, pos, days, np.full(len(s_u), -np.inf), a.sup_cap[s_u] - out_load[s_u])
        school = a.req_school[req]
        charged = np.isfinite(a.school_budget[school]) & (cost > 0)
        c_u, c_inv = np.unique(school[charged], return_inverse=True)
        add(c_inv, pos[charged], cost[charged], np.full(len(c_u), -np.inf), a.school_budget[c_u] - out_spend[c_u])

        # Rule 8, window requests: links of requests in the window that have an external pair here.
        has_ext = np.zeros(n_req, dtype=bool)
        has_ext[req[ext]] = True
        links = b.links
        mine = has_ext[links.req]
        w_req, w_sup, w_m = links.req[mine], links.sup[mine], links.m[mine]
        # Rule 8, outside requests that went external: their internals' window load has a floor.
        went_out = np.zeros(n_req, dtype=bool)
        went_out[b.req[outside[b.ext[outside]]]] = True
        theirs = went_out[links.req]
        floor = np.zeros(n_sup)
        np.maximum.at(floor, links.sup[theirs], links.m[theirs] - out_load[links.sup[theirs]])
        in_sup = np.zeros(n_sup, dtype=bool)
        in_sup[sup] = True
        floored = np.flatnonzero((floor > TOL) & in_sup)
        load_sups = np.union1d(w_sup, floored)
        ext_reqs = np.unique(w_req)
        n_load, n_ext = len(load_sups), len(ext_reqs)
        lpos = np.full(n_sup, -1)
        lpos[load_sups] = np.arange(n_load)
        epos = np.full(n_req, -1)
        epos[ext_reqs] = np.arange(n_ext)
        n_cols = n + n_load + n_ext
        # load_i - (days of i's window pairs) = 0
        has_load = lpos[sup] >= 0
        add(
            np.r_[lpos[sup[has_load]], np.arange(n_load)],
            np.r_[pos[has_load], n + np.arange(n_load)],
            np.r_[-days[has_load], np.ones(n_load)],
            np.zeros(n_load),
            np.zeros(n_load),
        )
        # ext_r - (r's external pairs) = 0, for the requests rule 8 links to an internal
        linked = ext & (epos[req] >= 0)
        add(
            np.r_[epos[req[linked]], np.arange(n_ext)],
            np.r_[pos[linked], n + n_load + np.arange(n_ext)],
            np.r_[-np.ones(int(linked.sum())), np.ones(n_ext)],
            np.zeros(n_ext),
            np.zeros(n_ext),
        )
        # load_i - M ext_r >= -outside_load_i
        j = np.arange(len(w_req))
        add(
            np.r_[j, j],
            np.r_[n + lpos[w_sup], n + n_load + epos[w_req]],
            np.r_[np.ones(len(j)), -w_m],
            -out_load[w_sup],
            np.full(len(j), np.inf),
        )
        self.matrix = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(idx))), shape=(n_rows, n_cols)
        )
        self.row_lo, self.row_hi = np.concatenate(lo), np.concatenate(hi)
        self.col_lo = np.r_[b.pinned[cols].astype(float), floor[load_sups].clip(min=0), np.zeros(len(ext_reqs))]
        self.col_hi = np.r_[np.ones(n), a.sup_cap[load_sups] - out_load[load_sups], np.ones(len(ext_reqs))]
        self.weight = b.weight[cols]
        self.n_x, self.n_cols = n, n_cols
        now = current[cols]
        self.start = np.r_[
            now.astype(float),
            np.bincount(lpos[sup[now & has_load]], weights=days[now & has_load], minlength=n_load),
            np.zeros(n_ext),
        ]
        self.start[n + n_load + epos[req[now & linked]]] = 1.0

    def solve(self, time_limit: float, gap: float = WINDOW_GAP) -> np.ndarray | None:
        """The best x HiGHS found for the window (bool over its pairs), or None if it found none."""
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", max(0.05, time_limit))
        h.setOptionValue("mip_rel_gap", gap)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, len(self.row_lo)
        lp.col_cost_ = np.r_[-self.weight, np.zeros(self.n_cols - self.n_x)]
        lp.col_lower_, lp.col_upper_ = self.col_lo, self.col_hi
        lp.row_lower_ = np.where(np.isinf(self.row_lo), -inf, self.row_lo)
        lp.row_upper_ = np.where(np.isinf(self.row_hi), inf, self.row_hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.matrix.indptr
        lp.a_matrix_.index_ = self.matrix.indices
        lp.a_matrix_.value_ = self.matrix.data
        lp.integrality_ = [highspy.HighsVarType.kInteger] * self.n_x + [highspy.HighsVarType.kContinuous] * (
            self.n_cols - self.n_x
        )
        h.passModel(lp)
        sol = highspy.HighsSolution()
        sol.col_value = list(self.start)
        sol.value_valid = True
        h.setSolution(sol)
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        return np.array(h.getSolution().col_value)[: self.n_x] > 0.5


class _Block:
    """The block's pairs as flat arrays (positions 0..n-1), and the rule-8 links that touch it."""

    def __init__(self, pairs: Pairs, a: Arrays, idx: np.ndarray, links: InternalFirst) -> None:
        self.a = a
        self.req, self.sup = pairs.req[idx], pairs.sup[idx]
        self.days = a.req_days[self.req]
        self.cost, self.weight = pairs.cost[idx], pairs.weight[idx]
        self.pinned = pairs.pinned[idx]
        self.ext = a.sup_external[self.sup] & ~self.pinned
        in_block = np.zeros(len(a.req_days), dtype=bool)
        in_block[self.req] = True
        keep = in_block[links.req]
        self.links = type(links)(links.req[keep], links.sup[keep], links.m[keep])
        self.pinned_at = np.flatnonzero(self.pinned)
        # The block's pairs by request (a row per request), so a window finds its pairs without a pass
        # over the block.
        n = len(self.req)
        self._by_req = sp.csr_matrix((np.ones(n, dtype=bool), (self.req, np.arange(n))), shape=(len(a.req_days), n))

    def pairs_of(self, reqs: np.ndarray) -> np.ndarray:
        """Positions in the block of every pair of these requests, in position order."""
        return np.sort(self._by_req[reqs].indices).astype(np.int64)


def valid(block: _Block, chosen: np.ndarray) -> bool:
    """Every hard rule the block's model carries, re-checked on a whole answer (bool over its pairs)."""
    a = block.a
    n_req, n_sup = len(a.req_days), len(a.sup_cap)
    chosen = np.flatnonzero(chosen)  # a few pairs per request, against dozens eligible
    if np.any(np.bincount(block.req[chosen], minlength=n_req) > 1) or not np.all(
        np.isin(block.pinned_at, chosen, assume_unique=True)
    ):
        return False
    load = np.bincount(block.sup[chosen], weights=block.days[chosen], minlength=n_sup)
    if np.any(load > a.sup_cap + TOL):
        return False
    spend = np.bincount(a.req_school[block.req[chosen]], weights=block.cost[chosen], minlength=len(a.school_budget))
    if np.any(spend > a.school_budget + TOL):
        return False
    went_out = np.zeros(n_req, dtype=bool)
    went_out[block.req[chosen[block.ext[chosen]]]] = True
    links = block.links
    hit = went_out[links.req]
    return bool(np.all(load[links.sup[hit]] >= links.m[hit] - TOL))


def improve(
    pairs: Pairs,
    a: Arrays,
    idx: np.ndarray,
    start: np.ndarray,
    links: InternalFirst,
    deadline: float,
    size: int | None = None,
    requests: np.ndarray | None = None,
    guide: Callable[[np.ndarray], np.ndarray | None] | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Improve `start` (bool over `idx`) window by window until every window is done or time is up.

    Windows are made of `requests` (default: every request in the block); the rest of the block's
    answer is held fixed around each window, so the block may be wider than the requests searched.

    `guide`, asked between windows with the current answer, may offer another answer once (a greedy
    pass ordered by the LP's values, when the LP solved beside the run has them). If that answer keeps
    every rule and is worth more, the search starts again from it, from the first pass, with windows
    solved to GUIDED_WINDOW_GAP.
    """
    size = size or WINDOW_REQUESTS
    block = _Block(pairs, a, idx, links)
    current = start.copy()
    if not valid(block, current):  # the greedy answer always is; never build on anything else
        return start, {"windows": 0, "improved": 0, "gain": 0.0, "passes": [], "guided": {}}
    ordered = window_order(np.unique(block.req if requests is None else requests), a)
    tried = improved = 0
    before = float(block.weight[current].sum())
    passes = []
    guided: dict[str, float] = {}
    gap = WINDOW_GAP
    step = 0
    while step < len(PASSES):
        grow, offset = PASSES[step]
        step += 1
        if deadline - time.perf_counter() <= 0.5:
            break
        improved_before, pass_start, worth = improved, time.perf_counter(), float(block.weight[current].sum())
        width = size * grow
        for w in windows(ordered, a, width, offset=int(offset * width)):
            left = deadline - time.perf_counter()
            if left <= 0.5:
                break
            offered = guide(current) if guide is not None else None
            if offered is not None:
                guide = None
                had, worth_offered = float(block.weight[current].sum()), float(block.weight[offered].sum())
                guided = {"offered": worth_offered, "had": had, "at": time.perf_counter()}
                if worth_offered > had + 1e-9 * max(1.0, abs(had)) and valid(block, offered):
                    current = offered.copy()
                    guided["taken"] = 1.0
                    gap = GUIDED_WINDOW_GAP
                    step = 0  # start again from the first pass: the new answer has not been searched
                    break
            in_window = np.zeros(len(a.req_days), dtype=bool)
            in_window[w] = True
            model = _WindowModel(block, in_window, current)
            if model.n_x == 0:
                continue
            tried += 1
            x = model.solve(min(WINDOW_SECONDS, left - 0.25), gap)
            if x is None:
                continue
            old = float(model.weight[current[model.cols]].sum())
            if float(model.weight[x].sum()) <= old + 1e-9 * max(1.0, abs(old)):
                continue
            trial = current.copy()
            trial[model.cols] = x
            # HiGHS works to a tolerance: only an answer that keeps every rule exactly is taken.
            if valid(block, trial):
                current = trial
                improved += 1
        passes.append((width, float(block.weight[current].sum()) - worth, time.perf_counter() - pass_start))
        if step and improved == improved_before and grow == PASSES[-1][0]:
            break  # a whole pass of the widest windows found nothing: the next would not either
    gain = float(block.weight[current].sum()) - before
    return current, {"windows": tried, "improved": improved, "gain": gain, "passes": passes, "guided": guided}
