"""Trust-wide settings: one row, edited by the CEO."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class TrustSettings(db.Model):
    __tablename__ = "trust_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_name: Mapped[str] = mapped_column(String(200))
    max_travel_km: Mapped[float | None] = mapped_column(Float, default=60.0)
    min_score: Mapped[float] = mapped_column(Float, default=0.15)
    internal_first: Mapped[bool] = mapped_column(Boolean, default=True)
    solver_time_limit_s: Mapped[int] = mapped_column(Integer, default=60)
    academic_year_start_month: Mapped[int] = mapped_column(Integer, default=9)
    # The trust's active category scheme (None: the "Three categories" preset).
    category_scheme_id: Mapped[int | None] = mapped_column(ForeignKey("category_schemes.id", ondelete="SET NULL"))
