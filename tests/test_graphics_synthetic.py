"""A synthetic site big enough to stress the graphics (60 actors, 100 events), and a check that it builds."""

from __future__ import annotations

import random
from pathlib import Path

from generator.pipeline import BuildConfig, build

FIRST = "Amara Bogdan Chen Dmitri Esther Farah Gustavo Hana Ibrahim Joanna Kwame Lucia Mateo Nadia Oleksandr Priya Quentin Rania Sergei Tamar".split()
LAST = "Abdullahi Bergström Castellanos Dubois Evans Fujimoto Goldberg Hernández Ivanova Johansson Kowalczyk Lindqvist Mbeki Nakamura Okonkwo".split()
STATES = "Republic of Northland|Southland|Eastern Federation|Westmark|The Kingdom of Ardenne|Lake States Union|Isle of Corran|Marrow".split("|")
ORGS = "United Nations Security Council|IAEA|Northland Workers’ Party|Eastern Federation Armed Forces|Westmark Foreign Ministry|G7|ASEAN Regional Forum".split("|")
EVENT_TEXT = (
    "Talks resume in the capital after a long pause",
    "Missile test over the sea, the third this year",
    "Summit ends without a joint statement",
    "Sanctions package adopted by the council",
    "Border crossing reopens for freight",
    "Envoy visits for two days of meetings",
    "Parliament ratifies the defence treaty after a heated debate that ran late into the night",
    "Election",
    "Naval exercise begins",
    "Leaders exchange letters",
)
ACTORS = 60
EVENTS = 100
BRIEFINGS = 18


def actor_names() -> list[tuple[str, str, str]]:
    """Return (id, name, kind) for the synthetic actors: people, states and organisations of varied name length."""
    names = [(s, "state") for s in STATES] + [(o, "organisation") for o in ORGS]
    rng = random.Random(8)
    people: set[str] = set()
    while len(names) + len(people) < ACTORS:
        people.add(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    names += [(p, "person") for p in sorted(people)]
    result = []
    for name, kind in names:
        ident = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in name.lower())
        ident = "-".join(part for part in ident.split("-") if part)
        result.append((ident, name, kind))
    return sorted(result)


def write_synthetic_site(root: Path) -> Path:
    """Write a site project with 60 actors, 6 experts and 100 timeline events in 18 briefings; return root."""
    rng = random.Random(60100)
    (root / "content" / "actors").mkdir(parents=True, exist_ok=True)
    (root / "content" / "experts").mkdir(parents=True, exist_ok=True)
    (root / "content" / "briefings").mkdir(parents=True, exist_ok=True)
    (root / "content" / "site.yaml").write_text("title: Synthetic briefings\nbase_url: https://example.org/\n", "utf-8")
    actors = actor_names()
    for ident, name, kind in actors:
        (root / "content" / "actors" / f"{ident}.yaml").write_text(f'name: "{name}"\nkind: {kind}\nrole: Participant\n', "utf-8")
    experts = [f"expert-{n}" for n in range(1, 7)]
    for n, ident in enumerate(experts, 1):
        (root / "content" / "experts" / f"{ident}.yaml").write_text(f'name: "Dr {LAST[n]}"\ntitle: Senior fellow\naffiliation: Institute {n}\n', "utf-8")
    counts = [16] + [5] * (BRIEFINGS - 1)  # one crowded timeline, the rest ordinary
    counts[-1] += EVENTS - sum(counts)
    ids = [a[0] for a in actors]
    for b in range(BRIEFINGS):
        day = 1 + b
        chosen = rng.sample(ids, rng.randint(3, 8)) + [ids[(b * 4 + k) % len(ids)] for k in range(4)]  # every actor in some briefing
        chosen = sorted(set(chosen))
        lines = [
            "---",
            f"title: Synthetic briefing number {b + 1} on the situation in {STATES[b % len(STATES)]}",
            f"date: 2025-{1 + b % 12:02d}-{day:02d}",
            "summary: >\n  A synthetic briefing for the graphics tests.",
            "actors:",
            *[f"  {a}:\n    position: Involved" for a in chosen],
            "experts:",
            *[f"  {e}:\n    gist: A view" for e in sorted(rng.sample(experts, 2))],
            "timeline:",
        ]
        for n in range(counts[b]):
            if b == 0 and n < 6:
                date = f"2025-03-{10 + n:02d}"  # consecutive days: markers crowd together
            else:
                kind = rng.random()
                year = rng.choice((2023, 2024, 2025, 2025))
                date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if kind < 0.6 else f"{year}-{rng.randint(1, 12):02d}" if kind < 0.9 else str(year)
            lines.append(f"  - date: {date}\n    event: {rng.choice(EVENT_TEXT)} ({b + 1}.{n + 1})")
        lines += ["---", "", "Body text.", ""]
        (root / "content" / "briefings" / f"synthetic-{b + 1:02d}.md").write_text("\n".join(lines), "utf-8")
    return root


def test_synthetic_site_has_60_actors_and_100_events(tmp_path: Path) -> None:
    root = write_synthetic_site(tmp_path / "synthetic")
    report = build(BuildConfig(root, tmp_path / "out"))
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    assert len(list((root / "content" / "actors").glob("*.yaml"))) == 60
    text = "".join(p.read_text("utf-8") for p in (root / "content" / "briefings").glob("*.md"))
    assert text.count("  - date: ") == 100
    assert len(list((tmp_path / "out" / "actors").glob("*/index.html"))) == 60
    assert (tmp_path / "out" / "map" / "index.html").is_file()
