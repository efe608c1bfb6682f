"""Optional two-step sign-in (TOTP) for the CEO, executive team and admins."""

import json
import re

import pyotp
import pytest

from app.extensions import db
from app.models import AuditEvent, Role, User
from app.services import two_factor
from tests import factories

NOW = 1_790_000_000.0  # a fixed clock: codes are computed for it


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(two_factor, "_now", lambda: NOW)


def _code(secret, offset_steps=0):
    return pyotp.TOTP(secret).at(NOW + offset_steps * 30)


def _user_with_two_step(app, role=Role.CEO):
    with app.app_context():
        user = factories.user(role=role, totp_secret=pyotp.random_base32(), totp_enabled=True)
        return user.email, user.id, user.totp_secret


def _actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_set_up_confirm_and_the_secret_stays_out_of_the_audit_log(app, login_as):
    browser, user = login_as(Role.EXECUTIVE)
    page = browser.get("/account/two-step")
    assert page.status_code == 200 and b"Two-step sign-in is off" in page.data
    assert browser.post("/account/two-step/start", {}, token_from="/account/two-step").status_code == 302
    with app.app_context():
        secret = db.session.get(User, user.id).totp_secret
    assert secret and len(secret) >= 32
    page = browser.get("/account/two-step").get_data(as_text=True)
    assert "otpauth://totp/" in page and "<svg" in page and " style=" not in page
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page

    wrong = browser.post("/account/two-step/confirm", {"code": "000000"}, token_from="/account/two-step")
    assert wrong.status_code == 400 and b"That code is not right" in wrong.data
    with app.app_context():
        assert db.session.get(User, user.id).totp_enabled is False

    right = browser.post("/account/two-step/confirm", {"code": _code(secret)}, token_from="/account/two-step")
    assert right.status_code == 200 and b"Your recovery codes" in right.data
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", right.get_data(as_text=True))
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.totp_enabled is True
        assert all(h.startswith("$argon2id$") for h in stored.totp_recovery_hashes)
        details = json.dumps([e.details for e in db.session.scalars(db.select(AuditEvent))])
        columns = json.dumps(stored.totp_recovery_hashes)
    assert secret not in details
    assert not any(c in details or c.replace("-", "") in columns for c in codes)
    assert {"user.two_factor_started", "user.two_factor_enabled"} <= set(_actions(app))


