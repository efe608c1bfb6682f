"""Improvement priorities (two or three a school, trust-wide ones) and visits with the entitlement tracker."""

from datetime import date

import pytest

from app.extensions import db
from app.models import Area, ImprovementPriority, Role, Visit, VisitType
from app.services import priorities, visits
from app.services.errors import Conflict, Forbidden
from app.terms import AcademicYear, Term, current
from tests import factories


def _school(app, **kw):
    with app.app_context():
        school = factories.school(**kw)
        _ = school.id, school.name
        return school


def _priority_form(school_id, **kw):
    data = {"school_id": school_id, "year": current()[0].start, "area": "inclusion",
            "title": "Strengthen the graduated approach for pupils with SEND",
            "description": "Plans are not reviewed termly.", "success_criteria": "Every SEN support plan reviewed."}
    data.update(kw)
    return data


def test_headteacher_sets_two_or_three_priorities(app, login_as):
    school = _school(app)
    head, _ = login_as(Role.HEADTEACHER, school=school)
    assert b"should have at least" not in head.get("/priorities/").data
    assert b"Your school has 0 priorities" in head.get("/priorities/").data
    for n in range(3):
        assert head.post("/priorities/new", _priority_form(school.id, title=f"Priority {n}")).status_code == 302
    page = head.get("/priorities/").get_data(as_text=True)
    assert "Your school has" not in page and "Priority 2" in page
    fourth = head.post("/priorities/new", _priority_form(school.id, title="One too many"))
    assert fourth.status_code == 200 and b"at most 3 priorities" in fourth.data
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ImprovementPriority)) == 3


def test_priority_bad_input_and_other_schools(app, login_as):
    school, other = _school(app), _school(app)
    head, _ = login_as(Role.HEADTEACHER, school=school)
    response = head.post("/priorities/new", _priority_form(school.id, title="x" * 201, success_criteria=""))
    assert response.status_code == 200 and b"There is a problem" in response.data
    assert head.post("/priorities/new", _priority_form(other.id)).status_code == 200  # not a choice offered
    with app.app_context():
        theirs = factories.priority(other).id
        assert db.session.scalar(db.select(db.func.count()).select_from(ImprovementPriority)) == 1
    assert head.get(f"/priorities/{theirs}/edit").status_code == 403
    staff = factories.sign_in(app, Role.SCHOOL_STAFF, school=school)
    assert staff.get("/priorities/new").status_code == 403
    assert staff.get("/priorities/").status_code == 200


def test_trust_wide_priorities_span_three_years_at_most_two(app, login_as):
    with app.app_context():
        ceo = factories.user(role=Role.CEO)
        executive = factories.user(role=Role.EXECUTIVE)
        data = priorities.PriorityData(Area.ATTENDANCE, "Reduce persistent absence among disadvantaged pupils",
                                       "Persistent absence is 24% for disadvantaged pupils.",
                                       "Below 15% by July 2029.")
        first = priorities.create(ceo, None, 2026, data)
        assert (first.start_year, first.end_year) == (2026, 2028)
        with pytest.raises(Forbidden):
            priorities.create(executive, None, 2026, data)
        priorities.create(ceo, None, 2027, data)
        with pytest.raises(Conflict):
            priorities.create(ceo, None, 2028, data)
        assert len(priorities.trust_wide(2028)) == 2 and len(priorities.trust_wide(2029)) == 1
    browser, _ = login_as(Role.TRUSTEE)
    page = browser.get("/priorities/?year=2027/28").get_data(as_text=True)
    assert "Reduce persistent absence" in page and "Add a priority" not in page


def _visit_form(sid, vid, **kw):
    data = {"school_id": sid, "visit_date": date.today().isoformat(), "visitor_id": vid,
            "visit_type": "school_improvement", "evaluation_inclusion": "SEND register is accurate.",
            "evidence": "Met the SENCo.", "going_well": "Reading culture.", "next_steps": "Review plans termly."}
    data.update(kw)
    return data


