"""Signing in (with an optional second step) and out, and setting up two-step sign-in."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.extensions import limiter
from app.permissions import public, roles, signed_in
from app.security import start_session
from app.services import two_factor, users
from app.services.errors import ValidationError
from forms.auth import CodeForm, ConfirmForm, LoginForm

bp = Blueprint("auth", __name__)


#: How long the code step waits after a correct password before the person must start again.
PENDING_SECONDS = 300


def _account_key() -> str:
    return "account:" + users.normalise_email(request.form.get("email", ""))[:254]


def _pending_account_key() -> str:
    # The code step shares the password step's per-account budget.
    return "account:" + str((session.get("pending_sign_in") or {}).get("email", ""))


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
            if user.totp_enabled:
                session["pending_sign_in"] = {"user_id": user.id, "token": user.session_token, "email": user.email,
                                              "at": time.time(), "next": next_url}
                return redirect(url_for("auth.login_code"))
            login_user(user)
            start_session()
            flash(f"Signed in as {user.name}.", "success")
            return redirect(next_url)
        form.email.errors.append("The email address or password is not right.")
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed_only)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_pending_account_key, deduct_when=_failed_only)
@public
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = session.get("pending_sign_in")
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending_sign_in", None)
        flash("Please sign in with your email address and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        user = two_factor.complete_sign_in(pending["user_id"], pending["token"], form.code.data)
        if user is not None:
            next_url = _safe_next(pending.get("next"))
            session.clear()
            login_user(user)
            start_session()
            flash(f"Signed in as {user.name}.", "success")
            return redirect(next_url)
        form.code.errors.append("That code is not right. Enter the 6-digit code your authenticator app shows now.")
    return render_template("auth/login_code.html", form=form)


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


def _me():
    return current_user._get_current_object()


def _two_factor_page(code_form: CodeForm, status: int = 200):
    user = _me()
    current = two_factor.state(user)
    uri = two_factor.provisioning_uri(user) if current == two_factor.TwoFactorState.SET_UP else None
    return render_template("auth/two_factor.html", state=current.value, uri=uri,
                           qr=two_factor.qr_svg(uri) if uri else None, secret=two_factor.grouped_secret(user),
                           start_form=ConfirmForm(), code_form=code_form), status


@bp.route("/account/two-step")
@roles(*two_factor.ELIGIBLE_ROLES)
def two_factor_page():
    return _two_factor_page(CodeForm())


@bp.route("/account/two-step/start", methods=["POST"])
@roles(*two_factor.ELIGIBLE_ROLES)
def two_factor_start():
    if ConfirmForm().validate_on_submit():
        two_factor.start(_me())
    return redirect(url_for("auth.two_factor_page"))


def _with_code(action, done: str):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            action(_me(), form.code.data)
        except ValidationError as exc:
            form.code.errors.append(str(exc))
        else:
            flash(done, "success")
            return redirect(url_for("auth.two_factor_page"))
    return _two_factor_page(form, 400)


@bp.route("/account/two-step/confirm", methods=["POST"])
@roles(*two_factor.ELIGIBLE_ROLES)
def two_factor_confirm():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            recovery = two_factor.confirm(_me(), form.code.data)
        except ValidationError as exc:
            form.code.errors.append(str(exc))
        else:
            # Shown on this response only: the codes are not kept, so they cannot be shown again.
            return render_template("auth/recovery_codes.html", codes=recovery)
    return _two_factor_page(form, 400)


@bp.route("/account/two-step/disable", methods=["POST"])
@roles(*two_factor.ELIGIBLE_ROLES)
def two_factor_disable():
    return _with_code(two_factor.disable, "Two-step sign-in is off.")
