"""The one orchestrator: load -> parse -> validate -> link -> emit Markdown -> render HTML -> write."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .article import ArticleRenderer, registry_for
from .diagnostics import Diagnostic, Diagnostics
from .emit import emit_markdown, plan_markdown
from .link import LinkedSite, link
from .load import load_sources
from .pages import Output, relative
from .parse import parse
from .render import plan_html, render_site
from .theme import environments, resolve_theme
from .validate import shared_aliases, validate
from .write import WriteReport, check_output, write_site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    source: Path
    output: Path
    drafts: bool = False
    strict: bool = False
    lint: bool = False
    base_url: str | None = None
    write: bool = True  # False: check only


@dataclass(frozen=True)
class BuildReport:
    diagnostics: list[Diagnostic]
    briefings: int = 0
    outputs: tuple[Output, ...] = ()
    written: WriteReport | None = None
    seconds: float = 0.0
    failed: bool = False

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def build(config: BuildConfig, changes: frozenset[str] | None = None) -> BuildReport:
    """Build the site the config describes; write nothing unless every stage succeeded."""
    started = time.perf_counter()
    diagnostics = Diagnostics()
    if config.write:
        check_output(config.output, config.source, diagnostics)
    raw = load_sources(config.source, diagnostics)
    site = parse(raw, diagnostics)
    if config.base_url is not None:
        site = dataclasses.replace(site, config=dataclasses.replace(site.config, base_url=config.base_url))
    validate(site, diagnostics, seeds=raw.seeds, lint=config.lint)
    theme = resolve_theme(site.config.theme, config.source, diagnostics, site.config.pos)

    def failed() -> BuildReport:
        return BuildReport(diagnostics.sorted(), len(site.briefings), seconds=time.perf_counter() - started, failed=True)

    if diagnostics.errors or theme is None or (config.strict and diagnostics.warnings):
        return failed()
    linked = link(site, drafts=config.drafts)
    html_env, md_env = environments(theme)
    outputs = emit_markdown(linked, plan_markdown(linked), md_env, theme, config.source, diagnostics)
    articles = _articles(linked)
    assets = {name: name for name in theme.static_files()}
    outputs += render_site(linked, plan_html(linked), html_env, theme, articles, assets, config.source, diagnostics)
    outputs += _static(theme.static_files(), config.source, raw.static)
    if diagnostics.errors:
        return failed()
    written = write_site(outputs, config.output) if config.write else None
    return BuildReport(
        diagnostics.sorted(),
        len(linked.entries),
        tuple(outputs),
        written,
        time.perf_counter() - started,
    )


def _articles(linked: LinkedSite):  # type: ignore[no-untyped-def]
    """Return each briefing's article rendered to HTML, links relative to briefing pages."""
    site = linked.site
    shared = set(shared_aliases(site))
    registry = registry_for(site.actors, site.experts, shared, lambda url: relative(url, "briefings/x/index.html"))
    renderer = ArticleRenderer(registry)
    return {entry.briefing.slug: renderer.render(entry.briefing) for entry in linked.entries}


def _static(theme_files: dict[str, Path], source: Path, static: tuple[str, ...]) -> list[Output]:
    """Return the theme's assets (under assets/) and the site's static/ files, copied as they are."""
    outputs = [Output(f"assets/{name}", path.read_bytes(), frozenset({f"asset:{name}"})) for name, path in theme_files.items()]
    outputs += [Output(rel, (source / "static" / rel).read_bytes(), frozenset({f"static:{rel}"})) for rel in static]
    return outputs
