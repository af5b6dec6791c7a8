"""The machine-readable side of a site: each briefing's briefing.json, and JSON Schemas for it and for the sources.

The source schemas (front matter, actor, expert, site.yaml) are generated from the very
definitions the reader checks with (`schema.BRIEFING`, `schema.ACTOR`, ...), so they
cannot drift from what `check` accepts. The twin's own shape, `TWIN` below, is written
with the same types and goes through the same generator. Schemas are JSON Schema draft
2020-12, published under schemas/ with the site's stance labels as an enum.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from . import __version__, schema
from .annotations import MENTION
from .link import Entry, LinkedSite
from .model import DATE_PATTERN, Briefing, PartialDate, SiteConfig
from .pages import Output, relative
from .schema import ID, STANCE, Bool, Date, Field, Int, ListOf, MapOf, Record, Text

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TWIN_PATH = "briefings/{slug}/briefing.json"
CHANGE_KINDS = ("changed", "added", "moved", "dropped", "misquoted")

_PAGE = Field(Text(), True, "its HTML page, relative to this file")
TWIN = Record(
    {
        "$schema": Field(Text(), True, "this file's JSON Schema, relative to it"),
        "generator": Field(Text(), True, "the program and version that wrote the file"),
        "slug": Field(ID, True, "the briefing's slug: its source file's stem"),
        "title": Field(Text(), True, "the headline"),
        "date": Field(Date(), True, "the briefing's date (YYYY, YYYY-MM or YYYY-MM-DD)"),
        "updated": Field(Date(), doc="when the briefing was last changed"),
        "draft": Field(Bool(), True, "whether the briefing is a draft"),
        "tags": Field(ListOf(Record({"id": Field(ID, True), "name": Field(Text(), True, "the display name")})), True, "its tags"),
        "summary": Field(Text(), True, "the bottom line up front"),
        "why_it_matters": Field(Text(), doc="why the story matters"),
        "question": Field(Text(), doc="the briefing's key question, which the stances answer"),
        "status": Field(
            Record({"label": Field(Text(choices=schema.STATUSES), True), "as_of": Field(Date(), True, "when the status was assessed")}),
            doc="where the story stands",
        ),
        "disagreement": Field(
            Record(
                {
                    "view": Field(Text(), True, "the strongest counter-view"),
                    "by": Field(Text(), True, "who holds it, as the front matter gives it"),
                    "id": Field(ID, doc="the actor or expert in this briefing who holds it"),
                    "name": Field(Text(), doc="that actor's or expert's name"),
                }
            ),
            doc="the strongest counter-view, attributed",
        ),
        "key_points": Field(ListOf(Text()), True, "three to five bullets"),
        "actors": Field(
            ListOf(
                Record(
                    {
                        "id": Field(ID, True),
                        "name": Field(Text(), True),
                        "kind": Field(Text(choices=("person", "state", "organisation")), True),
                        "role": Field(Text()),
                        "country": Field(Text()),
                        "stance": Field(STANCE, doc="the actor's stance in this briefing"),
                        "position": Field(Text(), doc="the actor's position in this briefing"),
                        "quote": Field(Text(), doc="words the source quotes"),
                        "page": _PAGE,
                    }
                )
            ),
            True,
            "who features, in the briefing's order",
        ),
        "experts": Field(
            ListOf(
                Record(
                    {
                        "id": Field(ID, True),
                        "name": Field(Text(), True),
                        "title": Field(Text()),
                        "affiliation": Field(Text()),
                        "stance": Field(STANCE, doc="the expert's stance in this briefing"),
                        "gist": Field(Text(), doc="the expert's view in one line"),
                        "quote": Field(Text(), doc="words the source quotes"),
                        "page": _PAGE,
                        "views": Field(
                            ListOf(
                                Record(
                                    {
                                        "anchor": Field(Text(), True, "the passage's anchor in the briefing page"),
                                        "text": Field(Text(), True, "the passage, its mentions resolved to their text"),
                                        "line": Field(Int(minimum=1), True, "where the passage starts in the source file"),
                                    }
                                )
                            ),
                            True,
                            "the article's passages that carry the expert's view",
                        ),
                    }
                )
            ),
            True,
            "whose views the briefing reports",
        ),
        "timeline": Field(
            ListOf(
                Record(
                    {
                        "date": Field(Date(), True),
                        "precision": Field(Text(choices=("year", "month", "day")), True, "how exactly the date is known"),
                        "event": Field(Text(), True),
                    }
                )
            ),
            True,
            "dated events, earliest first",
        ),
        "watch": Field(ListOf(Text()), True, "what to watch next"),
        "corrections": Field(ListOf(Record({"date": Field(Date(), True), "text": Field(Text(), True)})), True, "the corrections log, oldest first"),
        "source": Field(
            Record(
                {
                    "seed": Field(Text()),
                    "outlet": Field(Text()),
                    "url": Field(Text()),
                    "author": Field(Text()),
                    "published": Field(Date()),
                    "article": Field(Text(choices=("full", "excerpt", "none")), True),
                    "dating": Field(Text()),
                }
            ),
            doc="where the article comes from",
        ),
        "provenance": Field(
            Record(
                {
                    "seed": Field(Text(), True, "the seed the article was compared with"),
                    "article": Field(Text(choices=("full", "excerpt", "none")), True),
                    "sentences": Field(Int(), True, "the article's sentences compared"),
                    "verbatim": Field(Bool(), True, "true when no sentence differs from the seed"),
                    "changes": Field(
                        ListOf(
                            Record(
                                {
                                    "kind": Field(Text(choices=CHANGE_KINDS), True),
                                    "text": Field(Text(), True, "the article's words (the seed's, for dropped)"),
                                    "line": Field(Int(minimum=1), True, "where in the source file"),
                                    "column": Field(Int(minimum=1), True),
                                    "seed_line": Field(Int(minimum=1), doc="the seed line it corresponds to"),
                                    "seed_text": Field(Text(), doc="the seed's sentence, for changed"),
                                    "view": Field(ID, doc="the expert (or, for a quote field, the actor) whose text it is"),
                                }
                            )
                        ),
                        True,
                    ),
                }
            ),
            doc="how the article compares with its seed (absent without a seed)",
        ),
        "pages": Field(
            Record({"html": Field(Text(), True), "markdown": Field(Text(), True), "source_file": Field(Text(), True, "the annotated source, relative to the site project")}),
            True,
            "the briefing's other renderings, relative to this file",
        ),
    },
    doc="A briefing as data: the machine-readable twin of its HTML and Markdown pages.",
)

SCHEMAS: dict[str, tuple[Record, str, bool]] = {  # file -> (definition, title, describes source YAML)
    "briefing.json": (TWIN, "Briefing: briefing.json", False),
    "front-matter.json": (schema.BRIEFING, "Briefing: a briefing's front matter", True),
    "actor.json": (schema.ACTOR, "Briefing: an actor registry file (content/actors/ID.yaml)", True),
    "expert.json": (schema.EXPERT, "Briefing: an expert registry file (content/experts/ID.yaml)", True),
    "site.json": (schema.SITE, "Briefing: content/site.yaml", True),
}


def json_schema(type_: Any, stances: tuple[str, ...], source: bool) -> dict[str, Any]:
    """Return the JSON Schema of one of schema.py's types (source: as YAML writes it, where a bare year is a number)."""
    if isinstance(type_, Record):
        out: dict[str, Any] = {"type": ["object", "null"] if type_.nullable else "object"}
        if type_.doc:
            out["description"] = type_.doc
        out["properties"] = {}
        for name, spec in type_.fields.items():
            prop = json_schema(spec.type, stances, source)
            if spec.doc:
                prop = {"description": spec.doc, **prop}
            out["properties"][name] = prop
        required = [name for name, spec in type_.fields.items() if spec.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out
    if isinstance(type_, MapOf):
        mapping = {"type": "object", "propertyNames": json_schema(type_.key, stances, source), "additionalProperties": json_schema(type_.value, stances, source)}
        if source and isinstance(type_.value, Record):  # `actors: [kim-jong-un, xi-jinping]` lists ids without details
            return {"anyOf": [mapping, {"type": "array", "items": json_schema(type_.key, stances, source)}]}
        return mapping
    if isinstance(type_, ListOf):
        return {"type": "array", "items": json_schema(type_.item, stances, source)}
    if isinstance(type_, Date):
        text = {"type": "string", "pattern": DATE_PATTERN.pattern}
        return {"anyOf": [text, {"type": "integer", "minimum": 1, "maximum": 9999}]} if source else text
    if isinstance(type_, Bool):
        return {"type": "boolean"}
    if isinstance(type_, Int):
        return {"type": "integer", "minimum": type_.minimum}
    out = {"type": "string"}
    if type_ is STANCE:
        out["enum"] = list(stances)
    elif type_.choices:
        out["enum"] = list(type_.choices)
    elif type_.pattern is not None:
        out["pattern"] = type_.pattern.pattern
    if type_.doc:
        out["description"] = type_.doc
    return out


def schema_documents(config: SiteConfig) -> dict[str, dict[str, Any]]:
    """Return each published schema by file name, as a JSON document."""
    documents = {}
    for name, (definition, title, source) in SCHEMAS.items():
        doc: dict[str, Any] = {"$schema": DRAFT}
        if config.base_url:
            doc["$id"] = config.base_url.rstrip("/") + "/schemas/" + name
        doc["title"] = title
        doc.update(json_schema(definition, config.stances, source))
        documents[name] = doc
    return documents


def _iso(date: PartialDate | None) -> str | None:
    return date.iso if date is not None else None


def _plain(text: str, names: dict[str, str]) -> str:
    """Return Markdown text with mentions resolved to their text and whitespace folded."""
    resolved = MENTION.sub(lambda m: m.group(2) if m.group(2) is not None else names.get(m.group(1).strip(), m.group(1)), text)
    return " ".join(resolved.split())


def _drop_empty(mapping: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return mapping without the optional keys that have no value."""
    return {k: v for k, v in mapping.items() if k in keep or v not in (None, "", [], {})}


def twin(entry: Entry, linked: LinkedSite, names: dict[str, str]) -> dict[str, Any]:
    """Return the briefing as the JSON document TWIN describes; names are the site's (Site.names), made once for all twins."""
    b: Briefing = entry.briefing
    site = linked.site
    here = TWIN_PATH.format(slug=b.slug)
    participants = {c.actor.id: c.actor.name for c in entry.actors} | {s.expert.id: s.expert.name for s in entry.experts}
    doc: dict[str, Any] = {
        "$schema": relative("schemas/briefing.json", here),
        "generator": f"Briefing {__version__}",
        "slug": b.slug,
        "title": b.title,
        "date": b.date.iso,
        "updated": _iso(b.updated),
        "draft": b.draft,
        "tags": [{"id": t, "name": site.config.tag_name(t)} for t in b.tags],
        "summary": b.summary,
        "why_it_matters": b.why_it_matters,
        "question": b.question,
        "status": {"label": b.status.label, "as_of": b.status.as_of.iso} if b.status else None,
        "disagreement": _drop_empty(
            {"view": b.disagreement.view, "by": b.disagreement.by, "id": b.disagreement.by if b.disagreement.by in participants else None, "name": participants.get(b.disagreement.by)}
        )
        if b.disagreement
        else None,
        "key_points": list(b.key_points),
        "actors": [
            _drop_empty(
                {
                    "id": c.actor.id,
                    "name": c.actor.name,
                    "kind": c.actor.kind,
                    "role": c.actor.role,
                    "country": c.actor.country,
                    "stance": c.role.stance,
                    "position": c.role.position,
                    "quote": c.role.quote,
                    "page": relative(c.actor.url, here),
                }
            )
            for c in entry.actors
        ],
        "experts": [
            _drop_empty(
                {
                    "id": s.expert.id,
                    "name": s.expert.name,
                    "title": s.expert.title,
                    "affiliation": s.expert.affiliation,
                    "stance": s.role.stance,
                    "gist": s.role.gist,
                    "quote": s.role.quote,
                    "page": relative(s.expert.url, here),
                    "views": [{"anchor": v.anchor, "text": _plain(v.text, names), "line": v.pos.line} for v in s.views],
                },
                keep=("views",),
            )
            for s in entry.experts
        ],
        "timeline": [{"date": e.date.iso, "precision": e.date.precision, "event": e.event} for e in sorted(b.timeline, key=lambda e: e.date.sort_key)],
        "watch": list(b.watch),
        "corrections": [{"date": c.date.iso, "text": c.text} for c in b.corrections],
        "source": _drop_empty(
            {
                "seed": b.source.seed,
                "outlet": b.source.outlet,
                "url": b.source.url,
                "author": b.source.author,
                "published": _iso(b.source.published),
                "article": b.source.article,
                "dating": b.source.dating,
            }
        )
        if b.source
        else None,
        "provenance": {
            "seed": b.provenance.seed,
            "article": b.provenance.article,
            "sentences": b.provenance.sentences,
            "verbatim": b.provenance.verbatim,
            "changes": [
                _drop_empty(
                    {
                        "kind": c.kind,
                        "text": c.text,
                        "line": c.pos.line,
                        "column": c.pos.col,
                        "seed_line": c.seed_line or None,
                        "seed_text": c.seed_text if c.kind == "changed" else None,
                        "view": c.view,
                    }
                )
                for c in b.provenance.changes
            ],
        }
        if b.provenance
        else None,
        "pages": {"html": relative(b.url, here), "markdown": relative(b.markdown_url, here), "source_file": b.pos.path},
    }
    required = {name for name, spec in TWIN.fields.items() if spec.required}
    return {k: v for k, v in doc.items() if k in required or v not in (None, "", [], {})}


def _dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def twin_outputs(linked: LinkedSite, kept: Callable[[str, frozenset[str]], Output | None] = lambda path, deps: None) -> list[Output]:
    """Return each briefing's briefing.json and the published schemas; kept(path, deps) gives a previous build's file still current."""
    outputs = []
    names = linked.site.names()  # (once: made for each twin, it grew with briefings times actors)
    for entry in linked.entries:
        path = TWIN_PATH.format(slug=entry.briefing.slug)
        outputs.append(kept(path, entry.own_keys) or Output(path, _dump(twin(entry, linked, names)), entry.own_keys))
    schemas = [kept(f"schemas/{name}", frozenset()) for name in SCHEMAS]  # made from site.yaml alone, whose change renders everything
    if None in schemas:
        schemas = [Output(f"schemas/{name}", _dump(document)) for name, document in schema_documents(linked.site.config).items()]
    return outputs + [o for o in schemas if o is not None]

