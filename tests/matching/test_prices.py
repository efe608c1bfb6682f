"""Supporters' day prices (matching/prices.py): a valid bound and a better first answer for big runs."""

import time
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from matching_factories import request, scenario_doc, supporter
from test_properties import _brute_force, tiny_scenarios

from matching import allocate as allocate_module
from matching import check, load_scenario, prices
from matching.allocate import allocate, greedy, greedy_choice, to_result


def _pairs(scenario):
    return allocate_module._pairs_and_links(scenario, None)


def _contested():
    """A is everyone's first choice but has room for one request; R1 has a near-equal second choice."""
    return load_scenario(
        scenario_doc(
            supporters=[supporter("A", cap=4), supporter("B", cap=4)],
            requests=[request("R1", "S1", 4), request("R2", "S2", 4)],
            scores={("R1", "A"): 0.9, ("R1", "B"): 0.85, ("R2", "A"): 0.8},
        )
    )


def test_prices_move_the_contested_supporter_to_the_request_with_no_other_choice():
    scenario = _contested()
    a, pairs, links = _pairs(scenario)
    every = np.arange(len(pairs))
    by_weight = greedy_choice(pairs, a, every, True, links)
    # by weight alone R1 takes A (3.6) and R2 is left with nothing
    assert pairs.weight[by_weight].sum() == 3.6
    found = prices.find_prices(pairs, a, 3.6, time.perf_counter() + 10)
    priced = greedy_choice(pairs, a, every, True, links, prices.priced_weight(pairs, a, found))
    assert round(float(pairs.weight[priced].sum()), 9) == 6.6  # R1 with B (3.4), R2 with A (3.2)
    # and the bound closes on the optimum
    assert 6.6 - 1e-9 <= found.bound <= 6.6 + 0.05


def test_with_room_for_everyone_the_first_round_is_the_optimum():
    doc_caps = scenario_doc(
        supporters=[supporter("A", cap=8), supporter("B", cap=4)],
        requests=[request("R1", "S1", 4), request("R2", "S2", 4)],
        scores={("R1", "A"): 0.9, ("R1", "B"): 0.85, ("R2", "A"): 0.8},
    )
    scenario = load_scenario(doc_caps)
    a, pairs, _ = _pairs(scenario)
    found = prices.find_prices(pairs, a, 0.0, time.perf_counter() + 10)
    assert found.rounds == 1
    assert round(found.bound, 9) == 6.8
    assert not found.price.any()


def test_pinned_pairs_are_counted_and_taken_whatever_their_price():
    doc = scenario_doc(
        supporters=[supporter("A", cap=4), supporter("B", cap=4)],
        requests=[request("R1", "S1", 4), request("R2", "S2", 4)],
        scores={("R1", "A"): 0.9, ("R1", "B"): 0.85, ("R2", "A"): 0.8},
        pins=[{"request_id": "R2", "supporter_id": "B"}],
    )
    doc["scores"].append({"request_id": "R2", "supporter_id": "B", "score": 0.1})
    scenario = load_scenario(doc)
    a, pairs, _ = _pairs(scenario)
    found = prices.find_prices(pairs, a, 0.0, time.perf_counter() + 10)
    # R2 is pinned to B (0.4); R1 can then only have A (3.6): 4.0 is the optimum and the bound
    assert 4.0 - 1e-9 <= found.bound <= 4.0 + 0.05


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_scenarios())
def test_the_price_bound_never_falls_below_the_optimum(doc):
    scenario = load_scenario(doc)
    a, pairs, _ = _pairs(scenario)
    best = _brute_force(scenario)
    for rounds in (1, 5, 200):
        for budgets in (False, True):
            found = prices.find_prices(pairs, a, 0.0, time.perf_counter() + 10, rounds=rounds, budgets=budgets)
            assert found.bound >= best[0] - 1e-6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_scenarios())
def test_runs_too_big_for_the_lp_use_prices_and_stay_valid_and_honest(doc):
    scenario = load_scenario(doc)
    with mock.patch.object(allocate_module, "LP_MAX_COLUMNS", -1):
        sol = allocate(scenario, candidates=2)
    result = to_result(scenario, sol)
    assert check(scenario, result) == []
    assert any("supporters' and schools' prices" in n for n in sol.notes)
    assert result["bound"] >= _brute_force(scenario)[0] - 1e-6
    assert result["objective"] >= greedy(scenario)["objective"] - 1e-6


def test_a_big_run_starts_from_the_priced_greedy_when_it_is_better():
    scenario = _contested()
    with (
        mock.patch.object(allocate_module, "LP_MAX_COLUMNS", -1),
        mock.patch.object(allocate_module, "MIP_MAX_PAIRS", 0),
        mock.patch.object(allocate_module.windows, "improve", side_effect=lambda *a, **k: (a[3], {"windows": 0})),
    ):
        sol = allocate(scenario, candidates=2)
    # no model and no window search ran: the answer is the priced greedy pass
    assert round(float(sol.pairs.weight[sol.chosen].sum()), 9) == 6.6
    assert any("priced weight gave 6.60 against 3.60" in n for n in sol.notes)


def test_a_school_budget_priced_leaves_its_dear_supporter_to_the_request_with_no_free_one():
    doc = scenario_doc(
        schools=[{"id": "S1", "need": 1, "budget": 400.0}, {"id": "S2", "need": 1}],
        supporters=[supporter("A", cap=8, rate=100.0, school="S2"), supporter("B", cap=8, school="S2")],
        requests=[request("R1", "S1", 4), request("R2", "S1", 4)],
        scores={("R1", "A"): 0.9, ("R1", "B"): 0.85, ("R2", "A"): 0.8},
    )
    scenario = load_scenario(doc)
    a, pairs, links = _pairs(scenario)
    every = np.arange(len(pairs))
    # by weight R1 spends the whole budget on A (3.6) and R2 gets nothing
    assert pairs.weight[greedy_choice(pairs, a, every, True, links)].sum() == 3.6
    days_only = prices.find_prices(pairs, a, 3.6, time.perf_counter() + 10)
    assert round(days_only.bound, 9) == 6.8  # no supporter is short of days: nothing to price
    found = prices.find_prices(pairs, a, 3.6, time.perf_counter() + 10, budgets=True)
    priced = greedy_choice(pairs, a, every, True, links, prices.priced_weight(pairs, a, found))
    assert round(float(pairs.weight[priced].sum()), 9) == 6.6
    assert 6.6 - 1e-9 <= found.bound <= 6.6 + 0.05
