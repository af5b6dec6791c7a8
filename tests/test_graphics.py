"""The SVG timelines and actor maps: scales, label placement, layouts, accessibility, golden files."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from test_graphics_synthetic import write_synthetic_site

from generator import graphics
from generator.diagnostics import Diagnostics
from generator.link import LinkedSite, link
from generator.load import load_sources
from generator.model import Event, PartialDate
from generator.parse import parse
from generator.pipeline import BuildConfig, build

NS = {"svg": "http://www.w3.org/2000/svg"}
GOLDEN = REPO / "tests" / "golden" / "graphics"
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def linked_site(root: Path) -> LinkedSite:
    diagnostics = Diagnostics()
    site = parse(load_sources(root, diagnostics), diagnostics)
    assert not diagnostics.errors
    return link(site)


def events(*dates: str) -> list[Event]:
    return [Event(PartialDate.parse(d), f"Event number {n + 1} happened on this date") for n, d in enumerate(dates)]


def parse_svg(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def label_boxes(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Return the estimated box of every text element (our own width estimate, the drawing's coordinates)."""
    boxes = []
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        size = float(text.get("font-size", graphics.LABEL_SIZE))
        bold = text.get("font-weight") == "bold"
        spans = list(text) or [text]
        for span in spans:
            content = span.text or ""
            x, y = float(span.get("x", text.get("x", 0))), float(span.get("y", text.get("y", 0)))
            w = graphics.text_width(content, size, bold)
            anchor = text.get("text-anchor", "start")
            left = x - w / 2 if anchor == "middle" else x
            boxes.append((content, (left, y - size * 0.8, left + w, y + size * 0.2)))
    return boxes


def assert_no_overlap(root: ET.Element) -> None:
    width, height = float(root.get("width")), float(root.get("height"))
    boxes = [(t, b) for t, b in label_boxes(root) if not t.isdigit()]  # badge numbers sit inside their discs
    for n, (text, (l1, t1, r1, b1)) in enumerate(boxes):
        assert -0.5 <= l1 and r1 <= width + 0.5 and -0.5 <= t1 and b1 <= height + 0.5, f"{text!r} leaves the drawing"
        for other, (l2, t2, r2, b2) in boxes[n + 1 :]:
            assert min(r1, r2) - max(l1, l2) <= 0.5 or min(b1, b2) - max(t1, t2) <= 0.5, f"{text!r} overlaps {other!r}"


# -- text and scales ------------------------------------------------------------------------------


def test_wrap_keeps_lines_within_the_width_and_marks_what_it_cuts() -> None:
    text = "North Korea nullifies the military agreement of September 19 and redefines inter-Korean relations as hostile"
    lines = graphics.wrap(text, 150, 12, lines=3)
    assert len(lines) == 3
    assert all(graphics.text_width(line, 12) <= 150 for line in lines)
    assert lines[-1].endswith("…")
    assert graphics.wrap("Short", 150, 12) == ["Short"]
    assert all(graphics.text_width(line, 12) <= 60 for line in graphics.wrap("Supercalifragilisticexpialidocious words", 60, 12))


def test_text_width_counts_wide_characters_wider() -> None:
    assert graphics.text_width("iiii", 12) < graphics.text_width("MMMM", 12) < graphics.text_width("MMMM", 12, bold=True)
    assert graphics.text_width("北朝鮮", 12) == pytest.approx(36)


def test_date_span_covers_a_day_a_month_or_a_year() -> None:
    def days(text: str) -> int:
        start, end = graphics.date_span(PartialDate.parse(text))
        return end - start

    assert (days("2025-09-03"), days("2024-02"), days("2023-02"), days("2024")) == (1, 29, 28, 366)


def test_a_long_gap_is_cut_and_the_scale_stays_true_on_both_sides() -> None:
    spans = [graphics.date_span(PartialDate.parse(d)) for d in ("2023-09", "2023-11", "2025-09-01", "2025-09-03")]
    scale = graphics.time_scale(spans, 0, 700)
    assert len(scale.segments) == 2  # the 21 months before September 2025 are cut, October 2023 is not
    sep, nov = spans[0], spans[1]
    assert scale.x(sep[1]) - scale.x(sep[0]) == pytest.approx(scale.x(nov[1]) - scale.x(nov[0]))  # 30 days, same width
    assert scale.x(spans[3][0]) - scale.x(spans[2][0]) == pytest.approx(2 * scale.px_per_day)  # same scale after the cut
    xs = [scale.x(d) for s in spans for d in s]
    assert xs == sorted(xs)
    assert scale.right(scale.segments[-1]) <= 700 + 0.01


