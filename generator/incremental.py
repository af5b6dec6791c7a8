"""Decide what a rebuild must redo: compare the last build's model with the new one, and pick the stale pages.

Every rendered file records what it was made from (`Output.deps`), in these keys:

| key               | changes when                                                          |
|-------------------|-----------------------------------------------------------------------|
| `briefing:SLUG`   | the briefing, who is in it, its related briefings or its article HTML |
| `actor:ID`        | the actor's registry entry (added, removed or edited)                 |
| `expert:ID`       | the expert's registry entry                                           |
| `list:briefings`  | which briefings are published, or their order                         |
| `list:years`      | the years that have briefings (every page's navigation may show them) |
| `list:timeline`   | the years that have timeline events                                   |
| `template:NAME`   | a theme template's source (under its plain and its prefixed name)     |
| `asset:NAME`      | a theme static file; `static:PATH` a file of the site's static/       |

A page is re-rendered when it is new, or when what it was made from last time or what it
is made from now meets a changed key (the union catches a briefing that left a list). A
change to site.yaml, the theme chain or the build options is not compared: the caller
then renders everything.

A `briefing:SLUG`, `actor:ID` or `expert:ID` key is finer than that: the build also
knows which of the entry's fields changed (`Changes.facets`: a briefing's body, title,
timeline, ...; actors, experts and related for what linking made of it; body and views
of its article's HTML; an actor's role, name, ...), and each page knows which names it
can read (`reads`): the names its templates spell in their code
(theme.template_names), what helpers they call read (the graphics), and what the page's
own context was made from (`Page.reads`: a list ordered by date reads `date`, an actor's
page is titled with its `name`). A page that shows a changed entry is re-rendered only
if it can read a changed field, or if the entries it shows are not the same ones as last
time. So a sentence added to an article re-renders that briefing's pages, not every tag
and actor page that lists it, and an actor's new role re-renders the pages with its card,
not every list whose chips name it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .article import ArticleHTML, Registry
from .link import Entry, LinkedSite
from .memo import other_objects, same_objects
from .model import Briefing
from .pages import Output, Page

WORD = re.compile(r"\w+")
FIELDS = tuple(f.name for f in dataclasses.fields(Briefing))
DERIVED = {"body": ("reading_minutes",), "slug": ("url", "markdown_url"), "field_pos": ("pos_of",)}  # Briefing's properties, by the field they read
ENTRY_FIELDS = ("actors", "experts", "related")  # what link adds (ActorCard, ExpertSection, related briefings)


@dataclass(frozen=True)
class Changes:
    """What differs between two builds: the changed keys, and for each briefing in both, the names of what changed in it."""

    keys: set[str]
    facets: dict[str, frozenset[str]]  # briefing:SLUG, actor:ID, expert:ID -> names; a key absent here (added, removed, list:*, template:*) changed in every way


def entry_shape(entry: Entry) -> tuple[object, ...]:
    """Return what of a linked entry a page can show, with registry entries by id (they have their own keys)."""
    return (
        entry.briefing,
        tuple((card.actor.id, card.role) for card in entry.actors),
        tuple((section.expert.id, section.role, tuple((v.expert, v.text, v.anchor) for v in section.views)) for section in entry.experts),  # a view's position is not shown
        tuple(related.slug for related in entry.related),
    )


def changed_keys(old: LinkedSite, new: LinkedSite, old_articles: Mapping[str, ArticleHTML], new_articles: Mapping[str, ArticleHTML]) -> Changes:
    """Return the model keys whose values differ between two linked sites (added and removed ones included), with what changed in each briefing."""
    keys: set[str] = set()
    facets: dict[str, frozenset[str]] = {}
    same_registries = same_objects(old.site.actors, new.site.actors) and same_objects(old.site.experts, new.site.experts)
    same_order = len(old.entries) == len(new.entries) == len(new.keys) and old.keys == new.keys  # the same slugs in the same places (LinkedSite.keys)
    if same_registries and same_order:  # an entry that is the same object has the same article too (its body and the registry are the same): look only where the entries differ
        slugs: Iterable[str] = [new.entries[i].briefing.slug for i in other_objects(old.entries, new.entries)]
    else:
        slugs = old.by_slug.keys() | new.by_slug.keys()
    for slug in slugs:
        before, after = old.by_slug.get(slug), new.by_slug.get(slug)
        if before is None or after is None:
            keys.add(f"briefing:{slug}")
            continue
        if before is after and old_articles.get(slug) is new_articles.get(slug):
            continue  # link and _articles reused it: nothing to compare
        names = _changed_names(before, after, old_articles.get(slug), new_articles.get(slug))
        if names:
            keys.add(f"briefing:{slug}")
            facets[f"briefing:{slug}"] = names
    for kind, was, now in (("actor", old.site.actors, new.site.actors), ("expert", old.site.experts, new.site.experts)):
        for ident in was.keys() | now.keys():
            before_entry, after_entry = was.get(ident), now.get(ident)
            if before_entry is after_entry or before_entry == after_entry:
                continue
            keys.add(f"{kind}:{ident}")
            if before_entry is not None and after_entry is not None:
                facets[f"{kind}:{ident}"] = frozenset(f.name for f in dataclasses.fields(before_entry) if getattr(before_entry, f.name) != getattr(after_entry, f.name))
    if not same_order and tuple(old.by_slug) != tuple(new.by_slug):
        keys.add("list:briefings")
    if tuple(old.years) != tuple(new.years):
        keys.add("list:years")
    if tuple(old.events) != tuple(new.events):
        keys.add("list:timeline")
    return Changes(keys, facets)


def _changed_names(before: Entry, after: Entry, old_html: ArticleHTML | None, new_html: ArticleHTML | None) -> frozenset[str]:
    """Return the names of what differs between two versions of a briefing's entry: its fields, their properties, what link and Markdown made of them.

    The article's HTML is read as articles[slug].body or .views: a change to it is named
    by that field, so a page showing only view passages stays when the rest changes.
    """
    shape_before, shape_after = entry_shape(before), entry_shape(after)
    if shape_before == shape_after and old_html == new_html:
        return frozenset()
    names: set[str] = set()
    if old_html != new_html:
        names.update(f.name for f in dataclasses.fields(ArticleHTML) if old_html is None or new_html is None or getattr(old_html, f.name) != getattr(new_html, f.name))
    if before.briefing != after.briefing:
        for name in FIELDS:
            if getattr(before.briefing, name) != getattr(after.briefing, name):
                names.add(name)
                names.update(DERIVED.get(name, ()))
    names.update(name for name, x, y in zip(ENTRY_FIELDS, shape_before[1:], shape_after[1:]) if x != y)
    return frozenset(names)


def changed_files(prefix: str, old: Mapping[str, bytes], new: Mapping[str, bytes]) -> set[str]:
    """Return prefix:NAME for each file added, removed or changed between two name -> bytes maps."""
    return {f"{prefix}:{name}" for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def template_sources(names: tuple[str, ...], folders: tuple[Path, ...]) -> dict[str, bytes]:
    """Return every template of a theme chain by each name it can be loaded as (plain and `theme/`-prefixed)."""
    sources: dict[str, bytes] = {}
    for name, folder in zip(names, folders):
        templates = folder / "templates"
        if not templates.is_dir():
            continue
        for path in sorted(templates.rglob("*")):
            if path.is_file():
                rel = path.relative_to(templates).as_posix()
                data = path.read_bytes()
                sources.setdefault(rel, data)  # the first theme of the chain wins, as the loader does
                sources[f"{name}/{rel}"] = data
    return dict(sorted(sources.items()))


def stale_pages(pages: Iterable[Page], previous: Mapping[str, Output], changes: Changes, reads: Callable[[Page], frozenset[str] | None]) -> list[Page]:
    """Return the pages to render again: new ones, and those whose old or new dependencies meet a change they can show."""
    return [page for page in pages if not current(previous.get(page.path), page.deps, changes, lambda: reads(page))]


def current(old: Output | None, deps: frozenset[str], changes: Changes | None, reads: Callable[[], frozenset[str] | None]) -> bool:
    """Return whether a previous build's output still stands for a page made from deps that reads the names reads() gives (None: any)."""
    if old is None or changes is None:
        return False
    keys = changes.keys
    met = [k for k in keys if k in deps or k in old.deps] if len(keys) < len(deps) + len(old.deps) else keys & (deps | old.deps)  # a rebuild changes few keys; a page may show thousands
    if not met:
        return True
    if any(key not in changes.facets for key in met) or not _same_model_keys(deps, old.deps):
        return False
    names = reads()
    return names is not None and all(changes.facets[key].isdisjoint(names) for key in met)


