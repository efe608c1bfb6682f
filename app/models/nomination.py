"""Nominations: a headteacher's proposal that takes a member of staff through to the CEO's offer."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.register import Designation, RegisterEntry
from app.models.school import School
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.user import User


class NominationState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REFERENCE_COMPLETED = "reference_completed"
    VISIT_SCHEDULED = "visit_scheduled"
    INTERVIEW_RECORDED = "interview_recorded"
    OFFER_MADE = "offer_made"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATES


STATE_LABELS = {
    NominationState.DRAFT: "Draft",
    NominationState.SUBMITTED: "Submitted, awaiting reference",
    NominationState.REFERENCE_COMPLETED: "Reference completed, awaiting visit",
    NominationState.VISIT_SCHEDULED: "Visit scheduled",
    NominationState.INTERVIEW_RECORDED: "Interview recorded, awaiting CEO",
    NominationState.OFFER_MADE: "Offer made",
    NominationState.ACCEPTED: "Accepted: on the register",
    NominationState.DECLINED: "Declined",
    NominationState.WITHDRAWN: "Withdrawn",
    NominationState.REJECTED: "Not taken forward",
}
CLOSED_STATES = frozenset({NominationState.ACCEPTED, NominationState.DECLINED, NominationState.WITHDRAWN,
                           NominationState.REJECTED})


class Nomination(db.Model):
    __tablename__ = "nominations"
    __table_args__ = (Index("ix_nominations_email_year", "nominee_email", "academic_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[NominationState] = mapped_column(enum_column(NominationState, 30), default=NominationState.DRAFT,
                                                   index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"), index=True)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    academic_year: Mapped[int] = mapped_column(Integer)

    nominee_name: Mapped[str] = mapped_column(String(200))
    nominee_email: Mapped[str] = mapped_column(String(254))
    nominee_post: Mapped[str] = mapped_column(String(200))
    nominee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    designation: Mapped[Designation] = mapped_column(enum_column(Designation, 30))
    expertise: Mapped[str] = mapped_column(Text)
    areas: Mapped[list] = mapped_column(JSON, default=list)
    subjects: Mapped[list] = mapped_column(JSON, default=list)
    phases: Mapped[list] = mapped_column(JSON, default=list)
    key_stages: Mapped[list] = mapped_column(JSON, default=list)
    days_autumn: Mapped[float] = mapped_column(Float, default=0.0)
    days_spring: Mapped[float] = mapped_column(Float, default=0.0)
    days_summer: Mapped[float] = mapped_column(Float, default=0.0)
    day_rate: Mapped[float] = mapped_column(Float, default=0.0)

    # The trust's reference template, filled in by the headteacher.
    ref_expertise: Mapped[str | None] = mapped_column(Text)
    ref_impact: Mapped[str | None] = mapped_column(Text)
    ref_capacity: Mapped[str | None] = mapped_column(Text)
    ref_release_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    ref_safeguarding_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)

    visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    observation_notes: Mapped[str | None] = mapped_column(Text)
    interview_notes: Mapped[str | None] = mapped_column(Text)
    recommended: Mapped[bool | None] = mapped_column(Boolean)

    offer_made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_valid_until: Mapped[date | None] = mapped_column(Date)
    offer_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    reason: Mapped[str | None] = mapped_column(Text)  # why it was declined, withdrawn or not taken forward
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship(lazy="joined")
    nominated_by: Mapped[User | None] = relationship(foreign_keys=[nominated_by_id])
    visit_by: Mapped[User | None] = relationship(foreign_keys=[visit_by_id])
    entry: Mapped[RegisterEntry | None] = relationship()
    events: Mapped[list[NominationEvent]] = relationship(back_populates="nomination", cascade="all, delete-orphan",
                                                         order_by="NominationEvent.id")

    def days_for(self, term: str) -> float:
        return getattr(self, f"days_{term}")


class NominationEvent(db.Model):
    """The nomination's timeline: who moved it, from which state to which, and when."""

    __tablename__ = "nomination_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[NominationState | None] = mapped_column(enum_column(NominationState, 30))
    to_state: Mapped[NominationState] = mapped_column(enum_column(NominationState, 30))
    note: Mapped[str | None] = mapped_column(String(1000))

    nomination: Mapped[Nomination] = relationship(back_populates="events")
