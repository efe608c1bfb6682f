"""Academic years and terms as schools in England use them: 2026/27, Autumn, Spring, Summer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Term(enum.StrEnum):
    AUTUMN = "autumn"
    SPRING = "spring"
    SUMMER = "summer"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, order=True)
class AcademicYear:
    """The year that starts in September: AcademicYear(2026) is 2026/27."""

    start: int

    @classmethod
    def of(cls, day: date) -> AcademicYear:
        return cls(day.year if day.month >= 9 else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> AcademicYear:
        """'2026/27' or '2026-27' or '2026'."""
        head = text.strip().replace("-", "/").split("/")[0]
        if not (head.isdigit() and len(head) == 4):
            raise ValueError(f"'{text}' is not an academic year such as 2026/27")
        return cls(int(head))

    @property
    def label(self) -> str:
        return f"{self.start}/{(self.start + 1) % 100:02d}"

    def __str__(self) -> str:
        return self.label

    def term_dates(self, term: Term) -> tuple[date, date]:
        # Trust calendars differ by a few days; these bounds only decide which term a date falls in.
        return {
            Term.AUTUMN: (date(self.start, 9, 1), date(self.start, 12, 31)),
            Term.SPRING: (date(self.start + 1, 1, 1), date(self.start + 1, 3, 31)),
            Term.SUMMER: (date(self.start + 1, 4, 1), date(self.start + 1, 8, 31)),
        }[term]

    def next(self) -> AcademicYear:
        return AcademicYear(self.start + 1)


def term_of(day: date) -> Term:
    if day.month >= 9:
        return Term.AUTUMN
    if day.month <= 3:
        return Term.SPRING
    return Term.SUMMER


def current(today: date | None = None) -> tuple[AcademicYear, Term]:
    today = today or date.today()
    return AcademicYear.of(today), term_of(today)
