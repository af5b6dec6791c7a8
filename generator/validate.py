"""Check the model's cross-references and rules; report every problem at once, with its position."""

from __future__ import annotations

from collections import defaultdict

from .diagnostics import Diagnostics
from .model import Pos, Site
from .schema import hint

SUMMARY_WORDS = 60


def validate(site: Site, diagnostics: Diagnostics, seeds: tuple[str, ...] = (), lint: bool = False) -> None:
    """Report unknown ids, clashing ids and slugs, unknown stances and missing seeds."""
    _check_namespace(site, diagnostics)
    _check_slugs(site, diagnostics)
    _check_aliases(site, diagnostics)
    known = set(site.actors) | set(site.experts)
    stances = site.config.stances
    for briefing in site.briefings:
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
            if view.expert not in site.experts:
                _unknown(diagnostics, view.pos, view.expert, "expert", site, known)
        source = briefing.source
        if source and source.seed and source.seed not in seeds:
            diagnostics.error(
                source.pos,
                f"source.seed: no file {source.seed!r} in seeds/{hint(source.seed, seeds)}",
            )
        if lint:
            _lint(briefing, diagnostics)


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


def _lint(briefing, diagnostics: Diagnostics) -> None:  # type: ignore[no-untyped-def]
    words = len(briefing.summary.split())
    if words > SUMMARY_WORDS:
        diagnostics.warning(Pos(briefing.pos.path, 2, 1), f"summary has {words} words; keep the bottom line to about {SUMMARY_WORDS}")
    if briefing.key_points and not 3 <= len(briefing.key_points) <= 5:
        diagnostics.warning(Pos(briefing.pos.path, 2, 1), f"{len(briefing.key_points)} key points; three to five read best")
    gists = {role.id for role in briefing.experts if role.gist}
    for view in briefing.body.views:
        if view.expert not in gists:
            diagnostics.warning(view.pos, f"view of {view.expert!r} has no gist; add one under 'experts' in the front matter")
            gists.add(view.expert)
