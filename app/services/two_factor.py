"""Optional two-step sign-in with an authenticator app (TOTP, RFC 6238) for the CEO, executive team and admins.

States: off (no secret) -> set up (secret made, not yet confirmed) -> on (a code was confirmed).
A code is accepted once: the step it belongs to is stored and an older or equal step is refused.
"""

from __future__ import annotations

import enum
import hmac
import re
import secrets
import time

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy.orm.attributes import flag_modified

from app.extensions import db
from app.models import Role, User
from app.models.types import utcnow
from app.models.user import new_session_token
from app.services import audit, passwords, users
from app.services.errors import Forbidden, IllegalTransition, ValidationError

ELIGIBLE_ROLES = frozenset({Role.CEO, Role.EXECUTIVE, Role.ADMIN})
STEP_SECONDS = 30
# One step either side allows for a phone clock a little out and a code typed as it changes.
DRIFT_STEPS = 1
_CODE_RE = re.compile(r"^\d{6}$")
RECOVERY_CODES = 8
_RECOVERY_RE = re.compile(r"^[0-9a-f]{5}-?[0-9a-f]{5}$")


class TwoFactorState(enum.StrEnum):
    OFF = "off"
    SET_UP = "set up"
    ON = "on"


def state(user: User) -> TwoFactorState:
    if user.totp_enabled:
        return TwoFactorState.ON
    return TwoFactorState.SET_UP if user.totp_secret else TwoFactorState.OFF


def eligible(user: User) -> bool:
    return user.role in ELIGIBLE_ROLES


def _now() -> float:
    return time.time()


def _require(user: User, *allowed: TwoFactorState) -> None:
    current = state(user)
    if current not in allowed:
        raise IllegalTransition(f"Two-step sign-in is {current.value}; that step is not possible now.")


def start(user: User) -> None:
    """off/set up -> set up: make a new secret for the user to add to their authenticator app."""
    if not eligible(user):
        raise Forbidden("Two-step sign-in is offered to the CEO, the executive team and administrators.")
    _require(user, TwoFactorState.OFF, TwoFactorState.SET_UP)
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    user.totp_last_used_step = None
    audit.record("user.two_factor_started", target_type="user", target_id=user.id, actor=user)
    db.session.commit()


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email,
                                                        issuer_name=current_app.config["TRUST_NAME"])


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code, drawn on the server (no script, no style attribute)."""
    import segno

    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    # segno writes only path data and the constant title: nothing from the user reaches the markup as text.
    return Markup(svg)  # noqa: S704  # nosec B704


def grouped_secret(user: User) -> str:
    secret = user.totp_secret or ""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _accepted_step(user: User, code: str) -> int | None:
    code = re.sub(r"\s+", "", code or "")
    if not user.totp_secret or not _CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = int(_now() // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if user.totp_last_used_step is not None and step <= user.totp_last_used_step:
            continue  # already used, or older than a code that was: a replay
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _normal_recovery(code: str) -> str:
    return re.sub(r"[\s-]+", "", (code or "").lower())


def confirm(user: User, code: str) -> list[str]:
    """set up -> on, once the user proves their app gives the right codes. Returns one-time recovery codes,
    to be shown once: only their hashes are kept."""
    _require(user, TwoFactorState.SET_UP)
    step = _accepted_step(user, code)
    if step is None:
        raise ValidationError("That code is not right. Enter the 6-digit code your authenticator app shows now.",
                              "code")
    user.totp_enabled = True
    user.totp_last_used_step = step
    recovery = [f"{c[:5]}-{c[5:]}" for c in (secrets.token_hex(5) for _ in range(RECOVERY_CODES))]
    user.totp_recovery_hashes = [passwords.hash_password(_normal_recovery(c)) for c in recovery]
    audit.record("user.two_factor_enabled", target_type="user", target_id=user.id, actor=user,
                 details={"recovery_codes": "issued"})
    db.session.commit()
    return recovery


def _use_recovery_code(user: User, code: str) -> bool:
    """Accept and strike out one unused recovery code."""
    normal = _normal_recovery(code)
    if not _RECOVERY_RE.match(code.strip().lower()) or not user.totp_recovery_hashes:
        return False
    for stored in user.totp_recovery_hashes:
        if passwords.verify(stored, normal):
            user.totp_recovery_hashes = [h for h in user.totp_recovery_hashes if h != stored]
            return True
    return False


def disable(user: User, code: str) -> None:
    """on -> off, by the user, with a current code."""
    _require(user, TwoFactorState.ON)
    if _accepted_step(user, code) is None:
        raise ValidationError("That code is not right, so two-step sign-in is still on.", "code")
    _clear(user)
    audit.record("user.two_factor_disabled", target_type="user", target_id=user.id, actor=user)
    db.session.commit()


def reset(actor: User, user_id: int) -> User:
    """Any state -> off, by an administrator (a lost phone); the person is signed out everywhere."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an administrator can reset two-step sign-in.")
    user = users.get(user_id)
    was = state(user)
    _clear(user)
    user.session_token = new_session_token()
    audit.record("user.two_factor_reset", target_type="user", target_id=user.id, actor=actor,
                 details={"was": was.value})
    db.session.commit()
    return user


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_used_step = None
    user.totp_recovery_hashes = None


def complete_sign_in(user_id: int, session_token: str, code: str) -> User | None:
    """The second step of signing in: the user only counts as signed in once this returns them."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_token != session_token or not user.totp_enabled:
        return None
    step = _accepted_step(user, code)
    if step is not None:
        user.totp_last_used_step = step
        details = {"second_step": "code"}
    elif _use_recovery_code(user, code):
        details = {"second_step": "recovery code", "recovery_codes_left": len(user.totp_recovery_hashes or [])}
    else:
        audit.record("auth.login_failed", target_type="user", target_id=user.id,
                     details={"reason": "wrong two-step code"}, actor_email=user.email, commit=True)
        return None
    user.last_login_at = utcnow()
    audit.record("auth.login", target_type="user", target_id=user.id, actor=user, details=details)
    db.session.commit()
    return user


def rotate_keys(actor_email: str) -> int:
    """Re-encrypt every stored secret with the first DATA_ENCRYPTION_KEYS key, so older keys can go; audited."""
    holders = db.session.scalars(db.select(User).where(User.totp_secret.is_not(None))).all()
    for user in holders:
        flag_modified(user, "totp_secret")  # unchanged value, written again: encrypted with the first key
    audit.record("security.data_keys_rotated", details={"secrets": len(holders)}, actor_email=actor_email)
    db.session.commit()
    return len(holders)
