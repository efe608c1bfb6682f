"""Data protection for administrators and the CEO: subject access, erasure, the retention schedule."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user

from app.models import Role
from app.permissions import roles
from app.services import privacy
from app.services.errors import Conflict, NotFound, ValidationError
from forms.privacy import EraseConfirmForm, EraseForm, RetentionForm, SubjectAccessForm

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

DATA_PROTECTION = (Role.ADMIN, Role.CEO)


@bp.route("/subject-access", methods=["GET", "POST"])
@roles(*DATA_PROTECTION)
def subject_access():
    form = SubjectAccessForm()
    if form.validate_on_submit():
        try:
            data = privacy.export_for(current_user._get_current_object(), form.email.data)
        except ValidationError as exc:
            form.email.errors.append(str(exc))
        else:
            body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
            name = f"subject-access-{date.today().isoformat()}.json"
            return Response(body, mimetype="application/json",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("privacy/subject_access.html", form=form)


@bp.route("/erase", methods=["GET", "POST"])
@roles(*DATA_PROTECTION)
def erase():
    form = EraseForm()
    if form.validate_on_submit():
        try:
            summary = privacy.preview_erasure(current_user._get_current_object(), form.email.data)
        except (NotFound, Conflict) as exc:
            form.email.errors.append(str(exc))
        else:
            confirm = EraseConfirmForm(formdata=None, data={"email": form.email.data, "reason": form.reason.data})
            return render_template("privacy/erase_confirm.html", form=confirm, summary=summary,
                                   email=form.email.data)
    return render_template("privacy/erase.html", form=form, audit_rule=privacy.rule_for("audit_events"))


@bp.route("/erase/confirm", methods=["POST"])
@roles(*DATA_PROTECTION)
def erase_confirm():
    form = EraseConfirmForm()
    if form.validate_on_submit():
        if privacy.normalise(form.confirm_email.data) != privacy.normalise(form.email.data):
            form.confirm_email.errors.append("The email address you typed does not match.")
        else:
            try:
                counts = privacy.anonymise(current_user._get_current_object(), form.email.data, form.reason.data)
            except (NotFound, Conflict, ValidationError) as exc:
                form.confirm_email.errors.append(str(exc))
            else:
                flash(f"Erased: {counts['accounts']} account(s), {counts['register_entries']} register "
                      f"entr{'y' if counts['register_entries'] == 1 else 'ies'} and {counts['nominations']} "
                      f"nomination(s) anonymised; {counts['emails_deleted']} email(s) deleted. The audit log "
                      "is kept unchanged.", "success")
                return redirect(url_for("privacy.erase"))
    try:
        summary = privacy.preview_erasure(current_user._get_current_object(), form.email.data or "")
    except (NotFound, Conflict) as exc:
        flash(str(exc), "danger")
        return redirect(url_for("privacy.erase"))
    return render_template("privacy/erase_confirm.html", form=form, summary=summary, email=form.email.data), 400


@bp.route("/retention")
@roles(*DATA_PROTECTION)
def retention():
    return render_template("privacy/retention.html", rules=privacy.schedule(),
                           purgers=set(privacy.PURGERS))


@bp.route("/retention/<int:rule_id>", methods=["GET", "POST"])
@roles(*DATA_PROTECTION)
def retention_edit(rule_id: int):
    rule = privacy.get_rule(rule_id)
    form = RetentionForm(obj=rule)
    if form.validate_on_submit():
        try:
            privacy.set_keep_months(current_user._get_current_object(), rule_id, form.keep_months.data)
        except ValidationError as exc:
            form.keep_months.errors.append(str(exc))
        else:
            flash(f"{rule.description}: now kept for {rule.period}.", "success")
            return redirect(url_for("privacy.retention"))
    return render_template("privacy/retention_form.html", form=form, rule=rule)
