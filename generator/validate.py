"""Check the model's cross-references and rules; report every problem at once, with its position."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import defaultdict

from .diagnostics import Diagnostic, Diagnostics
from .link import participants
from .memo import other_objects
from .model import ID_PATTERN, Briefing, Pos, Site
from .schema import hint

SUMMARY_WORDS = 60
KEY_POINTS = (3, 5)
STATUS_DAYS = 90  # a status older than this (from its as-of date) is stale advice under --lint


class ValidateMemo:
    """What the checks of each briefing reported last time, and what they checked it against.

    A briefing's checks read the briefing, the registries' ids, site.yaml's stances, the
    seed file names and the lint day; a rebuild whose ids, stances, seeds and lint day are
    the same repeats the last report of every briefing that is the same object (the parse
    cache hands back the same object for a file that did not change), and checks the others.
    When as many briefings are checked as last time, they are compared position by
    position (a one-file edit does not look every briefing up by its path); else by path.
    """

    def __init__(self) -> None:
        self.against: tuple[object, ...] | None = None
        self.briefings: tuple[Briefing, ...] = ()  # the briefings checked last time, in order
        self.reports: list[list[Diagnostic]] = []  # what the checks of each reported


def validate(site: Site, diagnostics: Diagnostics, seeds: tuple[str, ...] = (), lint: bool = False, memo: ValidateMemo | None = None) -> None:
    """Report unknown ids, clashing ids and slugs, unknown stances and missing seeds; given a memo, check again only the briefings that changed."""
    _check_namespace(site, diagnostics)
    _check_slugs(site, diagnostics)
    _check_aliases(site, diagnostics)
    _check_drafts(site, diagnostics)
    known = set(site.actors) | set(site.experts)
    seed_files = frozenset(seeds)  # (a tuple, searched once per briefing, made validation quadratic)
    today = lint_today() if lint else None
    against = (frozenset(site.actors), frozenset(site.experts), site.config.stances, seed_files, today)
    same = memo is not None and memo.against == against
    if same and memo is not None and len(memo.briefings) == len(site.briefings):
        reports, redo = list(memo.reports), other_objects(memo.briefings, site.briefings)
    else:
        last = {b.pos.path: (b, found) for b, found in zip(memo.briefings, memo.reports)} if same and memo is not None else {}
        reports, redo = [], []
        for i, b in enumerate(site.briefings):
            hit = last.get(b.pos.path)
            reports.append(hit[1] if hit is not None and hit[0] is b else [])
            if hit is None or hit[0] is not b:
                redo.append(i)
    for i in redo:
        found = Diagnostics()
        _check_briefing(site.briefings[i], site, known, seeds, seed_files, today, found)
        reports[i] = found.items
    diagnostics.items.extend(itertools.chain.from_iterable(reports))
    if memo is not None:
        memo.against, memo.briefings, memo.reports = against, site.briefings, reports


def _check_briefing(briefing: Briefing, site: Site, known: set[str], seeds: tuple[str, ...], seed_files: frozenset[str], today: dt.date | None, diagnostics: Diagnostics) -> None:
    """Report what is wrong in one briefing: unknown ids and stances, a missing seed, editorial slips, and (on a lint day) advice."""
    stances = site.config.stances
    for role in briefing.actors:
        if role.id not in site.actors:
            _unknown(diagnostics, role.pos, role.id, "actor", site, known)
        _check_stance(diagnostics, role.stance_pos, role.stance, stances)
    for role in briefing.experts:
        if role.id not in site.experts:
            _unknown(diagnostics, role.pos, role.id, "expert", site, known, listed=True)
        _check_stance(diagnostics, role.stance_pos, role.stance, stances)
    for mention in briefing.body.mentions:
        if mention.id not in known:
            _unknown(diagnostics, mention.pos, mention.id, "actor or expert", site, known)
    for view in briefing.body.views:
        if view.expert not in site.experts and ID_PATTERN.match(view.expert):  # an invalid id was reported by the scanner
            _unknown(diagnostics, view.pos, view.expert, "expert", site, known)
    source = briefing.source
    if source and source.seed and source.seed not in seed_files:
        diagnostics.error(
            source.pos,
            f"source.seed: no file {source.seed!r} in seeds/{hint(source.seed, seeds)}",
        )
    _check_editorial(briefing, site, known, diagnostics)
    if today is not None:
        _lint(briefing, diagnostics, today)


def _unknown(diagnostics: Diagnostics, pos: Pos, ident: str, expected: str, site: Site, known: set[str], listed: bool = False) -> None:
    if expected == "actor" and ident in site.experts:
        diagnostics.error(pos, f"{ident!r} is an expert, not an actor; list it under 'experts'")
    elif expected == "expert" and ident in site.actors and listed:
        diagnostics.error(pos, f"{ident!r} is an actor, not an expert; list it under 'actors'")
    elif expected == "expert" and ident in site.actors:
        diagnostics.error(pos, f"{ident!r} is an actor, not an expert; only experts give views")
    else:
        pool = site.actors if expected == "actor" else site.experts if expected == "expert" else known
        folder = {"actor": "content/actors/", "expert": "content/experts/"}.get(expected, "content/actors/ or content/experts/")
        diagnostics.error(pos, f"unknown {expected} id {ident!r}: no file {ident}.yaml in {folder}{hint(ident, pool)}")


def _check_stance(diagnostics: Diagnostics, pos: Pos, stance: str, stances: tuple[str, ...]) -> None:
    if stance and stance not in stances:
        diagnostics.error(pos, f"unknown stance {stance!r}; site.yaml's stances are {', '.join(stances)}{hint(stance, stances)}")


def _check_namespace(site: Site, diagnostics: Diagnostics) -> None:
    for ident in sorted(set(site.actors) & set(site.experts)):
        diagnostics.error(
            site.experts[ident].pos,
            f"id {ident!r} is used by {site.actors[ident].pos.path} too; actors and experts share one set of ids",
        )


def _check_slugs(site: Site, diagnostics: Diagnostics) -> None:
    if len({b.slug for b in site.briefings}) == len(site.briefings):
        return  # no two alike: the usual case, without sorting every slug (~30 ms of every rebuild at 10,000 briefings)
    by_slug: dict[str, list[str]] = defaultdict(list)
    for briefing in site.briefings:
        by_slug[briefing.slug].append(briefing.pos.path)
    for slug, paths in sorted(by_slug.items()):
        for path in sorted(paths)[1:]:
            diagnostics.error(Pos(path), f"duplicate slug {slug!r}: {sorted(paths)[0]} has the same file name; slugs must be unique across sub-folders")


def shared_aliases(site: Site) -> dict[str, list[str]]:
    """Return each name or alias that two or more registry entries use, with their ids."""
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in [*site.actors.values(), *site.experts.values()]:
        for name in (entry.name, *entry.aliases):
            owners[name].add(entry.id)
    return {name: sorted(ids) for name, ids in sorted(owners.items()) if len(ids) > 1}


def _check_aliases(site: Site, diagnostics: Diagnostics) -> None:
    for name, ids in shared_aliases(site).items():
        entry = site.actors.get(ids[-1]) or site.experts[ids[-1]]
        diagnostics.warning(entry.pos, f"name {name!r} is used by {', '.join(ids)}; its unmarked mentions are not linked (mark them with [[id]])")


def _check_drafts(site: Site, diagnostics: Diagnostics) -> None:
    for entry in [*site.actors.values(), *site.experts.values()]:
        if entry.draft:
            diagnostics.warning(entry.pos, "draft entry to review (made by `briefing import`): check its fields, then remove `draft: true`")


def _check_editorial(briefing: Briefing, site: Site, known: set[str], diagnostics: Diagnostics) -> None:
    """Warn about a disagreement attributed to an id the page cannot link, and corrections the `updated` date does not cover."""
    disagreement = briefing.disagreement
    if disagreement and ID_PATTERN.match(disagreement.by):
        actors, experts = participants(briefing, site)
        if disagreement.by in known and disagreement.by not in actors + experts:
            diagnostics.warning(
                disagreement.by_pos,
                f"disagreement.by: {disagreement.by!r} is not in this briefing, so the page cannot link it; list it under 'actors' or 'experts'",
            )
        elif disagreement.by not in known:
            diagnostics.warning(
                disagreement.by_pos,
                f"disagreement.by: {disagreement.by!r} is neither an actor nor an expert id, so it is shown as written{hint(disagreement.by, known)}",
            )
    for correction in briefing.corrections:
        if correction.date.sort_key < briefing.date.sort_key:
            diagnostics.warning(correction.pos, f"correction dated {correction.date.iso}, before the briefing's date {briefing.date.iso}")
        elif briefing.updated is None or correction.date.sort_key > briefing.updated.sort_key:
            was = f"`updated` is {briefing.updated.iso}" if briefing.updated else "there is no `updated` date"
            diagnostics.warning(correction.pos, f"correction dated {correction.date.iso}, but {was}; set `updated: {correction.date.iso}`")


def lint_today() -> dt.date:
    """Return the day lint measures ages from: SOURCE_DATE_EPOCH's when it is set, for reproducible runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def _lint(briefing: Briefing, diagnostics: Diagnostics, today: dt.date) -> None:
    """Report editorial advice: summary length, key points, gists, one-sided experts, a stale status."""
    words = len(briefing.summary.split())
    if words > SUMMARY_WORDS:
        diagnostics.warning(briefing.pos_of("summary"), f"summary has {words} words; keep the bottom line to about {SUMMARY_WORDS}")
    fewest, most = KEY_POINTS
    if not fewest <= len(briefing.key_points) <= most:
        count = len(briefing.key_points) or "no"
        diagnostics.warning(briefing.pos_of("key_points"), f"{count} key point{'s' if len(briefing.key_points) != 1 else ''}; three to five read best")
    gists = {role.id for role in briefing.experts if role.gist}
    for view in briefing.body.views:
        if view.expert not in gists:
            diagnostics.warning(view.pos, f"view of {view.expert!r} has no gist; add one under 'experts' in the front matter")
            gists.add(view.expert)
    stances = {role.stance for role in briefing.experts}
    if briefing.experts and len(stances) == 1 and "" not in stances and briefing.disagreement is None:
        (stance,) = stances
        who = "the one expert is" if len(briefing.experts) == 1 else f"all {len(briefing.experts)} experts are"
        diagnostics.warning(briefing.pos_of("experts"), f"{who} {stance} and there is no `disagreement`; give the strongest counter-view, attributed")
    status = briefing.status
    if status is not None and (today - status.as_of.earliest).days > STATUS_DAYS:
        age = (today - status.as_of.earliest).days
        diagnostics.warning(status.pos, f"status {status.label!r} is as of {status.as_of.iso}, {age} days ago; update it or remove it (stale after {STATUS_DAYS} days)")
