"""Categories: preset schemes, scheme switching, the audit's suggestion, decisions, board confirmation, disputes."""

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import Area, AuditGrade, Grade, Role, SchoolAudit, SchoolCategorisation
from app.services import categories
from app.services.errors import Forbidden, IllegalTransition
from tests import factories


def _school(app, **kw):
    with app.app_context():
        school = factories.school(**kw)
        _ = school.id, school.name
        return school


def _audit(grades: dict | None = None, safeguarding: bool = True, default: Grade = Grade.EXPECTED) -> SchoolAudit:
    grades = grades or {}
    row = SchoolAudit(safeguarding_met=safeguarding)
    row.grades = [AuditGrade(area=a, grade=grades.get(a, default)) for a in Area]
    return row


def test_presets_are_seeded_once(app):
    with app.app_context():
        categories.ensure_presets()  # the migration seeds them too; tests empty the tables between runs
        assert len(categories.schemes()) == 5
        assert categories.ensure_presets() == 0
        names = [s.name for s in categories.schemes()]
        assert names == ["Three categories", "Risk matrix", "Core and second tier", "RAG with urgent action",
                         "Four levels"]
        rag = categories.scheme_by_name("RAG with urgent action")
        assert [c.name for c in rag.categories] == ["GREEN", "YELLOW", "AMBER", "RED", "URGENT ACTION"]
        four = categories.scheme_by_name("Four levels")
        assert [c.visits_per_term for c in four.categories] == [1, 1, 2, 4]
        assert categories.scheme_by_name("Core and second tier").categories[1].charged is True
        assert categories.active_scheme().name == "Three categories"


@pytest.mark.parametrize("level,old,new,expected", [
    (1, 3, 5, 1), (2, 3, 5, 3), (3, 3, 5, 5), (1, 5, 3, 1), (2, 5, 3, 2), (4, 5, 3, 3), (5, 5, 3, 3),
    (2, 4, 2, 1), (3, 4, 2, 2), (2, 3, 3, 2), (1, 2, 4, 1), (2, 2, 4, 4),
])
def test_map_level_keeps_the_place_on_the_need_scale(level, old, new, expected):
    assert categories.map_level(level, old, new) == expected


@pytest.mark.parametrize("grades,safeguarding,score", [
    ({}, False, 5),
    ({Area.ACHIEVEMENT: Grade.URGENT}, True, 5),
    ({Area.LEADERSHIP: Grade.NEEDS_ATTENTION}, True, 4),
    ({Area.INCLUSION: Grade.NEEDS_ATTENTION, Area.ACHIEVEMENT: Grade.NEEDS_ATTENTION,
      Area.ATTENDANCE: Grade.NEEDS_ATTENTION}, True, 4),
    ({Area.INCLUSION: Grade.NEEDS_ATTENTION, Area.ACHIEVEMENT: Grade.NEEDS_ATTENTION}, True, 3),
    ({Area.INCLUSION: Grade.NEEDS_ATTENTION, Area.LEADERSHIP: Grade.STRONG}, True, 2),
    ({}, True, 2),  # everything Expected, leadership only Expected
    ({Area.LEADERSHIP: Grade.STRONG}, True, 1),
    ({Area.LEADERSHIP: Grade.EXCEPTIONAL, Area.EARLY_YEARS: None}, True, 1),
])
def test_need_score_rules(grades, safeguarding, score):
    assert categories.need_score(_audit(grades, safeguarding))[0] == score


@pytest.mark.parametrize("scheme,by_score", [
    ("Three categories", ["Category 1", "Category 1", "Category 2", "Category 2", "Category 3"]),
    ("Four levels", ["Level 1", "Level 1", "Level 2", "Level 3", "Level 4"]),
    ("RAG with urgent action", ["GREEN", "YELLOW", "AMBER", "RED", "URGENT ACTION"]),
    ("Core and second tier", ["Core", "Core", "Core", "Core", "Second tier"]),
])
def test_suggestion_maps_onto_the_scheme(app, scheme, by_score):
    audits = [
        _audit({Area.LEADERSHIP: Grade.STRONG}),
        _audit({Area.INCLUSION: Grade.NEEDS_ATTENTION, Area.LEADERSHIP: Grade.STRONG}),
        _audit({Area.INCLUSION: Grade.NEEDS_ATTENTION, Area.ACHIEVEMENT: Grade.NEEDS_ATTENTION}),
        _audit({Area.LEADERSHIP: Grade.NEEDS_ATTENTION}),
        _audit({}, safeguarding=False),
    ]
    with app.app_context():
        chosen = factories.scheme(scheme)
        assert [categories.suggest(a, chosen).category.name for a in audits] == by_score


