"""Prices for supporters' days and schools' budgets, by Lagrangian relaxation: a bound and a better
first answer for runs too big for the LP.

Relax every supporter's capacity row with a price per day, lam_p >= 0, and (with `budgets`) every
school's budget row with a price per pound, mu_s >= 0, and drop rule 8. What is left falls apart by
request: each request takes the pair with the largest `weight - lam_p * days - mu_s * cost`, or
nothing if none is positive. So

    L(lam, mu) = sum over requests of max(0, max over its pairs of weight - lam_p * days - mu_s * cost)
                 + sum over supporters of lam_p * capacity_p + sum over schools of mu_s * budget_s

is an upper bound on the relevance objective for all prices >= 0 (dropping rows from a maximisation
only widens it), and the prices are improved by the subgradient method with Polyak's step towards the
best answer known. Two things come out:

- the smallest L seen, a bound valid for the whole problem, far tighter at national size than every
  request met by its best pair (which is all a run had when the LP is too big to solve in time);
- the prices themselves: a greedy pass that ranks pairs by their priced weight instead of by weight
  leaves the days of supporters many requests want, and the budgets of schools with many requests,
  to the requests that need them most.

Measured on the national instance (ninth session; the figures are in docs/benchmarks.md): greedy by
weight 449,550; by priced weight, days only, 300 rounds 461,890; days and budgets, 1,000 rounds (25 s)
465,515, with L = 484,421 (the LP over every pair, from the benchmark, is 480,505).

Pinned pairs are always taken: their days, cost and weight count as fixed. Everything is vectorised
over the pairs sorted by request, so one round is a few passes over the pair arrays.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - types only
    from matching.candidates import Arrays, Pairs


@dataclass
class Prices:
    price: np.ndarray  # per supporter, per day (the prices that gave `bound`)
    school_price: np.ndarray  # per school, per pound of its budget (zero unless budgets are priced)
    bound: float  # an upper bound on the need-weighted relevance of every answer
    rounds: int
    seconds: float


# Rounds without a lower L before the step is halved, and the smallest step factor worth taking.
STALL_ROUNDS = 10
MIN_STEP = 1e-4


def _sum(values: np.ndarray) -> float:
    """A sum that comes out the same on every run: numpy's own pairwise sum, not BLAS, whose threads
    may add in a different order from run to run. The step depends on it, and a last-bit difference
    in round 1 is a different set of prices by round 1,000 (seen: three runs, three answers)."""
    return float(np.sum(values))


def find_prices(
    pairs: Pairs, a: Arrays, known: float, deadline: float, rounds: int = 300, budgets: bool = False
) -> Prices:
    """Prices by subgradient from zero, for at most `rounds` rounds or until `deadline`.

    `known` is the objective of an answer in hand (a lower bound on the optimum): Polyak's step
    aims L at it. The bound returned is the smallest L over the rounds, so stopping early is safe.
    """
    t0 = time.perf_counter()
    n_req, n_sup = len(a.req_days), len(a.sup_cap)
    cap = a.sup_cap.astype(float)
    pinned_req = np.zeros(n_req, dtype=bool)
    pinned_req[pairs.req[pairs.pinned]] = True
    fixed_load = np.bincount(
        pairs.sup[pairs.pinned], weights=a.req_days[pairs.req[pairs.pinned]], minlength=n_sup
    )
    fixed_weight = float(pairs.weight[pairs.pinned].sum())
    free = np.flatnonzero(~pinned_req[pairs.req])
    free = free[np.argsort(pairs.req[free], kind="stable")]
    req, sup, w = pairs.req[free], pairs.sup[free], pairs.weight[free]
    days = a.req_days[req].astype(float)
    n_sch = len(a.school_budget)
    capped = np.isfinite(a.school_budget) if budgets else np.zeros(n_sch, dtype=bool)
    # budget rows in days of a typical day rate, so both kinds of row weigh alike in the step
    rates = pairs.cost[pairs.cost > 0] / a.req_days[pairs.req[pairs.cost > 0]]
    unit = float(np.median(rates)) if len(rates) else 1.0
    budget = np.where(capped, a.school_budget, 0.0) / unit
    school = a.req_school[req]
    cost = pairs.cost[free] / unit
    fixed_spend = np.bincount(
        a.req_school[pairs.req[pairs.pinned]], weights=pairs.cost[pairs.pinned] / unit, minlength=n_sch
    )
    fixed = np.r_[fixed_load.astype(float), fixed_spend]  # what the pins use of every row
    limits = np.r_[cap, budget]  # every row's right-hand side (0 for a school with no budget)
    price = np.zeros(n_sup + n_sch)
    best_bound, best_price = math.inf, price.copy()
    if len(free):
        starts = np.flatnonzero(np.r_[True, req[1:] != req[:-1]])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(req)]))
    step_factor, stall, done = 1.0, 0, 0
    while done < rounds and time.perf_counter() < deadline:
        load = fixed.copy()
        total = fixed_weight - _sum(price * load)
        if len(free):
            reduced = w - price[sup] * days - price[n_sup + school] * cost
            best = np.maximum.reduceat(reduced, starts)
            total += float(np.maximum(best, 0.0).sum())
            # each request's first best pair, where it is worth taking
            best_of_pair = best[group]
            top = np.flatnonzero((reduced >= best_of_pair) & (best_of_pair > 0))
            if len(top):
                top = top[np.r_[True, group[top[1:]] != group[top[:-1]]]]
                load[:n_sup] += np.bincount(sup[top], weights=days[top], minlength=n_sup)
                load[n_sup:] += np.bincount(school[top], weights=cost[top], minlength=n_sch)
        value = total + _sum(price * limits)
        done += 1
        if value < best_bound - 1e-9:
            best_bound, best_price, stall = value, price.copy(), 0
        else:
            stall += 1
            if stall >= STALL_ROUNDS:
                step_factor, stall = step_factor / 2, 0
                if step_factor < MIN_STEP:
                    break
        over = load - limits
        # a price already at zero cannot fall further: that part of the subgradient is not a direction
        over[(price <= 0) & (over < 0)] = 0.0
        over[n_sup:][~capped] = 0.0
        norm = _sum(over * over)
        if norm <= 0:  # the relaxed choice fits every row: it is optimal for the relaxation
            break
        price = np.maximum(0.0, price + step_factor * max(value - known, 0.0) / norm * over)
    return Prices(best_price[:n_sup], best_price[n_sup:] / unit, best_bound, done, time.perf_counter() - t0)


def priced_weight(pairs: Pairs, a: Arrays, prices: Prices) -> np.ndarray:
    """Each pair's weight net of its supporter's price for its days (and its school's price for its
    cost): the order for a priced greedy pass."""
    return (
        pairs.weight
        - prices.price[pairs.sup] * a.req_days[pairs.req]
        - prices.school_price[a.req_school[pairs.req]] * pairs.cost
    )
