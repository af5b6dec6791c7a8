"""Turn raw sources into the model: site config, registries and briefings, each with positions."""

from __future__ import annotations

from pathlib import PurePosixPath
from types import MappingProxyType

from . import schema
from .annotations import scan_body
from .diagnostics import Diagnostic, Diagnostics
from .load import RawFile, RawSources
from .memo import other_objects
from .model import (
    Actor,
    ActorRole,
    Briefing,
    Correction,
    Disagreement,
    Event,
    Expert,
    ExpertRole,
    Link,
    PartialDate,
    Pos,
    Site,
    SiteConfig,
    Source,
    Status,
)
from .schema import V, plain

FRONT_MATTER_END = ("---", "...")


class ParseCache(dict):  # type: ignore[type-arg]
    """RawFile -> (what its parser returned, the diagnostics it reported); and each parser's last files with those pairs, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[object, tuple[tuple[RawFile, ...], list[tuple[object, tuple[Diagnostic, ...]]]]] = {}


def parse(raw: RawSources, diagnostics: Diagnostics, cache: ParseCache | None = None) -> Site:
    """Return the model of every source; problems go to diagnostics.

    With a cache (kept by `serve` between rebuilds), a file whose text did not change is
    not parsed again: its model and diagnostics come from the cache, which afterwards
    holds exactly the current files.
    """
    each = _cached(cache, diagnostics)
    config = parse_site_config(raw.site, diagnostics)
    actors = {a.id: a for a in each(parse_actor, raw.actors) if a is not None}
    experts = {e.id: e for e in each(parse_expert, raw.experts) if e is not None}
    briefings = tuple(b for b in each(parse_briefing, raw.briefings) if b is not None)
    return Site(
        config=config,
        briefings=briefings,
        actors=MappingProxyType(dict(sorted(actors.items()))),
        experts=MappingProxyType(dict(sorted(experts.items()))),
        static=raw.static,
    )


def _cached(cache: ParseCache | None, diagnostics: Diagnostics):  # type: ignore[no-untyped-def]
    """Return a function that parses files with a per-file parser, through the cache when there is one.

    When the files stand where they stood in the parser's last call, most of them the
    same objects (load hands back the same RawFile for a file whose stat did not change),
    the last results are kept and only the positions holding another object are looked
    up: a one-file edit at 10,000 briefings does not hash every file. Either way the
    files of the last call that are gone leave the cache, so it holds the current files.
    """

    def each(parser, files: tuple[RawFile, ...]) -> list:  # type: ignore[no-untyped-def,type-arg]
        if cache is None:
            return [parser(f, diagnostics) for f in files]
        last = cache.last.get(parser)
        if last is not None and len(last[0]) == len(files):
            hits = list(last[1])
            for i in other_objects(last[0], files):
                hits[i] = _hit(cache, parser, files[i])  # (an equal file, read again, keeps its result)
                if last[0][i] != files[i]:
                    cache.pop(last[0][i], None)  # (gone from this position; where it moved to, it is parsed again)
        else:
            hits = [_hit(cache, parser, f) for f in files]
            current = set(files)
            for gone in last[0] if last is not None else ():
                if gone not in current:
                    cache.pop(gone, None)
        cache.last[parser] = (files, hits)
        for _, reported in hits:
            if reported:
                diagnostics.items.extend(reported)
        return [result for result, _ in hits]

    return each


def _hit(cache: ParseCache, parser, f: RawFile) -> tuple[object, tuple[Diagnostic, ...]]:  # type: ignore[no-untyped-def]
    """Return what parser made of f and what it reported, from the cache or parsed now (and kept)."""
    hit = cache.get(f)
    if hit is None:
        local = Diagnostics()
        hit = cache[f] = (parser(f, local), tuple(local.items))
    return hit


def parse_site_config(raw: RawFile | None, diagnostics: Diagnostics) -> SiteConfig:
    """Return site.yaml's settings (defaults where it is silent)."""
    if raw is None:
        diagnostics.error(Pos("content/site.yaml"), "missing content/site.yaml; it needs at least a title")
        return SiteConfig(title="Briefings")
    values = schema.read_document(raw.text, schema.SITE, raw.path, 0, diagnostics) or {}
    defaults = SiteConfig(title="")
    stances = plain(values.get("stances"))
    tags = plain(values.get("tags"), {})
    return SiteConfig(
        title=plain(values.get("title"), "Briefings"),
        description=plain(values.get("description"), ""),
        base_url=plain(values.get("base_url"), ""),
        language=plain(values.get("language"), defaults.language),
        timezone=plain(values.get("timezone"), defaults.timezone),
        theme=plain(values.get("theme"), defaults.theme),
        author=plain(values.get("author"), ""),
        stances=tuple(stances) if stances else defaults.stances,
        tags=MappingProxyType({k: plain(v) for k, v in sorted(tags.items())}),
        per_page=plain(values.get("per_page"), defaults.per_page),
        pos=Pos(raw.path),
    )


