"""Shared fixtures: one migrated database per run, emptied after every test; clients signed in by role."""

from __future__ import annotations

import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from app.models import Role
from tests import factories

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def _reset_postgres(url: str) -> None:
    # In CI an unreachable PostgreSQL must fail the run, never skip it: connect errors propagate.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_postgres(url)
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                      "MAIL_FILE_DIR": str(instance / "mail")})
    with app.app_context():
        upgrade(revision="heads")
    yield app


@pytest.fixture(autouse=True)
def _clean_database(request, app):
    yield
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
        _reseed()
    limiter.reset()


def _reseed() -> None:
    """Put back the reference data the migrations seed (category presets, retention rules), as every real
    database has it."""
    from app.services import categories, privacy

    categories.ensure_presets()
    privacy.ensure_rules()
    _db.session.commit()


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Browser:
    """A test client that fetches real CSRF tokens before posting, as a browser would."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, *, token_from=None, **kw):
        page = self.client.get(token_from or url)
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(page.get_data(as_text=True)))
        return self.client.post(url, data=data, **kw)

    def login(self, email, password):
        return self.post("/login", {"email": email, "password": password}, token_from="/login")

    def logout(self):
        return self.post("/logout", token_from="/")


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def login_as(app, client):
    """login_as(Role.HEADTEACHER, school=...) -> (Browser, user), signed in through the real form."""

    def _login(role: Role, school=None, **kw):
        with app.app_context():
            if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) and school is None:
                school = factories.school()
            user = factories.user(role=role, school=school, **kw)
            email, user_id = user.email, user.id
        b = Browser(client)
        response = b.login(email, factories.PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        with app.app_context():
            return b, _db.session.get(type(user), user_id)

    return _login


def pytest_sessionfinish(session, exitstatus):
    from tests import fuzzcount

    path = fuzzcount.write(session.config.rootpath)
    if path is not None:
        session.config.get_terminal_writer().line(f"fuzz cases: {sum(fuzzcount.cases.values())} (see {path})")
