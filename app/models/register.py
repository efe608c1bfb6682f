"""The talent register: people who support other schools, what they know, and when they are free."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.school import School
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.user import User
from app.terms import Term


class Designation(enum.StrEnum):
    """Matches the matcher's supporter `kind`."""

    SLE = "sle"
    NLE = "nle"
    SPECIALIST = "specialist"
    LEAD_PRACTITIONER = "lead_practitioner"
    HEADTEACHER = "headteacher"
    TRUST_CENTRAL = "trust_central"
    EXTERNAL = "external"

    @property
    def label(self) -> str:
        return DESIGNATION_LABELS[self]


DESIGNATION_LABELS = {
    Designation.SLE: "Specialist Leader of Education (SLE)",
    Designation.NLE: "National Leader of Education (NLE)",
    Designation.SPECIALIST: "Specialist",
    Designation.LEAD_PRACTITIONER: "Lead practitioner",
    Designation.HEADTEACHER: "Headteacher",
    Designation.TRUST_CENTRAL: "Trust central staff",
    Designation.EXTERNAL: "External consultant",
}


class EntryStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class TagKind(enum.StrEnum):
    AREA = "area"
    SUBJECT = "subject"
    PHASE = "phase"
    KEY_STAGE = "key_stage"


AUDIT_AREAS = (
    "Curriculum and Teaching",
    "Inclusion",
    "Achievement",
    "Attendance and Behaviour",
    "Personal Development and Well-being",
    "Early Years",
    "Leadership and Governance",
)
KEY_STAGES = ("EYFS", "KS1", "KS2", "KS3", "KS4", "KS5")
SUBJECTS = (
    "English", "Phonics and early reading", "Mathematics", "Science", "Computing", "History", "Geography",
    "Modern foreign languages", "Art and design", "Design and technology", "Music", "Physical education",
    "Religious education", "PSHE and RSE", "SEND", "Safeguarding", "Governance", "Teacher development",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


class DevelopmentKind(enum.StrEnum):
    MENTOR = "mentor"
    COURSE = "course"
    PEER_REVIEW = "peer_review"
    PROJECT = "project"
    PLACEMENT = "placement"

    @property
    def label(self) -> str:
        return DEVELOPMENT_LABELS[self]


DEVELOPMENT_LABELS = {
    DevelopmentKind.MENTOR: "Mentor",
    DevelopmentKind.COURSE: "Course",
    DevelopmentKind.PEER_REVIEW: "Peer review",
    DevelopmentKind.PROJECT: "Project led",
    DevelopmentKind.PLACEMENT: "Placement in a partner school",
}


class RegisterEntry(db.Model):
    __tablename__ = "register_entries"
    __table_args__ = (
        CheckConstraint("day_rate >= 0", name="day_rate_not_negative"),
        CheckConstraint("max_travel_km IS NULL OR max_travel_km >= 0", name="travel_not_negative"),
        Index("ix_register_entries_pool", "status", "consent", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Null for trust central staff and external consultants.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"), index=True)
    post: Mapped[str] = mapped_column(String(200))
    designation: Mapped[Designation] = mapped_column(enum_column(Designation, 30), index=True)
    expertise: Mapped[str] = mapped_column(Text)
    preferred_days: Mapped[str] = mapped_column(String(100), default="")  # "Monday;Thursday"
    max_travel_km: Mapped[float | None] = mapped_column(Float)
    day_rate: Mapped[float] = mapped_column(Float, default=0.0)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, 20), default=EntryStatus.ACTIVE)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    # Lower-case name, post, expertise and tags: free-text search is a LIKE over this one column.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The valid_until date a renewal reminder went out for; the daily job never sends a second one.
    reminder_sent_for: Mapped[date | None] = mapped_column(Date)
    renewal_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewal_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    tags: Mapped[list[RegisterTag]] = relationship(back_populates="entry", cascade="all, delete-orphan",
                                                   order_by="RegisterTag.id")
    availability: Mapped[list[Availability]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="(Availability.academic_year, Availability.id)")
    development: Mapped[list[DevelopmentRecord]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="DevelopmentRecord.on.desc()")

    def tag_values(self, kind: TagKind) -> list[str]:
        return [t.value for t in self.tags if t.kind == kind]

    @property
    def areas(self) -> list[str]:
        return self.tag_values(TagKind.AREA)

    @property
    def subjects(self) -> list[str]:
        return self.tag_values(TagKind.SUBJECT)

    @property
    def phases(self) -> list[str]:
        return self.tag_values(TagKind.PHASE)

    @property
    def key_stages(self) -> list[str]:
        return self.tag_values(TagKind.KEY_STAGE)

    @property
    def preferred_day_list(self) -> list[str]:
        return [d for d in self.preferred_days.split(";") if d]

    def days_offered(self, academic_year: int, term: Term) -> float:
        return sum(a.days for a in self.availability if a.academic_year == academic_year and a.term == term)

    def __repr__(self) -> str:
        return f"<RegisterEntry {self.id} {self.name} {self.designation}>"


class RegisterTag(db.Model):
    __tablename__ = "register_tags"
    __table_args__ = (
        UniqueConstraint("entry_id", "kind", "value", name="uq_register_tags_entry_kind_value"),
        Index("ix_register_tags_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TagKind] = mapped_column(enum_column(TagKind, 20))
    value: Mapped[str] = mapped_column(String(100))

    entry: Mapped[RegisterEntry] = relationship(back_populates="tags")


class Availability(db.Model):
    """Days a person can give in one term of one academic year (2026 = 2026/27)."""

    __tablename__ = "register_availability"
    __table_args__ = (
        UniqueConstraint("entry_id", "academic_year", "term", name="uq_register_availability_entry_year_term"),
        CheckConstraint("days >= 0 AND days <= 100", name="days_in_range"),
        Index("ix_register_availability_year_term", "academic_year", "term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    days: Mapped[float] = mapped_column(Float, default=0.0)

    entry: Mapped[RegisterEntry] = relationship(back_populates="availability")


class DevelopmentRecord(db.Model):
    __tablename__ = "register_development"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DevelopmentKind] = mapped_column(enum_column(DevelopmentKind, 20))
    on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[RegisterEntry] = relationship(back_populates="development")
