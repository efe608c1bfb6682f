"""Who may use each view: each declares its roles (or that it is public) and, where it matters, its school scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from flask import abort
from flask_login import current_user

from app.extensions import login_manager
from app.models import SCHOOL_ROLES, Role, User

TRUST_LEADERS = (Role.CEO, Role.EXECUTIVE)
EVERYONE = tuple(Role)


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]
    public: bool = False
    school_scoped: bool = False


def _refuse(reason: str) -> None:
    from app.services import audit

    audit.record("access.refused", details={"reason": reason}, commit=True)
    abort(403)


def roles(*allowed: Role, school_scoped: bool = False) -> Callable:
    """Only signed-in users with one of these roles; `school_scoped` documents that the view checks the school."""
    allowed_set = frozenset(allowed)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed_set:
                _refuse(f"role {current_user.role.value} may not use this page")
            return view(*args, **kwargs)

        wrapped.access = Access(roles=allowed_set, school_scoped=school_scoped)
        return wrapped

    return decorator


def public(view: Callable) -> Callable:
    """Open to anyone, signed in or not (sign-in page, privacy notice, health check)."""
    view.access = Access(roles=frozenset(), public=True)
    return view


def signed_in(view: Callable) -> Callable:
    return roles(*EVERYONE)(view)


def can_see_school(user: User, school_id: int | None) -> bool:
    """Trust-wide roles see every school; school roles only their own."""
    if user.role in SCHOOL_ROLES:
        return school_id is not None and user.school_id == school_id
    return True


def require_school(user: User, school_id: int | None) -> None:
    """Refuse (403, audited) when a headteacher or school staff member reaches for another school's records."""
    if not can_see_school(user, school_id):
        _refuse(f"school {school_id} is outside the user's school")


def access_of(view: Callable) -> Access | None:
    return getattr(view, "access", None)


def role_names(rs: Iterable[Role]) -> str:
    return ", ".join(r.label for r in rs)
