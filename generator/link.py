"""Cross-reference the model: who is in each briefing, and the indexes by actor, expert, tag and year."""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, defaultdict
import dataclasses
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping

from .memo import other_objects, same_objects
from .model import Actor, ActorRole, Briefing, Event, Expert, ExpertRole, Site, View

RELATED = 5
NEARBY = 50  # with a common actor or tag, the briefings this many places either side (newest first) are the candidates
PATCH_LIMIT = 256  # a rebuild with at most this many entries changed patches the last indexes instead of making them again (an actor is in ~100 briefings of 1,000)


@dataclass(frozen=True)
class ActorCard:
    """An actor as one briefing presents it."""

    actor: Actor
    role: ActorRole
    briefing: Briefing


@dataclass(frozen=True)
class ExpertSection:
    """An expert's views as one briefing reports them."""

    expert: Expert
    role: ExpertRole
    views: tuple[View, ...]
    briefing: Briefing


@dataclass(frozen=True)
class Entry:
    """A briefing with everything it refers to resolved."""

    briefing: Briefing
    actors: tuple[ActorCard, ...]
    experts: tuple[ExpertSection, ...]
    related: tuple[Briefing, ...]

    # The model keys (incremental.py) of what pages show of the entry, made once per entry: a rebuild reuses unchanged entries.

    @cached_property
    def key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """What its related briefings are found from: (slug, actor ids, tags) (LinkedSite.keys)."""
        return (self.briefing.slug, tuple(c.actor.id for c in self.actors), self.briefing.tags)

    @cached_property
    def card_keys(self) -> frozenset[str]:
        """What a briefing card of it shows: the briefing, and the actors on its chips."""
        return frozenset({f"briefing:{self.briefing.slug}", *(f"actor:{c.actor.id}" for c in self.actors)})

    @cached_property
    def own_keys(self) -> frozenset[str]:
        """What its data shows (briefing.json): the briefing, its actors and its experts."""
        return self.card_keys | {f"expert:{s.expert.id}" for s in self.experts}

    @cached_property
    def page_keys(self) -> frozenset[str]:
        """What the briefing's own pages show: its own keys and its related briefings."""
        return self.own_keys | {f"briefing:{r.slug}" for r in self.related}

    @cached_property
    def related_slugs(self) -> frozenset[str]:
        return frozenset(r.slug for r in self.related)

    def with_registries(self, actors: Mapping[str, Actor], experts: Mapping[str, Expert], changed_actors: frozenset[str], changed_experts: frozenset[str]) -> Entry:
        """Return this entry holding the registries' entries for the changed ids (their ids are the same, so is who is in it); every other card and section, and the keys, stay the same objects."""
        cards = tuple(ActorCard(actors[c.actor.id], c.role, c.briefing) if c.actor.id in changed_actors else c for c in self.actors)
        sections = tuple(ExpertSection(experts[x.expert.id], x.role, x.views, x.briefing) if x.expert.id in changed_experts else x for x in self.experts)
        return self._keeping(Entry(self.briefing, cards, sections, self.related), ("key", "card_keys", "own_keys", "page_keys", "related_slugs"))

    def with_related(self, related: tuple[Briefing, ...]) -> Entry:
        """Return this entry with other related briefings; it keeps the keys already made of what did not change (its card's, its own, what related briefings are found from), as the same objects.

        A card shows no related briefings: the plan then sees, by identity, that the
        cards of a list are as they were (render.PlanMemo).
        """
        return self._keeping(Entry(self.briefing, self.actors, self.experts, related), ("key", "card_keys", "own_keys"))

    def _keeping(self, entry: Entry, names: tuple[str, ...]) -> Entry:
        """Return entry with those of this entry's keys (cached properties) already made that the names say it shares."""
        entry.__dict__.update((k, v) for k, v in self.__dict__.items() if k in names)
        return entry


@dataclass(frozen=True)
class TimelineItem:
    event: Event
    briefing: Briefing


