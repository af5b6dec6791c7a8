"""`briefing import`: turn a raw article into a draft briefing and draft registry entries, never overwriting.

The rules that find actors, experts, views and events live in extract.py; this module
matches what they found against the site's registries, writes the draft in the source
format (front matter in schema order, every guess marked with a comment) and plans the
files to create. Nothing is written until the whole plan is known to be safe.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .diagnostics import Diagnostics
from .extract import TITLE_HEADS, Entity, Extraction, Known, extract, slugify
from .load import decode, load_sources
from .model import ID_PATTERN, RESERVED_IDS, Pos
from .parse import parse

SLUG_WORDS = 6
SLUG_STOPWORDS = frozenset("a an the of to in on at for and or is are was were be as by with from its it that this".split())
YAML_WORDS = frozenset("y yes n no true false on off null ~".split())


@dataclass(frozen=True)
class ImportOptions:
    path: Path
    source: Path
    slug: str | None = None
    date: dt.date | None = None


@dataclass(frozen=True)
class DraftFile:
    """A file the import creates: its path under the site project and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class ImportPlan:
    slug: str
    briefing: DraftFile
    registry: tuple[DraftFile, ...]  # draft actors and experts not yet registered
    seed: str  # the seed's file name under seeds/
    copy_seed: bool  # False when seeds/ already holds the same file
    matched: tuple[str, ...]  # registry ids the article's names matched
    notes: tuple[str, ...]  # what the analyst should know (weekdays left undated, say)

    @property
    def files(self) -> tuple[DraftFile, ...]:
        return (self.briefing, *self.registry)


# --- planning ---------------------------------------------------------------------------


def plan_import(options: ImportOptions, diagnostics: Diagnostics) -> ImportPlan | None:
    """Return what importing the article would create, or None after reporting why it cannot."""
    source = options.source
    where = str(options.path)
    try:
        data = options.path.read_bytes()
    except OSError as exc:
        diagnostics.error(Pos(where), f"cannot read the article: {exc.strerror}")
        return None
    text = decode(where, data, diagnostics)
    if text is None:
        return None
    if not text.strip():
        diagnostics.error(Pos(where), "the article is empty")
        return None
    if not (source / "content").is_dir():
        diagnostics.error(Pos(str(source / "content")), f"no content/ folder in {source}; is this a site project? (use --source DIR)")
        return None
    site_diagnostics = Diagnostics()  # the site's own problems are `check`'s business, not import's
    raw = load_sources(source, site_diagnostics)
    site = parse(raw, site_diagnostics)
    known = tuple(
        [Known(a.id, a.name, a.kind, a.aliases) for a in site.actors.values()]
        + [Known(e.id, e.name, "expert", e.aliases) for e in site.experts.values()]
    )
    found = extract(text, options.date, known)
    date, date_note = _article_date(options.date, found)
    if date is None:
        diagnostics.error(Pos(where), "the article gives no date of its own; give the article's date with --date YYYY-MM-DD")
        return None

    slugs = {Path(f.path).stem: f.path for f in raw.briefings}
    title, title_note = _title(found)
    slug = options.slug or _slug(title)
    if not ID_PATTERN.match(slug) or slug in RESERVED_IDS:
        diagnostics.error(Pos(where), f"slug {slug!r} is not a valid id (lower-case letters and digits joined by single hyphens); choose one with --slug")
        return None
    if slug in slugs:
        diagnostics.error(Pos(slugs[slug]), f"a briefing with the slug {slug!r} exists; nothing was written (choose another with --slug)")
        return None

    seed, copy_seed = _seed(options.path, source, data, diagnostics)
    if seed is None:
        return None
    ids = _assign_ids(found, known)
    registry = tuple(_registry_draft(entity, ids[entity.key], found, seed) for entity in found.entities if not entity.registry_id)
    for draft in registry:
        if (source / draft.path).exists():
            diagnostics.error(Pos(draft.path), "exists; import never overwrites a file (rename or remove it, then import again)")
            return None
    briefing = DraftFile(f"content/briefings/{slug}.md", render_briefing(found, ids, title, title_note, date, date_note, seed))
    notes = []
    if found.undated:
        phrases = ", ".join(f'"{p}"' for p in found.undated)
        notes.append(f"left out events dated by weekday ({phrases}): give --date YYYY-MM-DD to date them")
    return ImportPlan(
        slug=slug,
        briefing=briefing,
        registry=registry,
        seed=seed,
        copy_seed=copy_seed,
        matched=tuple(sorted({e.registry_id for e in found.entities if e.registry_id})),
        notes=tuple(notes),
    )


