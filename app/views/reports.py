"""Dashboards for the CEO, executive and trustees; the allocations export; deployment summaries as PDF."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from app.models import Role
from app.permissions import roles
from app.services import nominations, reports, summaries
from forms.reports import PeriodForm

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _me():
    return current_user._get_current_object()


def _period():
    year, term = reports.period(request.args.get("year"), request.args.get("term"))
    form = PeriodForm(request.args, data={"year": str(year.start), "term": term.value})
    form.year.choices = [(str(y.start), y.label) for y in reports.year_choices()]
    form.year.data, form.term.data = str(year.start), term.value
    return year, term, form


@bp.route("/reports/")
@roles(*reports.READERS)
def dashboard():
    year, term, form = _period()
    data = reports.dashboard(_me(), year, term)
    return render_template("reports/dashboard.html", d=data, form=form, bands=reports.BANDS,
                           can_export=current_user.role in reports.EXPORTERS)


@bp.route("/reports/allocations.<fmt>")
@roles(*reports.EXPORTERS)
def allocations_export(fmt: str):
    year, term, _ = _period()
    content, filename = reports.export(_me(), fmt, year, term, run_id=request.args.get("run", type=int))
    return Response(content, mimetype="text/csv" if fmt == "csv" else XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/allocations/<int:allocation_id>/summary.pdf")
@roles(*Role, school_scoped=True)
def allocation_summary(allocation_id: int):
    content, filename = summaries.summary_pdf(_me(), allocation_id, trust=nominations.trust_name())
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
