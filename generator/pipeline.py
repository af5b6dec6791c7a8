"""The one orchestrator: load -> parse -> validate -> link -> emit Markdown -> render HTML -> write."""

from __future__ import annotations

import dataclasses
import functools
import gc
import heapq
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import jinja2

from .article import ArticleHTML, ArticleRenderer, Registry, registry_for, render_article
from .assets import asset_names, asset_outputs
from .budget import Overrun, Resident, can_enforce, map_bounded
from .cache import fingerprint, forget, save
from .config import BuildConfig
from .diagnostics import Diagnostic, Diagnostics
from .emit import emit_markdown, plan_markdown
from .feeds import missing_base_url, render_feeds
from .incremental import Changes, article_affected, kept_outputs, changed_files, changed_keys, registry_changes, stale_pages, template_sources
from .link import LinkedSite, link
from .memo import other_objects
from .load import LoadMemo, RawSources, Touched, load_sources
from .model import Briefing, Pos, Site, SiteConfig
from .pages import Output, Page, page_reads, relative
from .parse import ParseCache, parse
from .provenance import Compared, check_site as check_provenance, read_seeds, seed_names
from .render import HELPER_READS, PlanMemo, plan_alone, plan_html, render_site
from .search import Indexing, indexes, start_search
from .twin import twin_outputs
from .theme import Theme, environments, referenced_templates, resolve_theme, template_names
from .validate import ValidateMemo, shared_aliases, validate
from .write import WriteReport, check_output, check_outputs, write_site

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

PARALLEL_PAGES = 400  # from this many pages to render, share them out between the cores (forking costs ~0.1 s)
PARALLEL_DOCUMENTS = 50  # from this many briefings to compare with their seeds, share them out between the cores
RESIDENT_ARTICLES = 4  # up to this many articles to render in a rebuild go to its resident worker (no fork)
SHARES_PER_WORKER = 4  # the pages come in at least this many shares a worker, so that one slow share leaves no core idle for long
SHARE_PAGES = 200  # and in shares of about this many pages at most: a worker holds a share's pages until it sends them back
WORKER_SECONDS = 3600.0  # a worker's share is bounded by the per-document budget of its articles, not by this


@dataclass(frozen=True)
class BuildState:
    """What a rebuild reuses from the last successful build (see incremental.py)."""

    config: BuildConfig
    site_config: SiteConfig
    theme: Theme
    assets: dict[str, str]  # asset name -> output name
    linked: LinkedSite
    registry: Registry
    articles: dict[str, ArticleHTML]
    templates: dict[str, bytes]
    environments: tuple[jinja2.Environment, jinja2.Environment]
    references: dict[str, frozenset[str]]  # template name -> the template keys it depends on
    names: dict[tuple[str, str], frozenset[str] | None]  # (environment, template name) -> what it can read (theme.template_names)
    outputs: dict[str, Output]  # by path
    parsed: ParseCache  # a memo of pure per-file parses, kept across failed builds too
    compared: Compared = field(default_factory=Compared)  # provenance.check_site's memo
    loaded: LoadMemo = field(default_factory=LoadMemo)  # load's memo of decoded sources by their stat, kept across failed builds too
    model: Model | None = None  # what the model stages made of the sources
    planned: tuple[list[Page], list[Page]] = ([], [])  # the Markdown and HTML pages planned for `linked`
    plans: PlanMemo = field(default_factory=PlanMemo)  # plan_html's groups of pages, for the next plan to reuse
    validated: ValidateMemo = field(default_factory=ValidateMemo)  # validate's reports by briefing, kept across failed builds too
    resident: Resident = field(default_factory=Resident)  # the worker that renders a rebuild's few articles (serve closes it)


