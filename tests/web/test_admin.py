"""Account administration."""

from app.extensions import db
from app.models import AuditEvent, Role, User
from tests import factories


def test_admin_creates_a_headteacher(app, login_as):
    browser, _ = login_as(Role.ADMIN)
    with app.app_context():
        school_id = factories.school().id
    response = browser.post("/admin/users/new", {"name": "Nia Evans", "email": "Nia.Evans@Trust.example",
                                                 "role": "headteacher", "school_id": str(school_id),
                                                 "password": "a long enough passphrase"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "nia.evans@trust.example"))
        assert user.role is Role.HEADTEACHER and user.school_id == school_id
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.created"))


def test_headteacher_needs_a_school(login_as):
    browser, _ = login_as(Role.ADMIN)
    response = browser.post("/admin/users/new", {"name": "Nia Evans", "email": "nia@trust.example",
                                                 "role": "headteacher", "school_id": "0",
                                                 "password": "a long enough passphrase"})
    assert b"must belong to a school" in response.data


def test_common_password_refused_on_create(login_as):
    browser, _ = login_as(Role.ADMIN)
    response = browser.post("/admin/users/new", {"name": "Nia Evans", "email": "nia@trust.example",
                                                 "role": "ceo", "school_id": "0", "password": "password123"})
    assert b"commonly used passwords" in response.data


def test_duplicate_email_refused(app, login_as):
    browser, _ = login_as(Role.ADMIN)
    with app.app_context():
        factories.user(role=Role.CEO, email="taken@trust.example")
    response = browser.post("/admin/users/new", {"name": "X", "email": "TAKEN@trust.example", "role": "ceo",
                                                 "school_id": "0", "password": "a long enough passphrase"})
    assert b"already exists" in response.data


def test_role_change_is_audited_and_ends_sessions(app, login_as):
    browser, _ = login_as(Role.ADMIN)
    with app.app_context():
        other = factories.user(role=Role.EXECUTIVE)
        other_id, token = other.id, other.session_token
    browser.post(f"/admin/users/{other_id}", {"name": other.name, "role": "trustee", "school_id": "0",
                                              "active": "y", "submit": "Save changes"})
    with app.app_context():
        changed = db.session.get(User, other_id)
        assert changed.role is Role.TRUSTEE and changed.session_token != token
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.updated"))
        assert event.details["role"] == {"from": "executive", "to": "trustee"}


def test_admin_cannot_disable_themselves(app, login_as):
    browser, admin = login_as(Role.ADMIN)
    response = browser.post(f"/admin/users/{admin.id}", {"name": admin.name, "role": "admin", "school_id": "0",
                                                          "submit": "Save changes"})
    assert b"cannot change your own role" in response.data


def test_set_password(app, login_as):
    browser, _ = login_as(Role.ADMIN)
    with app.app_context():
        other_id = factories.user(role=Role.CEO).id
    response = browser.post(f"/admin/users/{other_id}/password",
                            {"pw-password": "a brand new passphrase", "pw-confirm": "a brand new passphrase",
                             "pw-submit": "Set password"}, token_from=f"/admin/users/{other_id}")
    assert response.status_code == 302
