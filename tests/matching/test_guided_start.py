"""The window search started again from the LP's values (allocate.guided_start, windows.improve's guide).

At national size the LP solved beside the run first stops early and hands over its value for every pair;
a greedy pass ordered by those values is a better start than the prices' (505,792 against 498,634 on the
present national instance).
"""

import time
from unittest import mock

import numpy as np

from matching import allocate as allocate_module
from matching import check, load_scenario, windows
from matching.allocate import (
    PricingLP,
    _pairs_and_links,
    allocate,
    fewer_links,
    greedy_choice,
    guided_start,
    to_result,
)
from matching.synth import synthesise


def _case(seed=1):
    scenario = load_scenario(synthesise(schools=20, supporters=80, requests=120, seed=seed))
    a, pairs, links = _pairs_and_links(scenario, None)
    return scenario, a, pairs, links


def _answer(pairs, chosen):
    mask = np.zeros(len(pairs), dtype=bool)
    mask[chosen] = True
    return mask


def _result(scenario, pairs, mask):
    sol = allocate_module.Solution(
        pairs=pairs,
        chosen=np.flatnonzero(mask),
        status="feasible",
        bound=float(pairs.weight.sum()),
        timings={"similarity": 0.0, "model": 0.0, "solve": 0.0, "total": 0.0},
        notes=[],
        components=1,
        models=0,
    )
    return to_result(scenario, sol)


def test_values_at_an_answer_give_its_internal_pairs_back_and_keep_the_rest_as_it_is():
    scenario, a, pairs, links = _case()
    optimum = allocate(scenario, time_limit_s=60)
    assert optimum.status == "optimal"
    best = _answer(pairs, optimum.chosen)
    # Half the requests are searched; the other half keep the optimum's pairs around them.
    searched = np.arange(0, len(a.req_days), 2)
    in_search = np.isin(pairs.req, searched)
    guided = guided_start(pairs, a, links, best, searched, best.astype(float), True)
    assert check(scenario, _result(scenario, pairs, guided)) == []
    # The requests outside the search keep exactly their pairs ...
    assert np.array_equal(guided[~in_search], best[~in_search])
    # ... and every searched request the optimum gives an internal supporter gets that one back: those
    # pairs come first, and together with the rest they fit. (Its externals may give way to internals
    # with value 0, which the greedy still takes where they fit.)
    internal = ~a.sup_external[pairs.sup]
    named = best & in_search & internal
    assert named.sum() > 20
    assert np.array_equal(guided[named], best[named])
    # Values that name nothing in particular (a greedy pass by weight over the searched requests) still
    # leave the rest exactly as it was: the rest goes first.
    flat = guided_start(pairs, a, links, best, searched, np.ones(len(pairs)), True)
    assert check(scenario, _result(scenario, pairs, flat)) == []
    assert np.array_equal(flat[~in_search], best[~in_search])


def test_values_from_the_lp_exact_or_rough_give_a_start_that_keeps_every_rule():
    for seed in (1, 2, 3):
        scenario, a, pairs, links = _case(seed)
        lp = PricingLP(pairs, a, fewer_links(links, pairs, a, 6))
        for options in ({}, {"solver": "pdlp", "pdlp_iteration_limit": 20}):
            lp.solve(np.arange(len(pairs)), 30, presolve="off", **options)
            values = np.asarray(lp.h.getSolution().col_value)[: len(pairs)]
            nothing = np.zeros(len(pairs), dtype=bool)
            guided = guided_start(pairs, a, links, nothing, np.arange(len(a.req_days)), values, True)
            assert check(scenario, _result(scenario, pairs, guided)) == [], (seed, options)
            assert guided.sum() > 0.5 * len(a.req_days)


def _improve_with(pairs, a, links, start, offer, seconds=20.0):
    asked = []

    def guide(now):
        asked.append(now.copy())
        return offer if len(asked) == 2 else None  # offered at the second window, as if it came late

    out, info = windows.improve(
        pairs, a, np.arange(len(pairs)), start, links, time.perf_counter() + seconds, size=10, guide=guide
    )
    return out, info, asked


def test_the_window_search_starts_again_from_a_better_answer_it_is_offered():
    scenario, a, pairs, links = _case()
    nothing = np.zeros(len(pairs), dtype=bool)
    optimum = _answer(pairs, allocate(scenario, time_limit_s=60).chosen)
    gaps = []
    real = windows._WindowModel.solve

    def solve(self, time_limit, gap=windows.WINDOW_GAP):
        gaps.append(gap)
        return real(self, time_limit, gap)

    with mock.patch.object(windows._WindowModel, "solve", solve):
        out, info, asked = _improve_with(pairs, a, links, nothing, optimum)
    # One window before the offer (at the second window) to the usual gap; every one after to the finer.
    assert gaps[0] == windows.WINDOW_GAP
    assert len(gaps) > 2 and set(gaps[1:]) == {windows.GUIDED_WINDOW_GAP}
    assert info["guided"]["taken"] == 1.0
    assert info["guided"]["offered"] == float(pairs.weight[optimum].sum())
    assert len(asked) == 2  # asked until it offered, then never again
    assert pairs.weight[out].sum() >= pairs.weight[optimum].sum() - 1e-9
    assert check(scenario, _result(scenario, pairs, out)) == []


def test_the_window_search_keeps_its_answer_when_the_offer_breaks_a_rule_or_is_worth_less():
    scenario, a, pairs, links = _case()
    start = _answer(pairs, greedy_choice(pairs, a, np.arange(len(pairs)), True, links))
    everything = np.ones(len(pairs), dtype=bool)  # worth more, but breaks every capacity
    out, info, _ = _improve_with(pairs, a, links, start, everything)
    assert "taken" not in info["guided"]
    assert check(scenario, _result(scenario, pairs, out)) == []
    nothing = np.zeros(len(pairs), dtype=bool)
    out, info, _ = _improve_with(pairs, a, links, start, nothing)
    assert "taken" not in info["guided"] and info["guided"]["offered"] == 0.0
    assert pairs.weight[out].sum() >= pairs.weight[start].sum()


def test_a_national_run_starts_its_window_search_again_from_the_lp_child_values():
    """End to end: the child's first solve reaches the run, and the run says what it did with it."""
    scenario, *_ = _case()
    real = windows.improve
    offered = {}

    def patient(pairs, a, idx, start, links, deadline, *, requests=None, guide=None, size=None):
        # On an instance this small the window search could end before the child has started its
        # interpreter; wait for the child's values so that the path is taken every time.
        until = time.perf_counter() + 60
        while "start" not in offered and time.perf_counter() < until:
            got = guide(start)
            if got is not None:
                offered["start"] = got
            time.sleep(0.02)
        assert "start" in offered, "the LP child's values never came"
        once = [offered["start"]]

        def again(now):
            return once.pop() if once else None

        return real(pairs, a, idx, start, links, deadline, requests=requests, size=size, guide=again)

    with (
        mock.patch.multiple(allocate_module, BACKGROUND_LP_MIN_COLUMNS=-1, MIP_MAX_PAIRS=0),
        mock.patch.object(windows, "improve", patient),
    ):
        sol = allocate(scenario, time_limit_s=60, candidates=4)
    result = to_result(scenario, sol)
    assert check(scenario, result) == []
    notes = [n for n in sol.notes if "a greedy pass ordered by the values of the LP solved beside the run" in n]
    assert len(notes) == 1, sol.notes
    assert check(scenario, _result(scenario, sol.pairs, offered["start"])) == []