def test_current_category_and_need_level(app):
    school = _school(app)
    with app.app_context():
        assert categories.current_category(school.id) is None
        assert categories.current_need_level(school.id) == 1  # uncategorised: least need
        start = date.today() - timedelta(days=60)
        factories.categorise(school, level=1, effective_from=start)
        factories.categorise(school, level=3, effective_from=date.today() - timedelta(days=5))  # mid-year
        factories.categorise(school, level=2, effective_from=date.today() + timedelta(days=30))  # not yet
        assert categories.current_category(school.id).name == "Category 3"
        assert categories.current_need_level(school.id) == 3
        assert categories.current_need_level(school.id, start + timedelta(days=1)) == 1
        assert categories.current_need_level(school.id, date.today() + timedelta(days=31)) == 2
        assert len(categories.history(school.id)) == 3


def test_switching_scheme_maps_every_school_by_need_level(app, login_as):
    a, b = _school(app), _school(app)
    browser, ceo = login_as(Role.CEO)
    with app.app_context():
        factories.categorise(a, level=2)
        factories.categorise(b, level=3)
        rag = factories.scheme("RAG with urgent action").id
    response = browser.post("/categories/scheme", {"scheme_id": rag}, token_from="/categories/")
    assert response.status_code == 302
    with app.app_context():
        assert categories.active_scheme().name == "RAG with urgent action"
        assert categories.current_category(a.id).name == "AMBER"
        assert categories.current_category(b.id).name == "URGENT ACTION"
        assert "Mapped from Three categories" in categories.current_categorisation(a.id).rationale
        assert len(categories.history(a.id)) == 2  # the old decision is kept


def test_executive_cannot_switch_scheme_and_trustee_reads_only(app, login_as):
    with app.app_context():
        four = factories.scheme("Four levels").id
    browser, _ = login_as(Role.EXECUTIVE)
    assert browser.post("/categories/scheme", {"scheme_id": four}, token_from="/").status_code == 403
    browser = factories.sign_in(app, Role.TRUSTEE)
    page = browser.get("/categories/")
    assert page.status_code == 200 and b"Category 1" in page.data and b"Use this scheme" not in page.data
    with app.app_context():
        cat_id = categories.active_scheme().categories[0].id
    assert browser.get(f"/categories/{cat_id}/edit").status_code == 403


def test_ceo_edits_an_entitlement_and_bad_input_is_explained(app, login_as):
    browser, _ = login_as(Role.CEO)
    with app.app_context():
        cat_id = factories.scheme().categories[1].id
    good = {"name": "Category 2", "colour": "amber", "description": "Requires improvement.", "visits_per_term": 3,
            "peer_reviews_per_year": 1, "executive_reviews_per_term": 1, "safeguarding_reviews_per_year": 1}
    assert browser.post(f"/categories/{cat_id}/edit", good).status_code == 302
    with app.app_context():
        assert categories.get_category(cat_id).visits_per_term == 3
    bad = browser.post(f"/categories/{cat_id}/edit", {**good, "visits_per_term": 21, "name": "x" * 101})
    assert bad.status_code == 200 and b"There is a problem" in bad.data and b"from 0 to 20" in bad.data
    assert browser.post(f"/categories/{cat_id}/edit", {**good, "colour": "pink"}).status_code == 200


def _audit_form(grade="expected_standard", leadership="strong_standard", safeguarding="met"):
    data = {"carried_out_on": date.today().isoformat(), "safeguarding_met": safeguarding,
            "safeguarding_evidence": "Single central record checked."}
    for area in Area:
        data[f"grade_{area.value}"] = grade
        data[f"evidence_{area.value}"] = f"Evidence for {area.label}."
    data["grade_leadership_governance"] = leadership
    return data


def test_audit_decision_board_confirmation(app, login_as):
    school = _school(app)
    browser, _ = login_as(Role.EXECUTIVE)
    url = f"/categories/schools/{school.id}/audit"
    assert browser.post(url, _audit_form(grade="needs_attention")).status_code == 302
    page = browser.get(f"/categories/schools/{school.id}").get_data(as_text=True)
    assert "need score 4 of 5" in page and "Category 2" in page
    # the executive records audits but does not decide
    assert browser.post(f"/categories/schools/{school.id}/decide", {"category_id": 1, "rationale": "x",
                                                                    "effective_from": date.today().isoformat()},
                        token_from=url).status_code == 403

    browser = factories.sign_in(app, Role.CEO)
    with app.app_context():
        cat3 = categories.active_scheme().categories[2].id
    missing = browser.post(f"/categories/schools/{school.id}/decide",
                           {"category_id": cat3, "rationale": "", "effective_from": date.today().isoformat()},
                           token_from=f"/categories/schools/{school.id}")
    assert missing.status_code == 400 and b"Give the rationale" in missing.data
    ok = browser.post(f"/categories/schools/{school.id}/decide",
                      {"category_id": cat3, "rationale": "Leadership capacity is stretched after two resignations.",
                       "effective_from": date.today().isoformat()}, token_from=f"/categories/schools/{school.id}")
    assert ok.status_code == 302
    with app.app_context():
        row = categories.current_categorisation(school.id)
        assert row.category.name == "Category 3" and row.audit_id is not None
        row_id = row.id
    browser = factories.sign_in(app, Role.ADMIN)  # on the board's behalf
    confirm = f"/categories/decisions/{row_id}/confirm"
    assert browser.post(confirm, token_from=f"/categories/schools/{school.id}").status_code == 302
    assert browser.post(confirm, token_from="/").status_code == 409
    with app.app_context():
        assert db.session.get(SchoolCategorisation, row_id).board_confirmed_at is not None


