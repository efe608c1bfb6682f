"""Visits: notes of visit (drafts for the executive, shared with the headteacher) and the entitlement tracker."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import AREA_LABELS, Area, Role, VisitType
from app.permissions import require_school, roles
from app.services import schools, visits
from app.services.errors import ValidationError
from app.terms import current
from forms.visits import ShareForm, visit_form

bp = Blueprint("visits", __name__, url_prefix="/visits")

LEADERS = (Role.CEO, Role.EXECUTIVE)
VisitForm = visit_form([(a.value, AREA_LABELS[a]) for a in Area])


def _me():
    return current_user._get_current_object()


@bp.route("/")
@roles(*LEADERS, Role.HEADTEACHER, school_scoped=True)
def visit_list():
    me = _me()
    year, term = current()
    school_ids = [me.school_id] if me.role == Role.HEADTEACHER else None
    if school_ids:
        require_school(me, me.school_id)
    school_id = request.args.get("school_id", type=int) if me.role in LEADERS else None
    return render_template("visits/list.html", rows=visits.list_for(me, school_id),
                           tracker=visits.tracker(year, term, school_ids=school_ids),
                           overdue=visits.overdue(school_ids=school_ids), year=year, term=term,
                           can_add=me.role in LEADERS)


def _form(row=None):
    data = {"visit_date": date.today(), "visitor_id": _me().id}
    if row is not None:
        data = {"school_id": row.school_id, "visit_date": row.visit_date, "visitor_id": row.visitor_id,
                "visit_type": row.visit_type.value, "evidence": row.evidence, "going_well": row.going_well,
                "next_steps": row.next_steps,
                **{f"evaluation_{k}": v for k, v in (row.evaluation or {}).items()}}
    elif request.args.get("school_id", type=int):
        data["school_id"] = request.args.get("school_id", type=int)
    form = VisitForm(data=data if request.method == "GET" else None)
    form.school_id.choices = [(s.id, s.name) for s in schools.list_schools()]
    form.visitor_id.choices = [(u.id, f"{u.name} ({u.role.label})") for u in visits.visitors()]
    form.visit_type.choices = [(t.value, t.label) for t in VisitType]
    return form


def _data(form) -> visits.VisitData:
    return visits.VisitData(
        school_id=form.school_id.data, visit_date=form.visit_date.data, visitor_id=form.visitor_id.data,
        visit_type=form.visit_type.data,
        evaluation={a.value: getattr(form, f"evaluation_{a.value}").data or "" for a in Area},
        evidence=form.evidence.data or "", going_well=form.going_well.data or "",
        next_steps=form.next_steps.data or "")


def _error(form, exc) -> None:
    target = getattr(form, getattr(exc, "field", None) or "", None) or form.visit_date
    target.errors = [*target.errors, str(exc)]


@bp.route("/new", methods=["GET", "POST"])
@roles(*LEADERS)
def visit_new():
    form = _form()
    if form.validate_on_submit():
        try:
            row = visits.create(_me(), _data(form))
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Visit recorded as a draft; share the note when it is ready.", "success")
            return redirect(url_for("visits.visit_detail", visit_id=row.id))
    return render_template("visits/form.html", form=form, title="Record a visit", areas=list(Area))


@bp.route("/<int:visit_id>")
@roles(*LEADERS, Role.HEADTEACHER, school_scoped=True)
def visit_detail(visit_id: int):
    me = _me()
    row = visits.get(visit_id)
    require_school(me, row.school_id)
    row = visits.get_for(me, visit_id)
    return render_template("visits/detail.html", row=row, areas=list(Area), share_form=ShareForm(),
                           can_edit=me.role in LEADERS)


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@roles(*LEADERS)
def visit_edit(visit_id: int):
    row = visits.get(visit_id)
    form = _form(row)
    if form.validate_on_submit():
        try:
            visits.update(_me(), visit_id, _data(form))
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Note of visit saved.", "success")
            return redirect(url_for("visits.visit_detail", visit_id=visit_id))
    return render_template("visits/form.html", form=form, title=f"Edit the note of visit to {row.school.name}",
                           areas=list(Area))


@bp.route("/<int:visit_id>/share", methods=["POST"])
@roles(*LEADERS)
def visit_share(visit_id: int):
    if ShareForm().validate_on_submit():
        try:
            visits.share(_me(), visit_id)
        except ValidationError as exc:
            flash(str(exc), "danger")
        else:
            flash("Shared with the headteacher.", "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit_id))
