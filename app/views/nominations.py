"""Nominations: a headteacher nominates, the executive visits and interviews, the CEO offers, the nominee accepts."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.formatting import LONDON
from app.models import SUBJECTS, Role
from app.models import NominationState as S
from app.permissions import TRUST_LEADERS, require_school, roles
from app.services import nominations
from app.services.errors import Conflict, Forbidden, ValidationError
from forms.nominations import (
    AcceptForm,
    ButtonForm,
    InterviewForm,
    NominationForm,
    OfferForm,
    ReasonForm,
    ReferenceForm,
    StateFilterForm,
    VisitForm,
)

bp = Blueprint("nominations", __name__, url_prefix="/nominations")

LEADERS = TRUST_LEADERS


def _me():
    return current_user._get_current_object()


def _nomination_form(form: NominationForm) -> NominationForm:
    form.subjects.choices = [(s, s) for s in SUBJECTS]
    return form


def _data(form: NominationForm) -> nominations.NominationData:
    return nominations.NominationData(
        nominee_name=form.nominee_name.data, nominee_email=form.nominee_email.data,
        nominee_post=form.nominee_post.data, designation=form.designation.data, expertise=form.expertise.data,
        areas=form.areas.data or [], subjects=form.subjects.data or [], phases=form.phases.data or [],
        key_stages=form.key_stages.data or [], days_autumn=float(form.days_autumn.data),
        days_spring=float(form.days_spring.data), days_summer=float(form.days_summer.data),
        day_rate=float(form.day_rate.data))


def _field_error(form, exc) -> None:
    first = next(iter(form._fields.values()))
    target = getattr(form, getattr(exc, "field", None) or "", None) or first
    target.errors = list(target.errors) + [str(exc)]


def _load(nomination_id: int):
    """The nomination if this user may see it; another school's nomination is refused and audited."""
    nomination = nominations.get(nomination_id)
    if current_user.role == Role.HEADTEACHER and not nominations.is_nominee(_me(), nomination):
        require_school(_me(), nomination.school_id)
    if not nominations.can_view(_me(), nomination):
        raise Forbidden("You cannot see this nomination.")
    return nomination


@bp.route("/")
@roles(Role.HEADTEACHER, *LEADERS)
def nomination_list():
    form = StateFilterForm(request.args)
    state = form.state.data if form.validate() else ""
    return render_template("nominations/list.html", form=form, items=nominations.list_for(_me(), state or ""),
                           can_nominate=current_user.role == Role.HEADTEACHER)


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.HEADTEACHER)
def nomination_new():
    form = _nomination_form(NominationForm())
    if form.validate_on_submit():
        try:
            nomination = nominations.create(_me(), _data(form))
        except (ValidationError, Conflict, Forbidden) as exc:
            _field_error(form, exc)
            return render_template("nominations/form.html", form=form, title="Nominate a member of staff"), (
                getattr(exc, "status_code", 400))
        flash(f"Draft nomination of {nomination.nominee_name} saved. Check it, then submit it to the trust.",
              "success")
        return redirect(url_for("nominations.nomination_detail", nomination_id=nomination.id))
    return render_template("nominations/form.html", form=form, title="Nominate a member of staff")


@bp.route("/<int:nomination_id>/edit", methods=["GET", "POST"])
@roles(Role.HEADTEACHER)
def nomination_edit(nomination_id: int):
    nomination = _load(nomination_id)
    form = _nomination_form(NominationForm(obj=nomination, data={"designation": nomination.designation.value}))
    if form.validate_on_submit():
        try:
            nominations.update_draft(_me(), nomination_id, _data(form))
        except (ValidationError, Conflict) as exc:
            _field_error(form, exc)
        else:
            flash("Draft saved.", "success")
            return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    return render_template("nominations/form.html", form=form, title=f"Edit the nomination of "
                           f"{nomination.nominee_name}")


@bp.route("/<int:nomination_id>")
@roles(*Role)
def nomination_detail(nomination_id: int):
    nomination = _load(nomination_id)
    me = _me()
    is_head = me.role == Role.HEADTEACHER and me.school_id == nomination.school_id
    forms = {name: ReasonForm(prefix=name) for name in ("decline", "withdraw", "reject")}
    forms["decline"].reason.label.text = "Reason for declining"
    forms["withdraw"].reason.label.text = "Reason for withdrawing"
    forms["reject"].reason.label.text = "Reason for not taking it forward"
    return render_template(
        "nominations/detail.html", n=nomination, S=S, is_head=is_head, is_leader=me.role in LEADERS,
        is_ceo=me.role == Role.CEO, is_nominee=nominations.is_nominee(me, nomination),
        next_step=nominations.NEXT_STEP.get(nomination.state), button=ButtonForm(), accept_form=AcceptForm(),
        decline_form=forms["decline"], withdraw_form=forms["withdraw"], reject_form=forms["reject"])


@bp.route("/<int:nomination_id>/submit", methods=["POST"])
@roles(Role.HEADTEACHER)
def nomination_submit(nomination_id: int):
    _load(nomination_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    nomination = nominations.submit(_me(), nomination_id)
    flash(f"Nomination of {nomination.nominee_name} submitted. Please now complete the reference.", "success")
    return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))


