"""Schools: list, details, create, edit, GIAS import with preview."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.models import Phase, Role
from app.permissions import TRUST_LEADERS, roles
from app.services import schools
from app.services.errors import Conflict, ValidationError
from forms.schools import ConfirmImportForm, ImportForm, SchoolForm

bp = Blueprint("schools", __name__, url_prefix="/schools")

EDITORS = (Role.ADMIN, *TRUST_LEADERS)


def _data(form: SchoolForm) -> schools.SchoolData:
    return schools.SchoolData(
        urn=form.urn.data.strip(),
        name=form.name.data,
        phase=Phase(form.phase.data),
        pupils=form.pupils.data,
        postcode=form.postcode.data,
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        local_authority=form.local_authority.data,
    )


def _error(form, exc) -> None:
    getattr(form, getattr(exc, "field", None) or "urn", form.urn).errors.append(str(exc))


@bp.route("/")
@roles(*Role)
def school_list():
    return render_template("schools/list.html", schools=schools.list_schools(), can_edit=current_user.role in EDITORS)


@bp.route("/<int:school_id>")
@roles(*Role)
def school_detail(school_id: int):
    return render_template("schools/detail.html", school=schools.get(school_id),
                           can_edit=current_user.role in EDITORS)


@bp.route("/new", methods=["GET", "POST"])
@roles(*EDITORS)
def school_new():
    form = SchoolForm()
    if form.validate_on_submit():
        try:
            school = schools.create(current_user._get_current_object(), _data(form))
        except (ValidationError, Conflict) as exc:
            _error(form, exc)
        else:
            flash(f"{school.name} added.", "success")
            return redirect(url_for("schools.school_detail", school_id=school.id))
    return render_template("schools/form.html", form=form, title="Add a school")


@bp.route("/<int:school_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def school_edit(school_id: int):
    school = schools.get(school_id)
    form = SchoolForm(obj=school, data={"phase": school.phase.value})
    if form.validate_on_submit():
        try:
            schools.update(current_user._get_current_object(), school_id, _data(form))
        except (ValidationError, Conflict) as exc:
            _error(form, exc)
        else:
            flash(f"Saved {school.name}.", "success")
            return redirect(url_for("schools.school_detail", school_id=school_id))
    return render_template("schools/form.html", form=form, title=f"Edit {school.name}")


@bp.route("/import", methods=["GET", "POST"])
@roles(*EDITORS)
def school_import():
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        try:
            preview = schools.preview_gias(upload.filename, raw)
        except ValidationError as exc:
            form.file.errors.append(str(exc))
            status = 400  # not a .csv or .xlsx, or not readable as one
        else:
            # The confirm step re-sends the file and re-checks it, so nothing is kept on the server meanwhile.
            confirm = ConfirmImportForm(filename=upload.filename, content=base64.b64encode(raw).decode())
            return render_template("schools/import_preview.html", preview=preview, confirm=confirm,
                                   filename=upload.filename)
    elif form.is_submitted():
        status = 400  # no file, or the wrong type of file
    return render_template("schools/import.html", form=form), status


@bp.route("/import/confirm", methods=["POST"])
@roles(*EDITORS)
def school_import_confirm():
    confirm = ConfirmImportForm()
    if not confirm.validate_on_submit():
        abort(400)
    try:
        raw = base64.b64decode(confirm.content.data or "", validate=True)
        result = schools.import_gias(current_user._get_current_object(), confirm.filename.data or "", raw)
    except (binascii.Error, ValidationError):
        flash("The file could not be read again; upload it once more.", "danger")
        return redirect(url_for("schools.school_import"))
    if not result.ok:
        flash("Nothing was imported: the file has problems. Correct them and upload it again.", "danger")
        return render_template("schools/import_preview.html", preview=result, confirm=None,
                               filename=confirm.filename.data), 400
    flash(f"Imported {len(result.rows)} schools.", "success")
    return redirect(url_for("schools.school_list"))
