"""Property tests: every answer keeps the eight hard rules, and matches brute force on tiny cases."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import check, load_scenario, solve
from matching.checker import _km

PHASES = [None, "primary", "secondary", "all-through"]


@st.composite
def tiny_scenarios(draw):
    n_schools = draw(st.integers(2, 3))
    schools = []
    for i in range(n_schools):
        school = {"id": f"S{i + 1}", "need": draw(st.integers(1, 4))}
        if draw(st.booleans()):
            school["budget"] = float(draw(st.sampled_from([0, 300, 800, 2000])))
        if draw(st.booleans()):
            school["lat"] = 54.0 + draw(st.sampled_from([0.0, 0.3, 0.7]))
            school["lon"] = -3.0
        schools.append(school)
    supporters = []
    for j in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["sle", "trust_central", "external"]))
        school_id = draw(st.sampled_from([s["id"] for s in schools])) if kind == "sle" else None
        p = {
            "id": f"P{j + 1}",
            "school_id": school_id,
            "kind": kind,
            "expertise": "x",
            "capacity_days": draw(st.integers(1, 6)),
            "day_rate": float(draw(st.sampled_from([0, 100, 500]))),
        }
        phase = draw(st.sampled_from(PHASES))
        if phase:
            p["phases"] = [phase]
        supporters.append(p)
    requests = []
    for k in range(draw(st.integers(1, 4))):
        r = {
            "id": f"R{k + 1}",
            "school_id": draw(st.sampled_from([s["id"] for s in schools])),
            "text": "y",
            "days": draw(st.integers(1, 4)),
        }
        phase = draw(st.sampled_from(PHASES))
        if phase:
            r["phase"] = phase
        requests.append(r)
    scores = [
        {
            "request_id": r["id"],
            "supporter_id": p["id"],
            "score": draw(st.sampled_from([0.0, 0.1, 0.35, 0.6, 0.9])),
        }
        for r in requests
        for p in supporters
        if draw(st.booleans())
    ]
    rules = {
        "max_travel_km": draw(st.sampled_from([None, 40])),
        "min_score": draw(st.sampled_from([0.0, 0.3])),
        "internal_first": draw(st.booleans()),
        "time_limit_s": 10,
    }
    return {
        "format": "school-support-scenario/1",
        "schools": schools,
        "supporters": supporters,
        "requests": requests,
        "scores": scores,
        "rules": rules,
    }


def _key(scenario, allocations):
    """(objective 1, -cost, -travel) of a set of (request, supporter) pairs."""
    schools = {s.id: s for s in scenario.schools}
    reqs = {r.id: r for r in scenario.requests}
    sups = {p.id: p for p in scenario.supporters}
    rel = {(r, s): v for r, s, v in scenario.scores}
    w = cost = travel = 0.0
    for rid, sid in allocations:
        req, sup = reqs[rid], sups[sid]
        w += req.days * scenario.rules.need_weight(schools[req.school_id].need) * rel.get((rid, sid), 0.0)
        cost += req.days * sup.day_rate
        km = _km(schools[req.school_id], schools.get(sup.school_id) if sup.school_id else None)
        travel += km or 0.0
    return w, cost, travel


def _brute_force(scenario):
    options = [[None] + [p.id for p in scenario.supporters] for _ in scenario.requests]
    best = None
    for choice in itertools.product(*options):
        allocs = [(r.id, s) for r, s in zip(scenario.requests, choice, strict=True) if s is not None]
        result = {
            "allocations": [
                {
                    "request_id": r,
                    "supporter_id": s,
                    "days": next(q.days for q in scenario.requests if q.id == r),
                }
                for r, s in allocs
            ]
        }
        if check(scenario, result):
            continue
        key = _key(scenario, allocs)
        if best is None or _better(key, best):
            best = key
    return best


def _better(a, b):
    if not math.isclose(a[0], b[0], abs_tol=1e-9):
        return a[0] > b[0]
    if not math.isclose(a[1], b[1], abs_tol=1e-9):
        return a[1] < b[1]
    return a[2] < b[2] - 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_scenarios())
def test_every_answer_keeps_the_hard_rules_and_is_lexicographically_optimal(doc):
    scenario = load_scenario(doc)
    result = solve(scenario)
    assert check(scenario, result) == []
    assert result["status"] == "optimal"
    got = _key(scenario, [(a["request_id"], a["supporter_id"]) for a in result["allocations"]])
    best = _brute_force(scenario)
    assert math.isclose(got[0], best[0], rel_tol=1e-6, abs_tol=1e-9)
    assert math.isclose(got[1], best[1], rel_tol=1e-6, abs_tol=1e-6)
    assert math.isclose(got[2], best[2], rel_tol=1e-5, abs_tol=1e-3)
    assert result["bound"] >= result["objective"] - 1e-6


@settings(max_examples=25, deadline=None)
@given(tiny_scenarios(), st.integers(0, 3))
def test_bans_are_never_allocated(doc, which):
    doc["bans"] = [
        {"request_id": r["id"], "supporter_id": p["id"]} for r in doc["requests"] for p in doc["supporters"]
    ][which::2]
    scenario = load_scenario(doc)
    result = solve(scenario)
    banned = {(b["request_id"], b["supporter_id"]) for b in doc["bans"]}
    assert not banned & {(a["request_id"], a["supporter_id"]) for a in result["allocations"]}
    assert check(scenario, result) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_scenarios(), st.integers(1, 2))
def test_pruned_pairs_keep_an_honest_bound(doc, k):
    from matching.allocate import allocate, to_result

    scenario = load_scenario(doc)
    result = to_result(scenario, allocate(scenario, candidates=k))
    assert check(scenario, result) == []
    best = _brute_force(scenario)
    # The bound must hold for the full problem, not just for the pairs the model kept.
    assert result["bound"] >= best[0] - 1e-6
    if result["status"] == "optimal":
        assert math.isclose(result["objective"], best[0], rel_tol=1e-6, abs_tol=1e-9)


def test_big_run_bound_covers_every_pair_on_a_synthetic_trust():
    """The pruned path (LP over all pairs, fewer rule-8 rows, restricted models) against the exact model."""
    from matching.allocate import allocate
    from matching.synth import synthesise

    # The scenario must be one where keeping one pair per request loses value, so that the bound has to
    # come from the LP. Which seed gives one depends on relevance (seed 1 did until the meaning block was
    # re-tuned in December 2026; then seeds 2, 6 and 7 of 1-8 did), so the test takes the first such seed.
    for seed in range(1, 13):
        scenario = load_scenario(synthesise(schools=8, supporters=40, requests=30, seed=seed))
        exact = allocate(scenario, time_limit_s=60)
        assert exact.status == "optimal"
        optimum = float(exact.pairs.weight[exact.chosen].sum())
        one_each = to_result_checked(scenario, allocate(scenario, candidates=1, time_limit_s=60))
        assert one_each["bound"] >= optimum - 1e-6
        assert one_each["objective"] <= optimum + 1e-6
        if one_each["objective"] < optimum - 1:
            break
    else:
        pytest.fail("no seed in 1-12 where one pair per request loses value: the test needs a new search range")
    for k in (2, 4):
        result = to_result_checked(scenario, allocate(scenario, candidates=k, time_limit_s=60))
        assert result["bound"] >= optimum - 1e-6
        assert result["objective"] <= optimum + 1e-6


def to_result_checked(scenario, sol):
    from matching.allocate import to_result

    result = to_result(scenario, sol)
    assert check(scenario, result) == []
    return result


def test_a_run_out_of_time_keeps_greedy_answers_and_stays_valid():
    from matching.allocate import allocate
    from matching.synth import synthesise

    scenario = load_scenario(synthesise(schools=8, supporters=40, requests=30, seed=9))
    sol = allocate(scenario, time_limit_s=1e-6)
    result = to_result_checked(scenario, sol)
    assert result["status"] == "feasible"
    assert result["allocations"]
    assert any("greedy answer without a model" in n for n in sol.notes)
