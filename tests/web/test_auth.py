"""Signing in and out, sessions, throttling and the password policy."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from app.extensions import db
from app.models import AuditEvent, Role, User
from app.services import passwords
from app.services.errors import ValidationError
from tests import factories


def _events(app, action):
    with app.app_context():
        return [e for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action))]


def test_sign_in_and_out(app, browser):
    with app.app_context():
        user = factories.user(role=Role.CEO)
        email = user.email
    response = browser.login(email, factories.PASSWORD)
    assert response.status_code == 302
    assert browser.get("/").status_code == 200
    assert len(_events(app, "auth.login")) == 1
    browser.logout()
    assert browser.get("/").status_code == 302


def test_wrong_password_is_refused_and_audited(app, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    response = browser.login(email, "not the right password")
    assert response.status_code == 200
    assert b"The email address or password is not right" in response.data
    assert browser.get("/").status_code == 302
    assert _events(app, "auth.login_failed")[0].details == {"reason": "wrong password"}


def test_unknown_email_gets_the_same_message(browser):
    response = browser.login("nobody@trust.example", "whatever password")
    assert b"The email address or password is not right" in response.data


def test_session_cookie_flags(app, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    response = browser.login(email, factories.PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_in_starts_a_new_session(app, client, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    browser.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    browser.login(email, factories.PASSWORD)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert "_user_id" in s


def test_logout_ends_the_session_everywhere(app, client):
    from tests.conftest import Browser

    with app.app_context():
        email = factories.user(role=Role.CEO).email
    first = Browser(app.test_client())
    second = Browser(app.test_client())
    first.login(email, factories.PASSWORD)
    second.login(email, factories.PASSWORD)
    first.logout()
    # The other device's cookie carries the old session token, which no longer matches.
    assert second.get("/").status_code == 302


def test_disabling_an_account_ends_its_session(app, login_as):
    from tests.conftest import Browser

    with app.app_context():
        victim = factories.user(role=Role.EXECUTIVE)
        email, victim_id = victim.email, victim.id
    theirs = Browser(app.test_client())
    theirs.login(email, factories.PASSWORD)
    assert theirs.get("/").status_code == 200
    admin, _ = login_as(Role.ADMIN)
    response = admin.post(f"/admin/users/{victim_id}", {"name": "Victim", "role": "executive", "school_id": "0",
                                                         "submit": "Save changes"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, victim_id).active is False
    assert theirs.get("/").status_code == 302
    assert theirs.login(email, factories.PASSWORD).status_code == 200  # refused


def test_idle_timeout_signs_out(app, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    browser.login(email, factories.PASSWORD)
    idle = app.config["IDLE_TIMEOUT"]
    assert idle <= timedelta(hours=8)
    with browser.client.session_transaction() as s:
        s["seen_at"] -= idle.total_seconds() + 1
    response = browser.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_absolute_timeout_signs_out(app, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    browser.login(email, factories.PASSWORD)
    with browser.client.session_transaction() as s:
        s["login_at"] -= app.config["ABSOLUTE_TIMEOUT"].total_seconds() + 1
    assert browser.get("/").status_code == 302


def test_login_throttled_per_account(app, browser):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert browser.login(email, "wrong password here").status_code == 200
    assert browser.login(email, factories.PASSWORD).status_code == 429


def test_login_throttled_per_ip(app, browser):
    limit = int(app.config["LOGIN_LIMIT_PER_IP"].split()[0])
    for n in range(limit):
        # Different accounts each time, so only the per-IP limit can bite.
        assert browser.login(f"person{n}@trust.example", "wrong password here").status_code == 200
    assert browser.login("another@trust.example", "wrong password here").status_code == 429


@pytest.mark.parametrize("password,ok", [
    ("short", False),
    ("x" * 129, False),
    ("password1234", False),  # on the common list
    ("Password1234", False),  # the list is checked without regard to case
    ("tea with two sugars please", True),
    ("x" * 128, True),
    ("qwertyuiop", False),
    ("lowercaseonlybutlong", True),  # no composition rules
])
def test_password_policy(app, password, ok):
    with app.app_context():
        if ok:
            passwords.check_policy(password)
        else:
            with pytest.raises(ValidationError):
                passwords.check_policy(password)


def test_common_password_list_is_large():
    assert len(passwords.common_passwords()) >= 1000


def test_stored_hash_is_argon2id_with_production_parameters():
    from app.config import ProductionConfig

    hasher = PasswordHasher(time_cost=ProductionConfig.ARGON2_TIME_COST,
                            memory_cost=ProductionConfig.ARGON2_MEMORY_COST,
                            parallelism=ProductionConfig.ARGON2_PARALLELISM)
    stored = hasher.hash("tea with two sugars please")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_stored_hash_in_database_is_argon2id(app):
    with app.app_context():
        user = factories.user(role=Role.CEO)
        assert user.password_hash.startswith("$argon2id$")
        assert passwords.verify(user.password_hash, factories.PASSWORD)
