"""Categories: the active scheme and entitlements, each school's audit, decision, board confirmation, disputes."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import AREA_LABELS, Area, DisputeOutcome, Grade, Role
from app.models.category import COLOURS
from app.permissions import require_school, roles
from app.services import categories, schools
from app.services.errors import ValidationError
from app.terms import AcademicYear
from forms.categories import (
    CategoryForm,
    ConfirmForm,
    DecisionForm,
    DisputeDecisionForm,
    DisputeForm,
    SchemeForm,
    audit_form,
)

bp = Blueprint("categories", __name__, url_prefix="/categories")

READERS = (Role.CEO, Role.EXECUTIVE, Role.TRUSTEE, Role.ADMIN)
AREAS = [(a.value, AREA_LABELS[a]) for a in Area]
AuditForm = None  # built on first use, once the areas are known


def _me():
    return current_user._get_current_object()


def _audit_form_class():
    global AuditForm
    if AuditForm is None:
        AuditForm = audit_form(AREAS, optional=(Area.EARLY_YEARS.value,))
    return AuditForm


def _field_error(form, exc: ValidationError, default: str) -> None:
    target = getattr(form, exc.field or "", None) or getattr(form, default)
    target.errors = [*target.errors, str(exc)]


@bp.route("/")
@roles(*READERS)
def overview():
    scheme = categories.active_scheme()
    form = SchemeForm(data={"scheme_id": scheme.id})
    form.scheme_id.choices = [(s.id, s.name) for s in categories.schemes()]
    year = AcademicYear.of(date.today())
    current = categories.current_categorisations()
    rows = []
    for school in schools.list_schools():
        audit_row = categories.get_audit(school.id, year.start)
        suggestion = categories.suggest(audit_row, scheme) if audit_row else None
        rows.append({"school": school, "current": current.get(school.id), "audit": audit_row,
                     "suggestion": suggestion})
    return render_template("categories/overview.html", scheme=scheme, schemes=categories.schemes(), form=form,
                           rows=rows, year=year, rules=categories.SUGGESTION_RULES,
                           can_edit=current_user.role == Role.CEO)


@bp.route("/scheme", methods=["POST"])
@roles(Role.CEO)
def set_scheme():
    form = SchemeForm()
    form.scheme_id.choices = [(s.id, s.name) for s in categories.schemes()]
    if form.validate_on_submit():
        mapped = categories.set_active_scheme(_me(), form.scheme_id.data)
        scheme = categories.active_scheme()
        flash(f"The trust now uses {scheme.name}. {mapped} school{'s' if mapped != 1 else ''} mapped by need "
              "level; check each one and record a new decision where the mapping is not right.", "success")
    else:
        flash("Choose one of the listed schemes.", "danger")
    return redirect(url_for("categories.overview"))


@bp.route("/<int:category_id>/edit", methods=["GET", "POST"])
@roles(Role.CEO)
def category_edit(category_id: int):
    category = categories.get_category(category_id)
    form = CategoryForm(obj=category)
    form.colour.choices = list(COLOURS.items())
    if form.validate_on_submit():
        try:
            categories.update_category(_me(), category_id, categories.CategoryData(
                name=form.name.data, colour=form.colour.data, description=form.description.data or "",
                visits_per_term=form.visits_per_term.data, peer_reviews_per_year=form.peer_reviews_per_year.data,
                executive_reviews_per_term=form.executive_reviews_per_term.data,
                safeguarding_reviews_per_year=form.safeguarding_reviews_per_year.data, charged=form.charged.data))
        except ValidationError as exc:
            _field_error(form, exc, "name")
        else:
            flash(f"Saved {form.name.data}.", "success")
            return redirect(url_for("categories.overview"))
    return render_template("categories/category_form.html", form=form, category=category)


def _school_page(school_id: int, status: int = 200, **forms):
    require_school(_me(), school_id)
    school = schools.get(school_id)
    scheme = categories.active_scheme()
    current = categories.current_categorisation(school_id)
    year = AcademicYear.of(date.today())
    audit_row = categories.get_audit(school_id, year.start) or categories.latest_audit(school_id)
    suggestion = categories.suggest(audit_row, scheme) if audit_row else None
    choices = [(c.id, f"{c.name} (need level {c.need_level})") for c in scheme.categories]
    decide = forms.get("decide") or DecisionForm(data={
        "category_id": suggestion.category.id if suggestion else None, "effective_from": date.today()})
    decide.category_id.choices = choices
    dispute_decision = forms.get("dispute_decision") or DisputeDecisionForm()
    dispute_decision.new_category_id.choices = [(0, "No change")] + choices
    me = _me()
    return render_template(
        "categories/school.html", school=school, scheme=scheme, current=current, year=year,
        history=categories.history(school_id), audit=audit_row, suggestion=suggestion,
        rules=categories.SUGGESTION_RULES,
        areas=list(Area), grade_labels={g: g.label for g in Grade},
        decide_form=decide, dispute_form=forms.get("dispute") or DisputeForm(), confirm_form=ConfirmForm(),
        dispute_decision_form=dispute_decision, open_dispute=categories.open_dispute(current) if current else None,
        can_decide=me.role == Role.CEO, can_audit=me.role in (Role.CEO, Role.EXECUTIVE),
        can_confirm=me.role in (Role.CEO, Role.ADMIN),
        can_dispute=me.role == Role.HEADTEACHER and me.school_id == school_id,
    ), status


@bp.route("/schools/<int:school_id>")
@roles(*Role, school_scoped=True)
def school(school_id: int):
    return _school_page(school_id)


@bp.route("/schools/<int:school_id>/audit", methods=["GET", "POST"])
@roles(Role.CEO, Role.EXECUTIVE)
def school_audit(school_id: int):
    school_row = schools.get(school_id)
    year = AcademicYear.of(date.today())
    existing = categories.get_audit(school_id, year.start)
    form_class = _audit_form_class()
    data = {"carried_out_on": date.today()}
    if existing:
        data = {"carried_out_on": existing.carried_out_on,
                "safeguarding_met": "met" if existing.safeguarding_met else "not_met",
                "safeguarding_evidence": existing.safeguarding_evidence}
        for g in existing.grades:
            data[f"grade_{g.area.value}"] = g.grade.value if g.grade else ""
            data[f"evidence_{g.area.value}"] = g.evidence
    form = form_class(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        grades = {}
        for area in Area:
            value = getattr(form, f"grade_{area.value}").data
            grades[area] = (Grade(value) if value else None, getattr(form, f"evidence_{area.value}").data or "")
        try:
            categories.save_audit(_me(), school_id, year.start, categories.AuditData(
                carried_out_on=form.carried_out_on.data, safeguarding_met=form.safeguarding_met.data == "met",
                safeguarding_evidence=form.safeguarding_evidence.data or "", grades=grades))
        except ValidationError as exc:
            _field_error(form, exc, "carried_out_on")
        else:
            flash(f"Audit saved for {school_row.name}.", "success")
            return redirect(url_for("categories.school", school_id=school_id))
    return render_template("categories/audit_form.html", form=form, school=school_row, year=year, areas=list(Area),
                           rules=categories.SUGGESTION_RULES)


@bp.route("/schools/<int:school_id>/decide", methods=["POST"])
@roles(Role.CEO)
def decide(school_id: int):
    form = DecisionForm()
    form.category_id.choices = [(c.id, c.name) for c in categories.active_scheme().categories]
    if form.validate_on_submit():
        audit_row = categories.get_audit(school_id, AcademicYear.of(form.effective_from.data).start)
        try:
            categories.categorise(_me(), school_id, form.category_id.data, form.rationale.data,
                                  form.effective_from.data, audit_id=audit_row.id if audit_row else None)
        except ValidationError as exc:
            _field_error(form, exc, "rationale")
        else:
            flash("Decision recorded. Record the board's confirmation when it is given.", "success")
            return redirect(url_for("categories.school", school_id=school_id))
    return _school_page(school_id, 400, decide=form)


@bp.route("/decisions/<int:categorisation_id>/confirm", methods=["POST"])
@roles(Role.CEO, Role.ADMIN)
def confirm(categorisation_id: int):
    row = categories.get_categorisation(categorisation_id)
    if ConfirmForm().validate_on_submit():
        categories.confirm_by_board(_me(), categorisation_id)
        flash("The board's confirmation is recorded.", "success")
    return redirect(url_for("categories.school", school_id=row.school_id))


@bp.route("/decisions/<int:categorisation_id>/dispute", methods=["POST"])
@roles(Role.HEADTEACHER, school_scoped=True)
def dispute(categorisation_id: int):
    row = categories.get_categorisation(categorisation_id)
    require_school(_me(), row.school_id)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            categories.raise_dispute(_me(), categorisation_id, form.statement.data)
        except ValidationError as exc:
            _field_error(form, exc, "statement")
        else:
            flash("Your dispute has been sent; the Chair's decision will be recorded here.", "success")
            return redirect(url_for("categories.school", school_id=row.school_id))
    return _school_page(row.school_id, 400, dispute=form)


@bp.route("/disputes/<int:dispute_id>/decide", methods=["POST"])
@roles(Role.CEO, Role.ADMIN)
def decide_dispute(dispute_id: int):
    form = DisputeDecisionForm()
    scheme = categories.active_scheme()
    form.new_category_id.choices = [(0, "No change")] + [(c.id, c.name) for c in scheme.categories]
    school_id = categories.get_dispute(dispute_id).categorisation.school_id
    if form.validate_on_submit():
        try:
            row = categories.decide_dispute(_me(), dispute_id, DisputeOutcome(form.outcome.data),
                                            form.decision.data, form.new_category_id.data or None)
        except ValidationError as exc:
            _field_error(form, exc, "decision")
        else:
            flash("The Chair's decision is recorded.", "success")
            return redirect(url_for("categories.school", school_id=row.categorisation.school_id))
    return _school_page(school_id, 400, dispute_decision=form)