@dataclass(frozen=True)
class Model:
    """What parsing, validation and provenance made of the sources, with what they reported: a rebuild whose sources and seeds are all the same reuses it."""

    raw: RawSources
    seeds: dict[str, str]
    site: Site
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Ahead:
    """Pages to render before the rest of a rebuild, and what to hand them to as soon as they are (serve's open pages).

    `ready` gets their outputs, final bytes of this build, once every stage before
    rendering has passed without an error, in at most two batches: the open briefing
    pages, planned alone (render.plan_alone), then the other open pages, found in the
    whole plan. `settle` is called once after the last batch; the build then renders the
    other pages. Neither is called when none of the pages is stale, or when the build
    failed before.
    """

    paths: frozenset[str]
    ready: Callable[[list[Output]], None]
    settle: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class BuildReport:
    diagnostics: list[Diagnostic]
    briefings: int = 0
    outputs: tuple[Output, ...] = ()
    written: WriteReport | None = None
    seconds: float = 0.0
    failed: bool = False
    state: BuildState | None = None  # hand it to the next build(previous=...) to rebuild incrementally
    rendered: tuple[str, ...] = ()  # the pages rendered by this build (all of them unless incremental)
    changed: frozenset[str] | None = None  # the keys an incremental build compared as changed; None: a full build

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def _collector_paused(fn: Callable[..., R]) -> Callable[..., R]:
    """Run fn with Python's cycle collector off in this process, as it was before once fn returns.

    A build makes mostly objects that live until it ends (the model, the pages), and few
    cycles. The collector's full collections, due each time the objects that outlived two
    younger ones grow by a quarter, walk every one of them: at 10,000 briefings eleven
    collections in the main process took 4.8 s of a 75 s cold build and found 1,575
    objects of garbage in all. The forked workers collect again (budget._work), where
    the pages are rendered; serve collects between rebuilds (serve._settle_memory).
    """

    @functools.wraps(fn)
    def paused(*args: object, **kwargs: object) -> R:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return paused