@dataclass(frozen=True)
class LinkedSite:
    site: Site
    entries: tuple[Entry, ...]  # newest first
    by_slug: Mapping[str, Entry]
    actor_cards: Mapping[str, tuple[ActorCard, ...]]  # actor id -> its cards, newest first
    co_actors: Mapping[str, tuple[tuple[Actor, int], ...]]  # actor id -> actors it appears with, most shared first
    actor_experts: Mapping[str, tuple[Expert, ...]]  # actor id -> experts who discussed it
    expert_sections: Mapping[str, tuple[ExpertSection, ...]]  # expert id -> its sections, newest first
    tags: Mapping[str, tuple[Briefing, ...]]  # tag -> briefings, newest first
    years: Mapping[int, tuple[Briefing, ...]]  # year -> briefings, newest first; years newest first
    events: Mapping[int, tuple[TimelineItem, ...]]  # year -> events in date order; years newest first
    keys: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (slug, actor ids, tags) of each entry: what related briefings are found from

    # Made once, from the order and the related briefings: a rebuild that keeps both hands them on (_in_place).

    @cached_property
    def positions(self) -> Mapping[str, int]:
        """slug -> the entry's place in `entries`."""
        return {e.briefing.slug: n for n, e in enumerate(self.entries)}

    @cached_property
    def related_by(self) -> Mapping[str, tuple[int, ...]]:
        """slug -> the places of the entries that list it as related."""
        found: dict[str, list[int]] = defaultdict(list)
        for n, e in enumerate(self.entries):
            for r in e.related:
                found[r.slug].append(n)
        return {slug: tuple(places) for slug, places in found.items()}


def newest_first(briefing: Briefing) -> tuple:
    """Sort key: newest date first, then by slug."""
    date, precision = briefing.date.sort_key
    return (-date.toordinal(), -precision, briefing.slug)


def participants(briefing: Briefing, site: Site) -> tuple[list[str], list[str]]:
    """Return the actor and expert ids in a briefing: front matter first, then the body's, in order."""
    actors = [r.id for r in briefing.actors if r.id in site.actors]
    experts = [r.id for r in briefing.experts if r.id in site.experts]
    for ident in [m.id for m in briefing.body.mentions] + [v.expert for v in briefing.body.views]:
        if ident in site.actors and ident not in actors:
            actors.append(ident)
        elif ident in site.experts and ident not in experts:
            experts.append(ident)
    return actors, experts


def link(site: Site, drafts: bool = False, previous: LinkedSite | None = None) -> LinkedSite:
    """Return the site with every cross-reference resolved (drafts left out unless asked for).

    Given the last build's result, reuse each entry whose briefing and registry entries
    are equal to the last ones, and the related briefings when no briefing's actors, tags
    or place in the order changed; the result is the same as linking afresh.
    """
    if previous is not None and previous.site is site:
        return previous  # the same model (a rebuild for a stylesheet or template): the same result
    quick = _in_place(site, drafts, previous)
    if quick is not None:
        return quick
    briefings = sorted((b for b in site.briefings if drafts or not b.draft), key=newest_first)
    reuse = _reusable(site, previous)
    entries = [reuse(b) or _entry(b, site) for b in briefings]
    keys = tuple([e.key for e in entries])
    entries = _related_again(entries, previous) if previous is not None and previous.keys == keys else _with_related(entries)
    patched = _patched(previous, site, entries, keys)
    if patched is not None:
        return _carried(previous, patched)

    actor_cards: dict[str, list[ActorCard]] = defaultdict(list)
    expert_sections: dict[str, list[ExpertSection]] = defaultdict(list)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    discussed: dict[str, set[str]] = defaultdict(set)
    tags: dict[str, list[Briefing]] = defaultdict(list)
    years: dict[int, list[Briefing]] = defaultdict(list)
    events: dict[int, list[TimelineItem]] = defaultdict(list)
    for entry in entries:
        b = entry.briefing
        ids = [card.actor.id for card in entry.actors]
        for card in entry.actors:
            actor_cards[card.actor.id].append(card)
            together[card.actor.id].update(i for i in ids if i != card.actor.id)
            discussed[card.actor.id].update(s.expert.id for s in entry.experts)
        for section in entry.experts:
            expert_sections[section.expert.id].append(section)
        for tag in b.tags:
            tags[tag].append(b)
        years[b.date.year].append(b)
        for event in b.timeline:
            events[event.date.year].append(TimelineItem(event, b))

    def frozen(mapping: dict) -> Mapping:  # type: ignore[type-arg]
        return MappingProxyType({k: tuple(v) for k, v in mapping.items()})

    co_actors = {
        ident: tuple((site.actors[other], n) for other, n in sorted(counter.items(), key=lambda kv: (-kv[1], site.actors[kv[0]].name)))
        for ident, counter in together.items()
    }
    actor_experts = {ident: tuple(site.experts[e] for e in sorted(ids, key=lambda e: site.experts[e].name)) for ident, ids in discussed.items()}
    linked = LinkedSite(
        site=site,
        entries=tuple(entries),
        by_slug=MappingProxyType({e.briefing.slug: e for e in entries}),
        actor_cards=frozen(dict(sorted(actor_cards.items()))),
        co_actors=MappingProxyType(dict(sorted(co_actors.items()))),
        actor_experts=MappingProxyType(dict(sorted(actor_experts.items()))),
        expert_sections=frozen(dict(sorted(expert_sections.items()))),
        tags=frozen(dict(sorted(tags.items()))),
        years=frozen(dict(sorted(years.items(), reverse=True))),
        events=MappingProxyType(
            {
                year: tuple(sorted(items, key=lambda i: (i.event.date.sort_key, i.briefing.slug, i.event.event)))
                for year, items in sorted(events.items(), reverse=True)
            }
        ),
        keys=keys,
    )
    return _carried(previous, linked)