def test_safeguarding_not_met_suggests_the_highest_need(app, login_as):
    school = _school(app)
    browser, _ = login_as(Role.CEO)
    browser.post(f"/categories/schools/{school.id}/audit", _audit_form(safeguarding="not_met"))
    assert b"need score 5 of 5" in browser.get(f"/categories/schools/{school.id}").data


def test_audit_needs_every_grade(app, login_as):
    school = _school(app)
    browser, _ = login_as(Role.EXECUTIVE)
    data = _audit_form()
    data["grade_inclusion"] = ""
    response = browser.post(f"/categories/schools/{school.id}/audit", data)
    assert response.status_code == 200 and b"Grade Inclusion" in response.data
    data = _audit_form()
    data["grade_early_years"] = ""  # not applicable is fine for Early Years
    assert browser.post(f"/categories/schools/{school.id}/audit", data).status_code == 302


def test_dispute_and_the_chairs_decision(app, login_as):
    school = _school(app)
    with app.app_context():
        row_id = factories.categorise(school, level=3).id
        cat2 = categories.active_scheme().categories[1].id
    page = f"/categories/schools/{school.id}"
    other_head, _ = login_as(Role.HEADTEACHER)
    assert other_head.get(page).status_code == 403
    head = factories.sign_in(app, Role.HEADTEACHER, school=school)
    assert head.get(page).status_code == 200
    empty = head.post(f"/categories/decisions/{row_id}/dispute", {"statement": ""}, token_from=page)
    assert empty.status_code == 400 and b"Explain why" in empty.data
    assert head.post(f"/categories/decisions/{row_id}/dispute", {"statement": "x" * 4001},
                     token_from=page).status_code == 400
    ok = head.post(f"/categories/decisions/{row_id}/dispute",
                   {"statement": "The audit predates our new phonics scheme; Year 1 data has risen to 78%."},
                   token_from=page)
    assert ok.status_code == 302
    assert head.post(f"/categories/decisions/{row_id}/dispute", {"statement": "Again"},
                     token_from="/").status_code == 409
    with app.app_context():
        dispute_id = categories.open_dispute(categories.get_categorisation(row_id)).id
    head_decides = head.post(f"/categories/disputes/{dispute_id}/decide",
                             {"outcome": "upheld", "decision": "x"}, token_from="/")
    assert head_decides.status_code == 403
    ceo = factories.sign_in(app, Role.CEO)
    changed = ceo.post(f"/categories/disputes/{dispute_id}/decide",
                       {"outcome": "changed", "new_category_id": cat2,
                        "decision": "The Chair accepts the new phonics evidence."}, token_from=page)
    assert changed.status_code == 302
    with app.app_context():
        assert categories.current_category(school.id).name == "Category 2"
        assert "Chair's decision" in categories.current_categorisation(school.id).rationale
    again = ceo.post(f"/categories/disputes/{dispute_id}/decide", {"outcome": "upheld", "decision": "x"},
                     token_from=page)
    assert again.status_code == 409


def test_service_refuses_the_wrong_roles(app):
    school = _school(app)
    with app.app_context():
        executive = factories.user(role=Role.EXECUTIVE)
        cat = categories.active_scheme().categories[0]
        with pytest.raises(Forbidden):
            categories.categorise(executive, school.id, cat.id, "Because")
        row = factories.categorise(school, level=1)
        ceo = factories.user(role=Role.CEO)
        categories.confirm_by_board(ceo, row.id)
        with pytest.raises(IllegalTransition):
            categories.confirm_by_board(ceo, row.id)


def test_switching_through_every_scheme_and_back_restores_the_decision(app):
    schools = [_school(app) for _ in range(3)]
    with app.app_context():
        ceo = factories.user(role=Role.CEO)
        for school, level in zip(schools, (1, 2, 3), strict=True):
            factories.categorise(school, level=level)
        for name in ("RAG with urgent action", "Four levels", "Core and second tier", "Risk matrix"):
            categories.set_active_scheme(ceo, factories.scheme(name).id)
        assert [categories.current_category(s.id).name for s in schools] == ["Category 1", "Category 2",
                                                                             "Category 3"]  # Risk matrix
        assert [categories.current_need_level(s.id) for s in schools] == [1, 2, 3]
        categories.set_active_scheme(ceo, factories.scheme("Core and second tier").id)
        assert [categories.current_category(s.id).name for s in schools] == ["Core", "Second tier", "Second tier"]
        categories.set_active_scheme(ceo, factories.scheme("Three categories").id)
        assert [categories.current_category(s.id).name for s in schools] == ["Category 1", "Category 2",
                                                                             "Category 3"]
        assert "Restored Category 2" in categories.current_categorisation(schools[1].id).rationale
