"""Column types shared by the models: UTC timestamps, enums stored as their values, encrypted secrets."""

from __future__ import annotations

import base64
import enum
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import DateTime, Enum, String
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone, PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], length: int = 40) -> Enum:
    """A VARCHAR holding the enum's value, so the database reads plainly and migrations stay portable."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def derived_data_key(secret_key: str) -> str:
    """The Fernet key used when DATA_ENCRYPTION_KEYS is unset: HKDF-SHA256 of SECRET_KEY."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"trust-data-encryption/1").derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived).decode()


@lru_cache(maxsize=8)
def _fernet_for(keys: str, secret_key: str) -> MultiFernet:
    listed = [k.strip() for k in keys.split(",") if k.strip()] or [derived_data_key(secret_key)]
    try:
        return MultiFernet([Fernet(k) for k in listed])
    except ValueError as exc:
        raise RuntimeError("DATA_ENCRYPTION_KEYS must be Fernet keys (Fernet.generate_key()), comma-separated") from exc


def data_cipher() -> MultiFernet:
    """The app's cipher for secrets kept in the database: encrypts with the first key, decrypts with any."""
    config = current_app.config
    return _fernet_for(config.get("DATA_ENCRYPTION_KEYS") or "", config["SECRET_KEY"])


class EncryptedString(TypeDecorator):
    """A short secret stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256), so a copy of the database or a
    backup does not give it away. Reading needs the app's keys; a value no key opens is an error, not data."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return data_cipher().encrypt(value.encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return data_cipher().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError(
                "a stored secret cannot be decrypted: DATA_ENCRYPTION_KEYS (or SECRET_KEY) is not the key it was "
                "written with"
            ) from exc
