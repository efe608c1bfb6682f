"""Every endpoint declares who may use it; roles and school scopes are enforced."""

import pytest

from app.extensions import db
from app.models import AuditEvent, Role
from app.permissions import access_of
from tests import factories

# Static assets carry no data; they are the only endpoints that need no declaration.
ASSET_ENDPOINTS = {"static", "bootstrap.static"}


def test_every_endpoint_declares_access(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ASSET_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        access = access_of(view)
        if access is None or (not access.public and not access.roles):
            undeclared.append(rule.endpoint)
    assert undeclared == [], f"endpoints with no declared roles: {undeclared}"


def test_the_walk_would_catch_an_undeclared_view(app):
    # Guard against a walk that passes vacuously: a bare function has no declaration.
    def bare():
        return "x"

    assert access_of(bare) is None


@pytest.mark.parametrize("role,status", [
    (Role.ADMIN, 200), (Role.CEO, 403), (Role.EXECUTIVE, 403), (Role.HEADTEACHER, 403),
    (Role.SCHOOL_STAFF, 403), (Role.TRUSTEE, 403),
])
def test_accounts_page_is_for_admins_only(login_as, role, status):
    browser, _ = login_as(role)
    assert browser.get("/admin/users").status_code == status


@pytest.mark.parametrize("role,status", [
    (Role.ADMIN, 200), (Role.CEO, 200), (Role.EXECUTIVE, 403), (Role.HEADTEACHER, 403), (Role.TRUSTEE, 403),
])
def test_audit_page(login_as, role, status):
    browser, _ = login_as(role)
    assert browser.get("/audit/").status_code == status


def test_refused_access_is_audited(app, login_as):
    browser, user = login_as(Role.TRUSTEE)
    assert browser.get("/admin/users").status_code == 403
    with app.app_context():
        events = list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "access.refused")))
        assert events and events[0].actor_id == user.id


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.TRUSTEE])
def test_only_leaders_and_admins_edit_schools(app, login_as, role):
    browser, _ = login_as(role)
    with app.app_context():
        school_id = factories.school().id
    assert browser.get(f"/schools/{school_id}/edit").status_code == 403
    assert browser.get("/schools/new").status_code == 403
    assert browser.get("/schools/import").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, app):
    with app.app_context():
        school_id = factories.school().id
    for url in ("/", "/schools/", f"/schools/{school_id}", "/admin/users", "/audit/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
