"""Allocation runs (a scenario, the matcher's answer) and the allocations the CEO approves, with the capacity ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.job import Job
from app.models.types import UTCDateTime, enum_column, utcnow
from app.terms import Term


class AllocationStatus(enum.StrEnum):
    PROPOSED = "proposed"            # the matcher suggested it
    APPROVED = "approved"            # the CEO approved it; days and budget are committed
    REJECTED = "rejected"            # the CEO rejected it, with a reason
    RELEASED = "released"            # the supporter's headteacher agreed to release them
    RELEASE_DECLINED = "release_declined"  # the headteacher could not release them; the request reopens
    ACCEPTED = "accepted"            # the supporter accepted; the support is under way
    WITHDRAWN = "withdrawn"          # superseded by a later run or a swap before approval

    @property
    def label(self) -> str:
        return ALLOCATION_STATUS_LABELS[self]


ALLOCATION_STATUS_LABELS = {
    AllocationStatus.PROPOSED: "Proposed",
    AllocationStatus.APPROVED: "Approved – awaiting release",
    AllocationStatus.REJECTED: "Rejected",
    AllocationStatus.RELEASED: "Released – awaiting the supporter",
    AllocationStatus.RELEASE_DECLINED: "Release declined",
    AllocationStatus.ACCEPTED: "Accepted by the supporter",
    AllocationStatus.WITHDRAWN: "Withdrawn",
}

#: Statuses whose days and cost count against a supporter's capacity and a school's budget.
COMMITTED = frozenset({AllocationStatus.APPROVED, AllocationStatus.RELEASED, AllocationStatus.ACCEPTED})


class AllocationRun(db.Model):
    __tablename__ = "allocation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year: Mapped[int] = mapped_column(Integer, index=True)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), unique=True)
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_runs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The school-support-scenario/1 document exactly as the matcher saw it, and its answer.
    scenario: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    solver_status: Mapped[str | None] = mapped_column(String(20))
    objective: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    # A digest of the inputs that matter for approval, to tell when the data changed after the run.
    fingerprint: Mapped[str] = mapped_column(String(64))

    job: Mapped[Job | None] = relationship(lazy="joined")
    allocations: Mapped[list[Allocation]] = relationship(back_populates="run", order_by="Allocation.id")


class Allocation(db.Model):
    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("days > 0", name="days_positive"),
        Index("ix_allocations_entry_status", "register_entry_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    register_entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="RESTRICT"))
    status: Mapped[AllocationStatus] = mapped_column(enum_column(AllocationStatus, 20),
                                                     default=AllocationStatus.PROPOSED, index=True)
    academic_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    days: Mapped[float] = mapped_column(Float)
    relevance: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    charged: Mapped[bool] = mapped_column(default=False)  # counts against the school's budget
    travel_km: Mapped[float | None] = mapped_column(Float)
    why: Mapped[list] = mapped_column(JSON, default=list)
    alternatives: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)  # rejection or release-declined reason
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[AllocationRun] = relationship(back_populates="allocations")
    request = relationship("SupportRequest", lazy="joined")
    entry = relationship("RegisterEntry", lazy="joined")


class CapacityLedger(db.Model):
    """Committed days per supporter and term. Approval raises `committed` with one guarded UPDATE, so two
    approvals landing together can never take a supporter past the days they offered."""

    __tablename__ = "capacity_ledger"
    __table_args__ = (
        UniqueConstraint("register_entry_id", "academic_year", "term", name="uq_capacity_ledger_entry_term"),
        CheckConstraint("committed >= 0", name="committed_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    register_entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"))
    academic_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    committed: Mapped[float] = mapped_column(Float, default=0.0)


class BudgetLedger(db.Model):
    """Charged spend per school and term against the budget the school stated; guarded like CapacityLedger."""

    __tablename__ = "budget_ledger"
    __table_args__ = (
        UniqueConstraint("school_id", "academic_year", "term", name="uq_budget_ledger_school_term"),
        CheckConstraint("spent >= 0", name="spent_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    academic_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[Term] = mapped_column(enum_column(Term, 10))
    spent: Mapped[float] = mapped_column(Float, default=0.0)


class RunChoice(enum.StrEnum):
    PIN = "pin"
    BAN = "ban"


class RunPairRule(db.Model):
    """A pin or ban the CEO set for a term; every later run that term keeps it."""

    __tablename__ = "allocation_pair_rules"
    __table_args__ = (
        UniqueConstraint("request_id", "register_entry_id", name="uq_allocation_pair_rules_request_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    register_entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"))
    choice: Mapped[RunChoice] = mapped_column(enum_column(RunChoice, 10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
