"""Faults the service must survive: Redis down (throttling still holds) and PostgreSQL restarted mid-request.

PostgreSQL is never restarted on the shared server: the test starts a private cluster of its own in a temporary
folder, on a free port, and stops and starts that one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import create_app
from app.extensions import db, limiter
from app.models import Role, School
from tests import factories
from tests.conftest import Browser, csrf_token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wrong_logins(browser: Browser, email: str, times: int) -> list[int]:
    return [browser.login(email, "not the right password").status_code for _ in range(times)]


@pytest.fixture
def throttle_store(app):
    """use(uri, prefix) points the login throttle at another store for one test; it is put back afterwards."""
    saved_uri, saved_prefix = app.config["RATELIMIT_STORAGE_URI"], limiter._key_prefix

    def use(uri: str, prefix: str = "") -> None:
        app.config["RATELIMIT_STORAGE_URI"] = uri
        limiter._key_prefix = prefix
        limiter._storage_dead = False
        limiter.init_app(app)

    yield use
    app.config["RATELIMIT_STORAGE_URI"] = saved_uri
    limiter._key_prefix = saved_prefix
    limiter._storage_dead = False
    limiter.init_app(app)
    limiter.reset()


def _account(app, role=Role.CEO):
    with app.app_context():
        return factories.user(role=role).email


def test_redis_unreachable_site_serves_and_throttle_holds(app, throttle_store):
    throttle_store(f"redis://127.0.0.1:{_free_port()}")  # nobody listens there
    email = _account(app)
    browser = Browser(app.test_client())
    assert browser.get("/login").status_code == 200
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    assert _wrong_logins(browser, email, limit) == [200] * limit
    assert browser.login(email, "not the right password").status_code == 429
    assert limiter._storage_dead is True  # it really is the in-memory fallback answering
    # Someone else can still sign in, and signed-in pages work.
    other = Browser(app.test_client())
    assert other.login(_account(app), factories.PASSWORD).status_code == 302
    assert other.get("/").status_code == 200


def _redis(port: int):
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        return None
    return client


def test_throttle_counts_in_the_real_redis(app, throttle_store):
    client = _redis(6379)
    if client is None:
        pytest.skip("no Redis on 127.0.0.1:6379 (the app falls back to memory without it; tested above)")
    prefix = f"test-security-{uuid.uuid4().hex[:8]}"
    throttle_store("redis://127.0.0.1:6379/0", prefix)
    try:
        email = _account(app)
        browser = Browser(app.test_client())
        limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
        assert _wrong_logins(browser, email, limit) == [200] * limit
        assert browser.login(email, factories.PASSWORD).status_code == 429
        assert limiter._storage_dead is False
        assert list(client.scan_iter(match=f"*{prefix}*"))  # the counts are in Redis, under our prefix only
    finally:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)


def test_redis_dying_mid_way_keeps_the_throttle(app, throttle_store, tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if _redis(port):
                break
            time.sleep(0.1)
        throttle_store(f"redis://127.0.0.1:{port}/0")
        email = _account(app)
        browser = Browser(app.test_client())
        assert _wrong_logins(browser, email, 2) == [200, 200]
        proc.terminate()
        proc.wait(timeout=10)
        # Redis is gone: the site still answers, and the limit is still enforced (the in-memory count starts
        # afresh, so at most one window's worth of extra attempts is possible).
        limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
        assert _wrong_logins(browser, email, limit) == [200] * limit
        assert browser.login(email, "not the right password").status_code == 429
        assert browser.get("/login").status_code == 200
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- PostgreSQL restarted mid-request ---------------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, run as the `postgres` OS user."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("PostgreSQL server binaries are not installed")
        self.bin = bins[-1]
        self.folder = tempfile.mkdtemp(prefix="security-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "immediate") -> None:
        # immediate: no shutdown checkpoint; the next start recovers from the write-ahead log, as after a crash.
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def sessions_running(self, fragment: str) -> bool:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            rows = conn.execute("SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid()").fetchall()
        return any(fragment in (row[0] or "") for row in rows)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("runs with the PostgreSQL suite (TEST_DATABASE_URL=postgresql://...)")
    if os.geteuid() != 0 and os.environ.get("USER") != "postgres":
        pytest.skip("starting a private cluster needs root (to run it as `postgres`) or the postgres user")
    cluster = PrivatePostgres()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.remove()


def _school_form(n: int) -> dict:
    return {"urn": f"{990500 + n}", "name": f"Restart Test School {n}", "phase": "primary"}


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_restarted_mid_request(private_postgres, monkeypatch, tmp_path):
    from app.services import dashboards

    cluster = private_postgres
    faulty = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": cluster.url, "INSTANCE_PATH": tmp_path,
                         "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                                       "connect_args": {"connect_timeout": 3}}})
    try:
        with faulty.app_context():
            upgrade(revision="heads")
            email = factories.user(role=Role.CEO).email
        browser = Browser(faulty.test_client())
        assert browser.login(email, factories.PASSWORD).status_code == 302
        for n in range(5):
            assert browser.post("/schools/new", _school_form(n)).status_code == 302
        with faulty.app_context():
            committed = [(s.urn, s.name) for s in db.session.scalars(select(School).order_by(School.urn))]
        assert len(committed) == 5
        token = csrf_token(browser.get("/schools/new").get_data(as_text=True))

        # A request is in the middle of a query when the server goes down.
        real_summary = dashboards.home_summary

        def slow_summary(user):
            db.session.execute(text("SELECT pg_sleep(20)"))
            return real_summary(user)

        monkeypatch.setattr(dashboards, "home_summary", slow_summary)
        in_flight = []
        worker = threading.Thread(target=lambda: in_flight.append(browser.get("/")))
        worker.start()
        deadline = time.monotonic() + 10
        while not cluster.sessions_running("pg_sleep") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cluster.sessions_running("pg_sleep"), "the slow request never reached the database"
        cluster.stop("immediate")
        worker.join(timeout=30)
        assert in_flight and in_flight[0].status_code == 503
        assert b"The service is unavailable" in in_flight[0].data and b"Traceback" not in in_flight[0].data
        monkeypatch.setattr(dashboards, "home_summary", real_summary)

        # While it is down: plain 503 pages, for reading and for saving alike; nothing half-saved.
        down = browser.get("/")
        assert down.status_code == 503 and down.headers["Retry-After"]
        refused = browser.client.post("/schools/new", data={**_school_form(9), "csrf_token": token})
        assert refused.status_code == 503

        # Back up: the next request is served (pool_pre_ping drops the dead connections) and nothing is lost.
        cluster.start()
        assert browser.get("/").status_code == 200
        with faulty.app_context():
            after = [(s.urn, s.name) for s in db.session.scalars(select(School).order_by(School.urn))]
        assert after == committed
        assert browser.post("/schools/new", _school_form(9)).status_code == 302  # the retry succeeds
        with faulty.app_context():
            assert db.session.scalar(select(School).where(School.urn == "990509")) is not None
    finally:
        with faulty.app_context():
            db.session.remove()
            db.engine.dispose()


def test_database_error_while_signed_in_is_a_plain_503(app, login_as, monkeypatch):
    """The same path on any database: the error page must not need the database it has just lost."""
    from sqlalchemy.exc import OperationalError

    from app.services import users

    browser, _ = login_as(Role.CEO)

    def gone(session_id):
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(users, "load_session_user", gone)
    response = browser.get("/")
    assert response.status_code == 503
    assert b"The service is unavailable" in response.data and b"Traceback" not in response.data
    assert response.headers["Retry-After"] == "30"
    monkeypatch.undo()
    assert browser.get("/").status_code == 200  # and back once the database answers
