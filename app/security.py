"""Response headers, session limits and the account loader, wired in by create_app."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.extensions import login_manager
from app.services import users

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@login_manager.user_loader
def _load_user(session_id: str):
    return users.load_session_user(session_id)


def _now() -> float:
    return datetime.now(UTC).timestamp()


def start_session() -> None:
    """Call right after login_user: stamp the session so idle and absolute limits can be enforced."""
    now = _now()
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = True


def _enforce_timeouts():
    if not current_user.is_authenticated or request.endpoint in ("static", "bootstrap.static"):
        return None
    now = _now()
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["ABSOLUTE_TIMEOUT"].total_seconds()
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    if now - seen_at > idle or now - login_at > absolute:
        logout_user()
        session.clear()
        flash("You were signed out because your session expired. Please sign in again.", "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = now
    return None


def _refuse_malformed_input():
    """Refuse, once and before anything reads the form, what no real form sends: a multipart part without a
    usable name (which would crash the CSRF check), or a NUL character (which PostgreSQL cannot store)."""
    if request.method not in ("POST", "PUT", "PATCH") and not request.args:
        return
    fields = list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH"):
        fields += list(request.form.items(multi=True))
        fields += [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]
    for name, value in fields:
        if not isinstance(name, str) or not isinstance(value, str):
            abort(400, "The form could not be read. Go back and try again.")
        if "\x00" in name or "\x00" in value:
            abort(400, "The form contained a character that is not allowed (a NUL character). "
                       "Remove it and try again.")


def _headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("HSTS"):
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated and "Cache-Control" not in h:
        # Pages with personal data must not linger in shared browser caches.
        h["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # First of all the before-request functions: the CSRF check must never see a malformed form.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_malformed_input)
    app.before_request(_enforce_timeouts)
    app.after_request(_headers)
