"""Home pages by role, and the health check."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.permissions import public, signed_in
from app.services import dashboards
from app.services import privacy as privacy_service

bp = Blueprint("main", __name__)


@bp.route("/")
@signed_in
def home():
    summary = dashboards.home_summary(current_user)
    return render_template("main/home.html", summary=summary)


@bp.route("/healthz")
@public
def healthz():
    return {"status": "ok", "database": dashboards.database_ok()}


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html", rules=privacy_service.schedule())


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")