@_collector_paused
def build(config: BuildConfig, previous: BuildState | None = None, sources_print: str | None = None, ahead: Ahead | None = None, touched: Touched = None) -> BuildReport:
    """Build the site the config describes; write nothing unless every stage succeeded.

    Given the state of the previous build, parse only the files that changed and render
    only the pages whose recorded dependencies meet what changed; the other outputs are
    the previous build's. The result is the same as a full build of the same sources.
    A build that writes records what it read (cache.py), so that the `build` command
    can skip the next one if nothing changed; sources_print is that fingerprint if the
    caller has taken it already. A rebuild renders the pages `ahead` names first and hands
    them over before it renders the others (see Ahead). `touched` is what the caller's
    watcher saw change since the previous build read the sources (serve's): then only
    those files' stats are read (load.load_sources); None: every file's is.
    """
    started = time.perf_counter()
    diagnostics = Diagnostics()
    if config.write:
        check_output(config.output, config.source, diagnostics)
        if not diagnostics.errors:
            sources_print = sources_print or fingerprint(config)
            forget(config.source, config.output)  # until this build has written, the last record no longer holds
    parsed: ParseCache = previous.parsed if previous is not None else ParseCache()
    loaded: LoadMemo = previous.loaded if previous is not None else LoadMemo()
    raw = load_sources(config.source, diagnostics, loaded, touched)
    compared: Compared = previous.compared if previous is not None else Compared()
    validated = previous.validated if previous is not None else ValidateMemo()
    model = _same_model(previous, config, raw, touched)
    if model is not None:  # a stylesheet or template edit: no source or seed changed
        diagnostics.items.extend(model.diagnostics)
        site = model.site
    else:
        mark = len(diagnostics.items)
        site = parse(raw, diagnostics, parsed)
        if config.base_url is not None:
            site = dataclasses.replace(site, config=dataclasses.replace(site.config, base_url=config.base_url))
        validate(site, diagnostics, seeds=raw.seeds, lint=config.lint, memo=validated)
        seeds = read_seeds(raw, seed_names(site), diagnostics, loaded, touched)
        site = check_provenance(site, raw, seeds, diagnostics, compared, functools.partial(_shared_out, seconds=config.document_seconds))
        model = Model(raw, seeds, site, tuple(diagnostics.items[mark:]))
    missing_base_url(site.config, diagnostics)
    theme = resolve_theme(site.config.theme, config.source, diagnostics, site.config.pos)

    def failed() -> BuildReport:
        return BuildReport(diagnostics.sorted(), len(site.briefings), seconds=time.perf_counter() - started, failed=True)

    if diagnostics.errors or theme is None or (config.strict and diagnostics.warnings):
        return failed()
    last_linked = previous.linked if previous is not None and previous.config.drafts == config.drafts else None
    templates = template_sources(theme.names, theme.folders)
    assets = asset_names(theme.static_files(), hashed=config.hash_assets)
    resident = previous.resident if previous is not None else Resident((render_article.__module__,))
    if previous is not None and (previous.config, previous.site_config, previous.theme, previous.assets) != (config, site.config, theme, assets):
        previous = None  # options, site.yaml, the theme chain or asset names changed: everything may look different
    registry = _registry(site)
    articles_of = _articles(site, config.drafts, registry, previous, config.document_seconds, resident)  # a rebuild's few are rendered meanwhile, by the resident worker
    linked = link(site, drafts=config.drafts, previous=last_linked)
    if previous is not None and previous.templates == templates:
        html_env, md_env = previous.environments  # compiled templates and their dependencies are reused
        references, names = previous.references, previous.names
    else:
        html_env, md_env = environments(theme)
        references, names = {}, {}

    names_of = functools.partial(_names_of, names, html_env)

    changes: Changes | None = None
    static = _static(theme.static_files(), assets, config.source, raw.static)
    planned_before = previous.planned if previous is not None and previous.linked is linked else None  # the same linked site: the same plan

    def stale(pages: list[Page], env: jinja2.Environment) -> list[Page]:
        if changes is None or previous is None:
            return pages
        return stale_pages(pages, previous.outputs, changes, lambda page: page_reads(page, lambda t: names_of(env, t), HELPER_READS))

    plans = previous.plans if previous is not None else PlanMemo()
    html_planned = planned_before[1] if planned_before is not None else None  # (else planned below: after the open briefing pages, which are planned alone)
    alone = plan_alone(linked, ahead.paths, plans) if ahead is not None and previous is not None and html_planned is None else None
    if html_planned is None and alone is None:
        html_planned = plan_html(linked, plans)
    articles = articles_of(linked, diagnostics)
    if diagnostics.errors:
        return failed()
    if previous is not None:
        changes = changed_keys(previous.linked, linked, previous.articles, articles)
        changes.keys.update(changed_files("template", previous.templates, templates))
        changes.keys.update(d for o in static if (old := previous.outputs.get(o.path)) is None or old.data != o.data for d in o.deps)  # a page may inline an asset
    envs = (md_env, html_env)
    outputs: list[Output] = []
    told_first = ahead is not None and changes is not None and not diagnostics.errors
    if told_first:  # the open pages first, each batch told as soon as it is rendered: the briefings' pages planned alone, then the others from the whole plan
        assert ahead is not None

        def tell(pages: list[Page]) -> list[Output]:
            fresh = stale(pages, html_env)  # (the pages not open are checked after these are told)
            made = _render(linked, [], fresh, envs, theme, articles, assets, config.source, diagnostics, references) if fresh else []
            if made and not diagnostics.errors:
                ahead.ready(made)
            return made

        first, rest = alone if alone is not None else ([], ahead.paths)
        outputs = tell(first)
        if rest and not diagnostics.errors:
            html_planned = html_planned if html_planned is not None else plan_html(linked, plans)
            outputs += tell([page for page in html_planned if page.path in rest])
        if diagnostics.errors:
            return failed()
        if outputs:
            ahead.settle()
    if html_planned is None:
        html_planned = plan_html(linked, plans)
    others = [page for page in html_planned if page.path not in ahead.paths] if told_first and ahead is not None else html_planned
    html_pages = stale(others, html_env)
    md_planned = planned_before[0] if planned_before is not None else plan_markdown(linked)  # (after the open pages: they need only the HTML plan)
    planned = (md_planned, html_planned)
    md_pages = stale(md_planned, md_env)
    searched = [page for page in html_planned if indexes(page.path)] if config.write else []
    to_index, later = ([p for p in html_pages if indexes(p.path)], [p for p in html_pages if not indexes(p.path)]) if searched else ([], html_pages)
    searching: Indexing | None = None
    try:
        # The pages search covers first: Pagefind indexes them while the others are rendered, and the twins and feeds made.
        fresh = _render(linked, [], to_index, envs, theme, articles, assets, config.source, diagnostics, references) if to_index else []
        if searched and not diagnostics.errors:
            searching = start_search(_merge(searched, outputs + fresh, previous.outputs if previous is not None else {}), config.source / ".briefing-cache")
        fresh += _render(linked, md_pages, later, envs, theme, articles, assets, config.source, diagnostics, references)
        by_path = {o.path: o for o in fresh}
        outputs += [by_path[page.path] for page in (*md_pages, *html_pages) if page.path in by_path]  # in plan order, as one render gives them
        rendered = tuple(o.path for o in outputs)
        kept = kept_outputs(previous.outputs if previous is not None else {}, changes)
        if previous is not None:
            outputs = _merge(planned[0] + planned[1], outputs, previous.outputs)
        if config.write and not searched:  # nothing but the home page to index: start it now
            searching = start_search(outputs, config.source / ".briefing-cache")
        outputs += twin_outputs(linked, kept)
        outputs += render_feeds(linked, planned[1], html_env, md_env, theme, config.source, diagnostics, kept, names_of, references)
        outputs += static
        if previous is None or [o.path for o in outputs] != list(previous.outputs):  # (the last good build's paths passed: the check reads nothing else)
            check_outputs(outputs, diagnostics)
        if diagnostics.errors:
            return failed()
        written = None
        if config.write:
            bundle: list[Output] = []

            def late() -> list[Output] | None:
                assert searching is not None
                bundle.extend(searching.result(diagnostics))
                return None if diagnostics.errors else bundle

            written = write_site(outputs, config.output, diagnostics, late)
            outputs += bundle
            if written is None:
                return failed()
    finally:
        if searching is not None:
            searching.cancel()  # a no-op once the bundle is in; else Pagefind is stopped
    if config.write and sources_print is not None:
        save(config.source, config.output, sources_print, len(linked.entries), diagnostics.sorted(), [o.path for o in outputs])
    state = BuildState(config, site.config, theme, assets, linked, registry, articles, templates, (html_env, md_env), references, names, {o.path: o for o in outputs}, parsed, compared, loaded, model, planned, plans, validated, resident)
    return BuildReport(
        diagnostics.sorted(),
        len(linked.entries),
        tuple(outputs),
        written,
        time.perf_counter() - started,
        state=state,
        rendered=rendered,
        changed=frozenset(changes.keys) if changes is not None else None,
    )


