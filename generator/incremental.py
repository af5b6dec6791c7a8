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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .article import ArticleHTML, Registry
from .link import Entry, LinkedSite
from .model import Briefing
from .pages import Output, Page

WORD = re.compile(r"\w+")


def entry_shape(entry: Entry) -> tuple[object, ...]:
    """Return what of a linked entry a page can show, with registry entries by id (they have their own keys)."""
    return (
        entry.briefing,
        tuple((card.actor.id, card.role) for card in entry.actors),
        tuple((section.expert.id, section.role, section.views) for section in entry.experts),
        tuple(related.slug for related in entry.related),
    )


def changed_keys(old: LinkedSite, new: LinkedSite, old_articles: Mapping[str, ArticleHTML], new_articles: Mapping[str, ArticleHTML]) -> set[str]:
    """Return the model keys whose values differ between two linked sites (added and removed ones included)."""
    keys: set[str] = set()
    for slug in old.by_slug.keys() | new.by_slug.keys():
        before, after = old.by_slug.get(slug), new.by_slug.get(slug)
        if before is None or after is None or entry_shape(before) != entry_shape(after) or old_articles.get(slug) != new_articles.get(slug):
            keys.add(f"briefing:{slug}")
    for kind, was, now in (("actor", old.site.actors, new.site.actors), ("expert", old.site.experts, new.site.experts)):
        keys.update(f"{kind}:{ident}" for ident in was.keys() | now.keys() if was.get(ident) != now.get(ident))
    if tuple(old.by_slug) != tuple(new.by_slug):
        keys.add("list:briefings")
    if tuple(old.years) != tuple(new.years):
        keys.add("list:years")
    if tuple(old.events) != tuple(new.events):
        keys.add("list:timeline")
    return keys


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


def stale_pages(pages: Iterable[Page], previous: Mapping[str, Output], changed: set[str]) -> list[Page]:
    """Return the pages to render again: new ones, and those whose old or new dependencies meet a changed key."""
    return [page for page in pages if page.path not in previous or not changed.isdisjoint(page.deps | previous[page.path].deps)]


def kept_outputs(previous: Mapping[str, Output], changed: set[str] | None) -> Callable[[str, frozenset[str]], Output | None]:
    """Return a lookup of the previous build's outputs still current: made from the same keys, none of them changed (as stale_pages decides for pages)."""

    def kept(path: str, deps: frozenset[str]) -> Output | None:
        old = previous.get(path) if changed is not None else None
        return old if old is not None and old.deps == deps and changed is not None and changed.isdisjoint(deps) else None

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