def _article_date(given: dt.date | None, found: Extraction) -> tuple[dt.date | None, str]:
    """Return the briefing's date and how it was had: given, or the latest exact date in the article."""
    if given is not None:
        return given, "given with --date"
    exact = [e.date for e in found.events if e.date.day and not e.guess]
    if not exact:
        return None, ""
    latest = max(exact, key=lambda d: d.sort_key)
    return latest.earliest, "guessed: the latest date in the article; give --date for the article's own"


def _title(found: Extraction) -> tuple[str, str]:
    """Return the title (the headline, or the lede cut short) and a note when it was guessed."""
    if found.headline:
        return found.headline, ""
    first = next((p.text for p in found.paragraphs if not p.heading), "")
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0].rstrip(".")
    words = sentence.split()
    if len(words) > 14:
        cut = re.match(r"(.{30,}?)(?:,| for | during | while | as | after | which )", sentence)
        sentence = cut.group(1) if cut and len(cut.group(1).split()) <= 16 else " ".join(words[:14])
    return sentence, "guessed from the first sentence: write a headline"


def _slug(title: str) -> str:
    words = [w for w in slugify(title).split("-") if w and w not in SLUG_STOPWORDS]
    return "-".join(words[:SLUG_WORDS]) or "imported-article"


def _seed(path: Path, source: Path, data: bytes, diagnostics: Diagnostics) -> tuple[str | None, bool]:
    """Return the seed's name under seeds/ and whether it must be copied there."""
    name = path.name
    target = source / "seeds" / name
    if target.exists():
        if target.read_bytes() == data:
            return name, False
        diagnostics.error(Pos(f"seeds/{name}"), f"exists with other content than {path}; rename the article or the seed, then import again")
        return None, False
    return name, True


def _assign_ids(found: Extraction, known: tuple[Known, ...]) -> dict[str, str]:
    """Return an id per entity: its registry id, or a new one from its name that clashes with nothing."""
    taken = {k.id for k in known}
    ids: dict[str, str] = {}
    for entity in found.entities:
        if entity.registry_id:
            ids[entity.key] = entity.registry_id
            continue
        base = slugify(entity.name) or "entry"
        if base in RESERVED_IDS:
            base += "-1"
        ident, n = base, 2
        while ident in taken:
            ident, n = f"{base}-{n}", n + 1
        taken.add(ident)
        ids[entity.key] = ident
    return ids


# --- writing YAML -----------------------------------------------------------------------


def scalar(text: str) -> str:
    """Return text as a YAML scalar: plain when YAML reads it back as the same text, else double-quoted."""
    plain_ok = (
        text
        and text == text.strip()
        and text.lower() not in YAML_WORDS
        and not re.match(r"^[-?:,\[\]{}#&*!|>'\"%@`]|^[\d.+-]", text)
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and "\n" not in text
    )
    return text if plain_ok else json.dumps(text, ensure_ascii=False)


def folded(text: str, indent: int = 2) -> str:
    """Return a `>` block scalar of text, wrapped to about 88 columns."""
    pad = " " * indent
    lines = textwrap.wrap(text, width=88 - indent, break_long_words=False, break_on_hyphens=False)
    return ">\n" + "\n".join(pad + line for line in lines)


def _comment(line: str, note: str) -> str:
    return f"{line}  # {note}" if note else line


def _quote_note(phrase: str) -> str:
    return phrase.replace("\n", " ")


