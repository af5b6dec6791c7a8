"""Dates at year, month or day precision: parsing, sorting, display."""

from __future__ import annotations

import pytest

from conftest import benchmark_module

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


def test_validating_again_with_the_memo_reports_what_validating_afresh_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """validate keeps each briefing's report by position (ValidateMemo); a rebuild must report what a fresh check does, whichever briefing changed."""
    from generator.diagnostics import Diagnostics
    from generator.load import load_sources
    from generator.parse import ParseCache, parse
    from generator.validate import ValidateMemo, validate

    synth = benchmark_module("synth")
    root = synth.synthesize(tmp_path / "site", 30, seed=2)
    cache, memo = ParseCache(), ValidateMemo()

    def check(kept: ValidateMemo | None) -> list[str]:
        diagnostics = Diagnostics()
        raw = load_sources(root, diagnostics)
        validate(parse(raw, diagnostics, cache), diagnostics, seeds=raw.seeds, memo=kept)
        return [str(d) for d in diagnostics.items]

    check(memo)
    one, two = sorted((root / "content" / "briefings").rglob("*.md"))[3:5]
    edits = [
        (one, "\nactors:\n", "\nactors:\n  no-such-actor:\n    stance: mixed\n"),  # an unknown id: an error at this position
        (two, "    stance: ", "    stance: no-such-stance-"),  # another briefing's unknown stance
        (one, "\nactors:\n  no-such-actor:\n    stance: mixed\n", "\nactors:\n"),  # mended: the error goes
        (two, "  seed: ", "  seed: missing-"),  # a missing seed
    ]
    for path, old, new in edits:
        text = path.read_text("utf-8")
        assert old in text, (path.name, old)
        path.write_text(text.replace(old, new, 1), "utf-8")
        again, fresh = check(memo), check(None)
        assert again == fresh, (path.name, old)
    assert any("missing-" in line for line in fresh)  # (the edits are reported: there is something to compare)
    (one.parent / "added.md").write_text(two.read_text("utf-8"), "utf-8")  # one briefing more: the reports are found by path
    assert check(memo) == check(None)