def test_evenly_spread_events_are_not_cut() -> None:
    spans = [graphics.date_span(PartialDate.parse(d)) for d in ("2024-01-10", "2024-04-02", "2024-07-20", "2024-11-01")]
    assert len(graphics.time_scale(spans, 0, 700).segments) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 700), st.floats(10, 120)), min_size=1, max_size=30))
def test_dodge_keeps_order_and_separates_without_leaving_the_bounds(items: list[tuple[float, float]]) -> None:
    items.sort()
    centres, widths = [c for c, _ in items], [w for _, w in items]
    lefts = graphics.dodge(centres, widths, 0, 700, gap=4)
    if sum(widths) + 4 * (len(widths) - 1) > 700:
        assert lefts is None
        return
    assert lefts is not None
    assert lefts[0] >= -1e-6 and lefts[-1] + widths[-1] <= 700 + 1e-6
    for n in range(len(lefts) - 1):
        assert lefts[n] + widths[n] + 4 <= lefts[n + 1] + 1e-6


# -- timelines ------------------------------------------------------------------------------------


def test_briefing_timeline_numbers_every_event_and_names_itself() -> None:
    root = parse_svg(graphics.briefing_timeline(events("2023-09", "2023-11", "2025-09-01", "2025-09-02", "2025-09-03")))
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    assert title is not None and title.get("id") == root.get("aria-labelledby")
    assert "5 events" in (title.text or "")
    numbers = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if "badge-number" in (t.get("class") or "")]
    assert numbers == ["1", "2", "3", "4", "5"]
    assert len(root.findall(".//svg:rect[@class='span']", NS)) == 2  # the two month-only dates are spans
    assert len(root.findall(".//svg:circle[@class='mark']", NS)) == 3
    assert len(root.findall(".//svg:line[@class='break']", NS)) == 2  # one break mark, two strokes
    assert_no_overlap(root)


def test_a_crowded_timeline_falls_back_to_numbers_and_still_shows_every_event() -> None:
    dates = [f"2025-03-{d:02d}" for d in range(1, 29)] + ["2024", "2025-06"]
    root = parse_svg(graphics.briefing_timeline(events(*dates)))
    numbers = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if "badge-number" in (t.get("class") or "")]
    assert numbers == [str(n) for n in range(1, 31)]
    assert not root.findall(".//svg:text[@class='event-text']", NS)
    assert_no_overlap(root)


def test_a_single_event_and_none() -> None:
    assert_no_overlap(parse_svg(graphics.briefing_timeline(events("2025-09-03"))))
    assert graphics.briefing_timeline([]) == ""


def test_year_timeline_has_a_lane_per_briefing_and_links_events_to_them(tmp_path: Path) -> None:
    linked = linked_site(write_synthetic_site(tmp_path / "s"))
    year = 2025
    items = linked.events[year]
    root = parse_svg(graphics.year_timeline(year, items, lambda url: "../../" + url))
    lanes = root.findall(".//svg:g[@class='lane']", NS)
    assert len(lanes) == len({i.briefing.slug for i in items})
    links = [a for a in root.iter("{http://www.w3.org/2000/svg}a") if a.get("href", "").endswith("#timeline")]
    assert len(links) == len(items)
    assert {a.get("href") for a in links} == {f"../../{i.briefing.url}#timeline" for i in items}
    assert_keyboard_reachable_group(root)
    assert_no_overlap(root)


