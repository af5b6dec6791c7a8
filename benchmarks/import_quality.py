"""Measure `briefing import`'s rules against hand-annotated articles: precision and recall per article.

    python3 benchmarks/import_quality.py [tests/fixtures/import] [--json]

Each NAME.txt is imported with the date of NAME.expected.yaml and no registry (so the
rules, not registry matching, are measured); tests/fixtures/import/README.md says how
each kind of result is matched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.extract import Extraction, extract  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "import"
KINDS = ("actors", "experts", "views", "events")


@dataclass(frozen=True)
class Count:
    found: int  # what the importer proposed (optional items left out)
    correct: int  # of those, how many the annotation expects
    expected: int  # what the annotation expects
    recalled: int  # of those, how many the importer found

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.recalled / self.expected if self.expected else 1.0


@dataclass(frozen=True)
class Score:
    article: str
    actors: Count
    experts: Count
    views: Count
    events: Count
    attributes: tuple[int, int]  # expert titles and affiliations right, out of
    name_dates: int  # events dated from a date that is part of a name (should be 0)


def _unquote(text: str) -> str:
    return text.lstrip("\"“‘' ")


def score(name: str, text: str, expected: dict) -> Score:  # type: ignore[type-arg]
    """Return how the extraction of one article compares with its annotation."""
    date = expected.get("date")
    found = extract(text, dt.date.fromisoformat(str(date)) if date else None)
    return compare(name, found, expected)


def compare(name: str, found: Extraction, expected: dict) -> Score:  # type: ignore[type-arg]
    # actors: by name, any expected form counts
    groups = [{a["name"], *a.get("forms", [])} for a in expected.get("actors", [])]
    optional = set(expected.get("optional_actors", []))
    proposed = [e.name for e in found.entities if not e.expert]
    counted = [n for n in proposed if n not in optional or any(n in g for g in groups)]
    actors = Count(
        len(counted),
        sum(1 for n in counted if any(n in g for g in groups)),
        len(groups),
        sum(1 for g in groups if any(n in g for n in proposed)),
    )
    # experts: by name; attributes compared exactly
    want = {e["name"]: e for e in expected.get("experts", [])}
    experts_found = [e for e in found.entities if e.expert]
    experts = Count(len(experts_found), sum(1 for e in experts_found if e.name in want), len(want), sum(1 for n in want if any(e.name == n for e in experts_found)))
    right = total = 0
    for entity in experts_found:
        if entity.name in want:
            for field_, value in (("title", entity.expert_title), ("affiliation", entity.affiliation)):
                total += 1
                right += value == want[entity.name].get(field_, "")
    # views: (expert, paragraph) pairs; paragraphs named by their opening words
    texts = [_unquote(p.text) for p in found.paragraphs]
    expected_pairs = set()
    for view in expected.get("views", []):
        for opening in view["paragraphs"]:
            index = next((i for i, t in enumerate(texts) if t.startswith(opening)), None)
            if index is None:
                raise ValueError(f"{name}: no paragraph starts with {opening!r}")
            expected_pairs.add((view["expert"], index))
    names = {e.key: e.name for e in found.entities}
    found_pairs = {(names[k], i) for k, ps in found.views for i in ps}
    views = Count(len(found_pairs), len(found_pairs & expected_pairs), len(expected_pairs), len(found_pairs & expected_pairs))
    # events: same date, text matching the `about` pattern; each matched once
    wanted = [(str(e["date"]), e["about"]) for e in expected.get("events", [])]
    unmatched = list(found.events)
    recalled = 0
    for date, about in wanted:
        hit = next((ev for ev in unmatched if ev.date.iso == date and re.search(about, ev.text, re.IGNORECASE)), None)
        if hit is not None:
            unmatched.remove(hit)
            recalled += 1
    events = Count(len(found.events), recalled, len(wanted), recalled)
    name_dates = sum(1 for ev in found.events for nd in expected.get("not_events", []) if nd in ev.phrase)
    return Score(name, actors, experts, views, events, (right, total), name_dates)


def evaluate(folder: Path = FIXTURES) -> list[Score]:
    """Return the score of every annotated article in folder, by name."""
    scores = []
    for annotation in sorted(folder.glob("*.expected.yaml")):
        name = annotation.name.removesuffix(".expected.yaml")
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        scores.append(score(name, text, yaml.safe_load(annotation.read_text(encoding="utf-8"))))
    return scores


def total(scores: list[Score]) -> Score:
    """Return the micro-averaged sum of scores."""

    def add(kind: str) -> Count:
        counts = [getattr(s, kind) for s in scores]
        return Count(*(sum(getattr(c, f) for c in counts) for f in ("found", "correct", "expected", "recalled")))

    return Score(
        "all", add("actors"), add("experts"), add("views"), add("events"),
        (sum(s.attributes[0] for s in scores), sum(s.attributes[1] for s in scores)), sum(s.name_dates for s in scores),
    )


def table(scores: list[Score]) -> str:
    """Return a Markdown table of precision / recall per article and overall."""
    head = "| article | actors P / R | experts P / R | view paragraphs P / R | events P / R | expert title + affiliation | name-dates dated |"
    rows = [head, "|" + "---|" * 7]
    for s in [*scores, total(scores)]:
        cells = [f"{c.precision:.2f} / {c.recall:.2f} ({c.correct}/{c.found}, {c.recalled}/{c.expected})" for c in (s.actors, s.experts, s.views, s.events)]
        label = f"**{s.article}**" if s.article == "all" else s.article
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {s.attributes[0]}/{s.attributes[1]} | {s.name_dates} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=FIXTURES)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    scores = evaluate(args.folder)
    if args.json:
        print(json.dumps([asdict(s) for s in [*scores, total(scores)]], indent=2))
    else:
        sys.stdout.write(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
