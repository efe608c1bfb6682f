"""Schools (academies) of the trust, keyed by their URN."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class Phase(enum.StrEnum):
    NURSERY = "nursery"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SPECIAL = "special"
    ALL_THROUGH = "all-through"
    POST_16 = "post-16"

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]


PHASE_LABELS = {
    Phase.NURSERY: "Nursery",
    Phase.PRIMARY: "Primary",
    Phase.SECONDARY: "Secondary",
    Phase.SPECIAL: "Special",
    Phase.ALL_THROUGH: "All-through",
    Phase.POST_16: "16 plus",
}


class School(db.Model):
    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint("length(urn) = 6", name="urn_six_digits"),
        CheckConstraint("pupils IS NULL OR pupils >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, 20))
    pupils: Mapped[int | None] = mapped_column(Integer)
    postcode: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    local_authority: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"
