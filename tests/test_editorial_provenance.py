"""Provenance: a briefing's article against its seed (changed, added, moved, dropped sentences) and quote checks."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from conftest import benchmark_module, run_cli

from generator.pipeline import BuildConfig, build
from generator.provenance import article_sentences, normalise, seed_sentences, split_sentences

SEED = (
    "\n"
    "Alice Example said the plan “will fail” by spring. Bob Scholar disagreed.\n"
    "The second paragraph — with a dash — ends here. Dr. Gamma agreed with it.\n"
    "\n"
    "A Subheading Here\n"
    "Final line one. Final line two.\n"
)

FRONT = """---
title: Test
date: 2025-01-02
summary: A short summary.
source:
  seed: one.txt
  article: {article}
{extra}---

"""

def _site(make_site: Callable[..., Path], body: str, article: str = "full", extra: str = "") -> Path:
    return make_site(
        {
            "seeds/one.txt": SEED,
            "content/briefings/first.md": FRONT.format(article=article, extra=extra) + body,
        }
    )


def _warnings(root: Path, strict: bool = False) -> list[str]:
    report = build(BuildConfig(root, root / "site", write=False, strict=strict))
    return [str(d) for d in report.diagnostics if "seeds/" in d.message or "seed" in d.message]


FULL_BODY = """[[alice|Alice Example]] said the plan “will fail” by spring. [[bob]] disagreed.

The second paragraph – with a dash – ends here. Dr. Gamma agreed with it.

## A Subheading Here

