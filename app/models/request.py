"""Support requests on the trust-wide template, with their lifecycle and impact evaluation."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.category import Area
from app.models.school import Phase
from app.models.types import UTCDateTime, enum_column, utcnow
from app.terms import Term


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"      # triaged by the executive: ready for matching
    DECLINED = "declined"
    MATCHED = "matched"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    IMPACT_EVALUATED = "impact_evaluated"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    RequestStatus.DRAFT: "Draft",
    RequestStatus.SUBMITTED: "Submitted",
    RequestStatus.ACCEPTED: "Accepted (awaiting a match)",
    RequestStatus.DECLINED: "Declined",
    RequestStatus.MATCHED: "Matched",
    RequestStatus.APPROVED: "Approved",
    RequestStatus.IN_PROGRESS: "In progress",
    RequestStatus.COMPLETED: "Completed",
    RequestStatus.IMPACT_EVALUATED: "Impact evaluated",
}

#: Requests still needing something from someone.
OPEN_STATUSES = frozenset({RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.MATCHED,
                           RequestStatus.APPROVED, RequestStatus.IN_PROGRESS})


class KeyStage(enum.StrEnum):
    EYFS = "eyfs"
    KS1 = "ks1"
    KS2 = "ks2"
    KS3 = "ks3"
    KS4 = "ks4"
    KS5 = "ks5"
    WHOLE_SCHOOL = "whole_school"

    @property
    def label(self) -> str:
        return KEY_STAGE_LABELS[self]


KEY_STAGE_LABELS = {
    KeyStage.EYFS: "Early years foundation stage",
    KeyStage.KS1: "Key stage 1",
    KeyStage.KS2: "Key stage 2",
    KeyStage.KS3: "Key stage 3",
    KeyStage.KS4: "Key stage 4",
    KeyStage.KS5: "Key stage 5 (sixth form)",
    KeyStage.WHOLE_SCHOOL: "Whole school",
}


class SupportType(enum.StrEnum):
    TEAM_TEACHING = "team_teaching"
    DEMONSTRATION = "demonstration_lessons"
    COACHING = "coaching"
    STRATEGIC_PLANNING = "strategic_planning"
    BEHAVIOUR = "behaviour"
    MODERATION = "moderation"
    PEER_REVIEW = "peer_review"
    LEARNING_WALKS = "learning_walks"
    TRAINING = "training"
    OTHER = "other"

    @property
    def label(self) -> str:
        return SUPPORT_TYPE_LABELS[self]


SUPPORT_TYPE_LABELS = {
    SupportType.TEAM_TEACHING: "Team teaching",
    SupportType.DEMONSTRATION: "Demonstration lessons",
    SupportType.COACHING: "Coaching",
    SupportType.STRATEGIC_PLANNING: "Strategic planning",
    SupportType.BEHAVIOUR: "Behaviour",
    SupportType.MODERATION: "Moderation",
    SupportType.PEER_REVIEW: "Peer review",
    SupportType.LEARNING_WALKS: "Learning walks",
    SupportType.TRAINING: "Training",
    SupportType.OTHER: "Other",
}


class Funding(enum.StrEnum):
    CORE = "core"
    SECOND_TIER = "second_tier"

    @property
    def label(self) -> str:
        return {"core": "Core entitlement", "second_tier": "Second tier (charged to the school)"}[self.value]


class SupportRequest(db.Model):
    __tablename__ = "support_requests"
    __table_args__ = (
        CheckConstraint("days_requested > 0 AND days_requested <= 60", name="days_in_range"),
        CheckConstraint("impact_rating IS NULL OR (impact_rating >= 1 AND impact_rating <= 5)",
                        name="impact_rating_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("improvement_priorities.id", ondelete="RESTRICT"),
                                             index=True)
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus, 20), default=RequestStatus.DRAFT,
                                                  index=True)
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[Area] = mapped_column(enum_column(Area, 30))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, 20))
    key_stage: Mapped[KeyStage] = mapped_column(enum_column(KeyStage, 20))
    need: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    desired_outcomes: Mapped[str] = mapped_column(Text)
    target_date: Mapped[date] = mapped_column(Date)
    support_type: Mapped[SupportType] = mapped_column(enum_column(SupportType, 30))
    days_requested: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    academic_year: Mapped[int] = mapped_column(Integer, index=True)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    preferred_dates: Mapped[str] = mapped_column(String(300), default="")
    funding: Mapped[Funding] = mapped_column(enum_column(Funding, 20))
    budget_gbp: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    headteacher_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executive_note: Mapped[str | None] = mapped_column(Text)  # why returned or declined; the school sees it
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    impact_rating: Mapped[int | None] = mapped_column(Integer)
    impact_narrative: Mapped[str | None] = mapped_column(Text)
    impact_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    impact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supporter_note: Mapped[str | None] = mapped_column(Text)
    supporter_note_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    school = relationship("School")
    priority = relationship("ImprovementPriority")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def term_label(self) -> str:
        from app.terms import AcademicYear

        return f"{self.term.label} {AcademicYear(self.academic_year).label}"