def test_note_of_visit_is_shared_with_the_headteacher_only_when_published(app, login_as):
    school = _school(app)
    executive, user = login_as(Role.EXECUTIVE)
    assert executive.post("/visits/new", _visit_form(school.id, user.id)).status_code == 302
    with app.app_context():
        visit = db.session.scalar(db.select(Visit))
        vid = visit.id
        assert visit.evaluation == {"inclusion": "SEND register is accurate."} and not visit.shared
    head = factories.sign_in(app, Role.HEADTEACHER, school=school)
    assert head.get(f"/visits/{vid}").status_code == 403  # a draft
    assert b"Met the SENCo" not in head.get("/visits/").data
    assert executive.post(f"/visits/{vid}/share", {}, token_from=f"/visits/{vid}").status_code == 302
    assert head.get(f"/visits/{vid}").status_code == 200
    assert executive.post(f"/visits/{vid}/share", {}, token_from="/").status_code == 409
    other_head = factories.sign_in(app, Role.HEADTEACHER)
    assert other_head.get(f"/visits/{vid}").status_code == 403
    for role in (Role.SCHOOL_STAFF, Role.TRUSTEE):
        assert factories.sign_in(app, role, school=school if role == Role.SCHOOL_STAFF else None
                                 ).get("/visits/").status_code == 403
    assert head.get("/visits/new").status_code == 403


def test_visit_bad_input(app, login_as):
    school = _school(app)
    executive, user = login_as(Role.EXECUTIVE)
    with app.app_context():
        head_id = factories.user(role=Role.HEADTEACHER, school=factories.school()).id
    for change, message in (({"visit_date": ""}, b"Enter the date"), ({"next_steps": "x" * 4001}, b"4000"),
                            ({"visitor_id": head_id}, b"Not a valid choice")):
        response = executive.post("/visits/new", _visit_form(school.id, user.id, **change))
        assert response.status_code == 200 and message in response.data, change


def test_tracker_flags_overdue_and_behind(app):
    school_a, school_b, school_c = _school(app), _school(app), _school(app)
    year = AcademicYear(2026)
    with app.app_context():
        visitor = factories.user(role=Role.EXECUTIVE)
        for s, level in ((school_a, 3), (school_b, 1), (school_c, 2)):
            factories.categorise(s, level=level, effective_from=date(2026, 9, 1))
        factories.visit(school_a, visitor, visit_date=date(2026, 9, 20))
        factories.visit(school_b, visitor, visit_date=date(2026, 9, 20))
        factories.visit(school_c, visitor, visit_date=date(2026, 10, 1), visit_type=VisitType.PEER_REVIEW)
        factories.visit(school_c, visitor, visit_date=date(2026, 12, 5))  # planned
        early = {line.school.id: line for line in visits.tracker(year, Term.AUTUMN, today=date(2026, 10, 1))}
        # Category 3 owes 4 visits and 1 executive review; early in term it is only due
        assert early[school_a.id].status == "Due" and early[school_a.id].owed == 4
        late = {line.school.id: line for line in visits.tracker(year, Term.AUTUMN, today=date(2026, 11, 20))}
        assert late[school_a.id].status == "Behind" and late[school_a.id].made == 1
        assert late[school_b.id].status == "Done"  # Category 1: one visit, no executive review
        assert late[school_c.id].made == 0 and late[school_c.id].planned == 1  # peer reviews are yearly
        ended = {line.school.id: line for line in visits.tracker(year, Term.AUTUMN, today=date(2027, 1, 10))}
        assert ended[school_a.id].status == "Overdue" and ended[school_a.id].short == 3 + 1
        assert ended[school_c.id].status == "Overdue"  # the planned visit counts once it happened: 1 of 2
        assert ended[school_c.id].made == 1
        flagged = visits.overdue(today=date(2027, 1, 10))
        assert {line.school.id for line in flagged} >= {school_a.id, school_c.id}