def _registry_id(raw: RawFile, diagnostics: Diagnostics) -> str | None:
    """Return the id a registry or briefing file's stem gives, or report why it is not one."""
    from .model import ID_PATTERN, RESERVED_IDS

    stem = PurePosixPath(raw.path).stem
    if not ID_PATTERN.match(stem):
        diagnostics.error(Pos(raw.path), f"file name {stem!r} is not a valid id: use lower-case letters and digits joined by single hyphens")
        return None
    if stem in RESERVED_IDS:
        diagnostics.error(Pos(raw.path), f"file name {stem!r} is a reserved device name on Windows; choose another")
        return None
    return stem


def _links(value: V | None) -> tuple[Link, ...]:
    items = value.value if value is not None and value.value else []
    return tuple(Link(plain(i.value.get("title"), ""), plain(i.value.get("url"), "")) for i in items if i.value)


def parse_actor(raw: RawFile, diagnostics: Diagnostics) -> Actor | None:
    """Return the actor a registry file describes."""
    ident = _registry_id(raw, diagnostics)
    values = schema.read_document(raw.text, schema.ACTOR, raw.path, 0, diagnostics)
    if ident is None or values is None:
        return None
    return Actor(
        id=ident,
        name=plain(values.get("name"), ident),
        kind=plain(values.get("kind"), "person"),
        role=plain(values.get("role"), ""),
        country=plain(values.get("country"), ""),
        aliases=tuple(a for a in plain(values.get("aliases"), []) if a),
        summary=plain(values.get("summary"), ""),
        image=plain(values.get("image"), ""),
        links=_links(values.get("links")),
        pos=Pos(raw.path),
        draft=bool(plain(values.get("draft"), False)),
    )


def parse_expert(raw: RawFile, diagnostics: Diagnostics) -> Expert | None:
    """Return the expert a registry file describes."""
    ident = _registry_id(raw, diagnostics)
    values = schema.read_document(raw.text, schema.EXPERT, raw.path, 0, diagnostics)
    if ident is None or values is None:
        return None
    return Expert(
        id=ident,
        name=plain(values.get("name"), ident),
        title=plain(values.get("title"), ""),
        affiliation=plain(values.get("affiliation"), ""),
        field=plain(values.get("field"), ""),
        bio=plain(values.get("bio"), ""),
        aliases=tuple(a for a in plain(values.get("aliases"), []) if a),
        links=_links(values.get("links")),
        pos=Pos(raw.path),
        draft=bool(plain(values.get("draft"), False)),
    )


def split_front_matter(raw: RawFile, diagnostics: Diagnostics) -> tuple[str, str, int] | None:
    """Return (front matter, body, the body's first line), or report a missing front matter."""
    lines = raw.text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        diagnostics.error(Pos(raw.path, 1, 1), "expected front matter: a briefing starts with a line '---', then YAML fields, then '---'")
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in FRONT_MATTER_END:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    diagnostics.error(Pos(raw.path, 1, 1), "front matter is not closed: add a line '---' after the YAML fields")
    return None


def _pos(value: V | None, default: Pos) -> Pos:
    return value.pos if value is not None else default


