"""Visits to schools by the executive team and their notes of visit."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class VisitType(enum.StrEnum):
    QUALITY_ASSURANCE = "quality_assurance"
    SCHOOL_IMPROVEMENT = "school_improvement"
    PEER_REVIEW = "peer_review"
    LEARNING_WALK = "learning_walk"
    SAFEGUARDING_REVIEW = "safeguarding_review"
    EXECUTIVE_REVIEW = "executive_review"

    @property
    def label(self) -> str:
        return VISIT_TYPE_LABELS[self]


VISIT_TYPE_LABELS = {
    VisitType.QUALITY_ASSURANCE: "Quality assurance",
    VisitType.SCHOOL_IMPROVEMENT: "School improvement",
    VisitType.PEER_REVIEW: "Peer review",
    VisitType.LEARNING_WALK: "Learning walk",
    VisitType.SAFEGUARDING_REVIEW: "Safeguarding review",
    VisitType.EXECUTIVE_REVIEW: "Executive review",
}


class Visit(db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    visit_type: Mapped[VisitType] = mapped_column(enum_column(VisitType, 30))
    # The note of visit: evaluation by area ({Area value: text}), evidence, what is going well, next steps.
    evaluation: Mapped[dict] = mapped_column(JSON, default=dict)
    evidence: Mapped[str] = mapped_column(Text, default="")
    going_well: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: a draft only the executive sees
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school = relationship("School")
    visitor = relationship("User")

    @property
    def shared(self) -> bool:
        return self.shared_at is not None
