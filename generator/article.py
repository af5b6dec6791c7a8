"""Render a briefing's article to HTML: Python-Markdown with the annotation extensions, then a sanitizer.

The scanner in `annotations.py` has already found and checked every annotation; these
extensions only render what it accepted:

| class               | registry        | name            | priority | why there                                   |
|---------------------|-----------------|-----------------|----------|---------------------------------------------|
| ViewBlockProcessor  | parser.blockprocessors | briefing_view | 105 | before indented code (90) and paragraphs, like admonition |
| MentionProcessor    | inlinePatterns  | briefing_mention | 175     | after escapes (180), before links (160), so `[[x]]` is never a reference link |
| AliasTreeprocessor  | treeprocessors  | briefing_alias  | 15       | after inline (20) has made text nodes, before prettify (10) |

Results surface on the Markdown instance, as `toc` does: `md.briefing_mentions` (ids in
document order) and `md.briefing_views` (anchors), cleared by `reset()`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

import markdown
import nh3
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .model import Briefing

VIEW_OPEN = re.compile(r"^::: *view +([a-z0-9]+(?:-[a-z0-9]+)*) *$")
VIEW_CLOSE = re.compile(r"^::: *$")
MENTION_RE = r"\[\[([a-z0-9]+(?:-[a-z0-9]+)*)(?:\|([^\[\]\n]+))?\]\]"
NO_ALIAS_IN = {"a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "script", "style", "kbd", "samp"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "dfn", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul", "var", "section", "aside", "h1",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "data-id"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "reversed", "type"},
    "time": {"datetime"},
    "abbr": {"title"},
    "div": {"data-expert"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Registry:
    """What the extensions need to know of the registries."""

    names: Mapping[str, str]  # id -> display name
    urls: Mapping[str, str]  # id -> href from a briefing page
    aliases: Mapping[str, str]  # name or alias -> id, shared aliases left out


class ViewBlockProcessor(BlockProcessor):
    """Render `::: view EXPERT-ID` ... `:::` as a marked passage of the article."""

    def __init__(self, parser: markdown.blockparser.BlockParser, md: markdown.Markdown, registry: Registry) -> None:
        super().__init__(parser)
        self.md = md
        self.registry = registry

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(VIEW_OPEN.match(block.split("\n", 1)[0]))

    def run(self, parent: etree.Element, blocks: list[str]) -> bool:
        first = blocks.pop(0)
        expert = VIEW_OPEN.match(first.split("\n", 1)[0]).group(1)  # type: ignore[union-attr]
        inner: list[str] = []
        rest = first.split("\n", 1)[1] if "\n" in first else ""
        pending = [rest] if rest else []
        closed = False
        while True:
            for block in pending:
                lines = block.split("\n")
                if VIEW_CLOSE.match(lines[-1]):
                    text = "\n".join(lines[:-1])
                    if text:
                        inner.append(text)
                    closed = True
                    break
                inner.append(block)
            if closed or not blocks:
                break
            pending = [blocks.pop(0)]
        counts = self.md.briefing_view_counts  # type: ignore[attr-defined]
        counts[expert] = counts.get(expert, 0) + 1
        anchor = f"view-{expert}-{counts[expert]}"
        self.md.briefing_views.append(anchor)  # type: ignore[attr-defined]
        div = etree.SubElement(parent, "div", {"class": "view", "id": anchor, "data-expert": expert})
        label = etree.SubElement(div, "p", {"class": "view-by"})
        link = etree.SubElement(label, "a", {"href": self.registry.urls.get(expert, "#")})
        link.text = AtomicString(self.registry.names.get(expert, expert))
        self.parser.parseBlocks(div, inner)
        return True


class MentionProcessor(InlineProcessor):
    """Render `[[id]]` and `[[id|text]]` as a link to the actor's or expert's page."""

    def __init__(self, pattern: str, md: markdown.Markdown, registry: Registry) -> None:
        super().__init__(pattern, md)
        self.registry = registry

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | None, int | None, int | None]:
        ident, text = m.group(1), m.group(2)
        if ident not in self.registry.urls:
            return None, None, None
        self.md.briefing_mentions.append(ident)  # type: ignore[attr-defined]
        el = etree.Element("a", {"class": "mention", "href": self.registry.urls[ident], "data-id": ident})
        el.text = (text or self.registry.names[ident]).strip()
        return el, m.start(0), m.end(0)


class AliasTreeprocessor(Treeprocessor):
    """Link the first unmarked mention of each registered name or alias, outside headings, links and code."""

    def __init__(self, md: markdown.Markdown, registry: Registry) -> None:
        super().__init__(md)
        self.registry = registry
        names = sorted(registry.aliases, key=lambda n: (-len(n), n))
        self.pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)") if names else None

    def run(self, root: etree.Element) -> None:
        if self.pattern is None or not self.md.briefing_link_aliases:  # type: ignore[attr-defined]
            return
        linked: set[str] = set()
        self._walk(root, linked)

    def _walk(self, parent: etree.Element, linked: set[str], created: set[int] | None = None) -> None:
        created = set() if created is None else created
        if parent.tag in NO_ALIAS_IN or id(parent) in created:
            return
        if parent.text and not isinstance(parent.text, AtomicString):
            parent.text, new = self._link(parent.text, linked)
            for offset, el in enumerate(new):
                created.add(id(el))
                parent.insert(offset, el)
        for child in list(parent):
            if id(child) in created:
                continue
            if child.get("data-id"):
                linked.add(child.get("data-id"))  # an explicit mention counts as the link
            self._walk(child, linked, created)
            if child.tail and not isinstance(child.tail, AtomicString):
                child.tail, new = self._link(child.tail, linked)
                position = list(parent).index(child) + 1
                for offset, el in enumerate(new):
                    created.add(id(el))
                    parent.insert(position + offset, el)

    def _link(self, text: str, linked: set[str]) -> tuple[str, list[etree.Element]]:
        """Return text up to the first new alias link, and the link elements with their tails."""
        assert self.pattern is not None
        out: list[etree.Element] = []
        head: str | None = None
        last = 0
        for match in self.pattern.finditer(text):
            ident = self.registry.aliases[match.group(1)]
            if ident in linked:
                continue
            linked.add(ident)
            el = etree.Element("a", {"class": "mention alias", "href": self.registry.urls[ident], "data-id": ident})
            el.text = AtomicString(match.group(1))
            if head is None:
                head = text[: match.start()]
            else:
                out[-1].tail = text[last : match.start()]
            out.append(el)
            last = match.end()
        if head is None:
            return text, []
        out[-1].tail = text[last:]
        return head, out


class BriefingExtension(Extension):
    """Python-Markdown extension for briefing annotations."""

    def __init__(self, registry: Registry, **kwargs: object) -> None:
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.registerExtension(self)
        self.reset_md = md
        self.reset()
        md.parser.blockprocessors.register(ViewBlockProcessor(md.parser, md, self.registry), "briefing_view", 105)
        md.inlinePatterns.register(MentionProcessor(MENTION_RE, md, self.registry), "briefing_mention", 175)
        md.treeprocessors.register(AliasTreeprocessor(md, self.registry), "briefing_alias", 15)

    def reset(self) -> None:
        md = self.reset_md
        md.briefing_mentions = []  # type: ignore[attr-defined]
        md.briefing_views = []  # type: ignore[attr-defined]
        md.briefing_view_counts = {}  # type: ignore[attr-defined]
        md.briefing_link_aliases = True  # type: ignore[attr-defined]


def makeExtension(**kwargs: object) -> BriefingExtension:  # noqa: N802 (Python-Markdown's hook name)
    return BriefingExtension(**kwargs)  # type: ignore[arg-type]


def sanitize(html: str) -> str:
    """Return html with only ordinary formatting left: no scripts, handlers or active URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


