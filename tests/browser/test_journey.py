"""The whole journey in a real browser: request, triage, run, approval, release, acceptance; axe on every page."""

from __future__ import annotations

import re
import time

import pytest

from app.models import Area, KeyStage, Phase, Role, TagKind
from app.terms import current
from tests import factories
from tests.browser.conftest import screenshot, serious_violations, sign_in

pytestmark = pytest.mark.browser
YEAR, TERM = current()
TITLE = "Phonics coaching for Year 1 teachers"


@pytest.fixture
def journey(app):
    """Oakfield needs phonics help; Amira at Fellside, three miles away, is the trust's phonics lead."""
    app.config["JOBS_SYNCHRONOUS"] = True  # the run finishes inside the CEO's request: no thread to race
    with app.app_context():
        oak = factories.school(name="Oakfield Primary Academy", latitude=54.196, longitude=-3.092,
                               postcode="LA12 7AB")
        fell = factories.school(name="Fellside Primary School", latitude=54.224, longitude=-3.060,
                                postcode="LA12 9QS")
        people = {
            "head_oak": factories.user(role=Role.HEADTEACHER, school=oak, name="James Whitfield"),
            "executive": factories.user(role=Role.EXECUTIVE, name="Sarah Okafor"),
            "ceo": factories.user(role=Role.CEO, name="Dr Helen Marsh"),
            "head_fell": factories.user(role=Role.HEADTEACHER, school=fell, name="Amina Begum"),
            "supporter": factories.user(role=Role.SCHOOL_STAFF, school=fell, name="Amira Khan"),
        }
        priority = factories.priority(oak, area=Area.CURRICULUM,
                           title="Early reading: Year 1 phonics screening check from 61% to 85%")
        factories.register_entry(
            fell, days=(6, 3, 2), name="Amira Khan", email="amira.khan@fellside.example", post="Early reading lead",
            expertise="Early reading lead and systematic synthetic phonics trainer: coaching Year 1 teachers, "
                      "phonics screening check preparation, keep-up sessions for pupils who cannot blend.",
            user_id=people["supporter"].id, day_rate=220.0,
            tags={TagKind.AREA: ["Curriculum and Teaching"], TagKind.PHASE: ["primary"],
                  TagKind.KEY_STAGE: ["EYFS", "KS1"], TagKind.SUBJECT: ["Phonics and early reading"]})
        factories.register_entry(
            fell, days=(4, 2, 2), name="Tom Reid", email="tom.reid@fellside.example", post="Maths lead",
            expertise="Maths mastery: fluency and reasoning in upper key stage 2, bar modelling.",
            tags={TagKind.AREA: ["Achievement"], TagKind.PHASE: ["primary"], TagKind.KEY_STAGE: ["KS2"]})
        emails = {k: u.email for k, u in people.items()}
        emails["priority"] = str(priority.id)
    yield emails
    app.config["JOBS_SYNCHRONOUS"] = False


def check(axe, page, name: str) -> None:
    """Screenshot the page and insist axe-core finds nothing serious or critical on it."""
    screenshot(page, f"journey-{name}")
    problems = serious_violations(axe, page)
    assert problems == [], f"{name} ({page.url}): {problems}"


def as_user(chromium, live_server, email):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, email, factories.PASSWORD)
    page.wait_for_url(f"{live_server}/")
    return context, page


