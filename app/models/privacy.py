"""The retention schedule as data: how long each kind of record is kept and what happens to it then."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class RetentionAction(enum.StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"

    @property
    def label(self) -> str:
        return {"delete": "deleted", "anonymise": "anonymised"}[self.value]


class RetentionRule(db.Model):
    __tablename__ = "retention_rules"
    __table_args__ = (CheckConstraint("keep_months >= 1 AND keep_months <= 240", name="keep_months_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(String(300))
    # The moment the clock starts, in words: "after the nomination closed".
    starts: Mapped[str] = mapped_column(String(200))
    keep_months: Mapped[int] = mapped_column(Integer)
    action: Mapped[RetentionAction] = mapped_column(enum_column(RetentionAction, 20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def period(self) -> str:
        if self.keep_months % 12 == 0:
            years = self.keep_months // 12
            return f"{years} year{'s' if years != 1 else ''}"
        return f"{self.keep_months} month{'s' if self.keep_months != 1 else ''}"
