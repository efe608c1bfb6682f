"""Account administration: create users, set roles and schools, disable accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.models import Role
from app.permissions import roles
from app.services import schools, two_factor, users
from app.services.errors import Conflict, ValidationError
from forms.auth import ConfirmForm
from forms.users import EditUserForm, PasswordForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _school_choices():
    return [(0, "No school (trust-wide role)")] + [(s.id, f"{s.name} ({s.urn})") for s in schools.list_schools()]


def _field_error(form, exc: ValidationError | Conflict) -> None:
    target = getattr(form, getattr(exc, "field", None) or "", None) or getattr(form, "email", None) or form.name
    target.errors.append(str(exc))


@bp.route("/users")
@roles(Role.ADMIN)
def user_list():
    return render_template("admin/users.html", users=users.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_new():
    form = UserForm()
    form.school_id.choices = _school_choices()
    if form.validate_on_submit():
        try:
            user = users.create(users.NewUser(email=form.email.data, name=form.name.data, role=Role(form.role.data),
                                              password=form.password.data, school_id=form.school_id.data or None),
                                actor=current_user._get_current_object())
        except (ValidationError, Conflict) as exc:
            _field_error(form, exc)
        else:
            flash(f"Account created for {user.name}.", "success")
            return redirect(url_for("admin.user_list"))
    return render_template("admin/user_form.html", form=form, title="New account")


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_edit(user_id: int):
    user = users.get(user_id)
    form = EditUserForm(obj=user, data={"role": user.role.value, "school_id": user.school_id or 0})
    form.school_id.choices = _school_choices()
    password_form = PasswordForm(prefix="pw")
    if form.submit.data and form.validate_on_submit():
        try:
            users.update(current_user._get_current_object(), user_id, name=form.name.data, role=Role(form.role.data),
                         school_id=form.school_id.data or None, active=form.active.data)
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash(f"Saved changes to {user.name}'s account.", "success")
            return redirect(url_for("admin.user_list"))
    return render_template("admin/user_edit.html", form=form, password_form=password_form, user=user,
                           reset_form=ConfirmForm(), two_step=two_factor.state(user).value)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles(Role.ADMIN)
def user_password(user_id: int):
    user = users.get(user_id)
    form = EditUserForm(obj=user, data={"role": user.role.value, "school_id": user.school_id or 0})
    form.school_id.choices = _school_choices()
    password_form = PasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            users.set_password(current_user._get_current_object(), user_id, password_form.password.data)
        except ValidationError as exc:
            password_form.password.errors.append(str(exc))
        else:
            flash(f"New password set for {user.name}; their other sessions have ended.", "success")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    return render_template("admin/user_edit.html", form=form, password_form=password_form, user=user,
                           reset_form=ConfirmForm(), two_step=two_factor.state(user).value), 400


@bp.route("/users/<int:user_id>/two-step/reset", methods=["POST"])
@roles(Role.ADMIN)
def user_two_factor_reset(user_id: int):
    user = users.get(user_id)
    if ConfirmForm().validate_on_submit():
        two_factor.reset(current_user._get_current_object(), user_id)
        flash(f"Two-step sign-in reset for {user.name}; they are signed out and can set it up again.", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))