class _Needs:
    """A compiled pattern searched only in text that holds a character every match of it needs.

    Python-Markdown tries each inline pattern on every text node and each block processor on
    every block. A pattern that opens with a look-behind (the code span's) or a line start
    gives the regex engine no literal to skip ahead to, so it steps through the whole text
    even where the character it needs is absent: a quarter of an article's conversion.
    """

    __slots__ = ("pattern", "char")

    def __init__(self, pattern: re.Pattern[str], char: str) -> None:
        self.pattern = pattern
        self.char = char

    def search(self, string: str, *args: int) -> re.Match[str] | None:
        return self.pattern.search(string, *args) if self.char in string else None

    def finditer(self, string: str, *args: int) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(string, *args) if self.char in string else iter(())

    def __getattr__(self, name: str) -> object:
        return getattr(self.pattern, name)


NEEDS_INLINE = {"backtick": "`"}  # pattern name -> the character each of its matches holds
NEEDS_BLOCK = {"quote": ">", "hashheader": "#", "deflist": ":"}


def _skip_absent(md: markdown.Markdown) -> None:
    """Give the patterns that cannot skip ahead on their own a test for the character they need."""
    for name, char in NEEDS_INLINE.items():
        if name in md.inlinePatterns:
            md.inlinePatterns[name].compiled_re = _Needs(md.inlinePatterns[name].compiled_re, char)
    for name, char in NEEDS_BLOCK.items():
        if name in md.parser.blockprocessors:
            md.parser.blockprocessors[name].RE = _Needs(md.parser.blockprocessors[name].RE, char)


