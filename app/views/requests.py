"""Support requests: the school drafts and submits, the executive triages; impact when support ends."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import (
    AREA_LABELS,
    PHASE_LABELS,
    Area,
    Funding,
    KeyStage,
    RequestStatus,
    Role,
    SupportType,
)
from app.models.request import KEY_STAGE_LABELS, SUPPORT_TYPE_LABELS
from app.permissions import require_school, roles
from app.services import impact, priorities, requests
from app.services.errors import IllegalTransition, ValidationError
from app.terms import AcademicYear, Term
from forms.requests import CompleteForm, ImpactForm, RequestForm, SubmitRequestForm, SupporterNoteForm, TriageForm

bp = Blueprint("requests", __name__, url_prefix="/requests")

SCHOOL = (Role.HEADTEACHER, Role.SCHOOL_STAFF)
LEADERS = (Role.CEO, Role.EXECUTIVE)


def _me():
    return current_user._get_current_object()


def _terms() -> list[tuple[str, str]]:
    today = date.today()
    this = AcademicYear.of(today)
    return [(f"{y.start}:{t.value}", f"{t.label} {y.label}") for y in (this, this.next()) for t in Term
            if y.term_dates(t)[1] >= today]


def _form(row=None) -> RequestForm:
    me = _me()
    data = {}
    if row is not None:
        data = {"term": f"{row.academic_year}:{row.term.value}", "area": row.area.value, "phase": row.phase.value,
                "key_stage": row.key_stage.value, "support_type": row.support_type.value,
                "funding": row.funding.value}
    elif me.school is not None:
        data = {"phase": me.school.phase.value, "funding": Funding.CORE.value}
    form = RequestForm(obj=row, data=data)
    school_id = row.school_id if row else me.school_id
    this = AcademicYear.of(date.today())
    options = priorities.available_for(school_id, this) + priorities.for_school(school_id, this.next())
    form.priority_id.choices = [(0, "Choose a priority")] + [
        (p.id, f"{'Trust-wide' if p.trust_wide else AcademicYear(p.start_year).label}: {p.title}") for p in options]
    form.area.choices = [(a.value, AREA_LABELS[a]) for a in Area]
    form.phase.choices = list((p.value, label) for p, label in PHASE_LABELS.items())
    form.key_stage.choices = [(k.value, KEY_STAGE_LABELS[k]) for k in KeyStage]
    form.support_type.choices = [(s.value, SUPPORT_TYPE_LABELS[s]) for s in SupportType]
    form.term.choices = _terms()
    form.funding.choices = [(f.value, f.label) for f in Funding]
    return form


def _data(form: RequestForm) -> requests.RequestData:
    year, _, term = (form.term.data or "0:").partition(":")
    return requests.RequestData(
        priority_id=form.priority_id.data or None, title=form.title.data, area=form.area.data,
        phase=form.phase.data, key_stage=form.key_stage.data, need=form.need.data, evidence=form.evidence.data,
        desired_outcomes=form.desired_outcomes.data, target_date=form.target_date.data,
        support_type=form.support_type.data, days_requested=form.days_requested.data, academic_year=int(year),
        term=term, funding=form.funding.data, preferred_dates=form.preferred_dates.data or "",
        budget_gbp=form.budget_gbp.data)


def _error(form, exc) -> None:
    target = getattr(form, getattr(exc, "field", None) or "", None) or form.title
    target.errors = [*target.errors, str(exc)]


@bp.route("/")
@roles(*LEADERS, Role.TRUSTEE, *SCHOOL, school_scoped=True)
def request_list():
    me = _me()
    if me.role == Role.TRUSTEE:
        return render_template("requests/counts.html", counts=requests.anonymised_counts(),
                               statuses=list(RequestStatus), areas=list(Area))
    status = request.args.get("status")
    try:
        chosen = RequestStatus(status) if status else None
    except ValueError:
        chosen = None
    pagination = requests.page_for(me, chosen, page=request.args.get("page", 1, type=int))
    return render_template("requests/list.html", rows=pagination.items, pagination=pagination,
                           statuses=list(RequestStatus), chosen=chosen, can_add=me.role in SCHOOL,
                           trust_wide=me.role in LEADERS)


@bp.route("/new", methods=["GET", "POST"])
@roles(*SCHOOL, school_scoped=True)
def request_new():
    me = _me()
    form = _form()
    if form.validate_on_submit():
        try:
            row = requests.create(me, me.school_id, _data(form))
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Draft saved. The headteacher submits it with their consent.", "success")
            return redirect(url_for("requests.request_detail", request_id=row.id))
    return render_template("requests/form.html", form=form, title="New support request")


@bp.route("/<int:request_id>")
@roles(*LEADERS, *SCHOOL, school_scoped=True)
def request_detail(request_id: int):
    me = _me()
    row = requests.get_request(request_id)
    require_school(me, row.school_id)
    return render_template("requests/detail.html", row=row, actions=requests.allowed_actions(me, row),
                           submit_form=SubmitRequestForm(), triage_form=TriageForm(), complete_form=CompleteForm(),
                           note_form=SupporterNoteForm(obj=row, data={"note": row.supporter_note or ""}),
                           is_leader=me.role in LEADERS,
                           can_edit=me.role in SCHOOL and row.status == RequestStatus.DRAFT)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@roles(*SCHOOL, school_scoped=True)
def request_edit(request_id: int):
    me = _me()
    row = requests.get_for(me, request_id)
    require_school(me, row.school_id)
    if row.status != RequestStatus.DRAFT:
        raise IllegalTransition(f"Only a draft can be edited; this request is {row.status.label.lower()}.")
    form = _form(row)
    if form.validate_on_submit():
        try:
            requests.update(me, request_id, _data(form))
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Draft saved.", "success")
            return redirect(url_for("requests.request_detail", request_id=request_id))
    return render_template("requests/form.html", form=form, title=f"Edit: {row.title}")


@bp.route("/<int:request_id>/submit", methods=["POST"])
@roles(Role.HEADTEACHER, school_scoped=True)
def request_submit(request_id: int):
    me = _me()
    row = requests.get_for(me, request_id)
    form = SubmitRequestForm()
    if form.validate_on_submit():
        try:
            requests.submit(me, request_id, bool(form.consent.data))
        except ValidationError as exc:
            flash(str(exc), "danger")
        else:
            flash("Request submitted to the executive team.", "success")
    return redirect(url_for("requests.request_detail", request_id=row.id))


@bp.route("/<int:request_id>/triage", methods=["POST"])
@roles(*LEADERS)
def request_triage(request_id: int):
    form = TriageForm()
    if form.validate_on_submit():
        try:
            requests.triage(_me(), request_id, form.decision.data, form.note.data)
        except ValidationError as exc:
            flash(str(exc), "danger")
        else:
            flash("Decision recorded.", "success")
    else:
        flash("Choose a decision.", "danger")
    return redirect(url_for("requests.request_detail", request_id=request_id))


@bp.route("/<int:request_id>/complete", methods=["POST"])
@roles(*LEADERS)
def request_complete(request_id: int):
    if CompleteForm().validate_on_submit():
        requests.complete(_me(), request_id)
        flash("Marked completed. The headteacher can now record the impact.", "success")
    return redirect(url_for("requests.request_detail", request_id=request_id))


@bp.route("/<int:request_id>/impact", methods=["GET", "POST"])
@roles(Role.HEADTEACHER, school_scoped=True)
def request_impact(request_id: int):
    me = _me()
    row = requests.get_for(me, request_id)
    if row.status != RequestStatus.COMPLETED:
        raise IllegalTransition("Impact is recorded once the support is completed, and only once.")
    form = ImpactForm()
    if form.validate_on_submit():
        try:
            impact.evaluate(me, request_id, form.rating.data, form.narrative.data)
        except ValidationError as exc:
            _error(form, exc)
        else:
            flash("Impact recorded. Thank you.", "success")
            return redirect(url_for("requests.request_detail", request_id=request_id))
    return render_template("requests/impact.html", form=form, row=row)


@bp.route("/<int:request_id>/supporter-note", methods=["POST"])
@roles(*LEADERS)
def request_supporter_note(request_id: int):
    form = SupporterNoteForm()
    if form.validate_on_submit():
        try:
            impact.add_supporter_note(_me(), request_id, form.note.data)
        except ValidationError as exc:
            flash(str(exc), "danger")
        else:
            flash("Supporter's note saved.", "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
    return redirect(url_for("requests.request_detail", request_id=request_id))
