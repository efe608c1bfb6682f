"""Improvement priorities: each school's two or three for the year, and the trust-wide ones."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import AREA_LABELS, SCHOOL_ROLES, Area, Role
from app.permissions import require_school, roles
from app.services import priorities, schools
from app.services.errors import Conflict, ValidationError
from app.terms import AcademicYear
from forms.priorities import PriorityForm

bp = Blueprint("priorities", __name__, url_prefix="/priorities")

EDITORS = (Role.CEO, Role.EXECUTIVE, Role.HEADTEACHER)


def _me():
    return current_user._get_current_object()


def _year() -> AcademicYear:
    this = AcademicYear.of(date.today())
    try:
        return AcademicYear.parse(request.args["year"]) if "year" in request.args else this
    except ValueError:
        return this


@bp.route("/")
@roles(Role.CEO, Role.EXECUTIVE, Role.TRUSTEE, Role.HEADTEACHER, Role.SCHOOL_STAFF, school_scoped=True)
def priority_list():
    me = _me()
    year = _year()
    context = {"year": year, "trust_wide": priorities.trust_wide(year), "minimum": priorities.MIN_PER_SCHOOL,
               "maximum": priorities.MAX_PER_SCHOOL, "can_add": me.role in EDITORS,
               "can_add_trust": me.role == Role.CEO, "previous": AcademicYear(year.start - 1),
               "next": year.next()}
    if me.role in SCHOOL_ROLES:
        require_school(me, me.school_id)
        context["own"] = priorities.for_school(me.school_id, year)
        context["school"] = me.school
        context["can_edit_own"] = me.role == Role.HEADTEACHER
        return render_template("priorities/school.html", **context)
    by_school = priorities.all_school_priorities(year)
    context["rows"] = [(s, by_school.get(s.id, [])) for s in schools.list_schools()]
    context["can_edit_own"] = me.role in (Role.CEO, Role.EXECUTIVE)
    return render_template("priorities/list.html", **context)


def _choices(form: PriorityForm) -> None:
    me = _me()
    if me.role in SCHOOL_ROLES:
        form.school_id.choices = [(me.school_id, me.school.name)]
    else:
        form.school_id.choices = [(s.id, s.name) for s in schools.list_schools()]
        if me.role == Role.CEO:
            form.school_id.choices.insert(0, (0, "Trust-wide priority (three academic years)"))
    this = AcademicYear.of(date.today())
    form.year.choices = [(y.start, y.label) for y in (this, this.next())]
    form.area.choices = [(a.value, AREA_LABELS[a]) for a in Area]


def _data(form: PriorityForm) -> priorities.PriorityData:
    return priorities.PriorityData(area=Area(form.area.data), title=form.title.data,
                                   description=form.description.data, success_criteria=form.success_criteria.data)


def _error(form, exc) -> None:
    target = getattr(form, getattr(exc, "field", None) or "", None) or form.title
    target.errors = [*target.errors, str(exc)]


@bp.route("/new", methods=["GET", "POST"])
@roles(*EDITORS, school_scoped=True)
def priority_new():
    me = _me()
    default_school = me.school_id if me.role in SCHOOL_ROLES else request.args.get("school_id", type=int)
    form = PriorityForm(data={"school_id": default_school, "year": AcademicYear.of(date.today()).start})
    _choices(form)
    if form.validate_on_submit():
        school_id = form.school_id.data or None
        if school_id is not None:
            require_school(me, school_id)
        try:
            priorities.create(me, school_id, form.year.data, _data(form))
        except (ValidationError, Conflict) as exc:
            _error(form, exc)
        else:
            flash("Priority saved.", "success")
            return redirect(url_for("priorities.priority_list", year=AcademicYear(form.year.data).label))
    return render_template("priorities/form.html", form=form, title="Add an improvement priority")


@bp.route("/<int:priority_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS, school_scoped=True)
def priority_edit(priority_id: int):
    me = _me()
    row = priorities.get(priority_id)
    if row.school_id is not None:
        require_school(me, row.school_id)
    form = PriorityForm(obj=row, data={"school_id": row.school_id or 0, "year": row.start_year,
                                       "area": row.area.value})
    _choices(form)
    form.school_id.choices = [(row.school_id or 0, row.school.name if row.school else "Trust-wide priority")]
    form.year.choices = [(row.start_year, AcademicYear(row.start_year).label)]
    if form.validate_on_submit():
        try:
            priorities.update(me, priority_id, _data(form))
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Priority saved.", "success")
            return redirect(url_for("priorities.priority_list", year=AcademicYear(row.start_year).label))
    return render_template("priorities/form.html", form=form, title="Edit the priority")
