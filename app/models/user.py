"""Accounts: who may sign in, with which role, for which school."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.school import School
from app.models.types import EncryptedString, UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CEO = "ceo"
    EXECUTIVE = "executive"
    HEADTEACHER = "headteacher"
    SCHOOL_STAFF = "school_staff"
    TRUSTEE = "trustee"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.CEO: "CEO",
    Role.EXECUTIVE: "Executive team",
    Role.HEADTEACHER: "Headteacher",
    Role.SCHOOL_STAFF: "School staff",
    Role.TRUSTEE: "Trustee",
}

#: Roles that belong to one school; the others work across the trust.
SCHOOL_ROLES = frozenset({Role.HEADTEACHER, Role.SCHOOL_STAFF})


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, 20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Changing it ends every session of the user: logout, disabling, password and role changes.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional two-step sign-in (TOTP). The secret is encrypted at rest and never goes into audit details or logs.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The last 30-second step whose code was accepted: a code cannot be used twice.
    totp_last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    # argon2 hashes of the unused one-time recovery codes (the codes themselves are shown once, never stored).
    totp_recovery_hashes: Mapped[list | None] = mapped_column(JSON)

    school: Mapped[School | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