def _names_of(names: dict[tuple[str, str], frozenset[str] | None], html_env: jinja2.Environment, env: jinja2.Environment, template: str) -> frozenset[str] | None:
    """Return what a template can read (theme.template_names), from the memo a rebuild keeps (BuildState.names)."""
    key = ("html" if env is html_env else "md", template)
    if key not in names:
        names[key] = template_names(env, template)
    return names[key]


def prepare_rebuilds(state: BuildState) -> None:
    """Do now what the first rebuild after this build would do first: learn what each template of the page plan can read and compile it, make link's indexes of places, start the resident article worker.

    Serve calls it after its first build: the first save then takes as long as the others
    (parsing every template for its names took ~300 ms on the example site, and the build's
    pages are rendered in forked workers, so this process has compiled none; who lists
    whom as related and each slug's place, which link needs to patch a briefing in, ~60 ms
    at 10,000 briefings; the resident worker's article renderer for the registry, ~60 ms).
    """
    html_env, md_env = state.environments
    for env, pages in ((md_env, state.planned[0]), (html_env, state.planned[1])):
        for template in sorted({page.template for page in pages}):
            _names_of(state.names, html_env, env, template)
            for used in referenced_templates(env, template):  # (what it extends, includes and imports is compiled at its first render)
                env.get_template(used)
    state.linked.related_by, state.linked.positions  # (made once, then handed on while the order and the related briefings stay: link._carried)
    state.resident.start()
    if state.linked.entries:  # the worker makes its article renderer for this registry now, on the other core, not at the first save (the result is dropped)
        state.resident.submit(render_article, [(state.registry, state.linked.entries[0].briefing)], state.config.document_seconds)


