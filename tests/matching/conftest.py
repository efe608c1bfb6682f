"""Fixtures and builders for matcher tests: tiny hand-checkable scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching import load_scenario

HERE = Path(__file__).parent


def scenario_doc(
    *, schools=None, supporters=None, requests=None, scores=None, rules=None, pins=None, bans=None
) -> dict:
    """A school-support-scenario/1 document with sensible defaults, for building tiny cases."""
    doc = {
        "format": "school-support-scenario/1",
        "schools": schools or [{"id": "S1", "need": 1}, {"id": "S2", "need": 1}],
        "supporters": supporters or [],
        "requests": requests or [],
        "pins": pins or [],
        "bans": bans or [],
        "rules": {"min_score": 0.0, "internal_first": True, "time_limit_s": 20, **(rules or {})},
    }
    if scores is not None:
        doc["scores"] = [{"request_id": r, "supporter_id": s, "score": v} for (r, s), v in scores.items()]
    return doc


def supporter(sid, *, school=None, cap=10, rate=0.0, kind="sle", phases=None, text="support") -> dict:
    doc = {
        "id": sid,
        "school_id": school,
        "kind": kind,
        "expertise": text,
        "capacity_days": cap,
        "day_rate": rate,
    }
    if phases is not None:
        doc["phases"] = phases
    return doc


def request(rid, school, days, *, phase=None, text="help") -> dict:
    doc = {"id": rid, "school_id": school, "text": text, "days": days}
    if phase is not None:
        doc["phase"] = phase
    return doc


@pytest.fixture
def example_doc() -> dict:
    return json.loads((HERE / "example-scenario.json").read_text())


@pytest.fixture
def example(example_doc):
    return load_scenario(example_doc)