def render_briefing(found: Extraction, ids: dict[str, str], title: str, title_note: str, date: dt.date, date_note: str, seed: str) -> str:
    """Return the draft briefing: front matter in the documented order, then the annotated article."""
    actors = [e for e in found.entities if not e.expert]
    experts = [e for e in found.entities if e.expert]
    counts = {e.key: sum(1 for s in found.spans if s.key == e.key) for e in found.entities}
    fields: dict[str, list[str]] = {}
    fields["title"] = [_comment(f"title: {scalar(title)}", title_note)]
    fields["date"] = [_comment(f"date: {date.isoformat()}", date_note)]
    if found.summary:
        fields["summary"] = ["summary: " + folded(" ".join(found.summary)).replace(">\n", ">  # guessed: the lede and the most central sentences (TextRank)\n", 1)]
    fields["source"] = [
        "source:",
        f"  seed: {scalar(seed)}",
        "  article: full  # the whole article is below; use excerpt or none if you may not republish it",
    ]
    if found.tags:
        fields["tags"] = ["tags:  # guessed: the most central actors"] + [f"  - {ids[k]}" for k in found.tags]
    if found.key_points:
        fields["key_points"] = ["key_points:  # guessed: the most central sentences after the summary's"] + [f"  - {scalar(p)}" for p in found.key_points]
    if actors:
        lines = ["actors:"]
        for entity in actors:
            first = _first_mention(found, entity.key)
            lines.append(f"  {ids[entity.key]}:  # {entity.kind}, {counts[entity.key]} mention(s), first as \"{first}\"")
        fields["actors"] = lines
    if experts:
        lines = ["experts:"]
        for entity in experts:
            lines.append(f"  {ids[entity.key]}:")
            if found.gists.get(entity.key):
                lines.append(f"    gist: {scalar(found.gists[entity.key])}  # guessed: the view's most central sentence")
        fields["experts"] = lines
    if found.events:
        lines = ["timeline:"]
        for event in sorted(found.events, key=lambda e: (e.date.sort_key, e.paragraph)):
            note = f'guessed from "{_quote_note(event.phrase)}": {event.guess}' if event.guess else f'from "{_quote_note(event.phrase)}"'
            lines.append(_comment(f"  - date: {event.date.iso}", note))
            lines.append(f"    event: {scalar(event.text)}")
        fields["timeline"] = lines
    fields["draft"] = ["draft: true  # made by `briefing import`: check every guess, then remove this line"]
    front = [line for name in schema.BRIEFING.fields for line in fields.get(name, [])]
    return "---\n" + "\n".join(front) + "\n---\n\n" + render_body(found, ids)


def _first_mention(found: Extraction, key: str) -> str:
    span = next(s for s in found.spans if s.key == key)
    return found.paragraphs[span.paragraph].text[span.lead : span.end].replace('"', "'")


def render_body(found: Extraction, ids: dict[str, str]) -> str:
    """Return the article as Markdown: headings, `[[id|text]]` on first mentions, views in `::: view` blocks."""
    first: dict[int, list[tuple[int, int, str]]] = {}
    seen: set[str] = set()
    for span in found.spans:
        if span.key in seen or found.paragraphs[span.paragraph].heading:
            continue
        seen.add(span.key)
        marks = first.setdefault(span.paragraph, [])
        start = span.lead if not any(s.paragraph == span.paragraph and span.lead <= s.start < span.start for s in found.spans) else span.start
        marks.append((start, span.end, ids[span.key]))
    view_of: dict[int, tuple[str, bool, bool]] = {}
    for key, paragraphs in found.views:
        for n, index in enumerate(paragraphs):
            view_of[index] = (ids[key], n == 0, n == len(paragraphs) - 1)
    blocks: list[str] = []
    for index, paragraph in enumerate(found.paragraphs):
        if paragraph.heading:
            blocks.append("## " + paragraph.text)
            continue
        text = paragraph.text
        for start, end, ident in sorted(first.get(index, []), reverse=True):
            text = f"{text[:start]}[[{ident}|{text[start:end]}]]{text[end:]}"
        text = _escape_block_start(text)
        view = view_of.get(index)
        if view and view[1]:
            text = f"::: view {view[0]}\n{text}"
        if view and view[2]:
            text = f"{text}\n:::"
        blocks.append(text)
    return "\n\n".join(blocks) + "\n"


