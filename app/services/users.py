"""Accounts: create, sign in, change role or school, disable, end sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import SCHOOL_ROLES, Role, School, User
from app.models.types import utcnow
from app.models.user import new_session_token
from app.services import audit, passwords
from app.services.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    role: Role
    password: str
    school_id: int | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_school(role: Role, school_id: int | None) -> int | None:
    if role in SCHOOL_ROLES:
        if not school_id:
            raise ValidationError(f"A {role.label.lower()} must belong to a school.", "school_id")
        if db.session.get(School, school_id) is None:
            raise ValidationError("That school does not exist.", "school_id")
        return school_id
    # Trust-wide roles see every school; tying them to one would mislead the permission checks.
    return None


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    return user


def by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.name)))


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the user's session token, so rotating it ends every session."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def create(new: NewUser, actor: User | None = None, *, commit: bool = True) -> User:
    email = normalise_email(new.email)
    if "@" not in email or len(email) > 254:
        raise ValidationError("Enter a valid email address.", "email")
    if not new.name.strip():
        raise ValidationError("Enter the person's name.", "name")
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(f"An account for {email} already exists.")
    passwords.check_policy(new.password, email=email, name=new.name)
    user = User(
        email=email,
        name=new.name.strip(),
        role=Role(new.role),
        school_id=_check_school(Role(new.role), new.school_id),
        password_hash=passwords.hash_password(new.password),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created",
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": user.role.value, "school_id": user.school_id},
        actor=actor,
    )
    if commit:
        db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Check the credentials; record the attempt either way. Returns the user only when they may sign in
    (or, with two-step sign-in on, go on to the code step)."""
    user = by_email(email)
    if user is None:
        passwords.burn_time(password)
        audit.record("auth.login_failed", details={"email": normalise_email(email)[:254], "reason": "unknown"},
                     actor_email=normalise_email(email)[:254], commit=True)
        return None
    if not passwords.verify(user.password_hash, password):
        audit.record("auth.login_failed", target_type="user", target_id=user.id,
                     details={"reason": "wrong password"}, actor_email=user.email, commit=True)
        return None
    if not user.active:
        audit.record("auth.login_failed", target_type="user", target_id=user.id,
                     details={"reason": "account disabled"}, actor_email=user.email, commit=True)
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.totp_enabled:
        # Not signed in yet: the view asks for the code next (app.services.two_factor.complete_sign_in).
        audit.record("auth.password_accepted", target_type="user", target_id=user.id, actor_email=user.email)
        db.session.commit()
        return user
    user.last_login_at = utcnow()
    audit.record("auth.login", target_type="user", target_id=user.id, actor=user)
    db.session.commit()
    return user


def end_sessions(user: User, reason: str) -> None:
    """Sign the user out everywhere (logout, disabling, role change)."""
    user.session_token = new_session_token()
    audit.record("auth.sessions_ended", target_type="user", target_id=user.id, details={"reason": reason},
                 actor=user if reason == "logout" else None)
    db.session.commit()


def update(actor: User, user_id: int, *, name: str, role: Role, school_id: int | None, active: bool) -> User:
    user = get(user_id)
    role = Role(role)
    if user.id == actor.id and (role != user.role or not active):
        raise ValidationError("You cannot change your own role or disable your own account.", "role")
    school_id = _check_school(role, school_id)
    changes = {}
    for field, value in (("name", name.strip()), ("role", role), ("school_id", school_id), ("active", active)):
        old = getattr(user, field)
        if old != value:
            changes[field] = {"from": getattr(old, "value", old), "to": getattr(value, "value", value)}
            setattr(user, field, value)
    if not changes:
        return user
    if {"role", "school_id", "active"} & changes.keys():
        # Permissions changed: old sessions must not keep the old rights.
        user.session_token = new_session_token()
    action = "user.disabled" if changes.get("active", {}).get("to") is False else "user.updated"
    audit.record(action, target_type="user", target_id=user.id, details=changes, actor=actor)
    db.session.commit()
    return user


def set_password(actor: User, user_id: int, password: str) -> None:
    user = get(user_id)
    passwords.check_policy(password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(password)
    user.session_token = new_session_token()
    audit.record("user.password_set", target_type="user", target_id=user.id, actor=actor)
    db.session.commit()
