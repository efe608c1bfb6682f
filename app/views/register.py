"""The talent register: browse and search, a person's page, direct entries, renewal, import and export."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import SUBJECTS, Designation, EntryStatus, Role
from app.permissions import roles
from app.services import register, schools
from app.services.errors import Conflict, DomainError, ValidationError
from app.terms import Term, current
from forms.register import (
    ConfirmForm,
    ConfirmImportForm,
    DevelopmentForm,
    EntryForm,
    FilterForm,
    ImportForm,
    RenewalConfirmForm,
    StatusForm,
)

bp = Blueprint("register", __name__, url_prefix="/register")

BROWSERS = (Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO, Role.TRUSTEE)
EDITORS = (Role.EXECUTIVE, Role.CEO)
EXPORTERS = (Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO)


def _me():
    return current_user._get_current_object()


def _filter_form() -> tuple[FilterForm, register.Filters]:
    form = FilterForm(request.args)
    form.subject.choices = [("", "Any subject")] + [(s, s) for s in SUBJECTS]
    form.school_id.choices = [(0, "Any school")] + [(s.id, s.name) for s in schools.list_schools()]
    form.sort.choices = list(register.SORTS.items())
    if "status" not in request.args:
        form.status.data = EntryStatus.ACTIVE.value
    if not form.validate():
        return form, register.Filters()
    return form, register.Filters(
        q=form.q.data or "", area=form.area.data or "", subject=form.subject.data or "",
        phase=form.phase.data or "", key_stage=form.key_stage.data or "", designation=form.designation.data or "",
        school_id=form.school_id.data or None, available=bool(form.available.data), status=form.status.data or "",
        sort=form.sort.data or "name")


@bp.route("/")
@roles(*BROWSERS)
def entry_list():
    form, filters = _filter_form()
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)  # a huge number must not reach SQL
    entries, remaining = register.search(filters, page=page)
    year, term = current()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("register/list.html", form=form, entries=entries, remaining=remaining, year=year,
                           term=term, args=args, can_edit=current_user.role in EDITORS,
                           can_export=current_user.role in EXPORTERS)


@bp.route("/export.<fmt>")
@roles(*EXPORTERS)
def entry_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    _, filters = _filter_form()
    content = register.export(filters, fmt)
    mimetype = "text/csv" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=talent-register-{date.today():%Y-%m-%d}.{fmt}"})


@bp.route("/me")
@roles(*Role)
def my_entry():
    entry = register.entry_of_user(_me())
    if entry is None:
        flash("You do not have a page on the talent register.", "info")
        return redirect(url_for("main.home"))
    return redirect(url_for("register.entry_detail", entry_id=entry.id))


@bp.route("/<int:entry_id>")
@roles(*Role)
def entry_detail(entry_id: int):
    entry = register.get_for(_me(), entry_id)
    year, term = current()
    availability = [(t, entry.days_offered(year.start, t), register.available_days(entry, year, t)) for t in Term]
    return render_template(
        "register/detail.html", entry=entry, year=year, term=term, availability=availability,
        allocations=register.allocations_for(entry), can_edit=current_user.role in EDITORS,
        can_add_development=current_user.role in EDITORS or entry.user_id == current_user.id,
        development_form=DevelopmentForm(), status_form=StatusForm(data={"status": entry.status.value}),
        renewal_form=RenewalConfirmForm(), renew_form=ConfirmForm(),
        can_confirm=(entry.school_id is not None and current_user.role == Role.HEADTEACHER
                     and current_user.school_id == entry.school_id)
        or (entry.school_id is None and current_user.role in EDITORS),
        can_renew=current_user.role == Role.CEO)


def _entry_form(form: EntryForm, all_designations: bool) -> EntryForm:
    form.subjects.choices = [(s, s) for s in SUBJECTS]
    form.school_id.choices = [(0, "No school (trust central or external)")] + [
        (s.id, s.name) for s in schools.list_schools()]
    if not all_designations:
        form.designation.choices = [(Designation.EXTERNAL.value, Designation.EXTERNAL.label),
                                    (Designation.TRUST_CENTRAL.value, Designation.TRUST_CENTRAL.label)]
    return form


def _entry_data(form: EntryForm, year: int) -> register.EntryData:
    return register.EntryData(
        name=form.name.data, email=form.email.data, post=form.post.data, designation=form.designation.data,
        expertise=form.expertise.data, school_id=form.school_id.data or None, areas=form.areas.data or [],
        subjects=form.subjects.data or [], phases=form.phases.data or [], key_stages=form.key_stages.data or [],
        availability={year: {t: float(getattr(form, f"days_{t.value}").data) for t in Term}},
        preferred_days=form.preferred_days.data or [],
        max_travel_km=float(form.max_travel_km.data) if form.max_travel_km.data is not None else None,
        day_rate=float(form.day_rate.data), consent=bool(form.consent.data), valid_until=form.valid_until.data)


def _field_error(form, exc: DomainError) -> None:
    target = getattr(form, getattr(exc, "field", None) or "", None) or form.name
    target.errors = list(target.errors) + [str(exc)]


@bp.route("/new", methods=["GET", "POST"])
@roles(*EDITORS)
def entry_new():
    form = _entry_form(EntryForm(data={"designation": Designation.EXTERNAL.value, "consent": True}), False)
    year, _ = current()
    if form.validate_on_submit():
        try:
            entry = register.create(_me(), _entry_data(form, year.start))
        except (ValidationError, Conflict) as exc:
            _field_error(form, exc)
        else:
            flash(f"{entry.name} is on the talent register as {entry.designation.label}.", "success")
            return redirect(url_for("register.entry_detail", entry_id=entry.id))
    return render_template("register/form.html", form=form, year=year, title="Add an external consultant or "
                           "trust central staff")


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def entry_edit(entry_id: int):
    entry = register.get_for(_me(), entry_id)
    year, _ = current()
    data = {"designation": entry.designation.value, "school_id": entry.school_id or 0, "areas": entry.areas,
            "subjects": entry.subjects, "phases": entry.phases, "key_stages": entry.key_stages,
            "preferred_days": entry.preferred_day_list,
            **{f"days_{t.value}": entry.days_offered(year.start, t) for t in Term}}
    form = _entry_form(EntryForm(obj=entry, data=data), True)
    if form.validate_on_submit():
        try:
            register.update(_me(), entry_id, _entry_data(form, year.start))
        except (ValidationError, Conflict) as exc:
            _field_error(form, exc)
        else:
            flash(f"Saved {entry.name}'s entry.", "success")
            return redirect(url_for("register.entry_detail", entry_id=entry_id))
    return render_template("register/form.html", form=form, year=year, title=f"Edit {entry.name}")


@bp.route("/<int:entry_id>/status", methods=["POST"])
@roles(*EDITORS)
def entry_status(entry_id: int):
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = register.set_status(_me(), entry_id, EntryStatus(form.status.data), form.reason.data or "")
    except ValidationError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"{entry.name} is now {entry.status.label.lower()}.", "success")
    return redirect(url_for("register.entry_detail", entry_id=entry_id))


@bp.route("/<int:entry_id>/development", methods=["POST"])
@roles(*Role)
def development_add(entry_id: int):
    form = DevelopmentForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        register.require_development_access(_me(), entry_id)  # someone else gets a 403, not a form error
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("register.entry_detail", entry_id=entry_id))
    try:
        register.add_development(_me(), entry_id, form.kind.data, form.on.data, form.text.data)
    except ValidationError as exc:
        flash(str(exc), "danger")
    else:
        flash("Added to the development record.", "success")
    return redirect(url_for("register.entry_detail", entry_id=entry_id))


@bp.route("/renewals")
@roles(Role.HEADTEACHER, *EDITORS)
def renewals():
    return render_template("register/renewals.html", entries=register.renewals_due(_me()), today=date.today())


@bp.route("/<int:entry_id>/renewal/confirm", methods=["POST"])
@roles(Role.HEADTEACHER, *EDITORS)
def renewal_confirm(entry_id: int):
    form = RenewalConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = register.confirm_renewal(_me(), entry_id, bool(form.still_in_post.data),
                                         bool(form.still_available.data))
    except ValidationError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"Thank you: {entry.name}'s renewal is confirmed and waiting for the CEO.", "success")
    return redirect(url_for("register.entry_detail", entry_id=entry_id))


@bp.route("/<int:entry_id>/renew", methods=["POST"])
@roles(Role.CEO)
def entry_renew(entry_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entry = register.renew(_me(), entry_id)
    flash(f"{entry.name}'s place is renewed until {entry.valid_until.day} {entry.valid_until:%B %Y}.", "success")
    return redirect(url_for("register.entry_detail", entry_id=entry_id))


@bp.route("/import", methods=["GET", "POST"])
@roles(*EDITORS)
def entry_import():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        try:
            preview = register.preview_import(upload.filename, raw)
        except ValidationError as exc:
            form.file.errors.append(str(exc))
        else:
            confirm = ConfirmImportForm(filename=upload.filename, content=base64.b64encode(raw).decode())
            return render_template("register/import_preview.html", preview=preview, confirm=confirm,
                                   filename=upload.filename)
    return render_template("register/import.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@roles(*EDITORS)
def entry_import_confirm():
    confirm = ConfirmImportForm()
    if not confirm.validate_on_submit():
        abort(400)
    try:
        raw = base64.b64decode(confirm.content.data or "", validate=True)
        result = register.import_entries(_me(), confirm.filename.data or "", raw)
    except (binascii.Error, ValidationError):
        flash("The file could not be read again; upload it once more.", "danger")
        return redirect(url_for("register.entry_import"))
    if not result.ok:
        flash("Nothing was imported: the file has problems. Correct them and upload it again.", "danger")
        return render_template("register/import_preview.html", preview=result, confirm=None,
                               filename=confirm.filename.data), 400
    flash(f"Imported {len(result.rows)} register entries.", "success")
    return redirect(url_for("register.entry_list", status=""))


