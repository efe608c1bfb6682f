"""Fixtures for matcher tests (builders live in matching_factories.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching import load_scenario

HERE = Path(__file__).parent


@pytest.fixture
def example_doc() -> dict:
    return json.loads((HERE / "example-scenario.json").read_text())


@pytest.fixture
def example(example_doc):
    return load_scenario(example_doc)
