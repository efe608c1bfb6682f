"""Password policy (length and a common-password list, no composition rules) and argon2id hashing."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.services.errors import ValidationError

MIN_LENGTH = 10
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("app").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))


def check_policy(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Raise ValidationError with a plain reason when the password is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"Use at least {MIN_LENGTH} characters.", "password")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.", "password")
    lowered = password.lower()
    if lowered in common_passwords():
        raise ValidationError("That password is on a list of commonly used passwords. Choose another.", "password")
    context = {w.lower() for w in (email, name, (email or "").split("@")[0]) if w}
    if lowered in context:
        raise ValidationError("Do not use your name or email address as your password.", "password")


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@cache
def _dummy_hash(params: tuple) -> str:
    return PasswordHasher(*params).hash("not a real password")


def burn_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email takes as long as a wrong password."""
    h = hasher()
    verify(_dummy_hash((h.time_cost, h.memory_cost, h.parallelism)), password)