def assert_keyboard_reachable_group(root: ET.Element) -> None:
    """Assert a drawing with links is a named group (an image may hold nothing focusable) whose links are tabbable and named."""
    links = list(root.iter("{http://www.w3.org/2000/svg}a"))
    assert links and root.get("role") == "group" and root.get("aria-labelledby") == root.find("svg:title", NS).get("id")  # type: ignore[union-attr]
    for a in links:
        assert a.get("tabindex") is None, "a link in a graphic must be in the tab order"
        assert a.get("aria-label") and a.get("aria-label") == a.findtext("svg:title", namespaces=NS)
    decoration = [g for g in root.iter() if g.get("aria-hidden") == "true"]
    assert decoration, "rulers, grid lines and edges are hidden from screen readers: the list after the graphic says it in words"
    assert not any(list(d.iter("{http://www.w3.org/2000/svg}a")) for d in decoration), "a hidden part must not hold a link"


def test_every_stretch_of_a_broken_ruler_is_named() -> None:
    """A short stretch after a break is padded wide; its date label moves left within its bar rather than vanish (found in the example site)."""
    for dates in (("2023-09", "2023-11", "2025-09-01", "2025-09-02", "2025-09-03"), ("2001-01-05", "2001-02-10", "2019-06-30"), ("1990", "2020-12-31")):
        root = parse_svg(graphics.briefing_timeline(events(*dates)))
        bars = root.findall(".//svg:rect[@class='ruler']", NS)
        assert len(bars) >= 2, dates
        labels = [(float(t.get("x", 0)), graphics.text_width(t.text or "", graphics.TICK_SIZE)) for t in root.findall(".//svg:text[@class='tick-label']", NS)]
        for bar in bars:
            left, right = float(bar.get("x", 0)), float(bar.get("x", 0)) + float(bar.get("width", 0))
            assert any(left <= x and x + w <= right for x, w in labels), f"a stretch of {dates} has no date on the ruler"
        assert root.get("role") == "img" and not list(root.iter("{http://www.w3.org/2000/svg}a"))
        assert_no_overlap(root)


# -- the actor map --------------------------------------------------------------------------------


def test_actor_graph_counts_co_appearances(example_site: Path) -> None:
    linked = linked_site(example_site)
    graph = graphics.actor_graph(linked)
    edges = {(a, b): n for a, b, n in graph.edges}
    assert len(edges) == 21  # the first briefing names all seven actors
    assert {pair for pair, n in edges.items() if n == 2} == {("north-korea", "russia"), ("north-korea", "south-korea"), ("russia", "south-korea")}
    assert dict((a.id, n) for a, n in graph.actors)["north-korea"] == 2
    assert {e.id for e, _ in graph.experts} == {"park-won-gon", "professor-kim"}
    assert [(o.id, n) for o, n in graph.with_actor("south-korea")][:3] == [("north-korea", 2), ("russia", 2), ("china", 1)]
    assert [(e.id, n) for e, n in graph.experts_of("china")] == [("park-won-gon", 1), ("professor-kim", 1)]


def test_map_of_60_actors_is_deterministic_and_its_nodes_and_labels_do_not_overlap(tmp_path: Path) -> None:
    linked = linked_site(write_synthetic_site(tmp_path / "s"))
    graph = graphics.actor_graph(linked)
    assert len(graph.actors) == 60
    first = graphics.actor_map(graph, lambda url: url)
    assert first == graphics.actor_map(graphics.actor_graph(linked), lambda url: url)
    root = parse_svg(first)
    assert float(root.get("width")) <= graphics.MAP_WIDTH
    placed = graphics.layout(graph)
    actors = [n for n in placed.nodes if not n.expert]
    for n, a in enumerate(actors):
        for b in actors[n + 1 :]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = a.box(), b.box()
            assert min(r1, r2) <= max(l1, l2) or min(b1, b2) <= max(t1, t2), f"{a.name} overlaps {b.name}"
    assert_no_overlap(root)
    links = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert len(links) == 60 + len(graph.experts) and all(h and h.endswith("/index.html") for h in links)
    assert_keyboard_reachable_group(root)


def test_experts_stand_apart_in_a_column_to_the_right(example_site: Path) -> None:
    placed = graphics.layout(graphics.actor_graph(linked_site(example_site)))
    experts = [n for n in placed.nodes if n.expert]
    actors = [n for n in placed.nodes if not n.expert]
    assert len({n.x for n in experts}) == 1
    assert min(n.x for n in experts) > max(n.box()[2] for n in actors)