def _same_model(previous: BuildState | None, config: BuildConfig, raw: RawSources, touched: Touched) -> Model | None:
    """Return the previous build's model if this build would make the same: the same options, every source file the same, and the seeds it read the same.

    The load memo hands back the very objects it read last time for files whose stat did
    not change, so the comparison is mostly of identities. Seeds are read again (from the
    same memo) to see that none of those the briefings name changed. The model's warnings
    are repeated, as a build of the same sources would report them.
    """
    if previous is None or previous.model is None or previous.config != config or config.lint or previous.model.raw != raw:
        return None  # (lint's checks of dates depend on the day too)
    model = previous.model
    if read_seeds(raw, seed_names(model.site), Diagnostics(), previous.loaded, touched) != model.seeds:
        return None
    return model


def _shared_out(fn: Callable[[T], R], items: list[T], seconds: float | None) -> list[R | Overrun]:
    """Return fn(item) for each item: in worker processes under the time budget when there are many (forking costs ~0.1 s), else here."""
    if len(items) < PARALLEL_DOCUMENTS:
        return [fn(item) for item in items]
    return map_bounded(fn, items, seconds)


def _registry(site: Site) -> Registry:
    """Return the registries as the article extensions see them, links relative to briefing pages."""
    shared = set(shared_aliases(site))
    return registry_for(site.actors, site.experts, shared, lambda url: relative(url, "briefings/x/index.html"))


def _articles(
    site: Site, drafts: bool, registry: Registry, previous: BuildState | None, seconds: float | None, resident: Resident
) -> Callable[[LinkedSite, Diagnostics], dict[str, ArticleHTML]]:
    """Start rendering each briefing's article to HTML, reusing the previous build's where nothing it uses changed; return what waits for them, by the linked site's order.

    An article is made from the briefing's body and the registry's names and links only:
    a briefing whose body is the same and that no registry change can alter keeps it, so
    an edit to a title or a timeline does not render the article again.

    Articles are rendered in worker processes, each under a time budget (budget.py): one
    that overruns is reported at its body instead of hanging the build. A rebuild's few
    go to the resident worker, which saves forking the whole process for each rebuild,
    and which renders them while this process links the site and plans its pages.
    """
    ids, names = registry_changes(previous.registry, registry) if previous is not None else (set(), set())
    last = previous.linked.site.briefings if previous is not None else ()
    if previous is not None and not ids and not names and len(last) == len(site.briefings):
        looked_at: Sequence[Briefing] = [site.briefings[i] for i in other_objects(last, site.briefings)]  # the same briefing keeps its article
        kept = previous.articles
    else:
        looked_at, kept = site.briefings, {}
    found: dict[str, ArticleHTML] = {}
    todo = []
    for b in looked_at:
        if b.draft and not drafts:
            continue
        old = previous.linked.by_slug.get(b.slug) if previous is not None else None
        if previous is not None and old is not None and old.briefing.body == b.body and b.slug in previous.articles and not article_affected(b, ids, names):
            found[b.slug] = previous.articles[b.slug]
            continue
        todo.append(b)
    done: Callable[[], list[ArticleHTML | Overrun]]
    if todo and previous is not None and len(todo) <= RESIDENT_ARTICLES:
        done = resident.submit(render_article, [(registry, b) for b in todo], seconds)
    else:
        rendered = map_bounded(ArticleRenderer(registry).render, todo, seconds) if todo else []
        done = lambda: rendered  # noqa: E731

    def collect(linked: LinkedSite, diagnostics: Diagnostics) -> dict[str, ArticleHTML]:
        for b, html in zip(todo, done()):
            if isinstance(html, Overrun):
                diagnostics.error(
                    Pos(b.pos.path, b.body.first_line, 1),
                    f"rendering this article {html.reason}, the time budget per document; stopped. Long runs of '[', '![' or '<' "
                    "make Markdown's patterns backtrack: break them up or put them in a code block",
                )
            else:
                found[b.slug] = html
        articles = {**kept, **found}  # the last articles, with the new ones in their places
        if kept and previous is not None and linked.keys == previous.linked.keys:
            return articles  # (the same slugs in the same order)
        return {e.briefing.slug: articles[e.briefing.slug] for e in linked.entries if e.briefing.slug in articles}

    return collect