def _carried(previous: LinkedSite | None, linked: LinkedSite) -> LinkedSite:
    """Return linked holding the last site's slug positions and who lists whom as related, when those were made and what they come from is the same (the order, and each entry's actors and tags: `keys`)."""
    if previous is not None and previous.keys == linked.keys:
        linked.__dict__.update((name, made) for name, made in previous.__dict__.items() if name in ("positions", "related_by"))
    return linked


def _in_place(site: Site, drafts: bool, previous: LinkedSite | None) -> LinkedSite | None:
    """Return what linking afresh gives, made from the last linked site, when the few briefings that are other objects keep their places, dates, actors and tags and the registries are the same objects; else None.

    The briefings that changed are found by identity, position by position (the parse
    cache hands back the same object for a file that did not change), and put in place
    of the old entries; the entries that list one of them as related get it; the indexes
    are patched (_patched). A one-briefing edit thus looks at a few entries, not at every
    briefing in the archive: no sort, no pass over the entries in Python.
    """
    if previous is None or not (same_objects(previous.site.actors, site.actors) and same_objects(previous.site.experts, site.experts)):
        return None
    old_list, new_list = previous.site.briefings, site.briefings
    if len(old_list) != len(new_list):
        return None
    changed = other_objects(old_list, new_list)
    if len(changed) > PATCH_LIMIT:
        return None
    positions = previous.positions
    entries = list(previous.entries)
    fresh: list[int] = []  # the places of the entries made again
    for i in changed:
        was, b = old_list[i], new_list[i]
        if newest_first(was) != newest_first(b) or was.draft != b.draft:
            return None  # its place in the order, or whether it is listed, may change
        if b.draft and not drafts:
            continue
        at = positions[b.slug]
        old = entries[at]
        if old.briefing == b:
            continue  # equal: linking afresh keeps the old entry too (_reusable)
        entry = _entry(b, site)
        if entry.key != old.key:
            return None  # other actors or tags: other related briefings
        entries[at] = entry
        fresh.append(at)

    def briefing(slug: str) -> Briefing:
        return entries[positions[slug]].briefing

    for at in {*fresh, *(n for at in fresh for n in previous.related_by.get(entries[at].briefing.slug, ()))}:
        entries[at] = entries[at].with_related(tuple(briefing(r.slug) for r in previous.entries[at].related))
    linked = _patched(previous, site, entries, previous.keys)
    return _carried(previous, linked) if linked is not None else None


