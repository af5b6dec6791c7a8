"""The model: plain, frozen data that every stage passes along."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Mapping

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RESERVED_IDS = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class Pos:
    """A place in a source file: path relative to the site project, 1-based line and column."""

    path: str
    line: int = 1
    col: int = 1


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Return the date written as YYYY, YYYY-MM or YYYY-MM-DD; raise ValueError otherwise."""
        match = DATE_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
        year, month, day = (int(g) if g else None for g in match.groups())
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"impossible date {text!r}: there is no month {month}")
        if day is not None:
            try:
                dt.date(year, month, day)  # type: ignore[arg-type]
            except ValueError:
                raise ValueError(
                    f"impossible date {text!r}: {MONTHS[month - 1]} {year} has no day {day}"  # type: ignore[index]
                ) from None
        if year < 1:
            raise ValueError(f"impossible date {text!r}: there is no year 0")
        return cls(year, month, day)

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @cached_property  # (lists sort by it on every rebuild; a rebuild reuses unchanged briefings, dates included)
    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @cached_property
    def sort_key(self) -> tuple[dt.date, int]:
        """Sort by the earliest day, then by precision (a year before its months)."""
        return (self.earliest, {"year": 0, "month": 1, "day": 2}[self.precision])

    @property
    def iso(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
        if self.day:
            text += f"-{self.day:02d}"
        return text

    @property
    def display(self) -> str:
        if self.day:
            return f"{self.day} {MONTHS[self.month - 1]} {self.year}"  # type: ignore[operator]
        if self.month:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return str(self.year)

    def __str__(self) -> str:
        return self.iso


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class SiteConfig:
    title: str
    description: str = ""
    base_url: str = ""
    language: str = "en"
    timezone: str = "UTC"
    theme: str = "default"
    author: str = ""
    stances: tuple[str, ...] = ("supportive", "sceptical", "opposed", "neutral", "mixed")
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    per_page: int = 20
    pos: Pos = Pos("content/site.yaml")

    def tag_name(self, tag: str) -> str:
        """Return a tag's display name."""
        return self.tags.get(tag, tag.replace("-", " ").title())


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    kind: str
    role: str = ""
    country: str = ""
    aliases: tuple[str, ...] = ()
    summary: str = ""
    image: str = ""
    links: tuple[Link, ...] = ()
    pos: Pos = Pos("")
    draft: bool = False  # made by `briefing import`, not reviewed yet

    @property
    def url(self) -> str:
        return f"actors/{self.id}/index.html"


@dataclass(frozen=True)
class Expert:
    id: str
    name: str
    title: str = ""
    affiliation: str = ""
    field: str = ""
    bio: str = ""
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    pos: Pos = Pos("")
    draft: bool = False  # made by `briefing import`, not reviewed yet

    @property
    def url(self) -> str:
        return f"experts/{self.id}/index.html"


@dataclass(frozen=True)
class ActorRole:
    """What one briefing says of one actor."""

    id: str
    stance: str = ""
    position: str = ""
    pos: Pos = Pos("")
    stance_pos: Pos = Pos("")
    quote: str = ""  # words the source quotes verbatim
    quote_pos: Pos = Pos("")


@dataclass(frozen=True)
class ExpertRole:
    """What one briefing says of one expert."""

    id: str
    stance: str = ""
    gist: str = ""
    pos: Pos = Pos("")
    stance_pos: Pos = Pos("")
    quote: str = ""  # words the source quotes verbatim
    quote_pos: Pos = Pos("")


@dataclass(frozen=True)
class Event:
    date: PartialDate
    event: str
    pos: Pos = Pos("")


@dataclass(frozen=True)
class Source:
    seed: str = ""
    outlet: str = ""
    url: str = ""
    author: str = ""
    published: PartialDate | None = None
    article: str = "full"
    dating: str = ""
    pos: Pos = Pos("")  # where the seed is named


@dataclass(frozen=True)
class Mention:
    """An `[[id]]` or `[[id|text]]` annotation in a briefing body."""

    id: str
    text: str
    pos: Pos


@dataclass(frozen=True)
class View:
    """A `::: view EXPERT-ID` passage: the expert, its Markdown text and its anchor."""

    expert: str
    text: str
    anchor: str
    pos: Pos


@dataclass(frozen=True)
class Body:
    """A briefing's article as the scanner found it."""

    markdown: str  # the article with summary and key-points blocks taken out
    mentions: tuple[Mention, ...] = ()
    views: tuple[View, ...] = ()
    summary: str = ""  # from a `::: summary` block
    key_points: tuple[str, ...] = ()  # from a `::: key-points` block
    first_line: int = 1  # the body's first line in the source file
    words: int = 0


@dataclass(frozen=True)
class Status:
    """Where the story stands (escalating, unchanged, easing, resolved) as of a date."""

    label: str
    as_of: PartialDate
    pos: Pos = Pos("")


@dataclass(frozen=True)
class Disagreement:
    """The strongest counter-view, and who holds it (an actor or expert id, or an attribution)."""

    view: str
    by: str
    pos: Pos = Pos("")
    by_pos: Pos = Pos("")


@dataclass(frozen=True)
class Correction:
    date: PartialDate
    text: str
    pos: Pos = Pos("")


@dataclass(frozen=True)
class Change:
    """One difference between a briefing's article and its seed (see provenance.py).

    kind: changed | added | moved | dropped | misquoted. `text` is the article's words
    (the seed's for dropped), `seed_text` the closest seed sentence, `view` the expert
    whose view passage holds the text.
    """

    kind: str
    text: str
    pos: Pos
    seed_line: int = 0
    seed_text: str = ""
    view: str = ""


@dataclass(frozen=True)
class Provenance:
    """How a briefing's article compares with its seed."""

    seed: str
    article: str  # full | excerpt | none, as source.article says
    sentences: int = 0  # the article's sentences compared
    changes: tuple[Change, ...] = ()

    @property
    def verbatim(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class Briefing:
    slug: str
    title: str
    date: PartialDate
    summary: str
    body: Body
    pos: Pos
    key_points: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: Source | None = None
    actors: tuple[ActorRole, ...] = ()
    experts: tuple[ExpertRole, ...] = ()
    timeline: tuple[Event, ...] = ()
    watch: tuple[str, ...] = ()
    updated: PartialDate | None = None
    draft: bool = False
    why_it_matters: str = ""
    question: str = ""
    status: Status | None = None
    disagreement: Disagreement | None = None
    corrections: tuple[Correction, ...] = ()  # in date order
    provenance: Provenance | None = None  # filled in by provenance.check_site, when the briefing names a seed
    field_pos: tuple[tuple[str, Pos], ...] = ()  # where each front-matter field's value starts

    @property
    def url(self) -> str:
        return f"briefings/{self.slug}/index.html"

    def pos_of(self, name: str) -> Pos:
        """Return where a front-matter field's value starts (the front matter's first line if absent)."""
        return dict(self.field_pos).get(name, Pos(self.pos.path, 2, 1))

    @property
    def markdown_url(self) -> str:
        return f"briefings/{self.slug}/index.md"

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.body.words / 230))


@dataclass(frozen=True)
class Site:
    """Everything the sources say, parsed."""

    config: SiteConfig
    briefings: tuple[Briefing, ...]
    actors: Mapping[str, Actor]
    experts: Mapping[str, Expert]
    static: tuple[str, ...] = ()  # files under static/, relative to it

    def names(self) -> dict[str, str]:
        """Return each actor's and expert's id with its name: what a mention in the text reads as."""
        return {ident: entry.name for ident, entry in [*self.actors.items(), *self.experts.items()]}