def _escape_block_start(text: str) -> str:
    """Return text that Markdown reads as a paragraph, not a heading, list, quote or block."""
    if re.match(r"(?:#|>|[-+*]\s|\d+[.)]\s|:::|={3,}|-{3,})", text):
        return "\\" + text if not text.startswith(":::") else "\\" + text
    return text


def _registry_draft(entity: Entity, ident: str, found: Extraction, seed: str) -> DraftFile:
    """Return a draft registry file for an entity the registries do not hold yet."""
    head = f"# Draft made by `briefing import` from seeds/{seed}: check it, then remove `draft: true`."
    aliases = _aliases(entity, found)
    lines = [head, f"name: {scalar(entity.name)}"]
    if entity.expert:
        source = f'guessed from "{entity.attributes_from}"' if entity.attributes_from else "guessed"
        if entity.expert_title:
            lines.append(_comment(f"title: {scalar(entity.expert_title)}", source))
        if entity.affiliation:
            lines.append(_comment(f"affiliation: {scalar(entity.affiliation)}", source))
        folder = "experts"
    else:
        lines.append(f"kind: {entity.kind}")
        note = f'guessed from "{entity.role_from}"' if entity.role_from else ""
        if entity.role:
            lines.append(_comment(f"role: {scalar(entity.role)}", note))
        country = entity.name if entity.kind == "state" else entity.country
        if country:
            lines.append(_comment(f"country: {scalar(country)}", note if entity.kind != "state" else ""))
        folder = "actors"
    if aliases:
        lines.append("aliases:")
        lines.extend(f"  - {scalar(a)}" for a in aliases)
    lines.append("draft: true")
    return DraftFile(f"content/{folder}/{ident}.yaml", "\n".join(lines) + "\n")


def _aliases(entity: Entity, found: Extraction) -> list[str]:
    """Return the other names the article uses for an entity that are safe to link by.

    Left out: a capital city (it also names a place), and a family name that another
    person in the article shares.
    """
    from .extract import COUNTRIES

    capitals = {c for _, _, caps, _ in COUNTRIES for c in caps}
    shared = {e.family for e in found.entities if e.kind == "person" and e.key != entity.key}
    aliases: list[str] = []
    for span in found.spans:
        if span.key != entity.key:
            continue
        text = found.paragraphs[span.paragraph].text
        form, lead = text[span.start : span.end], text[span.lead : span.end]
        candidates = [form]
        title = lead.split()[0]
        if lead != form and title in TITLE_HEADS and not title.endswith("s") and len(lead.split()) == len(form.split()) + 1:
            candidates.insert(0, lead)  # "Professor Park", "President Xi"
        for candidate in candidates:
            if candidate == entity.name or candidate in capitals or candidate in aliases:
                continue
            if candidate == entity.family and candidate in shared:
                continue
            aliases.append(candidate)
    return aliases


# --- writing files ----------------------------------------------------------------------


def write_import(plan: ImportPlan, article: Path, source: Path) -> list[str]:
    """Create the plan's files (never replacing one) and copy the seed; return the paths written."""
    written: list[str] = []
    if plan.copy_seed:
        target = source / "seeds" / plan.seed
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(article.read_bytes())
        written.append(f"seeds/{plan.seed}")
    for draft in plan.files:
        target = source / draft.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as handle:  # "x": fail rather than overwrite
            handle.write(draft.text)
        written.append(draft.path)
    return written


def render_dry_run(plan: ImportPlan) -> str:
    """Return every file the plan would create, each under a comment line naming it."""
    parts = []
    if plan.copy_seed:
        parts.append(f"# would copy the article to seeds/{plan.seed}\n")
    for draft in plan.files:
        parts.append(f"# ---- {draft.path}\n{draft.text}")
    return "\n".join(parts)
