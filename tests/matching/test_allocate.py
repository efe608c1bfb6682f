"""Allocator on tiny hand-checkable cases with relevance held fixed through `scores`."""

import pytest
from matching_factories import request, scenario_doc, supporter

from matching import ScenarioError, check, load_scenario, solve
from matching.allocate import allocate, to_result


def _solve(doc, **kwargs):
    scenario = load_scenario(doc)
    result = solve(scenario, **kwargs)
    assert check(scenario, result) == []
    return result


def _pairs(result):
    return {a["request_id"]: a["supporter_id"] for a in result["allocations"]}


def test_capacity_forces_the_higher_need_school_first():
    doc = scenario_doc(
        schools=[{"id": "S1", "need": 1}, {"id": "S2", "need": 3}, {"id": "S3", "need": 1}],
        supporters=[supporter("P1", school="S3", cap=4)],
        requests=[request("R1", "S1", 4), request("R2", "S2", 4)],
        scores={("R1", "P1"): 0.9, ("R2", "P1"): 0.5},
    )
    result = _solve(doc)
    # R1: 4 * 1 * 0.9 = 3.6; R2: 4 * 4 * 0.5 = 8.0.
    assert _pairs(result) == {"R2": "P1"}
    assert result["objective"] == pytest.approx(8.0)
    assert result["status"] == "optimal"


def test_relevance_beats_any_cost_and_cost_beats_travel():
    # P1 is 0.001 more relevant but costs 9,000 more: relevance must win (objective order 1 before 2).
    doc = scenario_doc(
        schools=[
            {"id": "S1", "need": 1, "lat": 54.0, "lon": -3.0},
            {"id": "S2", "need": 1, "lat": 54.0, "lon": -3.0},
            {"id": "S3", "need": 1, "lat": 54.3, "lon": -3.0},
        ],
        supporters=[
            supporter("P1", school="S2", cap=10, rate=3000.0),
            supporter("P2", school="S2", cap=10, rate=0.0),
            supporter("P3", school="S3", cap=10, rate=0.0),
        ],
        requests=[request("R1", "S1", 3), request("R2", "S1", 3)],
        scores={("R1", "P1"): 0.501, ("R1", "P2"): 0.5, ("R2", "P2"): 0.4, ("R2", "P3"): 0.4},
    )
    result = _solve(doc)
    got = _pairs(result)
    assert got["R1"] == "P1"
    # R2: equal relevance and cost, P2 is 0 km away and P3 about 33 km: travel breaks the tie.
    assert got["R2"] == "P2"


def test_cost_breaks_relevance_ties():
    doc = scenario_doc(
        supporters=[
            supporter("P1", cap=5, rate=400.0, kind="trust_central"),
            supporter("P2", cap=5, rate=100.0, kind="trust_central"),
        ],
        requests=[request("R1", "S1", 2)],
        scores={("R1", "P1"): 0.6, ("R1", "P2"): 0.6},
    )
    assert _pairs(_solve(doc)) == {"R1": "P2"}


def test_budget_is_never_exceeded():
    doc = scenario_doc(
        schools=[{"id": "S1", "need": 2, "budget": 1000.0}, {"id": "S2", "need": 1}],
        supporters=[supporter("P1", school="S2", cap=20, rate=250.0)],
        requests=[request("R1", "S1", 3), request("R2", "S1", 2), request("R3", "S1", 2)],
        scores={("R1", "P1"): 0.9, ("R2", "P1"): 0.8, ("R3", "P1"): 0.8},
    )
    result = _solve(doc)
    assert sum(a["cost"] for a in result["allocations"]) <= 1000.0
    # Best within 1,000 (4 days): R2 + R3 = 2*0.8 + 2*0.8 = 3.2 beats R1 alone = 2.7.
    assert set(_pairs(result)) == {"R2", "R3"}


