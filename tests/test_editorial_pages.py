"""The editorial sections on the pages: why it matters, status, the stance grid, corrections and the provenance line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from generator.pipeline import BuildConfig, build

FRONT = """---
title: {title}
date: {date}
updated: 2025-03-01
summary: The summary.
why_it_matters: It matters because of this.
question: Will it happen?
status:
  label: escalating
  as_of: 2025-02-01
actors:
  alice:
    stance: supportive
    position: Wants it
experts:
  bob:
    gist: Doubts it
corrections:
  - date: {first}
    text: First fix of {title}.
  - date: 2025-03-01
    text: Second fix of {title}.
---

Body text.
"""


def _site(make_site: Callable[..., Path], per_page: int = 20) -> Path:
    root = make_site(
        {
            "content/site.yaml": f"title: Test site\nbase_url: https://example.org/\nper_page: {per_page}\n",
            "content/briefings/first.md": FRONT.format(title="First", date="2025-01-02", first="2025-01-05"),
            "content/briefings/second.md": FRONT.format(title="Second", date="2025-01-03", first="2025-02-10"),
        }
    )
    report = build(BuildConfig(root, root / "site"))
    assert not report.failed, [str(d) for d in report.diagnostics]
    return root / "site"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_briefing_page_shows_the_editorial_sections_in_order(make_site: Callable[..., Path]) -> None:
    html = (_site(make_site) / "briefings/first/index.html").read_text(encoding="utf-8")
    text = _text(html)
    assert "Status: escalating as of 1 February 2025" in text
    order = [text.index(s) for s in ("The summary.", "Why it matters It matters because of this.", "The question Will it happen?", "Who’s who", "Corrections", "Source")]
    assert order == sorted(order)
    grid = _text(html[html.index('class="stance-grid"') : html.index("</table>")])
    assert "Alice Example actor supportive Wants it" in grid  # the label as text, not colour alone
    assert "Bob Scholar expert not given Doubts it" in grid
    log = _text(html[html.index('class="corrections-log"') : html.index('<footer class="source"')])
    assert log.index("1 March 2025 Second fix of First.") < log.index("5 January 2025 First fix of First.")


def test_the_markdown_page_has_the_same_sections(make_site: Callable[..., Path]) -> None:
    md = (_site(make_site) / "briefings/first/index.md").read_text(encoding="utf-8")
    assert "updated 1 March 2025" in md
    assert "**Why it matters.** It matters because of this.\n\n**Status:** escalating, as of 1 February 2025\n" in md
    assert "## The question\n\nWill it happen?\n\n| Who | Stance | Position or view |\n|---|---|---|\n" in md
    assert "| [Alice Example](../../actors/alice/index.html) (actor) | supportive | Wants it |\n" in md
    assert "## Corrections\n\n- **1 March 2025** — Second fix of First.\n- **5 January 2025** — First fix of First.\n" in md


def test_the_corrections_page_lists_every_correction_newest_first_and_paginates(make_site: Callable[..., Path]) -> None:
    out = _site(make_site, per_page=3)
    first = _text((out / "corrections/index.html").read_text(encoding="utf-8"))
    assert re.findall(r"(?:First|Second) fix of \w+", first) == ["Second fix of First", "Second fix of Second", "First fix of Second"]
    second = _text((out / "corrections/page-2.html").read_text(encoding="utf-8"))
    assert re.findall(r"(?:First|Second) fix of \w+", second) == ["First fix of First"]
    assert 'href="../briefings/first/index.html"' in (out / "corrections/page-2.html").read_text(encoding="utf-8")


def test_feeds_carry_the_updated_date(make_site: Callable[..., Path]) -> None:
    out = _site(make_site)
    atom = (out / "feed.xml").read_text(encoding="utf-8")
    entry = atom[atom.index("<entry>") : atom.index("</entry>")]
    assert re.search(r"<published>2025-01-0[23]T00:00:00(?:Z|[+-]\d\d:\d\d)</published>", entry)
    assert re.search(r"<updated>2025-03-01T00:00:00(?:Z|[+-]\d\d:\d\d)</updated>", entry)
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert [(i["date_published"][:10], i["date_modified"][:10]) for i in items] == [("2025-01-03", "2025-03-01"), ("2025-01-02", "2025-03-01")]


def test_the_actor_page_shows_its_stance_against_each_question(make_site: Callable[..., Path]) -> None:
    text = _text((_site(make_site) / "actors/alice/index.html").read_text(encoding="utf-8"))
    assert text.count("On the question: Will it happen? supportive Wants it") == 2


def test_the_actor_pages_stance_over_time_is_in_date_order_with_text_labels(make_site: Callable[..., Path]) -> None:
    late = FRONT.format(title="Late", date="2025-04-02", first="2025-04-05").replace("stance: supportive\n    position: Wants it", "stance: opposed\n    position: Turned against it")
    root = make_site(
        {
            "content/briefings/a-late.md": late.replace("updated: 2025-03-01", "updated: 2025-04-06").replace("date: 2025-03-01", "date: 2025-04-06"),
            "content/briefings/z-early.md": FRONT.format(title="Early", date="2025-01-02", first="2025-01-05"),
        }
    )
    report = build(BuildConfig(root, root / "site"))
    assert not report.failed, [str(d) for d in report.diagnostics]
    html = (root / "site/actors/alice/index.html").read_text(encoding="utf-8")
    table = _text(html[html.index('class="stances"') : html.index("</table>", html.index('class="stances"'))])
    assert table.index("2 January 2025 Early") < table.index("2 April 2025 Late")
    assert "supportive Wants it" in table and "opposed Turned against it" in table  # the label as text


def test_the_source_line_says_the_article_is_the_source_verbatim(example_site: Path) -> None:
    report = build(BuildConfig(example_site, example_site / "site"))
    assert not report.failed
    html = (example_site / "site/briefings/kim-jong-un-beijing-victory-day/index.html").read_text(encoding="utf-8")
    assert "The article is the source verbatim: 24 sentences checked against the seed." in _text(html)
    md = (example_site / "site/briefings/north-korea-nuclear-constitution-two-hostile-states/index.md").read_text(encoding="utf-8")
    assert "- Text: the source’s text verbatim, in its order (7 sentences checked against the seed)\n" in md


def test_the_source_line_lists_what_the_editors_changed(example_site: Path) -> None:
    path = example_site / "content/briefings/2025/kim-jong-un-beijing-victory-day.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Kim departed Pyongyang", "Kim left Pyongyang"), encoding="utf-8")
    report = build(BuildConfig(example_site, example_site / "site"))
    assert not report.failed and len(report.warnings) == 1
    text = _text((example_site / "site/briefings/kim-jong-un-beijing-victory-day/index.html").read_text(encoding="utf-8"))
    assert "The editors changed the source’s text in 1 place: Changed (source line 3): “Kim left Pyongyang" in text
    assert "the source reads “Kim departed Pyongyang" in text


def test_an_actors_profile_is_on_its_first_page_and_the_pages_after_go_on_with_the_briefings(make_site: Callable[..., Path]) -> None:
    out = _site(make_site, per_page=1)
    first = (out / "actors/alice/index.html").read_text(encoding="utf-8")
    second = (out / "actors/alice/page-2.html").read_text(encoding="utf-8")
    assert "Stance over time" in first and 'class="infobox"' in first and "Experts who discussed" in first
    assert "Stance over time" not in second and 'class="infobox"' not in second and "Experts who discussed" not in second  # not repeated on every page
    text = _text(second)
    assert "Briefings featuring Alice Example, page 2 of 2. The first page has the profile" in text
    assert 'href="index.html"' in second and "Page 2 of 2" in text
    assert ("briefings/first/index.html" in second) != ("briefings/first/index.html" in first.split('id="briefings"')[1])  # each briefing on one page of the list