Final line one. Final line two.
"""


def test_normalise_makes_quotes_dashes_and_whitespace_plain() -> None:
    assert normalise("“Kim’s”  visit —\n North Korea–China") == "\"Kim's\" visit - North Korea-China"


def test_sentences_split_at_full_stops_but_not_after_titles_or_initials() -> None:
    text = "Dr. Gamma met J. Smith. He left. Then the U.S. president spoke! Done?"
    assert [text[s:e] for s, e in split_sentences(text)] == ["Dr. Gamma met J. Smith.", "He left.", "Then the U.S. president spoke!", "Done?"]


def test_seed_sentences_carry_their_line() -> None:
    lines = [(s.line, s.text) for s in seed_sentences(SEED)]
    assert lines[0] == (2, 'Alice Example said the plan "will fail" by spring.')
    assert (5, "A Subheading Here") in lines


def test_a_hard_wrapped_seed_with_a_headline_reads_as_import_reads_it() -> None:
    seed = (
        "A headline without a full stop\n\n"
        "The first paragraph is wrapped at the edge of the page, as many\n"
        "agencies send their copy. It has a second sentence.\n\n"
        "Another paragraph.\n"
    )
    found = [(s.line, s.col, s.text, s.headline) for s in seed_sentences(seed)]
    assert found == [
        (1, 1, "A headline without a full stop", True),
        (3, 1, "The first paragraph is wrapped at the edge of the page, as many agencies send their copy.", False),
        (4, 27, "It has a second sentence.", False),
        (6, 1, "Another paragraph.", False),
    ]


def test_a_full_article_need_not_repeat_the_seeds_headline(make_site: Callable[..., Path]) -> None:
    root = make_site({"seeds/one.txt": "Headline here\n\nOnly one sentence.\n", "content/briefings/first.md": FRONT.format(article="full", extra="") + "Only one sentence.\n"})
    assert _warnings(root) == []
    root = make_site({"seeds/one.txt": "Headline here\n\nOnly one sentence.\n", "content/briefings/first.md": FRONT.format(article="full", extra="") + "Other words.\n"}, name="changed")
    warnings = _warnings(root)  # the added sentence and the dropped one; never the headline
    assert len(warnings) == 2 and "line 3 is missing" in warnings[1] and not any("Headline" in w for w in warnings)


def test_article_sentences_resolve_mentions_and_keep_line_and_column() -> None:
    body = "Intro.\n\n::: summary\nNot article text.\n:::\n\n::: view bob\nSo [[bob]] said *this*. And [that](https://x.org) too.\n:::\n"
    found = article_sentences(body, 10, {"bob": "Bob Scholar"})
    assert [(s.text, s.line, s.col, s.view) for s in found] == [
        ("Intro.", 10, 1, ""),
        ("So Bob Scholar said this.", 17, 1, "bob"),
        ("And that too.", 17, 25, "bob"),
    ]


def test_the_example_site_is_its_seed_verbatim(example_site: Path) -> None:
    report = build(BuildConfig(example_site, example_site / "site", write=False, strict=True))
    assert not report.failed, [str(d) for d in report.diagnostics]
    assert report.state is not None
    for entry in report.state.linked.entries:
        provenance = entry.briefing.provenance
        assert provenance is not None and provenance.verbatim and provenance.sentences > 5
    result = run_cli("check", "--strict", "--source", str(example_site))
    assert result.returncode == 0, result.stderr


def test_verbatim_full_article_with_typography_differences_passes(make_site: Callable[..., Path]) -> None:
    assert _warnings(_site(make_site, FULL_BODY)) == []


def test_a_changed_word_is_reported_at_its_sentence_with_the_seed_line(make_site: Callable[..., Path]) -> None:
    body = FULL_BODY.replace("[[bob]] disagreed.", "[[bob]] strongly disagreed.")
    assert _warnings(_site(make_site, body)) == [
        'content/briefings/first.md:10:62: warning: sentence differs from seeds/one.txt line 2: "strongly" added',
    ]


def test_an_added_sentence_is_reported(make_site: Callable[..., Path]) -> None:
    body = FULL_BODY.replace("Final line one.", "Final line one. Our own words entirely, not the source's.")
    assert _warnings(_site(make_site, body)) == [
        "content/briefings/first.md:16:17: warning: sentence is not in seeds/one.txt: \"Our own words entirely, not the source's.\"",
    ]


def test_dropped_sentences_are_reported_only_when_the_article_is_full(make_site: Callable[..., Path]) -> None:
    body = FULL_BODY.replace(" Dr. Gamma agreed with it.", "")
    assert _warnings(_site(make_site, body)) == [
        "content/briefings/first.md:14:1: warning: the article is republished in full (source.article: full), "
        'but the sentence at seeds/one.txt line 3 is missing here: "Dr. Gamma agreed with it."',
    ]
    assert _warnings(_site(make_site, body, article="excerpt")) == []


def test_an_excerpt_keeps_the_seeds_order(make_site: Callable[..., Path]) -> None:
    body = "Final line two. Final line one.\n"
    assert _warnings(_site(make_site, body, article="excerpt")) == [
        "content/briefings/first.md:10:17: warning: sentence is out of the seed's order (it is at seeds/one.txt line 6): \"Final line one.\"",
    ]


def test_a_view_passage_must_be_seed_text(make_site: Callable[..., Path]) -> None:
    body = "::: view bob\nBob Scholar firmly disagreed.\n:::\n"
    assert _warnings(_site(make_site, body, article="excerpt")) == [
        "content/briefings/first.md:11:1: warning: view of 'bob': sentence differs from seeds/one.txt line 2: "
        '"firmly" added; a view passage must be text of the seed',
    ]


def test_quotes_in_a_view_must_be_verbatim(make_site: Callable[..., Path]) -> None:
    good = "::: view bob\nAlice Example said the plan “will fail” by spring.\n:::\n"
    assert _warnings(_site(make_site, good, article="excerpt")) == []
    bad = "::: view bob\nAlice Example said the plan “will surely fail” by spring.\n:::\n"
    warnings = _warnings(_site(make_site, bad, article="excerpt"))
    assert 'content/briefings/first.md:11:29: warning: quoted words are not in seeds/one.txt verbatim: "will surely fail"' in warnings


def test_a_quote_field_must_be_in_the_seed(make_site: Callable[..., Path]) -> None:
    extra = "experts:\n  bob:\n    quote: “will fail”\nactors:\n  alice:\n    quote: the plan will fail\n"
    assert _warnings(_site(make_site, FULL_BODY, extra=extra)) == [
        'content/briefings/first.md:13:12: warning: quoted words are not in seeds/one.txt verbatim: "the plan will fail"',
    ]


def test_findings_are_warnings_and_fail_under_strict(make_site: Callable[..., Path]) -> None:
    root = _site(make_site, FULL_BODY.replace("Final line two.", "Final line three."))
    assert not build(BuildConfig(root, root / "site", write=False)).failed
    strict = build(BuildConfig(root, root / "site", write=False, strict=True))
    assert strict.failed and [d.severity for d in strict.diagnostics] == ["warning"]
    result = run_cli("check", "--strict", "--source", str(root))
    assert result.returncode == 1
    assert "content/briefings/first.md:16:17: warning: sentence differs from seeds/one.txt line 6" in result.stderr


def test_a_briefing_without_a_seed_has_no_provenance(make_site: Callable[..., Path]) -> None:
    root = make_site()
    report = build(BuildConfig(root, root / "site", write=False))
    assert report.state is not None
    assert [e.briefing.provenance for e in report.state.linked.entries] == [None]


def test_checking_again_with_the_memo_equals_checking_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild's check keeps the results of the briefings that are the same objects in the same places (Compared.last); it must report and give what a fresh check does."""
    from generator import load

    from generator.diagnostics import Diagnostics
    from generator.load import LoadMemo, load_sources
    from generator.parse import ParseCache, parse
    from generator.provenance import Compared, check_site, read_seeds, seed_names

    synth = benchmark_module("synth")
    root = synth.synthesize(tmp_path / "site", 40, seed=3)
    monkeypatch.setattr(load, "SETTLE_NS", 0)  # the files just written count as settled: the load memo hands back the seeds' texts as the same objects, as in serve
    cache, loaded, memo = ParseCache(), LoadMemo(), Compared()

    def check(kept: Compared | None) -> tuple[object, list[str]]:
        diagnostics = Diagnostics()
        raw = load_sources(root, diagnostics, loaded)
        site = parse(raw, diagnostics, cache)
        seeds = read_seeds(raw, seed_names(site), diagnostics, loaded)
        return check_site(site, raw, seeds, diagnostics, kept), [str(d) for d in diagnostics.items]

    check(memo)
    one, two = sorted((root / "content" / "briefings").rglob("*.md"))[5:7]
    seed = sorted((root / "seeds").rglob("*.txt"))[0]
    edits = [
        (one, "\n\n", "\n\nA sentence no seed has.\n\n"),  # one briefing compared again, the others kept
        (two, "\ntitle: ", "\ntitle: Retitled "),  # another object, the same article: the same comparison
        (seed, " ", " newly ", ),  # a seed's text: every position looked at again
        (one, "A sentence no seed has.\n\n", ""),  # back as it was
    ]
    for path, old, new in edits:
        text = path.read_text("utf-8")
        assert old in text, (path.name, old)
        path.write_text(text.replace(old, new, 1), "utf-8")
        again, found = check(memo)
        fresh, found_fresh = check(None)
        assert again == fresh, (path.name, old)
        assert found == found_fresh, (path.name, old)
        assert any("seed" in f for f in found)  # (the synthetic articles differ from their seeds: there is something to report)
