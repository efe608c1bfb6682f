"""Template filters that write dates, money and terms the way schools in England do."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

LONDON = ZoneInfo("Europe/London")


def long_date(value: date | datetime | None) -> str:
    """22 November 2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON) if value.tzinfo else value
    return f"{value.day} {value:%B %Y}"


def date_time(value: datetime | None) -> str:
    """22 November 2026, 14:05 (UK time)."""
    if value is None:
        return ""
    local = value.astimezone(LONDON) if value.tzinfo else value
    return f"{long_date(local)}, {local:%H:%M}"


def money(value: float | None) -> str:
    if value is None:
        return "no limit"
    return f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"


def academic_year(start: int | None) -> str:
    """2026 -> 2026/27."""
    if start is None:
        return ""
    return f"{start}/{(start + 1) % 100:02d}"


def init_app(app: Flask) -> None:
    app.add_template_filter(academic_year, "academic_year")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(date_time, "date_time")
    app.add_template_filter(money, "money")
