"""School categories as data (schemes and their categories), the yearly audit, and categorisation decisions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class Area(enum.StrEnum):
    """The areas of the trust's risk assessment matrix; priorities, requests and visit notes use them too."""

    CURRICULUM = "curriculum_teaching"
    INCLUSION = "inclusion"
    ACHIEVEMENT = "achievement"
    ATTENDANCE = "attendance_behaviour"
    PERSONAL_DEVELOPMENT = "personal_development"
    EARLY_YEARS = "early_years"
    LEADERSHIP = "leadership_governance"

    @property
    def label(self) -> str:
        return AREA_LABELS[self]


AREA_LABELS = {
    Area.CURRICULUM: "Curriculum and Teaching",
    Area.INCLUSION: "Inclusion",
    Area.ACHIEVEMENT: "Achievement",
    Area.ATTENDANCE: "Attendance and Behaviour",
    Area.PERSONAL_DEVELOPMENT: "Personal Development and Well-being",
    Area.EARLY_YEARS: "Early Years",
    Area.LEADERSHIP: "Leadership and Governance",
}


class Grade(enum.StrEnum):
    URGENT = "urgent_improvement"
    NEEDS_ATTENTION = "needs_attention"
    EXPECTED = "expected_standard"
    STRONG = "strong_standard"
    EXCEPTIONAL = "exceptional"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]

    @property
    def rank(self) -> int:
        """1 (Urgent Improvement) to 5 (Exceptional)."""
        return list(Grade).index(self) + 1


GRADE_LABELS = {
    Grade.URGENT: "Urgent Improvement",
    Grade.NEEDS_ATTENTION: "Needs Attention",
    Grade.EXPECTED: "Expected Standard",
    Grade.STRONG: "Strong Standard",
    Grade.EXCEPTIONAL: "Exceptional",
}

#: Colour keys a category may use; app.css gives each an accessible background and text colour.
COLOURS = {
    "green": "Green",
    "teal": "Teal",
    "blue": "Blue",
    "yellow": "Yellow",
    "amber": "Amber",
    "orange": "Orange",
    "red": "Red",
    "purple": "Purple",
    "grey": "Grey",
}


class CategoryScheme(db.Model):
    __tablename__ = "category_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_preset: Mapped[bool] = mapped_column(Boolean, default=False)

    categories: Mapped[list[Category]] = relationship(
        back_populates="scheme", order_by="Category.need_level", cascade="all, delete-orphan")

    @property
    def levels(self) -> int:
        return len(self.categories)


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("scheme_id", "need_level", name="uq_categories_scheme_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("category_schemes.id", ondelete="CASCADE"), index=True)
    need_level: Mapped[int] = mapped_column(Integer)  # 1 = least need
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    visits_per_term: Mapped[int] = mapped_column(Integer, default=0)
    peer_reviews_per_year: Mapped[int] = mapped_column(Integer, default=0)
    executive_reviews_per_term: Mapped[int] = mapped_column(Integer, default=0)
    safeguarding_reviews_per_year: Mapped[int] = mapped_column(Integer, default=0)
    charged: Mapped[bool] = mapped_column(Boolean, default=False)  # support paid from the school's own funds

    scheme: Mapped[CategoryScheme] = relationship(back_populates="categories")

    @property
    def css_class(self) -> str:
        return f"category-{self.colour}"


class SchoolAudit(db.Model):
    """The yearly risk assessment matrix of one school."""

    __tablename__ = "school_audits"
    __table_args__ = (UniqueConstraint("school_id", "academic_year", name="uq_school_audits_school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer)  # AcademicYear.start
    carried_out_on: Mapped[date] = mapped_column(Date)
    safeguarding_met: Mapped[bool] = mapped_column(Boolean)
    safeguarding_evidence: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    grades: Mapped[list[AuditGrade]] = relationship(back_populates="audit", cascade="all, delete-orphan",
                                                    order_by="AuditGrade.id")
    school = relationship("School")

    def grade_of(self, area: Area) -> AuditGrade | None:
        return next((g for g in self.grades if g.area == area), None)


class AuditGrade(db.Model):
    __tablename__ = "audit_grades"
    __table_args__ = (UniqueConstraint("audit_id", "area", name="uq_audit_grades_audit_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("school_audits.id", ondelete="CASCADE"), index=True)
    area: Mapped[Area] = mapped_column(enum_column(Area, 30))
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, 30))  # None: not applicable (no early years)
    evidence: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[SchoolAudit] = relationship(back_populates="grades")


class SchoolCategorisation(db.Model):
    """The CEO's decision on a school's category; the latest one in effect is the school's current category."""

    __tablename__ = "school_categorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer, index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("school_audits.id", ondelete="SET NULL"))
    rationale: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    board_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    board_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when a scheme switch wrote this row: the decision it was mapped from, so later switches map from the
    # decision itself and switching back restores the decided category exactly.
    mapped_from_id: Mapped[int | None] = mapped_column(ForeignKey("school_categorisations.id", ondelete="SET NULL"))

    category: Mapped[Category] = relationship(lazy="joined")
    mapped_from: Mapped[SchoolCategorisation | None] = relationship(remote_side=[id])
    school = relationship("School")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    board_confirmed_by = relationship("User", foreign_keys=[board_confirmed_by_id])
    disputes: Mapped[list[CategoryDispute]] = relationship(back_populates="categorisation",
                                                           order_by="CategoryDispute.id")


class DisputeOutcome(enum.StrEnum):
    UPHELD = "upheld"    # the category stands
    CHANGED = "changed"  # the Chair changed it; a new categorisation records the new category

    @property
    def label(self) -> str:
        return {"upheld": "Category upheld", "changed": "Category changed"}[self.value]


class CategoryDispute(db.Model):
    """A headteacher's written dispute of a categorisation and the Chair's final decision."""

    __tablename__ = "category_disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    categorisation_id: Mapped[int] = mapped_column(
        ForeignKey("school_categorisations.id", ondelete="CASCADE"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[DisputeOutcome | None] = mapped_column(enum_column(DisputeOutcome, 10))
    decision: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    categorisation: Mapped[SchoolCategorisation] = relationship(back_populates="disputes")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