@bp.route("/<int:nomination_id>/reference/write", methods=["GET", "POST"])
@roles(Role.HEADTEACHER)
def reference_write(nomination_id: int):
    nomination = _load(nomination_id)
    form = ReferenceForm()
    if form.validate_on_submit():
        try:
            nominations.complete_reference(_me(), nomination_id, nominations.ReferenceData(
                expertise=form.expertise.data, impact=form.impact.data, capacity=form.capacity.data,
                release_agreed=bool(form.release_agreed.data),
                safeguarding_confirmed=bool(form.safeguarding_confirmed.data)))
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash("Reference completed. The executive team will arrange a visit.", "success")
            return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    return render_template("nominations/step.html", n=nomination, form=form, title="Reference",
                           intro="The trust's reference template. It is read only by the executive team and the CEO.")


@bp.route("/<int:nomination_id>/reference")
@roles(*LEADERS)
def reference_view(nomination_id: int):
    nomination = nominations.view_reference(_me(), nomination_id)
    return render_template("nominations/reference.html", n=nomination)


@bp.route("/<int:nomination_id>/interview")
@roles(*LEADERS)
def interview_view(nomination_id: int):
    nomination = nominations.view_interview(_me(), nomination_id)
    return render_template("nominations/interview.html", n=nomination)


@bp.route("/<int:nomination_id>/visit", methods=["GET", "POST"])
@roles(*LEADERS)
def visit_schedule(nomination_id: int):
    nomination = _load(nomination_id)
    form = VisitForm()
    if form.validate_on_submit():
        when = form.visit_at.data.replace(tzinfo=LONDON).astimezone(UTC)
        try:
            nominations.schedule_visit(_me(), nomination_id, when)
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash("Visit scheduled.", "success")
            return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    return render_template("nominations/step.html", n=nomination, form=form, title="Schedule the visit",
                           intro="A member of the executive team visits to observe and to hold a semi-formal "
                                 "interview.")


@bp.route("/<int:nomination_id>/interview/record", methods=["GET", "POST"])
@roles(*LEADERS)
def interview_record(nomination_id: int):
    nomination = _load(nomination_id)
    form = InterviewForm()
    if form.validate_on_submit():
        try:
            nominations.record_interview(_me(), nomination_id, form.observation_notes.data,
                                         form.interview_notes.data, form.recommended.data == "yes")
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash("Observation and interview recorded; the CEO will decide on an offer.", "success")
            return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    return render_template("nominations/step.html", n=nomination, form=form, title="Observation and interview",
                           intro="Seen only by the executive team and the CEO.")


@bp.route("/<int:nomination_id>/offer", methods=["GET", "POST"])
@roles(Role.CEO)
def offer_make(nomination_id: int):
    nomination = _load(nomination_id)
    form = OfferForm(obj=nomination, data={"designation": nomination.designation.value})
    if form.validate_on_submit():
        try:
            nominations.make_offer(_me(), nomination_id, nominations.OfferTerms(
                designation=form.designation.data, days_autumn=float(form.days_autumn.data),
                days_spring=float(form.days_spring.data), days_summer=float(form.days_summer.data),
                day_rate=float(form.day_rate.data)))
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash(f"Offer made; the letter is ready and {nomination.nominee_name} and their headteacher have "
                  "been told.", "success")
            return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    return render_template("nominations/step.html", n=nomination, form=form, title="Make the offer",
                           intro="This writes the formal offer letter, signed in your name, and emails the nominee "
                                 "and their headteacher.")


@bp.route("/<int:nomination_id>/offer.pdf")
@roles(*Role)
def offer_letter(nomination_id: int):
    _load(nomination_id)
    content, filename = nominations.offer_letter(_me(), nomination_id)
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/<int:nomination_id>/accept", methods=["POST"])
@roles(*Role)
def nomination_accept(nomination_id: int):
    _load(nomination_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        nomination = nominations.accept(_me(), nomination_id, consent=bool(form.consent.data))
    except ValidationError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    flash(f"Offer accepted: {nomination.nominee_name} is on the talent register.", "success")
    return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))


def _closing(nomination_id: int, prefix: str, action, done: str):
    _load(nomination_id)
    form = ReasonForm(prefix=prefix)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Give the reason, so the timeline explains what happened.", "danger")
        return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))
    try:
        action(_me(), nomination_id, form.reason.data)
    except ValidationError as exc:
        flash(str(exc), "danger")
    else:
        flash(done, "success")
    return redirect(url_for("nominations.nomination_detail", nomination_id=nomination_id))


@bp.route("/<int:nomination_id>/decline", methods=["POST"])
@roles(*Role)
def nomination_decline(nomination_id: int):
    return _closing(nomination_id, "decline", nominations.decline, "The offer has been declined.")


@bp.route("/<int:nomination_id>/withdraw", methods=["POST"])
@roles(Role.HEADTEACHER)
def nomination_withdraw(nomination_id: int):
    return _closing(nomination_id, "withdraw", nominations.withdraw, "The nomination has been withdrawn.")


@bp.route("/<int:nomination_id>/reject", methods=["POST"])
@roles(*LEADERS)
def nomination_reject(nomination_id: int):
    return _closing(nomination_id, "reject", nominations.reject, "The nomination will not be taken forward.")