@dataclass(frozen=True)
class ArticleHTML:
    body: str
    views: Mapping[str, str]  # anchor -> the passage's HTML


class ArticleRenderer:
    """One Markdown instance per build, reset between articles."""

    def __init__(self, registry: Registry) -> None:
        self.md = markdown.Markdown(
            extensions=["extra", "sane_lists", BriefingExtension(registry)],
            output_format="html",
        )
        _skip_absent(self.md)

    def convert(self, text: str, link_aliases: bool = True) -> str:
        self.md.reset()
        self.md.briefing_link_aliases = link_aliases  # type: ignore[attr-defined]
        return sanitize(self.md.convert(text))

    def render(self, briefing: Briefing) -> ArticleHTML:
        """Return the article's HTML and each view passage's HTML."""
        body = self.convert(briefing.body.markdown)
        views = {view.anchor: self.convert(view.text, link_aliases=False) for view in briefing.body.views}
        return ArticleHTML(body, views)


_kept: list[tuple[Registry, ArticleRenderer]] = []  # a worker's renderer, kept while the registry is the same


def render_article(job: tuple[Registry, Briefing]) -> ArticleHTML:
    """Return ArticleRenderer(registry).render(briefing), keeping the renderer while the registry is the same: the form a resident worker is sent (budget.Resident)."""
    registry, briefing = job
    if not _kept or _kept[0][0] != registry:
        _kept[:] = [(registry, ArticleRenderer(registry))]
    return _kept[0][1].render(briefing)


def registry_for(actors: Mapping[str, object], experts: Mapping[str, object], shared: set[str], url: Callable[[str], str]) -> Registry:
    """Return the extensions' view of the registries; url maps an entry's site path to an href."""
    names: dict[str, str] = {}
    urls: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for entry in list(actors.values()) + list(experts.values()):
        names[entry.id] = entry.name  # type: ignore[attr-defined]
        urls[entry.id] = url(entry.url)  # type: ignore[attr-defined]
        for name in (entry.name, *entry.aliases):  # type: ignore[attr-defined]
            if name and name not in shared:
                aliases[name] = entry.id  # type: ignore[attr-defined]
    return Registry(names, urls, aliases)