def test_request_to_accepted_support(live_server, chromium, axe, journey):
    # 1. The headteacher writes the request on the trust's template and submits it with consent.
    context, page = as_user(chromium, live_server, journey["head_oak"])
    page.goto(f"{live_server}/requests/new")
    check(axe, page, "01-request-form")
    page.get_by_label("Improvement priority this serves").select_option(journey["priority"])
    page.get_by_label("Short title", exact=True).fill(TITLE)
    page.get_by_label("Area", exact=True).select_option(Area.CURRICULUM.value)
    page.get_by_label("Phase", exact=True).select_option(Phase.PRIMARY.value)
    page.get_by_label("Key stage", exact=True).select_option(KeyStage.KS1.value)
    page.get_by_label("The need", exact=True).fill(
        "Our Year 1 phonics screening check pass rate fell to 61% and too many pupils cannot blend unfamiliar "
        "words; two Year 1 teachers are new.")
    page.get_by_label("Evidence of the need").fill("PSC 2026: 61% against 79% nationally; reading audit.")
    page.get_by_label("Desired outcomes and success criteria").fill(
        "85% pass the phonics screening check; every Year 1 teacher teaches phonics to the scheme.")
    page.get_by_label("Target date for the outcomes").fill(f"{YEAR.start + 1}-06-30")
    page.get_by_label("Type of support").select_option("coaching")
    page.get_by_label("Days of support requested").fill("3")
    page.get_by_label("Preferred term").select_option(f"{YEAR.start}:{TERM.value}")
    page.get_by_label("Preferred dates or days of the week").fill("Tuesdays or Thursdays")
    page.get_by_label("Core entitlement").check()
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("text=Draft saved")
    request_url = page.url
    check(axe, page, "02-request-draft")
    page.get_by_label(re.compile("As headteacher, I consent")).check()
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_selector("text=Submitted")
    check(axe, page, "03-request-submitted")
    context.close()

    # 2. The executive triages it: accepted for matching.
    context, page = as_user(chromium, live_server, journey["executive"])
    page.goto(request_url)
    page.get_by_label("Accept for matching").check()
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector("text=Accepted (awaiting a match)")
    check(axe, page, "04-request-accepted")
    context.close()

    # 3. The CEO runs the matcher for the term, waits for it, reviews and approves.
    context, page = as_user(chromium, live_server, journey["ceo"])
    page.goto(f"{live_server}/allocations/")
    check(axe, page, "05-allocations")
    page.get_by_label("Academic year").select_option(str(YEAR.start))
    page.get_by_label("Term", exact=True).select_option(TERM.value)
    page.get_by_role("button", name="Start an allocation run").click()
    page.wait_for_url(re.compile(r"/allocations/runs/\d+$"))
    review = page.get_by_role("link", name="Review the proposals")
    deadline = time.monotonic() + 60
    while not review.count() and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()
    check(axe, page, "06-run-finished")
    review.click()
    page.wait_for_selector("text=Proposed allocations")
    assert "Amira Khan" in page.content() and "Tom Reid" not in page.locator("table").first.inner_text()
    check(axe, page, "07-review")
    page.get_by_label(re.compile(r"Approve allocation \d+")).check()
    page.get_by_role("button", name="Approve the ticked allocations").click()
    page.wait_for_selector("text=Approved 1 allocation")
    assert page.get_by_role("link", name=re.compile("Deployment summary")).count() == 1
    check(axe, page, "08-approved")
    page.goto(f"{live_server}/reports/")
    page.wait_for_selector("text=Supply against demand")
    check(axe, page, "09-reports")
    context.close()

    # 4. Amira's headteacher releases her.
    context, page = as_user(chromium, live_server, journey["head_fell"])
    page.get_by_role("link", name="Staff to release", exact=True).click()
    check(axe, page, "10-release")
    page.get_by_label("Yes, I release them").check()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_selector("text=your answer has been sent")
    check(axe, page, "11-released")
    context.close()

    # 5. Amira sees the assignment and accepts it.
    context, page = as_user(chromium, live_server, journey["supporter"])
    page.get_by_role("link", name="My assignments", exact=True).click()
    assert TITLE in page.content() and "Released – awaiting the supporter" in page.content()
    check(axe, page, "12-assignment")
    page.get_by_role("button", name="Accept this assignment").click()
    page.wait_for_selector("text=Accepted by the supporter")
    check(axe, page, "13-accepted")
    link = page.get_by_role("link", name=re.compile("Deployment summary"))
    pdf = page.request.get(live_server + link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    context.close()