def test_sign_in_asks_for_the_code_and_is_not_signed_in_until_then(app, browser, client):
    email, user_id, secret = _user_with_two_step(app)
    response = browser.login(email, factories.PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    with client.session_transaction() as s:
        assert "_user_id" not in s
    assert browser.get("/").status_code == 302  # not signed in yet
    assert "auth.login" not in _actions(app)

    wrong = browser.post("/login/code", {"code": "123456"})
    assert wrong.status_code == 200 and b"That code is not right" in wrong.data
    assert browser.get("/").status_code == 302

    right = browser.post("/login/code", {"code": _code(secret)})
    assert right.status_code == 302
    assert browser.get("/").status_code == 200
    with app.app_context():
        login = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
        assert login.details == {"second_step": "code"} and login.actor_id == user_id


def test_a_code_cannot_be_used_twice(app, browser):
    email, _, secret = _user_with_two_step(app)
    browser.login(email, factories.PASSWORD)
    assert browser.post("/login/code", {"code": _code(secret)}).status_code == 302
    browser.logout()
    browser.login(email, factories.PASSWORD)
    replay = browser.post("/login/code", {"code": _code(secret)})
    assert replay.status_code == 200 and b"That code is not right" in replay.data
    # Nor the code before it, which is older than the one used.
    assert browser.post("/login/code", {"code": _code(secret, -1)}).status_code == 200
    # The next step's code is fine.
    assert browser.post("/login/code", {"code": _code(secret, +1)}).status_code == 302


@pytest.mark.parametrize("offset,ok", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_clock_drift_of_one_step_is_allowed(app, offset, ok):
    with app.app_context():
        user = factories.user(role=Role.ADMIN, totp_secret=pyotp.random_base32(), totp_enabled=True)
        result = two_factor.complete_sign_in(user.id, user.session_token, _code(user.totp_secret, offset))
        assert (result is not None) == ok


def test_code_step_is_throttled(app, browser):
    email, _, secret = _user_with_two_step(app)
    browser.login(email, factories.PASSWORD)
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert browser.post("/login/code", {"code": "000000"}).status_code == 200
    assert browser.post("/login/code", {"code": _code(secret)}).status_code == 429


def test_code_step_without_a_password_goes_back_to_sign_in(browser):
    response = browser.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_code_step_expires(app, browser, client):
    email, _, secret = _user_with_two_step(app)
    browser.login(email, factories.PASSWORD)
    with client.session_transaction() as s:
        pending = s["pending_sign_in"]
        pending["at"] -= 301
        s["pending_sign_in"] = pending
    response = browser.post("/login/code", {"code": _code(secret)}, token_from="/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert browser.get("/").status_code == 302


def test_disabling_the_account_between_the_steps_refuses_the_code(app, browser):
    email, user_id, secret = _user_with_two_step(app)
    browser.login(email, factories.PASSWORD)
    with app.app_context():
        u = db.session.get(User, user_id)
        u.active = False
        db.session.commit()
    assert browser.post("/login/code", {"code": _code(secret)}).status_code == 200
    assert browser.get("/").status_code == 302


@pytest.mark.parametrize("role,status", [
    (Role.CEO, 200), (Role.EXECUTIVE, 200), (Role.ADMIN, 200),
    (Role.HEADTEACHER, 403), (Role.SCHOOL_STAFF, 403), (Role.TRUSTEE, 403),
])
def test_offered_to_ceo_executive_and_admin_only(login_as, role, status):
    browser, _ = login_as(role)
    assert browser.get("/account/two-step").status_code == status


def test_user_can_turn_it_off_with_a_code(app, browser):
    email, user_id, secret = _user_with_two_step(app, Role.ADMIN)
    browser.login(email, factories.PASSWORD)
    browser.post("/login/code", {"code": _code(secret)})
    same = browser.post("/account/two-step/disable", {"code": _code(secret)}, token_from="/account/two-step")
    assert same.status_code == 400  # that code was just used to sign in
    assert browser.post("/account/two-step/disable", {"code": _code(secret, 1)},
                        token_from="/account/two-step").status_code == 302
    with app.app_context():
        u = db.session.get(User, user_id)
        assert u.totp_enabled is False and u.totp_secret is None
    assert "user.two_factor_disabled" in _actions(app)


def test_admin_resets_two_step_sign_in_and_signs_the_person_out(app, login_as):
    from tests.conftest import Browser

    email, user_id, secret = _user_with_two_step(app, Role.CEO)
    theirs = Browser(app.test_client())
    theirs.login(email, factories.PASSWORD)
    theirs.post("/login/code", {"code": _code(secret)})
    assert theirs.get("/").status_code == 200
    admin, admin_user = login_as(Role.ADMIN)
    page = admin.get(f"/admin/users/{user_id}")
    assert b"Reset two-step sign-in" in page.data
    assert admin.post(f"/admin/users/{user_id}/two-step/reset", {}, token_from=f"/admin/users/{user_id}"
                      ).status_code == 302
    with app.app_context():
        u = db.session.get(User, user_id)
        assert (u.totp_enabled, u.totp_secret) == (False, None)
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset")).one()
        assert event.actor_id == admin_user.id and event.details == {"was": "on"}
    assert theirs.get("/").status_code == 302
    # Without two-step sign-in, the password alone signs them in again.
    assert theirs.login(email, factories.PASSWORD).headers["Location"].endswith("/")


def test_only_admins_reset(app, login_as):
    browser, _ = login_as(Role.CEO)
    _, user_id, _ = _user_with_two_step(app, Role.EXECUTIVE)
    assert browser.post(f"/admin/users/{user_id}/two-step/reset", {}, token_from="/").status_code == 403
    with app.app_context():
        assert db.session.get(User, user_id).totp_enabled is True


def test_illegal_steps_are_409(app, login_as):
    browser, _ = login_as(Role.CEO)
    # Confirming before setting up.
    response = browser.post("/account/two-step/confirm", {"code": "123456"}, token_from="/account/two-step")
    assert response.status_code == 409


def test_code_step_starts_a_new_session(app, browser, client):
    email, _, secret = _user_with_two_step(app)
    browser.login(email, factories.PASSWORD)
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    browser.post("/login/code", {"code": _code(secret)})
    with client.session_transaction() as s:
        assert "planted" not in s and "pending_sign_in" not in s
        assert "_user_id" in s and "login_at" in s


def test_a_recovery_code_signs_in_once(app, browser):
    with app.app_context():
        user = factories.user(role=Role.CEO, totp_secret=pyotp.random_base32())
        user.totp_enabled = False
        db.session.commit()
        codes = two_factor.confirm(user, _code(user.totp_secret))
        email = user.email
    browser.login(email, factories.PASSWORD)
    assert browser.post("/login/code", {"code": codes[3].upper()}).status_code == 302
    with app.app_context():
        login = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
        assert login.details == {"second_step": "recovery code", "recovery_codes_left": 7}
    browser.logout()
    browser.login(email, factories.PASSWORD)
    again = browser.post("/login/code", {"code": codes[3]})
    assert again.status_code == 200 and b"That code is not right" in again.data
    assert browser.post("/login/code", {"code": codes[4].replace("-", "")}).status_code == 302


def test_reset_removes_recovery_codes(app, login_as):
    with app.app_context():
        user = factories.user(role=Role.EXECUTIVE, totp_secret=pyotp.random_base32())
        codes = two_factor.confirm(user, _code(user.totp_secret))
        user_id = user.id
    admin, _ = login_as(Role.ADMIN)
    admin.post(f"/admin/users/{user_id}/two-step/reset", {}, token_from=f"/admin/users/{user_id}")
    with app.app_context():
        assert db.session.get(User, user_id).totp_recovery_hashes is None
        assert two_factor.complete_sign_in(user_id, db.session.get(User, user_id).session_token, codes[0]) is None


# --- the secret at rest --------------------------------------------------------------------------------------


def _stored(app, user_id):
    with app.app_context():
        return db.session.execute(db.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}).scalar()


def test_the_secret_is_encrypted_at_rest(app):
    email, user_id, secret = _user_with_two_step(app)
    stored = _stored(app, user_id)
    assert stored != secret and secret not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret == secret


def test_keys_can_be_rotated_and_a_wrong_key_is_an_error_not_data(app):
    from cryptography.fernet import Fernet

    _, user_id, secret = _user_with_two_step(app)  # written with the key derived from SECRET_KEY
    old = app.config["DATA_ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    with app.app_context():
        from sqlalchemy.orm.attributes import flag_modified

        from app.models.types import derived_data_key

        # A new key first, the old one after it: old secrets still open, new writes use the new key.
        app.config["DATA_ENCRYPTION_KEYS"] = new_key
        db.session.expire_all()
        with pytest.raises(RuntimeError, match="cannot be decrypted"):
            db.session.get(User, user_id).totp_secret  # noqa: B018
        db.session.rollback()
        app.config["DATA_ENCRYPTION_KEYS"] = f"{new_key},{derived_data_key(app.config['SECRET_KEY'])}"
        db.session.expire_all()
        user = db.session.get(User, user_id)
        assert user.totp_secret == secret
        flag_modified(user, "totp_secret")  # rewritten with the new key
        db.session.commit()
        assert Fernet(new_key).decrypt(_stored(app, user_id).encode()).decode() == secret
        app.config["DATA_ENCRYPTION_KEYS"] = "not-a-key"
        db.session.expire_all()
        with pytest.raises(RuntimeError, match="Fernet keys"):
            db.session.get(User, user_id).totp_secret  # noqa: B018
        db.session.rollback()
    app.config["DATA_ENCRYPTION_KEYS"] = old


def test_the_migration_encrypts_secrets_already_stored_and_the_downgrade_decrypts_them(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    scratch = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}",
                          "INSTANCE_PATH": tmp_path})
    secret = pyotp.random_base32()
    with scratch.app_context():
        upgrade(revision="heads")
        user_id = factories.user(role=Role.CEO, totp_secret=secret, totp_enabled=True).id
        db.session.remove()
        downgrade(revision="0004_security")
        assert _stored(scratch, user_id) == secret  # plain again, as before the change
        upgrade(revision="heads")
        assert _stored(scratch, user_id).startswith("gAAAAA")
        assert db.session.get(User, user_id).totp_secret == secret
        db.session.remove()
        db.engine.dispose()


def test_rotate_data_keys_re_encrypts_every_secret_with_the_first_key(app, runner):
    from cryptography.fernet import Fernet

    from app.models.types import derived_data_key

    _, user_id, secret = _user_with_two_step(app)
    new_key = Fernet.generate_key().decode()
    old = app.config["DATA_ENCRYPTION_KEYS"]
    app.config["DATA_ENCRYPTION_KEYS"] = f"{new_key},{derived_data_key(app.config['SECRET_KEY'])}"
    try:
        result = runner.invoke(args=["rotate-data-keys"])
        assert result.exit_code == 0 and "Re-encrypted 1 " in result.output
        assert Fernet(new_key).decrypt(_stored(app, user_id).encode()).decode() == secret
        assert "security.data_keys_rotated" in _actions(app)
    finally:
        app.config["DATA_ENCRYPTION_KEYS"] = old
