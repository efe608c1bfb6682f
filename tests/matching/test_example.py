"""The shared example scenario: R3 unmet (rule 2), R2 to the free trust SENCo (rule 8)."""

from matching import check, load_scenario, rank, solve


def test_example_answer(example):
    result = solve(example)
    assert result["format"] == "school-support-result/1"
    assert result["status"] == "optimal"
    got = {a["request_id"]: a["supporter_id"] for a in result["allocations"]}
    assert got == {"R1": "P1", "R2": "P4"}
    assert [u["request_id"] for u in result["unmet"]] == ["R3"]
    assert check(example, result) == []
    assert set(result["timings_s"]) == {"similarity", "model", "solve", "total"}


def test_example_with_scores_prefers_internal_even_when_external_is_more_relevant(example_doc):
    # The consultant is the better text match, but the trust SENCo is internal and free (rule 8).
    example_doc["scores"] = [
        {"request_id": "R1", "supporter_id": "P1", "score": 0.8},
        {"request_id": "R2", "supporter_id": "P3", "score": 0.9},
        {"request_id": "R2", "supporter_id": "P4", "score": 0.5},
        {"request_id": "R3", "supporter_id": "P2", "score": 0.9},
    ]
    scenario = load_scenario(example_doc)
    result = solve(scenario)
    got = {a["request_id"]: a["supporter_id"] for a in result["allocations"]}
    assert got == {"R1": "P1", "R2": "P4"}
    assert result["objective"] == 4 * 4 * 0.8 + 3 * 4 * 0.5
    assert check(scenario, result) == []


def test_example_without_internal_first_takes_the_consultant(example_doc):
    example_doc["scores"] = [
        {"request_id": "R2", "supporter_id": "P3", "score": 0.9},
        {"request_id": "R2", "supporter_id": "P4", "score": 0.5},
    ]
    example_doc["rules"]["internal_first"] = False
    example_doc["schools"][0]["budget"] = None
    result = solve(load_scenario(example_doc))
    assert {a["request_id"]: a["supporter_id"] for a in result["allocations"]} == {"R2": "P3"}


def test_rank_lists_rule_passing_candidates_best_first(example):
    ranking = rank(example, top=5)
    assert ranking["format"] == "school-support-ranking/1"
    by_req = {r["request_id"]: r["candidates"] for r in ranking["rankings"]}
    assert [c["supporter_id"] for c in by_req["R2"]][0] == "P4"
    assert all(c["supporter_id"] != "P2" for c in by_req["R3"])  # P2 works at S3 (rule 2)
    scores = [c["score"] for c in by_req["R2"]]
    assert scores == sorted(scores, reverse=True)