def _render(
    linked: LinkedSite,
    md_pages: list[Page],
    html_pages: list[Page],
    envs: tuple[jinja2.Environment, jinja2.Environment],
    theme: Theme,
    articles: dict[str, ArticleHTML],
    assets: dict[str, str],
    source: Path,
    diagnostics: Diagnostics,
    references: dict[str, frozenset[str]],
) -> list[Output]:
    """Return the Markdown and HTML pages rendered, in plan order; many pages are shared out between the cores.

    Each forked worker renders a share at a time (a folder's pages together) with its own
    diagnostics and template references, which come back with its pages; the result is
    the same as rendering in this process, which is what a small rebuild does. There are
    several shares a worker: pages differ in cost (an actor's page draws its neighbourhood),
    and a worker that is done takes the next share instead of waiting for the other.
    """
    md_env, html_env = envs

    def work(share: tuple[list[Page], list[Page]]) -> tuple[list[Output], Diagnostics, dict[str, frozenset[str]]]:
        local = Diagnostics()
        found = emit_markdown(linked, share[0], md_env, theme, source, local, references)  # (a worker's own copy, kept for its next share)
        found += render_site(linked, share[1], html_env, theme, articles, assets, source, local, references)
        return found, local, references

    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(md_pages) + len(html_pages) < PARALLEL_PAGES or not can_enforce():
        found, local, _ = work((md_pages, html_pages))
        diagnostics.merge(local)
        return found
    for env, pages in ((md_env, md_pages), (html_env, html_pages)):  # compile each template once, here, for every worker
        for name in sorted({p.template for p in pages}):
            try:
                env.get_template(name)
            except Exception:  # noqa: BLE001 - a broken template is reported where it is rendered
                pass
    count = max(workers * SHARES_PER_WORKER, -(-(len(md_pages) + len(html_pages)) // SHARE_PAGES))
    shares = list(zip(_by_folder(md_pages, count), _by_folder(html_pages, count)))
    by_path: dict[str, Output] = {}
    for result in map_bounded(work, shares, WORKER_SECONDS, workers):
        if isinstance(result, Overrun):
            diagnostics.error(Pos(str(source)), f"rendering the pages stopped: a worker {result.reason}")
            continue
        found, local, refs = result
        by_path.update((o.path, o) for o in found)
        diagnostics.merge(local)  # a template's error is reported once, whichever worker met it first
        references.update(refs)
    return [by_path[p.path] for p in (*md_pages, *html_pages) if p.path in by_path]


def _by_folder(pages: list[Page], count: int) -> list[list[Page]]:
    """Return the pages in `count` shares for the workers, the pages of one folder together: an actor's pages draw its neighbourhood once, not once a worker.

    Each folder goes, in plan order, to the share with the fewest pages so far (the first of them).
    """
    folders: dict[str, list[Page]] = {}
    for page in pages:
        folders.setdefault(page.path.rpartition("/")[0], []).append(page)
    shares: list[list[Page]] = [[] for _ in range(count)]
    smallest = [(0, i) for i in range(count)]  # (pages, share): a heap
    for group in folders.values():
        size, i = smallest[0]
        shares[i].extend(group)
        heapq.heapreplace(smallest, (size + len(group), i))
    return shares


def _merge(pages: list[Page], fresh: list[Output], previous: dict[str, Output]) -> list[Output]:
    """Return the outputs of every planned page in plan order: the fresh ones, else the previous build's."""
    by_path = {o.path: o for o in fresh}
    return [by_path.get(page.path) or previous[page.path] for page in pages]


def _static(theme_files: dict[str, Path], assets: dict[str, str], source: Path, static: tuple[str, ...]) -> list[Output]:
    """Return the theme's assets (under assets/, by their output names) and the site's static/ files, copied as they are."""
    outputs = asset_outputs(theme_files, assets)
    outputs += [Output(rel, (source / "static" / rel).read_bytes(), frozenset({f"static:{rel}"})) for rel in static]
    return outputs
