"""Emit each briefing's Markdown page (briefings/<slug>/index.md) through the theme's `briefing.md` template."""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from .annotations import rewrite_body
from .diagnostics import Diagnostics
from .link import Entry, LinkedSite
from .pages import Output, Page, base_context, relative, render
from .theme import Theme, markdown_escape, template_keys


def markdown_article(entry: Entry, linked: LinkedSite, text: str | None = None) -> str:
    """Return the briefing's article (or text from it) as plain Markdown: mentions as links, views as attributed quotes."""
    site = linked.site
    page = entry.briefing.markdown_url

    def name(ident: str) -> str:
        found = site.actors.get(ident) or site.experts.get(ident)
        return markdown_escape(found.name if found else ident)  # type: ignore[return-value]  # a registry name is text, not Markdown

    def url(ident: str) -> str:
        found = site.actors.get(ident) or site.experts.get(ident)
        return relative(found.url, page) if found else "#"

    def mention(ident: str, text: str) -> str:
        return f"[{text or name(ident)}]({url(ident)})"

    def view(expert: str, n: int) -> str:
        return f"> **View of [{name(expert)}]({url(expert)})** <a id=\"view-{expert}-{n}\"></a>"

    return rewrite_body(entry.briefing.body.markdown if text is None else text, mention, view)


def markdown_passages(entry: Entry, linked: LinkedSite) -> dict[str, Markup]:
    """Return each view passage as a Markdown block quote, by anchor."""
    passages = {}
    for view in entry.briefing.body.views:
        text = markdown_article(entry, linked, view.text).rstrip("\n")
        passages[view.anchor] = Markup("\n".join(f"> {line}" if line else ">" for line in text.split("\n")))
    return passages


def plan_markdown(linked: LinkedSite) -> list[Page]:
    """Return one Markdown page per briefing."""
    return [Page(e.briefing.markdown_url, "briefing.md", e.briefing.title, {"entry": e}, e.page_keys) for e in linked.entries]


def emit_markdown(
    linked: LinkedSite, pages: list[Page], env: jinja2.Environment, theme: Theme, root: Path, diagnostics: Diagnostics, references: dict[str, frozenset[str]] | None = None
) -> list[Output]:
    """Return the Markdown pages rendered, with what each was made from.

    The article is rewritten here, not when the pages are planned, so that a rebuild
    pays only for the pages it renders again.
    """
    outputs = []
    templates: dict[str, frozenset[str]] = references if references is not None else {}  # as in render_site
    for page in pages:
        entry = page.context["entry"]
        context = base_context(linked.site.config, page, {})
        context.update(article=Markup(markdown_article(entry, linked)), passages=markdown_passages(entry, linked))
        data = render(env, page, context, theme.template_path, root, diagnostics)
        if data is not None:
            outputs.append(Output(page.path, data, page.deps | template_keys(env, page.template, templates)))
    return outputs
