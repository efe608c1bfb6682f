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


def _demo_login(app, email):
    from app.models import User
    from app.services import passwords
    from tests import factories
    from tests.conftest import Browser

    with app.app_context():  # demo passwords are random; give the account the test password
        user = db.session.scalar(db.select(User).where(User.email == email))
        user.password_hash = passwords.hash_password(factories.PASSWORD)
        db.session.commit()
    browser = Browser(app.test_client())
    assert browser.login(email, factories.PASSWORD).status_code == 302
    return browser


def test_headteacher_dashboard_shows_the_schools_own_picture(app, demo):
    page = _demo_login(app, "head.oakfield@fellside-trust.example").get("/").get_data(as_text=True)
    assert "Category 2" in page and "category-badge" in page
    assert "Improve early reading: Year 1 phonics screening check pass rate" in page
    assert "Reception: communication and language" in page and "Submitted" in page
    assert "Visits this term" in page
    assert "Lunchtime behaviour" not in page  # another school's request


def test_trust_dashboard_and_trustee_view(app, demo):
    page = _demo_login(app, "deputy.ceo@fellside-trust.example").get("/").get_data(as_text=True)
    assert "Schools by category" in page and "Category 3" in page and "Visits overdue or behind" in page
    assert "Open support requests by area" in page
    trustee = _demo_login(app, "trustee@fellside-trust.example")
    page = trustee.get("/").get_data(as_text=True)
    assert "Category 3" in page and "Lunchtime behaviour" not in page
    requests_page = trustee.get("/requests/").get_data(as_text=True)
    assert "Lunchtime behaviour" not in requests_page and "Fellside Primary" not in requests_page
    for url in ("/categories/", "/priorities/", "/visits/", "/requests/"):
        html = trustee.get(url).get_data(as_text=True)
        assert " style=" not in html and "<script>" not in html, url