def _patched(previous: LinkedSite | None, site: Site, entries: list[Entry], keys: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> LinkedSite | None:
    """Return the last linked site with the entries that changed put in place of the old ones, where that is what linking afresh would give; else None.

    That holds when the same briefings stand in the same order with the same actors and
    tags (the keys), the registries hold the same ids under the same names, and no
    changed entry differs in its date, its timeline or its experts: then every index
    keeps its keys, order and counts, and only holds new objects (cards, sections,
    briefings, registry entries) where the old ones were. A one-briefing edit thus costs
    a few tuples, not a pass over every entry; an actor's or expert's edit (a role, a
    summary) the tuples of the briefings that name it.
    """
    if previous is None or previous.keys != keys:
        return None
    swap: dict[int, object] = {}  # id of an old object (alive in previous) -> the new one in its place
    for old_registry, registry in ((previous.site.actors, site.actors), (previous.site.experts, site.experts)):
        if old_registry is registry:
            continue
        if old_registry.keys() != registry.keys():
            return None
        for ident, was in old_registry.items():
            now = registry[ident]
            if now is not was:
                if now.name != was.name:  # co-actors and an actor's experts are ordered by name
                    return None
                swap[id(was)] = now
    registries = bool(swap)  # registry entries changed: the lists of them change too
    changed = [(old, new) for old, new in zip(previous.entries, entries) if old is not new]
    if len(changed) > PATCH_LIMIT:
        return None
    actors: set[str] = set()
    experts: set[str] = set()
    tags: set[str] = set()
    years: set[int] = set()
    for old, new in changed:
        b, was = new.briefing, old.briefing
        if b is was and new.actors is old.actors and new.experts is old.experts:
            continue  # only its related briefings changed, which no index holds: the indexes keep their tuples
        if was.date != b.date or was.timeline != b.timeline or [s.expert.id for s in old.experts] != [s.expert.id for s in new.experts]:
            return None
        swap.update((id(x), y) for x, y in zip(old.actors, new.actors))
        swap.update((id(x), y) for x, y in zip(old.experts, new.experts))
        actors.update(n.actor.id for o, n in zip(old.actors, new.actors) if o is not n)
        experts.update(n.expert.id for o, n in zip(old.experts, new.experts) if o is not n)
        if b is not was:  # (else only registry entries changed: the briefing lists and the timeline hold the same briefing)
            swap[id(was)] = b
            swap.update((id(x), y) for x, y in zip(was.timeline, b.timeline))
            tags.update(b.tags)
            years.update(e.date.year for e in b.timeline)

    def patch(mapping: Mapping, names: set) -> Mapping:  # type: ignore[type-arg]
        return MappingProxyType({k: tuple([swap.get(id(x), x) for x in v]) if k in names else v for k, v in mapping.items()})

    events = {
        year: tuple(TimelineItem(swap[id(i.event)], swap[id(i.briefing)]) if id(i.briefing) in swap else i for i in items) if year in years else items  # type: ignore[arg-type]
        for year, items in previous.events.items()
    }
    co_actors, actor_experts = previous.co_actors, previous.actor_experts
    if registries:  # they hold registry entries themselves: those that hold a changed one get it
        co_actors = MappingProxyType({k: tuple([(swap.get(id(a), a), n) for a, n in v]) if any(id(a) in swap for a, _ in v) else v for k, v in co_actors.items()})  # type: ignore[misc]
        actor_experts = patch(actor_experts, {k for k, v in actor_experts.items() if any(id(x) in swap for x in v)})
    return dataclasses.replace(
        previous,
        site=site,
        entries=tuple(entries),
        by_slug=MappingProxyType({e.briefing.slug: e for e in entries}),
        actor_cards=patch(previous.actor_cards, actors),
        co_actors=co_actors,
        actor_experts=actor_experts,
        expert_sections=patch(previous.expert_sections, experts),
        tags=patch(previous.tags, tags),
        years=patch(previous.years, {new.briefing.date.year for old, new in changed if new.briefing is not old.briefing}),
        events=MappingProxyType(events),
    )


def _reusable(site: Site, previous: LinkedSite | None) -> Callable[[Briefing], Entry | None]:
    """Return a lookup of the previous entry of a briefing, where linking it again would give the same (related briefings aside), with the registries' current entries in its cards and sections."""
    if previous is None or previous.site.actors.keys() != site.actors.keys() or previous.site.experts.keys() != site.experts.keys():
        return lambda briefing: None  # an id that appeared or went can change who is in a briefing

    def changed(old: Mapping[str, object], new: Mapping[str, object]) -> frozenset[str]:
        return frozenset(i for i, x in new.items() if old[i] is not x and old[i] != x)  # (the parse cache hands back the same objects for files that did not change)

    actors, experts = changed(previous.site.actors, site.actors), changed(previous.site.experts, site.experts)  # an entry holds entries equal to the last registries'

    def reuse(briefing: Briefing) -> Entry | None:
        old = previous.by_slug.get(briefing.slug)
        if old is None or (old.briefing is not briefing and old.briefing != briefing):
            return None
        if (actors and not actors.isdisjoint(old.key[1])) or (experts and any(s.expert.id in experts for s in old.experts)):  # (key[1]: its actors' ids)
            return old.with_registries(site.actors, site.experts, actors, experts)
        return old

    return reuse


def _related_again(entries: list[Entry], previous: LinkedSite) -> list[Entry]:
    """Return entries with the related briefings they had last time (their actors, tags and order are the same), as this build's briefings."""
    by_slug = {e.briefing.slug: e.briefing for e in entries}
    fresh = {slug for slug, b in by_slug.items() if previous.by_slug[slug].briefing is not b}  # briefings that are new objects
    result = []
    for entry in entries:
        old = previous.by_slug[entry.briefing.slug]
        if entry is old and fresh.isdisjoint(old.related_slugs):
            result.append(entry)  # the last entry, whose related briefings are all this build's objects
            continue
        related = tuple(by_slug[r.slug] for r in old.related)
        same = len(related) == len(entry.related) and all(a is b for a, b in zip(related, entry.related))
        result.append(entry if same else entry.with_related(related))
    return result


def _entry(briefing: Briefing, site: Site) -> Entry:
    actor_ids, expert_ids = participants(briefing, site)
    actor_roles = {r.id: r for r in briefing.actors}
    expert_roles = {r.id: r for r in briefing.experts}
    cards = tuple(ActorCard(site.actors[i], actor_roles.get(i, ActorRole(i)), briefing) for i in actor_ids)
    sections = tuple(
        ExpertSection(
            site.experts[i],
            expert_roles.get(i, ExpertRole(i)),
            tuple(v for v in briefing.body.views if v.expert == i),
            briefing,
        )
        for i in expert_ids
    )
    return Entry(briefing, cards, sections, ())


def _with_related(entries: list[Entry]) -> list[Entry]:
    """Return entries with up to RELATED briefings that share the most actors or tags, found through an index."""
    index: dict[str, list[int]] = defaultdict(list)
    for n, entry in enumerate(entries):
        for key in [f"a:{c.actor.id}" for c in entry.actors] + [f"t:{t}" for t in entry.briefing.tags]:
            index[key].append(n)
    result = []
    for n, entry in enumerate(entries):
        shared: Counter[int] = Counter()
        for key in [f"a:{c.actor.id}" for c in entry.actors] + [f"t:{t}" for t in entry.briefing.tags]:
            postings = index[key]
            if len(postings) > 2 * NEARBY:  # a key shared by much of the archive says little: look only near in time; keeps the cost linear
                at = bisect.bisect_left(postings, n)
                postings = postings[max(0, at - NEARBY) : at + NEARBY + 1]
            shared.update(postings)
        shared.pop(n, None)
        best = heapq.nsmallest(RELATED, [(-c, m) for m, c in shared.items()])  # most shared first, then newest
        result.append(entry.with_related(tuple(entries[m].briefing for _, m in best)))
    return result
