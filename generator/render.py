"""Render the linked site's HTML pages through the theme: briefings, actors, experts, tags, archive, timeline."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Callable, Mapping

import jinja2

from .article import ArticleHTML
from .assets import inline_asset
from .diagnostics import Diagnostics
from .graphics import Graphics
from .link import Entry, LinkedSite
from .memo import other_objects
from .model import Briefing, Correction, SiteConfig
from .metadata import page_metadata
from .pages import Output, Page, base_context, paginate, render
from .theme import Theme, template_keys

HOME_LATEST = 10
BY_DATE = frozenset({"date"})  # a list of briefings, newest first, reads their dates
ACTOR_PAGE = frozenset({"name", "kind", "role", "country", "aliases", "summary", "image", "links"})  # its title, and its metadata (metadata.actor_thing)
EXPERT_PAGE = frozenset({"name", "title", "affiliation", "field", "bio", "links"})  # the same for an expert (metadata.expert_person)
SLUG = operator.attrgetter("slug")
HELPER_READS = {"graphics": Graphics.READS}  # what the helpers in a page's context read of the briefings it shows (pages.page_reads)


def cards_deps(entries: tuple[Entry, ...]) -> set[str]:
    """Return the keys a list of briefing cards shows: each briefing and the actors on its chips."""
    return set().union(*(e.card_keys for e in entries))


class PlanMemo:
    """The groups of pages plan_html made last time, each with the objects it was made from.

    A rebuild's linked site holds the same objects wherever nothing changed (link reuses
    entries and patches its indexes in place of making them again), so a group whose
    inputs are the same objects, by identity, plans to the same pages and is not planned
    again: a one-briefing edit plans its briefing, its actors', experts', tags' and year's
    pages, not all of them. The memo holds its inputs, so an identity is never a reused id.

    A list's cards show what their entries' card keys name (cards_deps); an entry that
    changed only in its related briefings keeps those keys, as the same objects
    (link.Entry.with_related), so the union of a list's card keys is kept too, by the
    keys' identities: a list that holds such an entry is planned again (its pages hold
    the new entries) without adding up its keys again.
    """

    def __init__(self) -> None:
        self.config: SiteConfig | None = None
        self.groups: dict[tuple[object, ...], tuple[tuple[object, ...], list[Page]]] = {}
        self.unions: dict[tuple[frozenset[str], ...], frozenset[str]] = {}
        self.lists: tuple[tuple[str, ...], dict[frozenset[str], frozenset[str]]] = ((), {})  # the briefings' slugs, and the keys of the pages that count them all
        self.briefings: tuple[tuple[Entry, ...], list[Page]] = ((), [])  # the entries planned last, and their briefing pages (one each, in order)
        self.slug_at: dict[str, str] = {}  # a briefing page's path -> its briefing's slug, in the last plan

    def start(self, config: SiteConfig) -> tuple[dict[tuple[object, ...], tuple[tuple[object, ...], list[Page]]], dict[tuple[frozenset[str], ...], frozenset[str]]]:
        """Return the last plan's groups and unions of card keys, and forget them (the plan made now takes their place); none if the site's settings changed."""
        last = (self.groups, self.unions) if config == self.config else ({}, {})
        if config != self.config:
            self.briefings = ((), [])
        self.config, self.groups, self.unions = config, {}, {}
        return last

    def briefing_pages(self, entries: tuple[Entry, ...]) -> tuple[list[Page], set[tuple[str, object]] | None]:
        """Return the briefing pages of these entries, newest first, and the lists (("year", YEAR), ("tag", TAG)) that hold an entry not planned last time.

        When there are as many entries as last time, the last pages stand where the entry
        is the same object (by identity, position by position), and only the
        others are planned; the lists of their old and new briefings are the ones that may
        show other cards. Else every page is made, and the lists are None: compare each
        one's entries.
        """
        last_entries, last_pages = self.briefings
        if len(last_entries) != len(entries):
            pages = [_briefing_page(e) for e in entries]
            self.briefings = (entries, pages)
            self.slug_at = {e.briefing.url: e.briefing.slug for e in entries}
            return pages, None
        pages = list(last_pages)
        touched: set[tuple[str, object]] = set()
        changed = other_objects(last_entries, entries)
        for i in changed:  # (every old path goes before the new ones come: two briefings may have swapped places)
            self.slug_at.pop(pages[i].path, None)
        for i in changed:
            pages[i] = _briefing_page(entries[i])
            self.slug_at[pages[i].path] = entries[i].briefing.slug
            for b in (last_entries[i].briefing, entries[i].briefing):
                touched.add(("year", b.date.year))
                touched.update(("tag", t) for t in b.tags)
        self.briefings = (entries, pages)
        return pages, touched


def plan_alone(linked: LinkedSite, paths: frozenset[str], memo: PlanMemo) -> tuple[list[Page], frozenset[str]]:
    """Return the HTML pages at those of these paths that are a briefing's page in the last plan, as plan_html would plan them now (each from its entry alone), and the paths left.

    A rebuild plans the open briefing pages this way, before the whole plan
    (pipeline.Ahead): the briefing being edited does not wait for the plan of every list;
    the open pages left (an actor's, a tag's, ...) are found in the whole plan.
    """
    pages, rest = [], set()
    for path in sorted(paths):
        entry = linked.by_slug.get(memo.slug_at.get(path, ""))
        if entry is None or entry.briefing.url != path:
            rest.add(path)
        else:
            pages.append(_briefing_page(entry))
    return pages, frozenset(rest)


def _briefing_page(entry: Entry) -> Page:
    return Page(entry.briefing.url, "briefing.html", entry.briefing.title, {"entry": entry}, entry.page_keys)


def plan_html(linked: LinkedSite, memo: PlanMemo | None = None) -> list[Page]:
    """Return every HTML page of the site, with the model keys each one shows (see incremental.py); given the memo of the last plan, reuse its groups whose inputs are the same."""
    site = linked.site
    per_page = site.config.per_page
    last, last_unions = memo.start(site.config) if memo is not None else ({}, {})
    made = memo.groups if memo is not None else {}
    unions = memo.unions if memo is not None else {}

    def group(key: tuple[object, ...], inputs: tuple[object, ...], make: Callable[[], list[Page]]) -> list[Page]:
        """Return the pages make() returns, or the last plan's for the same key (values) and inputs (the same objects)."""
        old = last.get(key)
        if old is None or len(old[0]) != len(inputs) or not all(map(operator.is_, old[0], inputs)):
            old = (inputs, make())
        made[key] = old
        return old[1]

    def shown(entries: tuple[Entry, ...]) -> frozenset[str]:
        """Return what the cards of these entries show (cards_deps), from the last plan when their card keys are the same objects."""
        keys = tuple(e.card_keys for e in entries)
        union = last_unions.get(keys)
        if union is None:
            union = frozenset(cards_deps(entries))
        unions[keys] = union
        return union

    entry_of = linked.by_slug.__getitem__
    pages: list[Page] = []
    slugs = tuple([e.briefing.slug for e in linked.entries])
    last_slugs, counted = memo.lists if memo is not None else ((), {})
    if last_slugs != slugs:
        counted = {}
    if memo is not None:
        memo.lists = (slugs, counted)

    def every_briefing(extra: set[str]) -> frozenset[str]:
        """Return the keys of a page that counts every briefing (each one's key) besides showing `extra`; the same briefings keep them from the last plan."""
        key = frozenset(extra)
        union = counted.get(key)
        if union is None:
            union = counted[key] = key.union(f"briefing:{slug}" for slug in slugs)
        return union
    latest = linked.entries[:HOME_LATEST]
    pages.append(
        Page(
            "index.html",
            "index.html",
            site.config.title,
            {"entries": latest, "years": tuple(linked.years)},
            frozenset({"list:briefings"} | cards_deps(latest)),
            BY_DATE,
        )
    )
    if memo is not None:
        briefing_pages, touched = memo.briefing_pages(linked.entries)
    else:
        briefing_pages, touched = [_briefing_page(e) for e in linked.entries], None
    pages += briefing_pages

    def listed(key: tuple[object, ...], mark: tuple[str, object], briefings: tuple[Briefing, ...], make: Callable[[tuple[Entry, ...]], list[Page]]) -> list[Page]:
        """Return a list's pages: the last plan's when none of its entries can have changed (mark not touched), else group() them by their entries."""
        old = last.get(key)
        if old is not None and touched is not None and mark not in touched:
            made[key] = old
            return old[1]
        entries = tuple(map(entry_of, map(SLUG, briefings)))
        return group(key, entries, lambda: make(entries))

    pages.append(Page("archive/index.html", "archive.html", "Archive", {"years": {y: len(b) for y, b in linked.years.items()}}, every_briefing({"list:briefings"}), BY_DATE))
    year_list = tuple(linked.years)
    for year, briefings in linked.years.items():

        def year_page(entries: tuple[Entry, ...]) -> list[Page]:
            deps = frozenset({"list:briefings"} | shown(entries))
            return [Page(f"archive/{year}/index.html", "year.html", f"Briefings of {year}", {"year": year, "entries": entries, "years": year_list}, deps, BY_DATE)]

        pages += listed(("year", year, year_list), ("year", year), briefings, year_page)

    every_actor = {f"actor:{i}" for i in site.actors}
    pages.append(Page("actors/index.html", "actors.html", "Actors", {"actors": tuple(site.actors.values()), "counts": {i: len(c) for i, c in linked.actor_cards.items()}}, every_briefing(every_actor), frozenset({"actors"})))
    for actor in site.actors.values():
        cards = linked.actor_cards.get(actor.id, ())
        co = linked.co_actors.get(actor.id, ())
        experts = linked.actor_experts.get(actor.id, ())

        def actor_pages() -> list[Page]:
            deps = frozenset({f"actor:{actor.id}"} | {f"briefing:{c.briefing.slug}" for c in cards} | {f"actor:{a.id}" for a, _ in co} | {f"expert:{e.id}" for e in experts})
            stances = tuple(reversed(cards))
            made_here = []
            for path, chunk, pager in paginate(cards, per_page, f"actors/{actor.id}"):
                context = {"actor": actor, "cards": chunk, "stances": stances, "co_actors": co, "experts": experts, "pager": pager}
                made_here.append(Page(path, "actor.html", actor.name, context, deps, BY_DATE | ACTOR_PAGE | {"actors", "experts"}))
            return made_here

        pages += group(("actor", actor.id), (actor, cards, co, experts), actor_pages)

    every_expert = {f"expert:{i}" for i in site.experts}
    pages.append(Page("experts/index.html", "experts.html", "Experts", {"experts": tuple(site.experts.values()), "counts": {i: len(s) for i, s in linked.expert_sections.items()}}, every_briefing(every_expert), frozenset({"experts"})))
    for expert in site.experts.values():
        sections = linked.expert_sections.get(expert.id, ())

        def expert_pages() -> list[Page]:
            deps = frozenset({f"expert:{expert.id}"} | {f"briefing:{s.briefing.slug}" for s in sections})
            return [
                Page(path, "expert.html", expert.name, {"expert": expert, "sections": chunk, "pager": pager}, deps, BY_DATE | EXPERT_PAGE | {"experts"})
                for path, chunk, pager in paginate(sections, per_page, f"experts/{expert.id}")
            ]

        pages += group(("expert", expert.id), (expert, sections), expert_pages)

    pages.append(Page("tags/index.html", "tags.html", "Tags", {"tags": {t: len(b) for t, b in linked.tags.items()}}, every_briefing({"list:briefings"}), frozenset({"tags"})))
    for tag, briefings in linked.tags.items():

        def tag_pages(entries: tuple[Entry, ...]) -> list[Page]:
            deps = shown(entries)
            return [Page(path, "tag.html", site.config.tag_name(tag), {"tag": tag, "entries": chunk, "pager": pager}, deps, BY_DATE) for path, chunk, pager in paginate(entries, per_page, f"tags/{tag}")]

        pages += listed(("tag", tag), ("tag", tag), briefings, tag_pages)

    years = tuple(linked.events)
    pages.append(Page("timeline/index.html", "timeline_index.html", "Timeline", {"years": {y: len(e) for y, e in linked.events.items()}}, every_briefing({"list:timeline"}), frozenset({"timeline"})))
    for year, items in linked.events.items():

        def timeline_page() -> list[Page]:
            deps = frozenset({"list:timeline"} | {f"briefing:{i.briefing.slug}" for i in items})
            return [Page(f"timeline/{year}/index.html", "timeline.html", f"Timeline of {year}", {"year": year, "items": items, "years": years}, deps, frozenset({"timeline"}))]

        pages += group(("timeline", year, years), (items,), timeline_page)

    corrections = corrections_log(linked)
    deps = frozenset({"list:briefings"} | {f"briefing:{b.slug}" for _, b in corrections})
    for path, chunk, pager in paginate(corrections, per_page, "corrections"):
        pages.append(Page(path, "corrections.html", "Corrections", {"items": chunk, "pager": pager}, deps, frozenset({"corrections"})))

    mapped = {f"actor:{i}" for i in linked.actor_cards} | {f"expert:{i}" for i in linked.expert_sections}
    pages.append(Page("map/index.html", "map.html", "Actor map", {}, every_briefing(mapped), frozenset({"actors", "experts"})))

    pages.append(Page("search/index.html", "search.html", "Search", {}))
    pages.append(Page("404.html", "404.html", "Page not found", {}, frozenset({"asset:style.css"}), standalone=True))  # base.html inlines the stylesheet here
    return pages


