"""Command line and input validation: one clear line on stderr, non-zero exit, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching import ScenarioError, load_scenario

HERE = Path(__file__).parent


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def _write(tmp_path, doc, name="scenario.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_solve_writes_the_result_format(tmp_path):
    out = tmp_path / "result.json"
    proc = _run("solve", str(HERE / "example-scenario.json"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["format"] == "school-support-result/1"
    assert set(result) == {
        "format",
        "status",
        "objective",
        "bound",
        "gap",
        "allocations",
        "unmet",
        "timings_s",
    }


def test_solve_can_write_the_ranking_too_and_it_is_the_one_rank_gives(tmp_path):
    scenario = str(HERE / "example-scenario.json")
    out, ranked = tmp_path / "result.json", tmp_path / "ranking.json"
    proc = _run("solve", scenario, "-o", str(out), "--rank-top", "2", "--rank-output", str(ranked))
    assert proc.returncode == 0, proc.stderr
    alone = _run("rank", scenario, "--top", "2")
    assert json.loads(out.read_text())["format"] == "school-support-result/1"
    assert ranked.read_text() == alone.stdout


def test_solve_prints_the_result_and_nothing_else_on_stdout(tmp_path):
    # HiGHS prints a banner to file descriptor 1 when its first solver object is made: it must not land
    # in front of the JSON a caller reads from stdout (this scenario needs a model, so HiGHS runs)
    scenario = tmp_path / "s.json"
    made = _run("synth", "--schools", "5", "--supporters", "20", "--requests", "10", "--seed", "3", "-o", str(scenario))
    assert made.returncode == 0, made.stderr
    proc = _run("solve", str(scenario))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{")
    assert json.loads(proc.stdout)["format"] == "school-support-result/1"


def test_rank_prints_the_ranking_format():
    proc = _run("rank", str(HERE / "example-scenario.json"), "--top", "2")
    assert proc.returncode == 0, proc.stderr
    ranking = json.loads(proc.stdout)
    assert ranking["format"] == "school-support-ranking/1"
    assert all(len(r["candidates"]) <= 2 for r in ranking["rankings"])


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["requests"][2].__setitem__("days", 0), "requests[2].days: must be greater than 0"),
        (
            lambda d: d["requests"][0].__setitem__("school_id", "S9"),
            "requests[0].school_id: unknown school 'S9'",
        ),
        (lambda d: d["supporters"].append(dict(d["supporters"][0])), "supporters[4].id: duplicate id 'P1'"),
        (
            lambda d: d.__setitem__("pins", [{"request_id": "R1", "supporter_id": "P9"}]),
            "pins[0].supporter_id: unknown supporter 'P9'",
        ),
        (lambda d: d["schools"][0].pop("need"), "schools[0]: missing required field 'need'"),
        (lambda d: d["supporters"][1].__setitem__("kind", "wizard"), "supporters[1].kind: must be one of"),
        (
            lambda d: d.__setitem__("pins", [{"request_id": "R3", "supporter_id": "P2"}]),
            "pin R3->P2 breaks rule 2: P2 works at S3, the requesting school",
        ),
    ],
)
def test_bad_input_gives_one_clear_line_and_non_zero_exit(tmp_path, mutate, expected):
    doc = json.loads((HERE / "example-scenario.json").read_text())
    mutate(doc)
    proc = _run("solve", _write(tmp_path, doc))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr


def test_not_json_is_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{nope")
    proc = _run("solve", str(path))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "not valid JSON" in proc.stderr


def test_unknown_fields_are_ignored_with_a_note(tmp_path):
    doc = json.loads((HERE / "example-scenario.json").read_text())
    doc["schools"][0]["urn"] = "123456"
    doc["trust"] = "Fell Trust"
    proc = _run("solve", _write(tmp_path, doc))
    assert proc.returncode == 0
    assert "note: ignoring unknown field schools[].urn" in proc.stderr
    assert "note: ignoring unknown field trust" in proc.stderr


def test_synth_is_seeded_and_valid(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        proc = _run(
            "synth",
            "--schools",
            "8",
            "--supporters",
            "30",
            "--requests",
            "20",
            "--seed",
            "4",
            "-o",
            str(path),
        )
        assert proc.returncode == 0, proc.stderr
    assert a.read_text() == b.read_text()
    scenario = load_scenario(str(a))
    assert len(scenario.requests) == 20
    kinds = {p.kind for p in scenario.supporters}
    assert "external" in kinds or "trust_central" in kinds


def test_load_scenario_raises_scenario_error_naming_the_field(example_doc):
    example_doc["rules"]["min_score"] = 2
    with pytest.raises(ScenarioError, match=r"rules.min_score: must be at most 1"):
        load_scenario(example_doc)


def test_importing_matching_pulls_in_no_web_framework():
    code = (
        "import sys, matching, matching.allocate, matching.bench, matching.synth; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'app', 'forms', 'wtforms') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
