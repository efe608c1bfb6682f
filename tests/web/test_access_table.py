"""The access-control table: every route against every actor, with the expected outcome, run in full.

Actors: an (anonymous), st (school staff at A), ha (headteacher of A), hb (headteacher of B), ex (executive),
ce (CEO), tr (trustee), ad (admin). Every record in the URLs belongs to school A, so `hb` checks the
object-level rules. A row lists who may use the route; everyone else must get 403, and anonymous visitors
are always sent to sign in. "May use" means the answer is not 401/403 (a POST with an empty form may be
answered 400 or 409: that is the form or the workflow speaking, not the permission check).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AllocationStatus,
    AuditEvent,
    CategoryDispute,
    NominationState,
    RequestStatus,
    RetentionRule,
    Role,
)
from app.models.types import utcnow
from app.services import categories
from tests import factories
from tests.conftest import Browser

ACTORS = ("st", "ha", "hb", "ex", "ce", "tr", "ad")
ALL = " ".join(ACTORS)

# (method, url template, who may use it). Keep in step with app.url_map: a test fails on any route missing here.
TABLE: list[tuple[str, str, str]] = [
    ("GET", "/", ALL),
    ("GET", "/healthz", "an " + ALL),
    ("GET", "/privacy", "an " + ALL),
    ("GET", "/accessibility", "an " + ALL),
    ("GET", "/login", "an"),  # signed-in users are sent home
    ("POST", "/login", "an"),
    ("GET", "/login/code", "an"),  # the second sign-in step; without a pending sign-in it goes back to /login
    ("POST", "/login/code", "an"),
    ("GET", "/account/two-step", "ex ce ad"),
    ("POST", "/account/two-step/start", "ex ce ad"),
    ("POST", "/account/two-step/confirm", "ex ce ad"),
    ("POST", "/account/two-step/disable", "ex ce ad"),
    ("POST", "/logout", ALL),
    # accounts and audit
    ("GET", "/admin/users", "ad"),
    ("GET", "/admin/users/new", "ad"),
    ("POST", "/admin/users/new", "ad"),
    ("GET", "/admin/users/{user}", "ad"),
    ("POST", "/admin/users/{user}", "ad"),
    ("POST", "/admin/users/{user}/password", "ad"),
    ("POST", "/admin/users/{user}/two-step/reset", "ad"),
    ("GET", "/audit/", "ce ad"),
    # data protection
    ("GET", "/privacy/subject-access", "ce ad"),
    ("POST", "/privacy/subject-access", "ce ad"),
    ("GET", "/privacy/erase", "ce ad"),
    ("POST", "/privacy/erase", "ce ad"),
    ("POST", "/privacy/erase/confirm", "ce ad"),
    ("GET", "/privacy/retention", "ce ad"),
    ("GET", "/privacy/retention/{retention_rule}", "ce ad"),
    ("POST", "/privacy/retention/{retention_rule}", "ce ad"),
    # schools
    ("GET", "/schools/", ALL),
    ("GET", "/schools/{school}", ALL),
    ("GET", "/schools/new", "ex ce ad"),
    ("POST", "/schools/new", "ex ce ad"),
    ("GET", "/schools/{school}/edit", "ex ce ad"),
    ("POST", "/schools/{school}/edit", "ex ce ad"),
    ("GET", "/schools/import", "ex ce ad"),
    ("POST", "/schools/import", "ex ce ad"),
    ("POST", "/schools/import/confirm", "ex ce ad"),
    # categories and audits
    ("GET", "/categories/", "ex ce tr ad"),
    ("GET", "/categories/schools/{school}", "st ha ex ce tr ad"),
    ("GET", "/categories/schools/{school}/audit", "ex ce"),
    ("POST", "/categories/schools/{school}/audit", "ex ce"),
    ("POST", "/categories/schools/{school}/decide", "ce"),
    ("POST", "/categories/scheme", "ce"),
    ("GET", "/categories/{category}/edit", "ce"),
    ("POST", "/categories/{category}/edit", "ce"),
    ("POST", "/categories/decisions/{categorisation}/confirm", "ce ad"),
    ("POST", "/categories/decisions/{categorisation}/dispute", "ha"),
    ("POST", "/categories/disputes/{dispute}/decide", "ce ad"),
    # priorities
    ("GET", "/priorities/", "st ha hb ex ce tr"),
    ("GET", "/priorities/new", "ha hb ex ce"),
    ("POST", "/priorities/new", "ha hb ex ce"),
    ("GET", "/priorities/{priority}/edit", "ha ex ce"),
    ("POST", "/priorities/{priority}/edit", "ha ex ce"),
    # support requests
    ("GET", "/requests/", "st ha hb ex ce tr"),
    ("GET", "/requests/new", "st ha hb"),
    ("POST", "/requests/new", "st ha hb"),
    ("GET", "/requests/{request}", "st ha ex ce"),
    ("GET", "/requests/{request}/edit", "st ha"),
    ("POST", "/requests/{request}/edit", "st ha"),
    ("POST", "/requests/{request}/submit", "ha"),
    ("POST", "/requests/{request}/triage", "ex ce"),
    ("POST", "/requests/{request}/complete", "ex ce"),
    ("POST", "/requests/{request}/supporter-note", "ex ce"),
    ("GET", "/requests/{request}/impact", "ha"),
    ("POST", "/requests/{request}/impact", "ha"),
    # visits
    ("GET", "/visits/", "ha hb ex ce"),
    ("GET", "/visits/new", "ex ce"),
    ("POST", "/visits/new", "ex ce"),
    ("GET", "/visits/{visit}", "ha ex ce"),
    ("GET", "/visits/{visit}/edit", "ex ce"),
    ("POST", "/visits/{visit}/edit", "ex ce"),
    ("POST", "/visits/{visit}/share", "ex ce"),
    # talent register
    ("GET", "/register/", "ha hb ex ce tr"),
    ("GET", "/register/me", ALL),
    ("GET", "/register/export.csv", "ha hb ex ce"),
    ("GET", "/register/{entry}", "ha hb ex ce tr"),
    ("GET", "/register/new", "ex ce"),
    ("POST", "/register/new", "ex ce"),
    ("GET", "/register/{entry}/edit", "ex ce"),
    ("POST", "/register/{entry}/edit", "ex ce"),
    ("POST", "/register/{entry}/status", "ex ce"),
    ("POST", "/register/{entry}/development", "ex ce"),  # and the person themselves
    ("GET", "/register/import", "ex ce"),
    ("POST", "/register/import", "ex ce"),
    ("POST", "/register/import/confirm", "ex ce"),
    ("GET", "/register/renewals", "ha hb ex ce"),
    ("POST", "/register/{entry}/renewal/confirm", "ha"),  # the executive only for people with no school
    ("POST", "/register/{entry}/renew", "ce"),
    # nominations (of a member of school A's staff, nominated by A's headteacher)
    ("GET", "/nominations/", "ha hb ex ce"),
    ("GET", "/nominations/new", "ha hb"),
    ("POST", "/nominations/new", "ha hb"),
    ("GET", "/nominations/{nomination}", "ha ex ce"),
    ("GET", "/nominations/{nomination}/edit", "ha"),
    ("POST", "/nominations/{nomination}/edit", "ha"),
    ("POST", "/nominations/{nomination}/submit", "ha"),
    ("POST", "/nominations/{nomination}/withdraw", "ha"),
    ("GET", "/nominations/{nomination}/reference/write", "ha"),
    ("POST", "/nominations/{nomination}/reference/write", "ha"),
    ("GET", "/nominations/{nomination}/reference", "ex ce"),
    ("GET", "/nominations/{nomination}/visit", "ex ce"),
    ("POST", "/nominations/{nomination}/visit", "ex ce"),
    ("GET", "/nominations/{nomination}/interview", "ex ce"),
    ("GET", "/nominations/{nomination}/interview/record", "ex ce"),
    ("POST", "/nominations/{nomination}/interview/record", "ex ce"),
    ("GET", "/nominations/{nomination}/offer", "ce"),
    ("POST", "/nominations/{nomination}/offer", "ce"),
    ("GET", "/nominations/{nomination}/offer.pdf", "ha ex ce"),
    ("POST", "/nominations/{nomination}/accept", "ex ce"),
    ("POST", "/nominations/{nomination}/decline", "ex ce"),  # and the nominee
    ("POST", "/nominations/{nomination}/reject", "ex ce"),
    # allocations: the request is school A's; the supporter works at school B, so B's headteacher releases them
    ("GET", "/allocations/", "ex ce"),
    ("POST", "/allocations/runs", "ex ce"),
    ("GET", "/allocations/runs/{run}", "ex ce"),
    ("POST", "/allocations/runs/{run}/cancel", "ex ce"),
    ("POST", "/allocations/runs/{run}/retry", "ex ce"),
    ("POST", "/allocations/runs/{run}/rerun", "ce"),
    ("GET", "/allocations/runs/{run}/review", "ex ce"),
    ("POST", "/allocations/runs/{run}/approve", "ce"),
    ("POST", "/allocations/{allocation}/reject", "ce"),
    ("POST", "/allocations/{allocation}/swap", "ce"),
    ("POST", "/allocations/pairs", "ce"),
    ("GET", "/allocations/releases", "ha hb"),
    ("POST", "/allocations/{allocation}/release", "hb"),
    ("GET", "/allocations/mine", ALL),
    ("POST", "/allocations/{allocation}/accept", "ex ce"),  # and the supporter
    ("GET", "/allocations/{allocation}/summary.pdf", "ha hb ex ce"),  # and the supporter
    ("GET", "/reports/", "ex ce tr"),
    ("GET", "/reports/allocations.csv", "ex ce"),
]


@pytest.fixture
def world(app):
    """Two schools and one of each actor; every record belongs to school A."""
    with app.app_context():
        a = factories.school(name="School A")
        b = factories.school(name="School B")
        people = {
            "st": factories.user(role=Role.SCHOOL_STAFF, school=a),
            "ha": factories.user(role=Role.HEADTEACHER, school=a),
            "hb": factories.user(role=Role.HEADTEACHER, school=b),
            "ex": factories.user(role=Role.EXECUTIVE),
            "ce": factories.user(role=Role.CEO),
            "tr": factories.user(role=Role.TRUSTEE),
            "ad": factories.user(role=Role.ADMIN),
        }
        nomination, _ = factories.nomination(state=NominationState.OFFER_MADE.value, school=a, head=people["ha"])
        categorisation = factories.categorise(a, level=2)
        dispute = CategoryDispute(categorisation_id=categorisation.id, statement="We disagree.",
                                  raised_by_id=people["ha"].id)
        db.session.add(dispute)
        db.session.commit()
        supporter = factories.register_entry(b)
        request_row = factories.support_request(a, status=RequestStatus.MATCHED)
        approved = factories.allocation(request_row, supporter, status=AllocationStatus.APPROVED,
                                        decided_by=people["ce"])
        ids = {
            "school": a.id, "user": people["st"].id, "entry": factories.register_entry(a).id,
            "nomination": nomination.id, "priority": factories.priority(a).id,
            "request": factories.support_request(a).id,
            "visit": factories.visit(a, visitor=people["ex"], shared_at=utcnow()).id,
            "category": categories.active_scheme().categories[0].id, "categorisation": categorisation.id,
            "dispute": dispute.id, "run": approved.run_id, "allocation": approved.id,
            "retention_rule": db.session.scalar(select(RetentionRule.id).limit(1)),
        }
        emails = {k: v.email for k, v in people.items()}
    return ids, emails


def _client(app, email: str | None) -> Browser:
    browser = Browser(app.test_client())
    if email:
        assert browser.login(email, factories.PASSWORD).status_code == 302
    return browser


def _request(browser: Browser, method: str, url: str):
    if method == "GET":
        return browser.get(url)
    # A real CSRF token from a page every signed-in user (or visitor) can open, and an empty form.
    token_page = "/" if browser.client.get_cookie("trust_session") else "/login"
    page = browser.client.get(token_page, follow_redirects=True).get_data(as_text=True)
    from tests.conftest import csrf_token

    return browser.client.post(url, data={"csrf_token": csrf_token(page)})


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables if t.name != AuditEvent.__tablename__}


def test_table_covers_every_route(app):
    listed = {(m, u.split("?")[0]) for m, u, _ in TABLE}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "bootstrap.static"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            url = rule.rule
            for arg in rule.arguments:
                url = url.replace(f"<int:{arg}>", "{x}").replace(f"<{arg}>", "{x}")
            if not any(m == method and _shape(u) == _shape(url) for m, u in listed):
                missing.append(f"{method} {rule.rule}")
    assert missing == [], f"routes missing from the access-control table: {missing}"


def _shape(url: str) -> str:
    import re

    url = re.sub(r"\{[a-z_]+\}", "{x}", url)
    return re.sub(r"\.(csv|xlsx|pdf)$", ".{x}", url)


@pytest.mark.parametrize("method,template,allowed", TABLE, ids=[f"{m} {u}" for m, u, _ in TABLE])
def test_route_against_every_actor(app, world, method, template, allowed):
    ids, emails = world
    url = template.format(**ids)
    allowed_set = set(allowed.split())
    # Those who may not act go first, so nothing an allowed actor changes can hide a refusal.
    order = ["an"] + sorted(ACTORS, key=lambda a: a in allowed_set)
    wrong = []
    for actor in order:
        browser = _client(app, emails.get(actor))
        if method == "GET":
            with app.app_context():
                before = _row_counts()
        response = _request(browser, method, url)
        status = response.status_code
        location = response.headers.get("Location", "")
        if method == "GET":
            with app.app_context():
                assert _row_counts() == before, f"GET {url} as {actor} changed the database"
        if actor == "an" and "an" not in allowed_set:
            ok = status == 302 and "/login" in location
            expected = "sent to sign in"
        elif actor == "an" and template.startswith("/login"):
            ok = status in (200, 302, 400) and status != 500
            expected = "the sign-in pages"
        elif actor in allowed_set and template == "/logout":
            ok = status == 302 and "/login" in location
            expected = "signed out"
        elif actor in allowed_set:
            ok = status not in (401, 403, 500) and "/login" not in location
            expected = "allowed"
        else:
            ok = status == 403 or (template.startswith("/login") and status in (302, 400))
            expected = "403"
        if not ok:
            wrong.append(f"{actor}: expected {expected}, got {status} {location}")
    assert wrong == [], f"{method} {url}: " + "; ".join(wrong)
