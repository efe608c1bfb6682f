"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.extensions import limiter
from app.permissions import public, signed_in
from app.security import start_session
from app.services import users
from forms.auth import ConfirmForm, LoginForm

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "account:" + users.normalise_email(request.form.get("email", ""))[:254]


def _failed_only(response) -> bool:
    # A successful sign-in redirects; only failures count towards the limits.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed_only)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key,
               deduct_when=_failed_only)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session on sign-in: nothing from before survives
            login_user(user)
            start_session()
            flash(f"Signed in as {user.name}.", "success")
            return redirect(next_url)
        form.email.errors.append("The email address or password is not right.")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        users.end_sessions(current_user._get_current_object(), "logout")
        logout_user()
        session.clear()
        flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