def test_internal_first_blocks_the_external_while_the_internal_has_room():
    doc = scenario_doc(
        supporters=[
            supporter("P1", cap=3, kind="trust_central"),
            supporter("X1", cap=10, rate=600.0, kind="external"),
        ],
        requests=[request("R1", "S1", 3), request("R2", "S1", 3)],
        scores={("R1", "P1"): 0.2, ("R1", "X1"): 0.9, ("R2", "P1"): 0.2, ("R2", "X1"): 0.9},
    )
    result = _solve(doc)
    # P1 can take one request; once it is full the consultant may take the other.
    got = _pairs(result)
    assert sorted(got.values()) == ["P1", "X1"]


def test_internal_first_with_an_idle_internal_leaves_the_request_to_it():
    doc = scenario_doc(
        supporters=[
            supporter("P1", cap=5, kind="trust_central"),
            supporter("X1", cap=10, rate=600.0, kind="external"),
        ],
        requests=[request("R1", "S1", 3)],
        scores={("R1", "P1"): 0.05, ("R1", "X1"): 0.9},
    )
    assert _pairs(_solve(doc)) == {"R1": "P1"}


def test_min_score_and_own_school_and_phase_and_travel():
    doc = scenario_doc(
        schools=[
            {"id": "S1", "need": 1, "lat": 54.0, "lon": -3.0},
            {"id": "S2", "need": 1, "lat": 54.0, "lon": -3.1},
            {"id": "S3", "need": 1, "lat": 51.5, "lon": -0.1},
        ],
        supporters=[
            supporter("P1", school="S1"),  # own school
            supporter("P2", school="S2", phases=["secondary"]),  # wrong phase
            supporter("P3", school="S3"),  # London: too far
            supporter("P4", school="S2", phases=["all-through"]),
        ],  # fine, but below min_score
        requests=[request("R1", "S1", 2, phase="primary")],
        scores={("R1", "P1"): 0.9, ("R1", "P2"): 0.9, ("R1", "P3"): 0.9, ("R1", "P4"): 0.1},
        rules={"min_score": 0.2, "max_travel_km": 60},
    )
    result = _solve(doc)
    assert result["allocations"] == []
    assert [u["request_id"] for u in result["unmet"]] == ["R1"]
    doc["rules"]["min_score"] = 0.05
    assert _pairs(_solve(doc)) == {"R1": "P4"}


def test_bans_are_honoured():
    doc = scenario_doc(
        supporters=[supporter("P1", kind="trust_central"), supporter("P2", kind="trust_central")],
        requests=[request("R1", "S1", 2)],
        scores={("R1", "P1"): 0.9, ("R1", "P2"): 0.3},
        bans=[{"request_id": "R1", "supporter_id": "P1"}],
    )
    assert _pairs(_solve(doc)) == {"R1": "P2"}


def test_pins_are_honoured_even_below_min_score():
    doc = scenario_doc(
        supporters=[supporter("P1", kind="trust_central"), supporter("P2", kind="trust_central")],
        requests=[request("R1", "S1", 2)],
        scores={("R1", "P1"): 0.9, ("R1", "P2"): 0.01},
        pins=[{"request_id": "R1", "supporter_id": "P2"}],
        rules={"min_score": 0.5},
    )
    result = _solve(doc)
    assert _pairs(result) == {"R1": "P2"}
    assert "pinned by the CEO" in result["allocations"][0]["why"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"supporter_school": "S1"}, "pin R1->P1 breaks rule 2: P1 works at S1, the requesting school"),
        ({"phases": ["secondary"]}, "pin R1->P1 breaks rule 3"),
        ({"cap": 1}, "pin R1->P1 breaks rule 1"),
        ({"rate": 900.0}, "pin R1->P1 breaks rule 4"),
        ({"far": True}, "pin R1->P1 breaks rule 5"),
    ],
)
def test_pin_that_breaks_a_rule_fails_naming_it(change, message):
    schools = [
        {"id": "S1", "need": 1, "budget": 1000.0, "lat": 54.0, "lon": -3.0},
        {"id": "S2", "need": 1, "lat": 51.5 if change.get("far") else 54.1, "lon": -3.0},
    ]
    doc = scenario_doc(
        schools=schools,
        supporters=[
            supporter(
                "P1",
                school=change.get("supporter_school", "S2"),
                cap=change.get("cap", 10),
                rate=change.get("rate", 100.0),
                phases=change.get("phases", ["primary"]),
            )
        ],
        requests=[request("R1", "S1", 2, phase="primary")],
        scores={("R1", "P1"): 0.5},
        pins=[{"request_id": "R1", "supporter_id": "P1"}],
        rules={"max_travel_km": 60},
    )
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        solve(load_scenario(doc))


