"""Synthesize a deterministic briefing site of any size, for benchmarks and large-site tests."""

from __future__ import annotations

import random
import sys
from pathlib import Path

WORDS = (
    "agreement alliance analysts border ceasefire coalition committee conference council declaration delegation "
    "diplomats economic election embassy envoy exports framework government inspection leaders minister missile "
    "negotiations observers officials parliament policy pressure proposal region sanctions security statement "
    "summit talks territory trade treaty troops visit warning week year capital cooperation crisis defence"
).split()
GLUE = "the a of in and to on with for by from at as its their new said would could after before while".split()
KINDS = ("person", "state", "organisation")
STANCES = ("supportive", "sceptical", "opposed", "neutral", "mixed")
TAGS = 40
WORDS_PER_BRIEFING = 800


def _sentence(rng: random.Random, words: int) -> str:
    """Return a sentence of about `words` words, capitalised and ended with a full stop."""
    picked = [rng.choice(WORDS) if i % 2 == 0 else rng.choice(GLUE) for i in range(words)]
    return picked[0].capitalize() + " " + " ".join(picked[1:]) + "."


def _paragraph(rng: random.Random, words: int) -> str:
    """Return a paragraph of about `words` words."""
    sentences = []
    while words > 0:
        n = min(words, rng.randint(9, 18))
        sentences.append(_sentence(rng, n))
        words -= n
    return " ".join(sentences)


def _actor_name(n: int) -> str:
    return f"Actor {chr(65 + n % 26)}{n // 26:02d}"


def _expert_name(n: int) -> str:
    return f"Analyst {chr(65 + n % 26)}{n // 26:02d}"


def synthesize(root: Path, n: int, seed: int = 1) -> Path:
    """Write a site project of n briefings at root: N/20 actors, N/50 experts, ~800-word briefings; return root.

    Each briefing mentions 5 actors, gives 2 expert views, lists 5 timeline events and 4 tags;
    its seed is the same article as plain text, so provenance finds it verbatim.
    The same (n, seed) always writes the same bytes.
    """
    rng = random.Random(seed)
    actors = [f"actor-{i:03d}" for i in range(max(5, n // 20))]
    experts = [f"expert-{i:03d}" for i in range(max(2, n // 50))]
    tags = [f"tag-{i:02d}" for i in range(TAGS)]
    content = root / "content"
    for folder in ("actors", "experts", "briefings"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    (root / "seeds").mkdir(exist_ok=True)
    (root / "static").mkdir(exist_ok=True)
    (content / "site.yaml").write_text(
        "title: Synthetic Briefings\n"
        "description: A generated site for benchmarks.\n"
        "base_url: https://example.org/synthetic/\n"
        "language: en\n"
        "theme: default\n"
        "tags:\n" + "".join(f"  {t}: Topic {t[4:]}\n" for t in tags),
        "utf-8",
    )
    for i, ident in enumerate(actors):
        (content / "actors" / f"{ident}.yaml").write_text(
            f"name: {_actor_name(i)}\nkind: {KINDS[i % 3]}\nrole: Role of actor {i}\ncountry: Country {i % 17}\n"
            f"summary: {_sentence(rng, 14)}\n",
            "utf-8",
        )
    for i, ident in enumerate(experts):
        (content / "experts" / f"{ident}.yaml").write_text(
            f"name: {_expert_name(i)}\ntitle: Senior fellow\naffiliation: Institute {i % 9}\n",
            "utf-8",
        )
    for i in range(n):
        year = 2000 + i * 25 // max(n, 1)
        slug = f"briefing-{i:05d}"
        month, day = 1 + i % 12, 1 + i % 28
        cast = rng.sample(actors, 5)
        voices = rng.sample(experts, 2)
        chosen = rng.sample(tags, 4)
        front = [
            "---",
            f"title: Briefing {i} on {_sentence(rng, 7)[:-1].lower()}",
            f"date: {year:04d}-{month:02d}-{day:02d}",
            "source:",
            f"  seed: {slug}.txt",
            "  article: full",
            "tags:",
            *[f"  - {t}" for t in chosen],
            f"summary: {_sentence(rng, 40)}",
            "key_points:",
            *[f"  - {_sentence(rng, 12)}" for _ in range(3)],
            "actors:",
            *[f"  {a}:\n    stance: {rng.choice(STANCES)}\n    position: {_sentence(rng, 10)}" for a in cast],
            "experts:",
            *[f"  {e}:\n    stance: {rng.choice(STANCES)}\n    gist: {_sentence(rng, 12)}" for e in voices],
            "timeline:",
            *[f"  - date: {year - k:04d}-{1 + (i + k) % 12:02d}\n    event: {_sentence(rng, 9)}" for k in range(5)],
            "---",
            "",
        ]
        paragraphs, article = [], []  # the annotated body, and the seed: the same article as plain text
        budget = WORDS_PER_BRIEFING
        for k in range(8):
            text = _paragraph(rng, 80)
            if k < 5:
                article.append(f"{_actor_name(actors.index(cast[k]))} {text}")
                text = f"[[{cast[k]}]] {text}"
            else:
                article.append(text)
            paragraphs.append(text)
            budget -= 80
        for e in voices:
            passage = _paragraph(rng, 70)
            paragraphs.append(f"::: view {e}\n{passage}\n:::")
            article.append(passage)
        paragraphs.append(_paragraph(rng, max(budget - 140, 20)))
        article.append(paragraphs[-1])
        folder = content / "briefings" / f"{year:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{slug}.md").write_text("\n".join(front) + "\n\n".join(paragraphs) + "\n", "utf-8")
        (root / "seeds" / f"{slug}.txt").write_text("\n\n".join(article) + "\n", "utf-8")
    return root


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python3 benchmarks/synth.py DIR N [SEED]")
    synthesize(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 1)
