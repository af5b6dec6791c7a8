"""Linking: who is in a briefing, and the indexes by actor, expert, tag, year and event."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from conftest import benchmark_module

from generator.diagnostics import Diagnostics
from generator.link import link
from generator.load import load_sources
from generator.parse import ParseCache, parse


def linked_site(root: Path):  # type: ignore[no-untyped-def]
    diagnostics = Diagnostics()
    site = parse(load_sources(root, diagnostics), diagnostics)
    assert not diagnostics.errors, diagnostics.errors
    return link(site)


def brief(date: str, extra: str = "", body: str = "Text.") -> str:
    return f"---\ntitle: B {date}\ndate: {date}\nsummary: S.\n{extra}---\n\n{body}\n"


def test_participants_are_front_matter_then_body_in_order(make_site: Callable[..., Path]) -> None:
    root = make_site(
        {
            "content/actors/carol.yaml": "name: Carol\nkind: state\n",
            "content/experts/dan.yaml": "name: Dan\n",
            "content/briefings/first.md": brief("2025-01-02", "actors:\n  carol:\n    stance: neutral\n", "[[alice]] and [[carol]] and [[bob]].\n\n::: view dan\nx\n:::"),
        }
    )
    entry = linked_site(root).by_slug["first"]
    assert [c.actor.id for c in entry.actors] == ["carol", "alice"]
    assert entry.actors[0].role.stance == "neutral" and entry.actors[1].role.stance == ""
    assert [(s.expert.id, len(s.views)) for s in entry.experts] == [("bob", 0), ("dan", 1)]


def test_indexes(make_site: Callable[..., Path]) -> None:
    root = make_site(
        {
            "content/actors/carol.yaml": "name: Carol\nkind: state\n",
            "content/briefings/first.md": brief("2024-05", "tags:\n  - x\nactors:\n  alice:\n  carol:\ntimeline:\n  - date: 2024-05-02\n    event: Late\n  - date: 2024-05\n    event: Month\n"),
            "content/briefings/second.md": brief("2025-01-02", "tags:\n  - x\n  - y\nactors:\n  alice:\n", "::: view bob\nv\n:::"),
            "content/briefings/third.md": brief("2023", "actors:\n  carol:\n"),
        }
    )
    linked = linked_site(root)
    assert [e.briefing.slug for e in linked.entries] == ["second", "first", "third"]
    assert list(linked.years) == [2025, 2024, 2023]
    assert [b.slug for b in linked.tags["x"]] == ["second", "first"]
    assert [c.briefing.slug for c in linked.actor_cards["alice"]] == ["second", "first"]
    assert [(a.id, n) for a, n in linked.co_actors["alice"]] == [("carol", 1)]
    assert [e.id for e in linked.actor_experts["alice"]] == ["bob"]
    assert [(i.event.date.iso, i.event.event) for i in linked.events[2024]] == [("2024-05", "Month"), ("2024-05-02", "Late")]
    assert [r.slug for r in linked.by_slug["first"].related] == ["second", "third"]


def test_drafts_are_linked_only_when_asked(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/briefings/wip.md": brief("2025-03-01", "draft: true\n")})
    diagnostics = Diagnostics()
    site = parse(load_sources(root, diagnostics), diagnostics)
    assert "wip" not in link(site).by_slug
    assert "wip" in link(site, drafts=True).by_slug


def test_linking_again_with_the_last_result_equals_linking_afresh(tmp_path: Path) -> None:
    synth = benchmark_module("synth")
    root = synth.synthesize(tmp_path / "site", 60, seed=5)
    memo = ParseCache()
    diagnostics = Diagnostics()
    before = link(parse(load_sources(root, diagnostics), diagnostics, memo))
    one, two = sorted((root / "content" / "briefings").rglob("*.md"))[10:12]
    edits = [
        (one, "::: view", "A new sentence.\n\n::: view"),  # the article only: entries and related briefings reused
        (one, "\ntitle: ", "\ntitle: Retitled "),  # the indexes patched (link._patched) ...
        (one, "    position: ", "    position: Newly placed, "),  # ... an actor's role in it ...
        (one, "    gist: ", "    gist: Newly said, "),  # ... an expert's gist ...
        (one, "    event: ", "    event: Newly, "),  # an event's text: the timeline made again
        (one, "tags:\n", "tags:\n  - a-new-tag\n"),  # related briefings found again
        (two, "\ndate: 20", "\ndate: 19"),  # another place in the order
        (root / "content" / "actors" / "actor-001.yaml", "role: ", "role: Newly "),  # its cards patched in, and its place among co-actors
        (root / "content" / "experts" / "expert-000.yaml", "affiliation: ", "affiliation: Newly of "),  # its sections, and its place among an actor's experts
        (root / "content" / "actors" / "actor-001.yaml", "name: ", "name: Renamed "),  # its cards made again (co-actors are ordered by name)
    ]
    for path, old, new in edits:
        text = path.read_text("utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), "utf-8")
        diagnostics = Diagnostics()
        site = parse(load_sources(root, diagnostics), diagnostics, memo)  # unchanged files give the same objects, as in a rebuild
        assert not diagnostics.errors, diagnostics.errors
        again = link(site, previous=before)
        fresh = link(site)
        assert again == fresh, (path.name, old)
        assert (again.positions, again.related_by) == (fresh.positions, fresh.related_by), (path.name, old)  # carried over by link._in_place
        assert all(r is again.by_slug[r.slug].briefing for e in again.entries for r in e.related)  # this build's briefings, not the last ones
        cards = {id(c) for e in again.entries for c in e.actors}
        sections = {id(x) for e in again.entries for x in e.experts}
        briefings = {id(e.briefing) for e in again.entries}
        assert all(id(c) in cards for shown in again.actor_cards.values() for c in shown)  # patched indexes hold this build's objects too
        assert all(id(x) in sections for shown in again.expert_sections.values() for x in shown)
        assert all(id(b) in briefings for listed in (*again.tags.values(), *again.years.values()) for b in listed)
        assert all(id(i.briefing) in briefings and any(i.event is ev for ev in i.briefing.timeline) for items in again.events.values() for i in items)
        assert all(a is site.actors[a.id] for shown in again.co_actors.values() for a, _ in shown)  # this build's registry entries
        assert all(x is site.experts[x.id] for shown in again.actor_experts.values() for x in shown)
        assert all(c.actor is site.actors[c.actor.id] for e in again.entries for c in e.actors)
        before = again