def test_neighbourhood_centres_the_actor(example_site: Path) -> None:
    linked = linked_site(example_site)
    graph = graphics.neighbourhood_graph(linked, "south-korea")
    assert [a.id for a, _ in graph.actors][:3] == ["south-korea", "north-korea", "russia"]
    assert len(graph.actors) == 7 and [e.id for e, _ in graph.experts] == ["park-won-gon", "professor-kim"]
    root = parse_svg(graphics.actor_map(graph, lambda url: url, centre="south-korea"))
    assert root.find(".//svg:a[@class='node actor centre']", NS) is not None
    assert_no_overlap(root)


# -- pages ----------------------------------------------------------------------------------------


def built(example_site: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    report = build(BuildConfig(example_site, out))
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    return out


def test_pages_carry_the_graphics_with_their_text_alternatives(example_site: Path, tmp_path: Path) -> None:
    out = built(example_site, tmp_path)
    page = (out / "briefings" / "kim-jong-un-beijing-victory-day" / "index.html").read_text("utf-8")
    figure = page.index('<figure class="graphic graphic-timeline">')
    after = page[page.index("</figure>", figure) :]
    assert re.match(r"</figure>\s*<ol class=\"timeline\">", after), "the numbered list must follow the graphic"
    assert after.split("</ol>")[0].count("<li>") == 5
    markdown = (out / "briefings" / "kim-jong-un-beijing-victory-day" / "index.md").read_text("utf-8")
    assert "<svg" not in markdown
    assert "1. **September 2023** — North Korea enshrines" in markdown
    assert "5. **3 September 2025** — Victory Day" in markdown
    year = (out / "timeline" / "2023" / "index.html").read_text("utf-8")
    assert 'class="graphic-svg timeline-graphic year-timeline"' in year and '<ol class="timeline">' in year
    assert 'href="../../briefings/kim-jong-un-beijing-victory-day/index.html#timeline"' in year
    mapped = (out / "map" / "index.html").read_text("utf-8")
    assert 'class="graphic-svg actor-map"' in mapped and 'id="who-with-whom"' in mapped
    assert 'href="../actors/north-korea/index.html"' in mapped
    actor = (out / "actors" / "russia" / "index.html").read_text("utf-8")
    assert 'class="graphic-svg actor-map neighbourhood"' in actor
    for path in (out / "briefings").rglob("index.html"):
        for svg in SVG.findall(path.read_text("utf-8")):
            parse_svg(svg)


def graphics_of(out: Path) -> dict[str, str]:
    """Return every SVG of the built site by a file name: page path with / as -, then its index on the page."""
    found = {}
    for path in sorted(out.rglob("*.html")):
        for n, svg in enumerate(SVG.findall(path.read_text("utf-8"))):
            name = path.relative_to(out).with_suffix("").as_posix().replace("/", "--")
            found[f"{name}-{n + 1}.svg"] = svg + "\n"
    return found


def test_example_site_graphics_match_golden(example_site: Path, tmp_path: Path, update_golden: bool) -> None:
    found = graphics_of(built(example_site, tmp_path))
    assert any(k.startswith("map--") for k in found) and any(k.startswith("briefings--") for k in found)
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        for name, svg in found.items():
            (GOLDEN / name).write_text(svg, "utf-8")
        return
    golden = {p.name: p.read_text("utf-8") for p in sorted(GOLDEN.glob("*.svg"))}
    assert golden, "no golden graphics: run `pytest --update-golden` and review the diff"
    assert sorted(golden) == sorted(found)
    for name in golden:
        parse_svg(golden[name])
        assert found[name] == golden[name], f"{name} differs from tests/golden/graphics/{name} (review, then `pytest --update-golden`)"


def test_graphics_stay_fast_on_a_big_archive(tmp_path: Path) -> None:
    linked = linked_site(write_synthetic_site(tmp_path / "s"))
    started = dt.datetime.now()
    drawn = graphics.Graphics(linked)
    drawn.actor_map(lambda u: u)
    for entry in linked.entries:
        drawn.briefing_timeline(entry.briefing)
    for year in linked.events:
        drawn.year_timeline(year, lambda u: u)
    for actor in linked.actor_cards:
        drawn.neighbourhood(actor, lambda u: u)
    assert (dt.datetime.now() - started).total_seconds() < 10