def test_same_input_same_answer(example):
    first, second = solve(example), solve(example)
    for r in (first, second):
        r.pop("timings_s")
    assert first == second


def test_status_is_never_optimal_after_a_time_limit_cut():
    from matching.synth import synthesise

    scenario = load_scenario(synthesise(schools=20, supporters=150, requests=120, seed=3))
    sol = allocate(scenario, time_limit_s=0.05)
    result = to_result(scenario, sol)
    assert result["status"] == "feasible"
    assert result["bound"] >= result["objective"]
    assert check(scenario, result) == []


def test_cbc_fallback_gives_the_same_optimum():
    doc = scenario_doc(
        schools=[{"id": "S1", "need": 2, "budget": 1000.0}, {"id": "S2", "need": 1}],
        supporters=[
            supporter("P1", school="S2", cap=4, rate=250.0),
            supporter("P2", cap=3, kind="trust_central"),
        ],
        requests=[request("R1", "S1", 3), request("R2", "S1", 2), request("R3", "S2", 2)],
        scores={("R1", "P1"): 0.9, ("R2", "P1"): 0.8, ("R3", "P2"): 0.8, ("R1", "P2"): 0.4},
    )
    scenario = load_scenario(doc)
    highs, cbc = solve(scenario, solver="highs"), solve(scenario, solver="cbc")
    assert highs["objective"] == pytest.approx(cbc["objective"])
    assert cbc["status"] == "optimal"


def test_cost_breaks_a_relevance_tie_in_the_one_objective_stage():
    # Equal relevance everywhere; both requests fit only as R1 -> P1 or P3 and R2 -> the other, or P2.
    doc = scenario_doc(
        schools=[{"id": "S1", "need": 2}, {"id": "S2", "need": 2}, {"id": "S9", "need": 1}],
        supporters=[
            supporter("P1", school="S9", cap=2, rate=0.0),
            supporter("P2", school="S9", cap=4, rate=500.0),
            supporter("P3", school="S9", cap=2, rate=100.0),
        ],
        requests=[request("R1", "S1", 2), request("R2", "S2", 2)],
        scores={(r, p): 0.5 for r in ("R1", "R2") for p in ("P1", "P2", "P3")},
    )
    result = _solve(doc)
    assert result["status"] == "optimal"
    assert set(_pairs(result).values()) == {"P1", "P3"}
    assert sum(a["cost"] for a in result["allocations"]) == pytest.approx(200.0)


def test_tier_grid_needs_a_cost_unit():
    from types import SimpleNamespace

    import numpy as np

    from matching.allocate import _TierGrid

    def model(costs):
        c = np.array(costs)
        return SimpleNamespace(
            w=np.array([1.5, 2.25]),
            c=c,
            t=np.zeros(2),
            cost_span=c.sum(),
            travel_span=0.0,
            relevance_span=3.75,
        )

    grid = _TierGrid.of(model([150.0, 300.0]))
    assert grid is not None and list(grid.c_units) == [3.0, 6.0] and grid.c_span == 10.0
    assert list(grid.w_units) == [15000.0, 22500.0]
    assert _TierGrid.of(model([0.003, 1.0])) is None
