"""CSRF, security headers, error pages and production settings."""

import pytest

from app import create_app
from app.models import Role
from tests import factories


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # only in production, behind TLS


def test_no_inline_script_on_pages(login_as):
    browser, _ = login_as(Role.ADMIN)
    for url in ("/", "/admin/users", "/schools/", "/login"):
        html = browser.get(url).get_data(as_text=True)
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script on {url}"
        assert " style=" not in html, f"inline style on {url}"


def test_post_without_csrf_token_is_refused(app, client):
    with app.app_context():
        email = factories.user(role=Role.CEO).email
    response = client.post("/login", data={"email": email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_not_found_page_is_plain(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Page not found" in response.data and b"Traceback" not in response.data


def test_unexpected_error_shows_no_traceback(app, login_as, monkeypatch):
    from app.services import dashboards

    browser, _ = login_as(Role.CEO)

    def boom(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(dashboards, "home_summary", boom)
    response = browser.get("/")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data


@pytest.mark.parametrize("settings", [
    {"SECRET_KEY": "dev-only-not-secret"},
    {"SECRET_KEY": "short"},
    {"SECRET_KEY": "x" * 40, "DEBUG": True},
])
def test_production_refuses_unsafe_settings(settings):
    with pytest.raises(RuntimeError):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


def test_production_starts_with_safe_settings():
    app = create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" in response.headers
