"""Allocation runs, the CEO's review, and release and acceptance of approved support."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import AllocationStatus, Role, RunChoice
from app.permissions import roles
from app.services import allocation, register
from app.services.errors import IllegalTransition, ValidationError
from app.terms import AcademicYear, Term, current
from forms.allocation import AcceptForm, ApproveForm, ConfirmForm, PairForm, RejectForm, ReleaseForm, StartRunForm

bp = Blueprint("allocation", __name__, url_prefix="/allocations")
LEADERS = (Role.CEO, Role.EXECUTIVE)


def _me():
    return current_user._get_current_object()


def _start_form() -> StartRunForm:
    year, term = current()
    form = StartRunForm(data={"academic_year": year.start, "term": term.value} if request.method == "GET" else None)
    form.academic_year.choices = [(y, AcademicYear(y).label) for y in (year.start, year.start + 1)]
    return form


@bp.route("/")
@roles(*LEADERS)
def index():
    return render_template("allocation/index.html", runs=allocation.list_runs(), form=_start_form())


@bp.route("/runs", methods=["POST"])
@roles(*LEADERS)
def start():
    form = _start_form()
    if form.validate_on_submit():
        try:
            run = allocation.start_run(_me(), form.academic_year.data, Term(form.term.data))
        except ValidationError as exc:
            form.term.errors.append(str(exc))
        else:
            flash("The allocation run has started. This page shows its progress.", "info")
            return redirect(url_for("allocation.run", run_id=run.id))
    return render_template("allocation/index.html", runs=allocation.list_runs(), form=form), 400


@bp.route("/runs/<int:run_id>")
@roles(*LEADERS)
def run(run_id: int):
    allocation.list_runs(limit=1)  # reaps runs whose worker stopped, so their state is honest
    return render_template("allocation/run.html", run=allocation.get_run(run_id), form=ConfirmForm())


@bp.route("/runs/<int:run_id>/cancel", methods=["POST"])
@roles(*LEADERS)
def cancel(run_id: int):
    if ConfirmForm().validate_on_submit():
        allocation.cancel_run(_me(), run_id)
        flash("The run has been asked to stop; nothing from it will be saved.", "info")
    return redirect(url_for("allocation.run", run_id=run_id))


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
@roles(*LEADERS)
def retry(run_id: int):
    if ConfirmForm().validate_on_submit():
        allocation.retry_run(_me(), run_id)
        flash("The run has been queued again.", "info")
    return redirect(url_for("allocation.run", run_id=run_id))


@bp.route("/runs/<int:run_id>/rerun", methods=["POST"])
@roles(Role.CEO)
def rerun(run_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            new = allocation.rerun(_me(), run_id)
        except ValidationError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("allocation.review", run_id=run_id))
        flash("Re-running with your pins and bans.", "info")
        return redirect(url_for("allocation.run", run_id=new.id))
    return redirect(url_for("allocation.review", run_id=run_id))


@bp.route("/runs/<int:run_id>/review")
@roles(*LEADERS)
def review(run_id: int):
    data = allocation.review(run_id)
    rules = allocation.pair_rules([a.request_id for a in data.allocations] + [u["request_id"] for u in data.unmet])
    approve_form = ApproveForm()
    approve_form.allocation_ids.choices = [(a.id, str(a.id)) for a in data.allocations
                                           if a.status is AllocationStatus.PROPOSED]
    return render_template("allocation/review.html", data=data, rules=rules, approve_form=approve_form,
                           reject_form=RejectForm(), pair_form=PairForm(), confirm=ConfirmForm(),
                           can_decide=current_user.role is Role.CEO, Status=AllocationStatus)


@bp.route("/runs/<int:run_id>/approve", methods=["POST"])
@roles(Role.CEO)
def approve(run_id: int):
    form = ApproveForm()
    run = allocation.get_run(run_id)
    form.allocation_ids.choices = [(a.id, str(a.id)) for a in run.allocations]
    if not form.validate_on_submit():
        flash("Tick at least one allocation to approve.", "danger")
        return redirect(url_for("allocation.review", run_id=run_id))
    outcome = allocation.approve(_me(), form.allocation_ids.data)
    if outcome.approved:
        flash(f"Approved {len(outcome.approved)} allocation{'s' if len(outcome.approved) != 1 else ''}; "
              "the supporters' headteachers have been asked to release them.", "success")
    for a, why in outcome.refused:
        flash(f"Allocation {a.id} was not approved: {why}", "danger")
    return redirect(url_for("allocation.review", run_id=run_id))


@bp.route("/<int:allocation_id>/reject", methods=["POST"])
@roles(Role.CEO)
def reject(allocation_id: int):
    a = allocation.get_allocation(allocation_id)
    form = RejectForm()
    if form.validate_on_submit():
        allocation.reject(_me(), allocation_id, form.reason.data)
        flash("Allocation rejected.", "info")
    else:
        flash("Give a reason for rejecting the allocation (at most 1,000 characters).", "danger")
    return redirect(url_for("allocation.review", run_id=a.run_id))


@bp.route("/<int:allocation_id>/swap", methods=["POST"])
@roles(Role.CEO)
def swap(allocation_id: int):
    a = allocation.get_allocation(allocation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entry_id = request.form.get("entry_id", type=int)
    if entry_id is None:
        flash("Choose the alternative to swap in.", "danger")
    else:
        try:
            new = allocation.swap(_me(), allocation_id, entry_id)
        except ValidationError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"{new.entry.name} swapped in; approve the new allocation when you are ready.", "success")
    return redirect(url_for("allocation.review", run_id=a.run_id))


@bp.route("/pairs", methods=["POST"])
@roles(Role.CEO)
def pair():
    form = PairForm()
    run_id = request.form.get("run_id", type=int)
    if form.validate_on_submit() and str(form.request_id.data).isdigit():
        choice = None if form.choice.data == "clear" else RunChoice(form.choice.data)
        allocation.set_pair_rule(_me(), int(form.request_id.data), form.entry_id.data, choice)
        flash("Saved. Re-run to apply your pins and bans.", "success")
    else:
        flash("That pin or ban could not be saved: choose a request, a supporter and a rule.", "danger")
    if run_id:
        return redirect(url_for("allocation.review", run_id=run_id))
    return redirect(url_for("allocation.index"))


@bp.route("/releases")
@roles(Role.HEADTEACHER)
def releases():
    return render_template("allocation/releases.html", items=allocation.awaiting_release(_me()), form=ReleaseForm())


@bp.route("/<int:allocation_id>/release", methods=["POST"])
@roles(Role.HEADTEACHER, school_scoped=True)
def release(allocation_id: int):
    form = ReleaseForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        allocation.require_releaser(_me(), allocation_id)  # another school's headteacher gets a 403
        flash("Say whether you can release them.", "danger")
        return redirect(url_for("allocation.releases"))
    try:
        allocation.release(_me(), allocation_id, form.agree.data == "yes", form.reason.data or "")
    except ValidationError as exc:
        flash(str(exc), "danger")
    else:
        flash("Thank you; your answer has been sent.", "success")
    return redirect(url_for("allocation.releases"))


@bp.route("/mine")
@roles(*Role)
def assignments():
    entry = register.entry_of_user(_me())
    return render_template("allocation/assignments.html", items=allocation.assignments_of(_me()), entry=entry,
                           form=AcceptForm())


@bp.route("/<int:allocation_id>/accept", methods=["POST"])
@roles(*Role)
def accept(allocation_id: int):
    if AcceptForm().validate_on_submit():
        try:
            allocation.accept(_me(), allocation_id)
        except IllegalTransition as exc:
            flash(str(exc), "danger")
            return redirect(url_for("allocation.assignments"))
        flash("Accepted. The school has been told and will be in touch about dates.", "success")
    return redirect(url_for("allocation.assignments"))
