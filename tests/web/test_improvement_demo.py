"""Demo school improvement data: realistic, complete, idempotent, and switchable between the five schemes."""

import pytest

from app.extensions import db
from app.models import (
    ImprovementPriority,
    RequestStatus,
    School,
    SchoolAudit,
    SchoolCategorisation,
    SupportRequest,
    Visit,
)
from app.services import categories, visits

MODELS = (SchoolAudit, SchoolCategorisation, ImprovementPriority, SupportRequest, Visit)


def _counts(app):
    with app.app_context():
        return {m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m)) for m in MODELS}


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return runner


def test_every_demo_school_is_categorised_with_priorities(app, demo):
    with app.app_context():
        schools = list(db.session.scalars(db.select(School)))
        current = categories.current_categorisations()
        assert {s.id for s in schools} == set(current)
        assert len({c.category.need_level for c in current.values()}) == 3  # every category in use
        for school in schools:
            count = db.session.scalar(db.select(db.func.count()).select_from(ImprovementPriority)
                                      .where(ImprovementPriority.school_id == school.id))
            assert 2 <= count <= 3, school.name
        statuses = set(db.session.scalars(db.select(SupportRequest.status)))
        assert statuses == set(RequestStatus)
        returned = db.session.scalar(db.select(SupportRequest).where(SupportRequest.status == RequestStatus.DRAFT,
                                                                     SupportRequest.executive_note.is_not(None)))
        assert returned is not None  # one request was returned for more information
        assert visits.overdue(), "the demo should show overdue visits"


def test_demo_data_twice_changes_nothing(app, demo):
    first = _counts(app)
    again = demo.invoke(args=["demo-data"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert _counts(app) == first


def test_demo_switches_between_all_five_schemes(app, demo):
    with app.app_context():
        before = {k: v.category.need_level for k, v in categories.current_categorisations().items()}
    for name in ("RAG with urgent action", "Four levels", "Core and second tier", "Risk matrix",
                 "Three categories"):
        result = demo.invoke(args=["demo-scheme", name])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert categories.active_scheme().name == name
    with app.app_context():
        after = {k: v.category.need_level for k, v in categories.current_categorisations().items()}
    assert after == before  # back where we started
    bad = demo.invoke(args=["demo-scheme", "Traffic lights"])
    assert bad.exit_code != 0 and "no scheme called" in bad.output


def test_seed_schemes_command(app, runner):
    result = runner.invoke(args=["seed-schemes"])
    assert result.exit_code == 0
    assert "All five" in runner.invoke(args=["seed-schemes"]).output
