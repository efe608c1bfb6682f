"""Improvement priorities: two or three per school per year, and one or two trust-wide ones over three years."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.category import Area
from app.models.types import UTCDateTime, enum_column, utcnow


class ImprovementPriority(db.Model):
    __tablename__ = "improvement_priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    start_year: Mapped[int] = mapped_column(Integer, index=True)  # AcademicYear.start
    end_year: Mapped[int] = mapped_column(Integer)  # = start_year for a school's priority
    area: Mapped[Area] = mapped_column(enum_column(Area, 30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    success_criteria: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school = relationship("School")

    @property
    def trust_wide(self) -> bool:
        return self.school_id is None
