"""Dates at year, month or day precision: parsing, sorting, display."""

from __future__ import annotations

import pytest

from generator.model import PartialDate


@pytest.mark.parametrize(
    "text,iso,display,precision",
    [("2023", "2023", "2023", "year"), ("2023-09", "2023-09", "September 2023", "month"), ("2025-09-03", "2025-09-03", "3 September 2025", "day")],
)
def test_parse_keeps_precision(text: str, iso: str, display: str, precision: str) -> None:
    date = PartialDate.parse(text)
    assert (date.iso, date.display, date.precision) == (iso, display, precision)


@pytest.mark.parametrize(
    "text,message",
    [
        ("2024-02-30", "impossible date '2024-02-30': February 2024 has no day 30"),
        ("2023-13", "impossible date '2023-13': there is no month 13"),
        ("2023-00", "impossible date '2023-00': there is no month 0"),
        ("0000", "impossible date '0000': there is no year 0"),
        ("3 Sept 2025", "expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got '3 Sept 2025'"),
        ("2025-9-3", "expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got '2025-9-3'"),
    ],
)
def test_bad_dates_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        PartialDate.parse(text)


def test_leap_day_is_a_date() -> None:
    assert PartialDate.parse("2024-02-29").display == "29 February 2024"


def test_events_sort_by_earliest_day_then_precision() -> None:
    dates = [PartialDate.parse(t) for t in ["2023-09-19", "2023-09", "2023", "2023-01-01", "2022-12"]]
    ordered = [d.iso for d in sorted(dates, key=lambda d: d.sort_key)]
    assert ordered == ["2022-12", "2023", "2023-01-01", "2023-09", "2023-09-19"]
