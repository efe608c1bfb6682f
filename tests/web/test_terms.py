"""Academic years and terms."""

from datetime import date

import pytest

from app.terms import AcademicYear, Term, current, term_of


@pytest.mark.parametrize("day,year,term", [
    (date(2026, 11, 22), "2026/27", Term.AUTUMN),
    (date(2027, 1, 5), "2026/27", Term.SPRING),
    (date(2027, 6, 30), "2026/27", Term.SUMMER),
    (date(2027, 9, 1), "2027/28", Term.AUTUMN),
    (date(2027, 8, 31), "2026/27", Term.SUMMER),
])
def test_year_and_term(day, year, term):
    assert AcademicYear.of(day).label == year
    assert term_of(day) is term
    assert current(day) == (AcademicYear.parse(year), term)


def test_parse_rejects_nonsense():
    with pytest.raises(ValueError):
        AcademicYear.parse("next year")
