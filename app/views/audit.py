"""The audit log, for administrators and the CEO."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request

from app.models import Role
from app.permissions import roles
from app.services import audit
from forms.audit import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@roles(Role.ADMIN, Role.CEO)
def event_list():
    form = AuditFilterForm(request.args)
    form.action.choices = [("", "Any action")] + [(a, a) for a in audit.actions()]
    filters = audit.AuditFilter()
    if form.validate():
        filters = audit.AuditFilter(
            action=form.action.data or None,
            actor=form.actor.data or None,
            since=datetime.combine(form.since.data, time.min, UTC) if form.since.data else None,
            until=datetime.combine(form.until.data, time.min, UTC) + timedelta(days=1) if form.until.data else None,
        )
    page = request.args.get("page", 1, type=int)
    events = audit.search(filters, page=max(page, 1))
    return render_template("audit/list.html", form=form, events=events)