def corrections_log(linked: LinkedSite) -> tuple[tuple[Correction, Briefing], ...]:
    """Return every published briefing's corrections with their briefing, newest first."""
    pairs = [(c, e.briefing) for e in linked.entries for c in e.briefing.corrections]
    return tuple(sorted(pairs, key=lambda cb: (-cb[0].date.earliest.toordinal(), -cb[0].date.sort_key[1], cb[1].slug, cb[0].text)))


def render_site(
    linked: LinkedSite,
    pages: list[Page],
    env: jinja2.Environment,
    theme: Theme,
    articles: Mapping[str, ArticleHTML],
    assets: Mapping[str, str],
    root: Path,
    diagnostics: Diagnostics,
    references: dict[str, frozenset[str]] | None = None,
) -> list[Output]:
    """Return each page rendered through the theme, with the templates and model keys it depends on.

    references memoizes each template's dependencies (parsing a template is costly); a
    rebuild passes the last build's while no template changed.
    """
    outputs = []
    templates: dict[str, frozenset[str]] = references if references is not None else {}
    graphics = Graphics(linked)  # timelines and maps, each drawn once
    for page in pages:
        context = base_context(linked.site.config, page, assets)
        context["articles"] = articles
        context["nav_years"] = tuple(linked.years)
        context["graphics"] = graphics
        context["meta"] = page_metadata(linked.site.config, page)
        if page.standalone:
            context["inline_asset"] = lambda name: inline_asset(name, theme.static_files())
        data = render(env, page, context, theme.template_path, root, diagnostics)
        if data is None:
            continue
        outputs.append(Output(page.path, data, page.deps | template_keys(env, page.template, templates) | {"list:years"}))  # nav_years
    return outputs
