"""The source format's fields, and reading YAML nodes against them with positions.

One definition per file kind (site.yaml, actor, expert, briefing front matter) serves the
reader here and the reference in docs/format.md. Values are read from the composed YAML
nodes, never from PyYAML's YAML 1.1 conversions, so `country: NO` is caught as text that
YAML would have turned into a boolean.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from .diagnostics import Diagnostics
from .model import ID_PATTERN, PartialDate, Pos

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 50_000  # values one YAML document may expand to (stops alias bombs)
MAX_YAML_BYTES = 256 * 1024  # one YAML document (site.yaml, a registry entry, a front matter)
MAX_DEPTH = 32  # nested lists and mappings; libyaml's composer recurses and would crash on deeper ones

STR_TAG = "tag:yaml.org,2002:str"
TAG_NAMES = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "an empty value",
    "tag:yaml.org,2002:timestamp": "a date",
}


class V(NamedTuple):
    """A value read from YAML, with the position it was read from."""

    value: Any
    pos: Pos


class Invalid(Exception):
    """Raised inside the reader to drop a value that was already reported."""


# --- types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    doc: str = ""
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    pattern_doc: str = ""
    pattern_name: str = "id"  # what a value matching the pattern is, for the error


@dataclass(frozen=True)
class Date:
    doc: str = ""


@dataclass(frozen=True)
class Bool:
    doc: str = ""


@dataclass(frozen=True)
class Int:
    doc: str = ""
    minimum: int = 0


@dataclass(frozen=True)
class ListOf:
    item: Any
    doc: str = ""


@dataclass(frozen=True)
class Field:
    type: Any
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Record:
    fields: dict[str, Field]
    doc: str = ""
    nullable: bool = False  # `kim-jong-un:` with nothing after it is an empty record


@dataclass(frozen=True)
class MapOf:
    key: Text
    value: Any
    doc: str = ""


ID = Text(pattern=ID_PATTERN, pattern_doc="lower-case letters and digits joined by single hyphens")
# A BCP 47 tag such as en, pt-BR or zh-Hant-TW, at most 20 characters: it lands in every
# page's <html lang>, and Pagefind 1.5 panics on one of about 30 (a search index file name).
LANGUAGE = Text(pattern=re.compile(r"^(?=.{2,20}$)[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"), pattern_doc="a language tag such as en, pt-BR or zh-Hant-TW, at most 20 characters", pattern_name="language tag")
LINKS = ListOf(
    Record({"title": Field(Text(), True, "the link's text"), "url": Field(Text(), True, "where it points")})
)
STANCE = Text(doc="a label from site.yaml's `stances`")
STATUSES = ("escalating", "unchanged", "easing", "resolved")
QUOTE = Field(Text(), doc="words the source quotes, exactly as the seed has them (checked against it)")

SITE = Record(
    {
        "title": Field(Text(), True, "the site's name"),
        "description": Field(Text(), doc="one sentence for the home page and feeds"),
        "base_url": Field(Text(), doc="the address the site is published at, for feeds, sitemap and canonical links"),
        "language": Field(LANGUAGE, doc="the language of the pages, as an HTML lang code (default en)"),
        "timezone": Field(Text(), doc="the IANA time zone that dates are in (default UTC)"),
        "theme": Field(Text(), doc="the theme's name (default `default`)"),
        "author": Field(Text(), doc="who publishes the site"),
        "stances": Field(ListOf(ID), doc="the stance labels briefings may use"),
        "tags": Field(MapOf(ID, Text()), doc="display names of tags, by tag"),
        "per_page": Field(Int(minimum=1), doc="entries on one page of a paginated list (default 20)"),
    }
)

ACTOR = Record(
    {
        "name": Field(Text(), True, "the name pages show"),
        "kind": Field(Text(choices=("person", "state", "organisation")), True, "person, state or organisation"),
        "role": Field(Text(), doc="what the actor is, in a few words"),
        "country": Field(Text(), doc="the country the actor belongs to"),
        "aliases": Field(ListOf(Text()), doc="other names the articles use; their first unmarked mention is linked"),
        "summary": Field(Text(), doc="a sentence or two about the actor"),
        "image": Field(Text(), doc="a picture, as a path under static/"),
        "links": Field(LINKS, doc="further reading"),
        "draft": Field(Bool(), doc="true marks an entry `briefing import` drafted; `check` lists it to review"),
    }
)

EXPERT = Record(
    {
        "name": Field(Text(), True, "the name exactly as the sources give it"),
        "title": Field(Text(), doc="for example Professor"),
        "affiliation": Field(Text(), doc="university, institute or employer"),
        "field": Field(Text(), doc="the expert's field"),
        "bio": Field(Text(), doc="a sentence or two about the expert"),
        "aliases": Field(ListOf(Text()), doc="other names the articles use"),
        "links": Field(LINKS, doc="further reading"),
        "draft": Field(Bool(), doc="true marks an entry `briefing import` drafted; `check` lists it to review"),
    }
)

BRIEFING = Record(
    {
        "title": Field(Text(), True, "the headline"),
        "date": Field(Date(), True, "the briefing's date"),
        "summary": Field(Text(), False, "required: the bottom line up front, about 60 words (or a `::: summary` block)"),
        "why_it_matters": Field(Text(), doc="one or two sentences on why the story matters, shown right after the summary"),
        "question": Field(Text(), doc="the briefing's key question; the page sets every actor's and expert's stance against it"),
        "status": Field(
            Record(
                {
                    "label": Field(Text(choices=STATUSES), True, "escalating, unchanged, easing or resolved"),
                    "as_of": Field(Date(), True, "the day the status was last assessed"),
                }
            ),
            doc="where the story stands, as of a date",
        ),
        "disagreement": Field(
            Record(
                {
                    "view": Field(Text(), True, "the strongest counter-view, in a sentence or two"),
                    "by": Field(Text(), True, "who holds it: an actor or expert id (linked to its page), or the attribution as the source gives it"),
                }
            ),
            doc="the strongest counter-view, attributed",
        ),
        "updated": Field(Date(), doc="when the briefing was last changed"),
        "corrections": Field(
            ListOf(Record({"date": Field(Date(), True, "when the correction was made"), "text": Field(Text(), True, "what was wrong and what changed")})),
            doc="the corrections log: what was corrected, and when",
        ),
        "source": Field(
            Record(
                {
                    "seed": Field(Text(), doc="the raw article's file name under seeds/"),
                    "outlet": Field(Text(), doc="who published the article"),
                    "url": Field(Text(), doc="where it was published"),
                    "author": Field(Text(), doc="who wrote it"),
                    "published": Field(Date(), doc="when it was published"),
                    "article": Field(
                        Text(choices=("full", "excerpt", "none")),
                        doc="how much of the article is republished: full, excerpt or none (default full)",
                    ),
                    "dating": Field(Text(), doc="the editor's note on how the dates were worked out"),
                }
            ),
            doc="where the article comes from",
        ),
        "tags": Field(ListOf(ID), doc="tag ids; display names come from site.yaml"),
        "key_points": Field(ListOf(Text()), doc="three to five bullets (or a `::: key-points` block)"),
        "actors": Field(
            MapOf(ID, Record({"stance": Field(STANCE), "position": Field(Text(), doc="the actor's position, in prose"), "quote": QUOTE}, nullable=True)),
            doc="the actors who feature, by id",
        ),
        "experts": Field(
            MapOf(ID, Record({"stance": Field(STANCE), "gist": Field(Text(), doc="the expert's view in one line"), "quote": QUOTE}, nullable=True)),
            doc="the experts whose views the briefing reports, by id",
        ),
        "timeline": Field(
            ListOf(Record({"date": Field(Date(), True, "when"), "event": Field(Text(), True, "what happened")})),
            doc="dated events",
        ),
        "watch": Field(ListOf(Text()), doc="what to watch next"),
        "draft": Field(Bool(), doc="true leaves the briefing out of `build` (shown, marked, in `serve`)"),
    }
)


# --- reading ----------------------------------------------------------------------------


class Reader:
    """Read one YAML document of one file against a type, reporting into diagnostics."""

    def __init__(self, path: str, line_offset: int, diagnostics: Diagnostics) -> None:
        self.path = path
        self.line_offset = line_offset
        self.diagnostics = diagnostics
        self.nodes = 0

    def pos(self, node: yaml.Node) -> Pos:
        mark = node.start_mark
        return Pos(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def compose(self, text: str) -> yaml.Node | None:
        """Return the document's node tree, or report the YAML error where it is."""
        size = len(text.encode("utf-8"))
        if size > MAX_YAML_BYTES:
            self.diagnostics.error(Pos(self.path, 1 + self.line_offset, 1), f"YAML document is {size} bytes; the limit is {MAX_YAML_BYTES}")
            return None
        try:
            nodes = self._shallow(text)
            if nodes is None:
                return None
            node = yaml.compose(text, Loader=Loader)
            return node if node is None or nodes <= MAX_NODES or self._bounded(node) else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line + 1 + self.line_offset) if mark else 1 + self.line_offset
            col = (mark.column + 1) if mark else 1
            problem = exc.problem or exc.context or "cannot be read"
            context = f" ({exc.context})" if exc.context and exc.problem else ""
            self.diagnostics.error(Pos(self.path, line, col), f"malformed YAML: {problem}{context}")
        except yaml.YAMLError as exc:
            self.diagnostics.error(Pos(self.path, 1 + self.line_offset, 1), f"malformed YAML: {exc}")
        return None

    def _shallow(self, text: str) -> int | None:
        """Check the nesting depth on the event stream, which libyaml parses without recursion; report the first level too deep.

        Return how many values the document can expand to, as far as the events tell: the
        number of values where no alias repeats one (a tree of them, walked no more), else
        more than MAX_NODES (`_bounded` then sums the shared nodes); None: too deep.
        """
        depth = 0
        values = 0
        try:
            events = list(yaml.parse(text, Loader=Loader))
        except yaml.MarkedYAMLError as exc:  # PyYAML >= 6.0.4 has a nesting limit of its own, hit while it scans ahead
            if "nesting depth" not in str(exc.problem) or exc.problem_mark is None:
                raise
            mark = exc.problem_mark
            self.diagnostics.error(Pos(self.path, mark.line + 1 + self.line_offset, mark.column + 1), f"YAML nests lists and mappings more than {MAX_DEPTH} levels deep")
            return None
        for event in events:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                values += 1
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                values += 1
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    pos = Pos(self.path, mark.line + 1 + self.line_offset, mark.column + 1)
                    self.diagnostics.error(pos, f"YAML nests lists and mappings more than {MAX_DEPTH} levels deep")
                    return None
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                depth -= 1
            elif kind is yaml.AliasEvent:
                values = MAX_NODES + 1  # an alias may repeat any number of values
        return values

    def _bounded(self, root: yaml.Node) -> bool:
        """Check how many values the node tree expands to with its aliases followed; report the first value too big, or a cycle.

        Aliases share nodes, so nine aliases of nine aliases are a small tree that expands
        to millions of values: sizes are summed per shared node once (a walk without
        recursion), before any field is read.
        """
        sizes: dict[int, int] = {}
        open_: set[int] = set()  # nodes whose children are being summed: the path from the root
        shared = False
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, summed = stack.pop()
            key = id(node)
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value if isinstance(node, yaml.SequenceNode) else []
            if summed:
                open_.discard(key)
                sizes[key] = size = 1 + sum(sizes[id(child)] for child in children)
                if size > MAX_NODES:
                    what = "expands to more than {} values (too many aliases?)" if shared else "has more than {} values"
                    self.diagnostics.error(self.pos(node), "YAML document " + what.format(MAX_NODES))
                    return False
            elif key in sizes:
                shared = True
            elif key in open_:
                self.diagnostics.error(self.pos(node), "YAML value contains itself through an alias")
                return False
            else:
                open_.add(key)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
        return True

    def fail(self, node: yaml.Node, message: str) -> Invalid:
        self.diagnostics.error(self.pos(node), message)
        return Invalid()

    def read(self, node: yaml.Node, type_: Any, what: str) -> V:
        """Return node's value as type_ with its position; raise Invalid once reported."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.fail(node, f"document expands to more than {MAX_NODES} values (too many aliases?)")
            raise Invalid()
        if isinstance(type_, Record):
            return self._record(node, type_, what)
        if isinstance(type_, MapOf):
            return self._map(node, type_, what)
        if isinstance(type_, ListOf):
            return self._list(node, type_, what)
        return self._scalar(node, type_, what)

    def _scalar(self, node: yaml.Node, type_: Any, what: str) -> V:
        pos = self.pos(node)
        if not isinstance(node, yaml.ScalarNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
            raise self.fail(node, f"{what}: expected {describe(type_)}, got {kind}")
        raw = node.value
        if isinstance(type_, Date):
            try:
                return V(PartialDate.parse(raw), pos)
            except ValueError as exc:
                raise self.fail(node, f"{what}: {exc}") from None
        if isinstance(type_, Bool):
            if node.tag == "tag:yaml.org,2002:bool" and raw.lower() in ("true", "false"):
                return V(raw.lower() == "true", pos)
            raise self.fail(node, f"{what}: expected true or false, got {raw!r}")
        if isinstance(type_, Int):
            if node.tag == "tag:yaml.org,2002:int" and re.fullmatch(r"[0-9]+", raw) and int(raw) >= type_.minimum:
                return V(int(raw), pos)
            raise self.fail(node, f"{what}: expected a whole number of at least {type_.minimum}, got {raw!r}")
        # Text
        if node.tag != STR_TAG and not node.style:  # plain scalar ('' from libyaml, None from PyYAML)
            got = TAG_NAMES.get(node.tag, "a non-text value")
            if node.tag == "tag:yaml.org,2002:null":
                raise self.fail(node, f"{what}: expected text, got an empty value")
            raise self.fail(node, f"{what}: expected text, but YAML reads {raw!r} as {got}; put it in quotes: \"{raw}\"")
        if node.tag != STR_TAG:
            raise self.fail(node, f"{what}: expected text, got a value tagged {node.tag}")
        value = raw.strip()
        if type_.choices and value not in type_.choices:
            options = ", ".join(type_.choices)
            raise self.fail(node, f"{what}: expected one of {options}, got {value!r}{hint(value, type_.choices)}")
        if type_.pattern and not type_.pattern.match(value):
            raise self.fail(node, f"{what}: {value!r} is not a valid {type_.pattern_name} ({type_.pattern_doc})")
        return V(value, pos)

    def _list(self, node: yaml.Node, type_: ListOf, what: str) -> V:
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
                return V([], self.pos(node))
            raise self.fail(node, f"{what}: expected a list, got {kind_of(node)}")
        items = []
        for child in node.value:
            try:
                items.append(self.read(child, type_.item, what))
            except Invalid:
                pass
        return V(items, self.pos(node))

    def _pairs(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            prefix = f"{what}: " if what else ""
            raise self.fail(node, f"{prefix}expected a mapping of keys to values, got {kind_of(node)}")
        seen: dict[str, yaml.Node] = {}
        pairs = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.fail(key, f"{what}: a key must be plain text" if what else "a key must be plain text")
                continue
            if key.value in seen:
                first = self.pos(seen[key.value])
                self.fail(key, (f"{what}: " if what else "") + f"duplicate key {key.value!r} (first at line {first.line})")
                continue
            seen[key.value] = key
            pairs.append((key, value))
        return pairs

    def _record(self, node: yaml.Node, type_: Record, what: str) -> V:
        pos = self.pos(node)
        if type_.nullable and isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return V({}, pos)
        values: dict[str, V] = {}
        for key, value in self._pairs(node, what):
            name = key.value
            spec = type_.fields.get(name)
            if spec is None:
                self.fail(key, f"unknown key {name!r}{hint(name, type_.fields)}")
                continue
            label = name if what in ("", "front matter") else f"{what}.{name}"
            if isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.value in ("", "~", "null"):
                if spec.required:
                    self.fail(value if value.value else key, f"{label}: a value is required")
                    values[name] = V(None, self.pos(value))  # reported; not "missing" too
                continue
            try:
                values[name] = self.read(value, spec.type, label)
            except Invalid:
                values[name] = V(None, self.pos(value))  # reported; keep "present"
        for name, spec in type_.fields.items():
            if spec.required and name not in values:
                prefix = f"{what}: " if what not in ("", "front matter") else ""
                self.diagnostics.error(pos, f"{prefix}missing required field {name!r}")
        return V(values, pos)

    def _map(self, node: yaml.Node, type_: MapOf, what: str) -> V:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return V({}, self.pos(node))
        if isinstance(node, yaml.SequenceNode) and type_.value.__class__ is Record:
            # `actors: [kim-jong-un, xi-jinping]` lists ids without details
            out: dict[str, V] = {}
            for child in node.value:
                try:
                    key = self._scalar(child, type_.key, what)
                except Invalid:
                    continue
                out[key.value] = V({}, key.pos)
            return V(out, self.pos(node))
        out = {}
        for key, value in self._pairs(node, what):
            try:
                k = self._scalar(key, type_.key, what)
                v = self.read(value, type_.value, f"{what}.{k.value}")
            except Invalid:
                continue
            out[k.value] = V(v.value, k.pos)
        return V(out, self.pos(node))


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return f"{node.value!r}"


def describe(type_: Any) -> str:
    return {Date: "a date", Bool: "true or false", Int: "a whole number"}.get(type(type_), "text")


def hint(word: str, options: Any) -> str:
    """Return a did-you-mean suffix for a misspelt word, or nothing."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def read_document(text: str, type_: Record, path: str, line_offset: int, diagnostics: Diagnostics, what: str = "") -> dict[str, V] | None:
    """Compose text and read it as a record; None when it could not be read at all."""
    reader = Reader(path, line_offset, diagnostics)
    reported = len(diagnostics.errors)
    node = reader.compose(text)
    if node is None:
        if len(diagnostics.errors) == reported:  # nothing but blanks, comments or a byte-order mark: say so, never drop the file silently
            diagnostics.error(Pos(path, 1 + line_offset, 1), "empty document: expected a mapping of fields")
        return None
    try:
        return reader.read(node, type_, what).value
    except Invalid:
        return None


def plain(v: V | None, default: Any = None) -> Any:
    """Return the value inside a V (recursively for lists), or default."""
    if v is None or v.value is None:
        return default
    if isinstance(v.value, list):
        return [plain(item) for item in v.value]
    return v.value
