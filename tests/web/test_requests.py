"""Support requests: the template's rules, every lifecycle step by role, school privacy, impact."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import RequestStatus, Role, SupportRequest
from app.services import impact, requests
from app.services.errors import Forbidden, IllegalTransition
from app.terms import AcademicYear, Term, current
from tests import factories

S = RequestStatus


def _school(app, **kw):
    with app.app_context():
        school = factories.school(**kw)
        _ = school.id, school.name
        return school


def _form(pid, **kw):
    year, term = current()
    data = {"priority_id": pid, "title": "Phonics coaching for Year 1",
            "area": "curriculum_teaching", "phase": "primary", "key_stage": "ks1",
            "need": "Our Year 1 PSC pass rate dropped to 61% and too many pupils in KS1 can't blend.",
            "evidence": "PSC 2026: 61% (national 79%).", "desired_outcomes": "85% pass the PSC in June.",
            "target_date": (date.today() + timedelta(days=100)).isoformat(), "support_type": "coaching",
            "days_requested": "4.5", "term": f"{year.start}:{term.value}", "preferred_dates": "Tuesdays",
            "funding": "core", "budget_gbp": ""}
    data.update(kw)
    return data


def _status(app, request_id):
    with app.app_context():
        return db.session.get(SupportRequest, request_id).status


def test_staff_drafts_and_headteacher_submits_with_consent(app, login_as):
    school = _school(app)
    with app.app_context():
        pid = factories.priority(school).id
    staff, _ = login_as(Role.SCHOOL_STAFF, school=school)
    response = staff.post("/requests/new", _form(pid))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(db.select(SupportRequest))
        assert row.status is S.DRAFT and row.days_requested == Decimal("4.5") and row.school_id == school.id
        rid = row.id
    page = f"/requests/{rid}"
    assert staff.post(f"/requests/{rid}/submit", {"consent": "y"}, token_from=page).status_code == 403
    head = factories.sign_in(app, Role.HEADTEACHER, school=school)
    head.post(f"/requests/{rid}/submit", {}, token_from=page)  # no consent ticked
    assert _status(app, rid) is S.DRAFT
    assert head.post(f"/requests/{rid}/submit", {"consent": "y"}, token_from=page).status_code == 302
    assert _status(app, rid) is S.SUBMITTED
    with app.app_context():
        assert db.session.get(SupportRequest, rid).headteacher_consent is True
    # submitted requests cannot be edited or submitted again
    assert head.get(f"/requests/{rid}/edit").status_code == 409
    assert head.post(f"/requests/{rid}/submit", {"consent": "y"}, token_from="/").status_code == 409


@pytest.mark.parametrize("change,message", [
    ({"target_date": (date.today() - timedelta(days=1)).isoformat()}, "cannot be in the past"),
    ({"days_requested": "0"}, "more than 0 and at most 60"),
    ({"days_requested": "61"}, "more than 0 and at most 60"),
    ({"days_requested": "2.3"}, "whole or half days"),
    ({"need": "x" * 4001}, "4000"),
    ({"title": ""}, "short title"),
    ({"funding": "second_tier", "budget_gbp": ""}, "enter the budget"),
    ({"priority_id": "0"}, "Choose the improvement priority"),
])
def test_bad_input_is_explained_and_nothing_saved(app, login_as, change, message):
    school = _school(app)
    with app.app_context():
        pid = factories.priority(school).id
    head, _ = login_as(Role.HEADTEACHER, school=school)
    response = head.post("/requests/new", _form(pid, **change))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in html
    assert message.replace("4000", "4,000") in html or message in html, html[html.find("alert-danger"):][:600]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SupportRequest)) == 0


def test_another_schools_priority_is_refused(app, login_as):
    school, other = _school(app), _school(app)
    with app.app_context():
        factories.priority(school)
        theirs = factories.priority(other).id
        trust = factories.priority(None).id
        head = factories.user(role=Role.HEADTEACHER, school=school)
        year, term = current()
        data = requests.RequestData(
            priority_id=theirs, title="T", area="inclusion", phase="primary", key_stage="ks2", need="n",
            evidence="e", desired_outcomes="o", target_date=date.today() + timedelta(days=30),
            support_type="coaching", days_requested="2", academic_year=year.start, term=term, funding="core")
        with pytest.raises(requests.ValidationError, match="your school's priorities"):
            requests.create(head, school.id, data)
        # a trust-wide priority is fine
        assert requests.create(head, school.id, data.__class__(**{**data.__dict__, "priority_id": trust})).id
        # and a request for another school is refused
        with pytest.raises(Forbidden):
            requests.create(head, other.id, data.__class__(**{**data.__dict__, "priority_id": theirs}))


def test_schools_see_only_their_own_requests(app, login_as):
    school, other = _school(app), _school(app)
    with app.app_context():
        mine = factories.support_request(school, title="Our own request").id
        theirs = factories.support_request(other, title="Someone else's request").id
    head, _ = login_as(Role.HEADTEACHER, school=school)
    listing = head.get("/requests/").get_data(as_text=True)
    assert "Our own request" in listing and "Someone else" not in listing
    assert head.get(f"/requests/{mine}").status_code == 200
    assert head.get(f"/requests/{theirs}").status_code == 403
    assert head.get(f"/requests/{theirs}/edit").status_code == 403
    executive = factories.sign_in(app, Role.EXECUTIVE)
    listing = executive.get("/requests/").get_data(as_text=True)
    assert "Our own request" in listing and "Someone else" in listing


def test_trustees_see_anonymised_counts_only(app, login_as):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school, status=S.SUBMITTED, title="Secret title").id
    trustee, _ = login_as(Role.TRUSTEE)
    page = trustee.get("/requests/").get_data(as_text=True)
    assert "Secret title" not in page and school.name not in page and "1 in all" in page
    assert trustee.get(f"/requests/{rid}").status_code == 403


@pytest.mark.parametrize("decision,note,expected", [
    ("accept", "", S.ACCEPTED), ("return", "Please add your autumn reading data.", S.DRAFT),
    ("decline", "Covered by the January phonics training for all Year 1 teachers.", S.DECLINED),
])
def test_executive_triages(app, login_as, decision, note, expected):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school, status=S.SUBMITTED).id
    executive, _ = login_as(Role.EXECUTIVE)
    page = f"/requests/{rid}"
    assert executive.post(f"/requests/{rid}/triage", {"decision": decision, "note": note},
                          token_from=page).status_code == 302
    assert _status(app, rid) is expected
    if note:
        head = factories.sign_in(app, Role.HEADTEACHER, school=school)
        assert note in head.get(page).get_data(as_text=True)  # the school sees the executive's note


def test_return_and_decline_need_a_note_and_schools_cannot_triage(app, login_as):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school, status=S.SUBMITTED).id
    executive, _ = login_as(Role.EXECUTIVE)
    executive.post(f"/requests/{rid}/triage", {"decision": "decline", "note": ""}, token_from=f"/requests/{rid}")
    assert _status(app, rid) is S.SUBMITTED
    head = factories.sign_in(app, Role.HEADTEACHER, school=school)
    assert head.post(f"/requests/{rid}/triage", {"decision": "accept"}, token_from="/").status_code == 403
    trustee = factories.sign_in(app, Role.TRUSTEE)
    assert trustee.post(f"/requests/{rid}/triage", {"decision": "accept"}, token_from="/").status_code == 403


def test_triage_of_a_draft_is_an_illegal_transition(app, login_as):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school).id
    executive, _ = login_as(Role.EXECUTIVE)
    response = executive.post(f"/requests/{rid}/triage", {"decision": "accept"}, token_from="/")
    assert response.status_code == 409 and b"cannot be taken" in response.data
    assert executive.post(f"/requests/{rid}/complete", {}, token_from="/").status_code == 409


def test_allocation_steps_by_role_and_state(app):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school, status=S.ACCEPTED).id
        ceo, executive = factories.user(role=Role.CEO), factories.user(role=Role.EXECUTIVE)
        head = factories.user(role=Role.HEADTEACHER, school=school)
        with pytest.raises(IllegalTransition):
            requests.mark_approved(ceo, rid)  # not matched yet
        with pytest.raises(Forbidden):
            requests.mark_matched(head, rid)
        requests.mark_matched(executive, rid)
        with pytest.raises(Forbidden):
            requests.mark_approved(executive, rid)  # the CEO approves
        requests.mark_approved(ceo, rid)
        with pytest.raises(IllegalTransition):
            requests.complete(executive, rid)
        requests.start(executive, rid)
        requests.complete(executive, rid)
        assert db.session.get(SupportRequest, rid).status is S.COMPLETED
        with pytest.raises(IllegalTransition):
            requests.transition(ceo, rid, "teleport")


def test_executive_marks_complete_and_headteacher_records_impact(app, login_as):
    school = _school(app)
    with app.app_context():
        rid = factories.support_request(school, status=S.IN_PROGRESS).id
    executive, _ = login_as(Role.EXECUTIVE)
    assert executive.post(f"/requests/{rid}/complete", {}, token_from=f"/requests/{rid}").status_code == 302
    assert _status(app, rid) is S.COMPLETED
    staff = factories.sign_in(app, Role.SCHOOL_STAFF, school=school)
    assert staff.get(f"/requests/{rid}/impact").status_code == 403
    head = factories.sign_in(app, Role.HEADTEACHER, school=school)
    bad = head.post(f"/requests/{rid}/impact", {"rating": "6", "narrative": "Great"})
    assert bad.status_code == 200 and b"There is a problem" in bad.data
    assert head.post(f"/requests/{rid}/impact", {"rating": "4", "narrative": "PSC mock rose from 61% to 80%."}
                     ).status_code == 302
    assert _status(app, rid) is S.IMPACT_EVALUATED
    assert head.get(f"/requests/{rid}/impact").status_code == 409
    assert executive.post(f"/requests/{rid}/supporter-note", {"note": "Coached three teachers over six weeks."},
                          token_from=f"/requests/{rid}").status_code == 302
    with app.app_context():
        found = impact.for_requests([rid])[rid]
        assert found.rating == 4 and "80%" in found.narrative and found.supporter_note.startswith("Coached")
        assert impact.for_requests([]) == {}


def test_open_for_matching_returns_accepted_requests_for_the_term(app):
    school = _school(app)
    year, term = current()
    later = Term.SPRING if term is Term.AUTUMN else Term.SUMMER
    with app.app_context():
        wanted = factories.support_request(school, status=S.ACCEPTED).id
        factories.support_request(school, status=S.SUBMITTED)
        factories.support_request(school, status=S.ACCEPTED, term=later)
        found = requests.open_for_matching(year, term)
        assert [r.id for r in found] == [wanted]
        assert [r.id for r in requests.open_for_matching(AcademicYear(year.start + 1), term)] == []


def test_posting_to_another_schools_request_is_refused(app, login_as):
    school, other = _school(app), _school(app)
    with app.app_context():
        theirs = factories.support_request(other).id
        mine_priority = factories.priority(school).id
    head, _ = login_as(Role.HEADTEACHER, school=school)
    assert head.post(f"/requests/{theirs}/edit", _form(mine_priority), token_from="/").status_code == 403
    assert head.post(f"/requests/{theirs}/submit", {"consent": "y"}, token_from="/").status_code == 403
    assert _status(app, theirs) is S.DRAFT