def parse_briefing(raw: RawFile, diagnostics: Diagnostics) -> Briefing | None:
    """Return the briefing a source file holds."""
    slug = _registry_id(raw, diagnostics)
    parts = split_front_matter(raw, diagnostics)
    if parts is None:
        return None
    front, text, body_line = parts
    values = schema.read_document(front, schema.BRIEFING, raw.path, 1, diagnostics, "front matter")
    body = scan_body(text, raw.path, body_line, diagnostics)
    if values is None or slug is None:
        return None
    summary = plain(values.get("summary"), "")
    key_points = plain(values.get("key_points"), [])
    if body.summary and not summary:
        summary = body.summary
    elif body.summary:
        diagnostics.warning(_pos(values.get("summary"), Pos(raw.path, 2, 1)), "both a 'summary' field and a '::: summary' block; the field is used, the block ignored")
    if not summary and "summary" not in values:
        diagnostics.error(Pos(raw.path, 2, 1), "missing required field 'summary' (or a '::: summary' block in the body)")
    if body.key_points and not key_points:
        key_points = list(body.key_points)
    elif body.key_points:
        diagnostics.warning(_pos(values.get("key_points"), Pos(raw.path, 2, 1)), "both a 'key_points' field and a '::: key-points' block; the field is used, the block ignored")
    # A missing or invalid title or date was reported; keep the briefing so that its
    # cross-references are still checked (nothing is written while errors stand).
    date = plain(values.get("date"), PartialDate(1))
    title = plain(values.get("title"), slug)
    source_values = plain(values.get("source"), None)
    source = None
    if source_values is not None:
        source = Source(
            seed=plain(source_values.get("seed"), ""),
            outlet=plain(source_values.get("outlet"), ""),
            url=plain(source_values.get("url"), ""),
            author=plain(source_values.get("author"), ""),
            published=plain(source_values.get("published")),
            article=plain(source_values.get("article"), "full"),
            dating=plain(source_values.get("dating"), ""),
            pos=_pos(source_values.get("seed"), values["source"].pos),
        )
    actors = tuple(
        ActorRole(ident, plain(v.value.get("stance"), ""), plain(v.value.get("position"), ""), v.pos, _pos(v.value.get("stance"), v.pos), *_quote(v.value.get("quote"), v.pos))
        for ident, v in (plain(values.get("actors"), {}) or {}).items()
    )
    experts = tuple(
        ExpertRole(ident, plain(v.value.get("stance"), ""), plain(v.value.get("gist"), ""), v.pos, _pos(v.value.get("stance"), v.pos), *_quote(v.value.get("quote"), v.pos))
        for ident, v in (plain(values.get("experts"), {}) or {}).items()
    )
    timeline = tuple(
        Event(plain(e.get("date")), " ".join(plain(e.get("event")).split()), e["date"].pos)
        for e in plain(values.get("timeline"), [])
        if e and plain(e.get("date")) is not None and plain(e.get("event")) is not None
    )
    return Briefing(
        slug=slug,
        title=" ".join(title.split()),
        date=date,
        summary=" ".join(summary.split()),
        body=body,
        pos=Pos(raw.path),
        key_points=tuple(" ".join(k.split()) for k in key_points if k),
        tags=tuple(dict.fromkeys(t for t in plain(values.get("tags"), []) if t)),
        source=source,
        actors=actors,
        experts=experts,
        timeline=timeline,
        watch=tuple(" ".join(w.split()) for w in plain(values.get("watch"), []) if w),
        updated=plain(values.get("updated")),
        draft=bool(plain(values.get("draft"), False)),
        **_editorial(values),
    )


def _quote(value: V | None, default: Pos) -> tuple[str, Pos]:
    """Return a role's `quote` (whitespace folded) and where it starts."""
    return " ".join(plain(value, "").split()), _pos(value, default)


def _fold(value: V | None) -> str:
    """Return a text value with its whitespace folded to single spaces ('' when absent)."""
    return " ".join((plain(value, "") or "").split())


def _editorial(values: dict[str, V]) -> dict[str, object]:
    """Return the editorial fields of a front matter: why it matters, question, status, disagreement, corrections."""
    status = plain(values.get("status"))
    disagreement = plain(values.get("disagreement"))
    corrections = [c for c in plain(values.get("corrections"), []) if c and plain(c.get("date")) is not None and plain(c.get("text")) is not None]
    return {
        "why_it_matters": _fold(values.get("why_it_matters")),
        "question": _fold(values.get("question")),
        "status": Status(plain(status["label"]), plain(status["as_of"]), values["status"].pos)
        if status and plain(status.get("label")) and plain(status.get("as_of"))
        else None,
        "disagreement": Disagreement(_fold(disagreement["view"]), _fold(disagreement["by"]), values["disagreement"].pos, disagreement["by"].pos)
        if disagreement and plain(disagreement.get("view")) and plain(disagreement.get("by"))
        else None,
        "corrections": tuple(sorted((Correction(plain(c["date"]), _fold(c["text"]), c["date"].pos) for c in corrections), key=lambda c: c.date.sort_key)),
        "field_pos": tuple((name, v.pos) for name, v in values.items()),
    }
