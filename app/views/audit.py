"""The audit log, for administrators and the CEO."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, render_template, request

from app.models import Role
from app.permissions import roles
from app.services import audit
from forms.audit import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/audit")
MAX_PAGE = 1_000_000


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
            # 31 December 9999 has no day after it: "until then" means no upper limit.
            until=datetime.combine(form.until.data, time.min, UTC) + timedelta(days=1)
            if form.until.data and form.until.data < date.max else None,
        )
    page = request.args.get("page", 1, type=int)
    # A made-up page number beyond any real one must not overflow the database's integers.
    events = audit.search(filters, page=min(max(page, 1), MAX_PAGE))
    return render_template("audit/list.html", form=form, events=events)