def _same_model_keys(deps: frozenset[str], old: frozenset[str]) -> bool:
    """Return whether a page shows the same briefings, actors and experts as its old output did (which also records templates)."""
    return all(key.startswith("template:") or key == "list:years" for key in deps ^ old)


def kept_outputs(previous: Mapping[str, Output], changes: Changes | None) -> Callable[[str, frozenset[str]], Output | None]:
    """Return a lookup of the previous build's outputs still current: made from the same keys, none of them changed (as stale_pages decides for pages)."""

    def kept(path: str, deps: frozenset[str], reads: frozenset[str] | None = None) -> Output | None:
        old = previous.get(path)
        return old if old is not None and old.deps == deps and current(old, deps, changes, lambda: reads) else None

    return kept


def registry_changes(old: Registry, new: Registry) -> tuple[set[str], set[str]]:
    """Return the ids whose name or link changed, and the names or aliases that link differently."""
    ids = {i for i in old.names.keys() | new.names.keys() if old.names.get(i) != new.names.get(i) or old.urls.get(i) != new.urls.get(i)}
    names = {n for n in old.aliases.keys() | new.aliases.keys() if old.aliases.get(n) != new.aliases.get(n)}
    return ids, names


def article_affected(briefing: Briefing, ids: set[str], names: set[str]) -> bool:
    """Return whether a registry change can alter this briefing's article (a cheap test that errs towards yes)."""
    if not ids and not names:
        return False
    used = {m.id for m in briefing.body.mentions} | {v.expert for v in briefing.body.views}
    if not ids.isdisjoint(used):
        return True
    text = briefing.body.markdown
    if names and "&" in text:  # an entity could spell a name in other characters
        return True
    for name in names:
        words = WORD.findall(name)
        if not words or max(words, key=len) in text:
            return True
    return False
