"""Render the discovery files: Atom and JSON feeds (site, per tag, per actor), sitemap.xml, robots.txt and llms.txt.

Feeds, the sitemap and canonical links need absolute URLs, taken from `base_url`. Without
it the sitemap is left out and the other files link relative to where they sit; the
build says so once, as a warning (`missing_base_url`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import jinja2

from . import schema
from .diagnostics import Diagnostics
from .link import Entry, LinkedSite
from .model import Briefing, PartialDate, SiteConfig
from .pages import Output, Page, base_context, page_reads, relative, render
from .theme import Theme, template_keys

FEED_LATEST = 20
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
NOT_IN_SITEMAP = ("404.html", "search/index.html")
ITEM_READS = frozenset({"date", "updated", "slug", "name"})  # a feed's items: newest first, their times and ids; an actor's feed is titled with its name
JSON_FEED_READS = ITEM_READS | {"title", "summary", "key_points", "tags", "markdown_url", "url"}  # what json_feed writes of a briefing


class Kept(Protocol):
    def __call__(self, path: str, deps: frozenset[str], reads: frozenset[str] | None = None) -> Output | None: ...


@dataclass(frozen=True)
class FeedItem:
    """A briefing as a feed shows it: its permanent id and its times in the site's time zone."""

    entry: Entry
    id: str
    published: str  # RFC 3339
    updated: str


@dataclass(frozen=True)
class Feed:
    """One feed in two formats: the Atom file and the JSON Feed beside it."""

    atom: str  # output path, e.g. tags/china/feed.xml
    json: str
    page: str  # the HTML page the feed follows
    title: str
    entries: tuple[Entry, ...]
    deps: frozenset[str]


def site_url(config: SiteConfig, path: str) -> str | None:
    """Return the absolute URL of an output path under base_url (a folder's index.html as the folder), or None."""
    if not config.base_url:
        return None
    tail = path[: -len("index.html")] if path == "index.html" or path.endswith("/index.html") else path
    return config.base_url.rstrip("/") + "/" + tail


def missing_base_url(config: SiteConfig, diagnostics: Diagnostics) -> None:
    """Warn once, when base_url is missing, which outputs were left out or made relative."""
    if not config.base_url:
        diagnostics.warning(
            config.pos,
            "base_url is not set, so sitemap.xml, canonical links and og:url were left out, and the feeds, llms.txt "
            "and 404.html link relative to where they sit; set base_url in site.yaml or pass build --base-url",
        )


def time_zone(config: SiteConfig, diagnostics: Diagnostics) -> dt.tzinfo:
    """Return the site's time zone; report an unknown name and fall back to UTC."""
    try:
        return zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        known = sorted(zoneinfo.available_timezones())
        diagnostics.error(config.pos, f"unknown timezone {config.timezone!r}: expected an IANA name such as Europe/Paris{schema.hint(config.timezone, known)}")
        return dt.timezone.utc


def rfc3339(date: PartialDate, zone: dt.tzinfo) -> str:
    """Return the start of a date's earliest day in the zone, as RFC 3339 (2025-09-01T00:00:00+09:00)."""
    day = date.earliest
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()


def plan_feeds(linked: LinkedSite) -> list[Feed]:
    """Return the site's feed of the latest briefings, then one per tag and one per actor."""
    site = linked.site
    latest = linked.entries[:FEED_LATEST]
    feeds = [Feed("feed.xml", "feed.json", "index.html", site.config.title, latest, _briefing_deps(latest) | {"list:briefings"})]
    for tag, briefings in linked.tags.items():
        entries = tuple(linked.by_slug[b.slug] for b in briefings[:FEED_LATEST])
        feeds.append(Feed(f"tags/{tag}/feed.xml", f"tags/{tag}/feed.json", f"tags/{tag}/index.html", f"{site.config.title}: {site.config.tag_name(tag)}", entries, _briefing_deps(entries)))
    for actor in site.actors.values():
        cards = linked.actor_cards.get(actor.id, ())[:FEED_LATEST]
        entries = tuple(linked.by_slug[c.briefing.slug] for c in cards)
        feeds.append(Feed(f"actors/{actor.id}/feed.xml", f"actors/{actor.id}/feed.json", actor.url, f"{site.config.title}: {actor.name}", entries, _briefing_deps(entries) | {f"actor:{actor.id}"}))
    return feeds


def page_feed(page: Page) -> tuple[str, str] | None:
    """Return the Atom and JSON feed that follow a tag's or an actor's pages, if the page is one."""
    if "actor" in page.context:
        ident = page.context["actor"].id
        return f"actors/{ident}/feed.xml", f"actors/{ident}/feed.json"
    if "tag" in page.context:
        tag = page.context["tag"]
        return f"tags/{tag}/feed.xml", f"tags/{tag}/feed.json"
    return None


def render_feeds(
    linked: LinkedSite,
    html_pages: list[Page],
    env: jinja2.Environment,
    md_env: jinja2.Environment,
    theme: Theme,
    root: Path,
    diagnostics: Diagnostics,
    kept: Kept = lambda path, deps, reads=None: None,
    template_names: Callable[[jinja2.Environment, str], frozenset[str] | None] = lambda env, name: None,
    references: dict[str, frozenset[str]] | None = None,
) -> list[Output]:
    """Return the feeds, sitemap.xml, robots.txt and llms.txt, each with what it was made from.

    kept(path, deps, reads) gives a previous build's file that still stands for what it
    was made from and what it can show (incremental.kept_outputs); template_names(env,
    name) what a template can read (theme.template_names); references the memo of each
    template's dependencies that the pages' render keeps across rebuilds (theme.template_keys).
    """
    config = linked.site.config
    zone = time_zone(config, diagnostics)
    outputs: list[Output] = []
    templates: dict[str, frozenset[str]] = references if references is not None else {}  # parsed once per template, not once per feed (10,000 actors: minutes)

    def through(env: jinja2.Environment, page: Page, make: Callable[[], dict[str, Any]] = dict) -> None:
        """Add the page's output: the kept one, else rendered with its context and what make() adds (computed only then)."""
        deps = page.deps | template_keys(env, page.template, templates)
        old = kept(page.path, deps, page_reads(page, lambda template: template_names(env, template)))
        if old is not None:
            outputs.append(old)
            return
        context = base_context(config, page, {})
        context["url"] = lambda path: site_url(config, path) or relative(path, page.path)
        context.update(make())
        data = render(env, page, context, theme.template_path, root, diagnostics)
        if data is not None:
            outputs.append(Output(page.path, data, deps))

    for feed in plan_feeds(linked):
        context = functools.cache(functools.partial(_feed_context, feed, config, zone))  # made once, and only for a feed rendered again
        through(env, Page(feed.atom, "atom.xml", feed.title, {}, feed.deps, ITEM_READS), context)
        outputs.append(kept(feed.json, feed.deps, JSON_FEED_READS) or Output(feed.json, json_feed(feed, context()["items"], config), feed.deps))

    if config.base_url:
        urls = tuple((p.path, _lastmod(p)) for p in html_pages if p.path not in NOT_IN_SITEMAP)
        listing = hashlib.sha256("\n".join(f"{path} {lastmod}" for path, lastmod in urls).encode()).hexdigest()
        # The sitemap shows which pages exist and when briefings changed, nothing else of the
        # model: it is made from that list, recorded by its digest, and rendered again only when it differs.
        through(env, Page("sitemap.xml", "sitemap.xml", "Sitemap", {}, frozenset({f"pages:{listing}"}), frozenset()), lambda: {"urls": urls})
    through(md_env, Page("robots.txt", "robots.txt", "robots.txt", {"sitemap": site_url(config, "sitemap.xml")}, frozenset()))

    def llms() -> dict[str, Any]:
        return {"briefings": tuple((_markdown_text(e.briefing.title), e.briefing.markdown_url, " ".join(e.briefing.summary.split())) for e in linked.entries)}

    llms_deps = frozenset({"list:briefings"} | _briefing_deps(linked.entries))
    through(md_env, Page("llms.txt", "llms.txt", "llms.txt", {}, llms_deps, frozenset({"date", "title", "summary", "markdown_url"})), llms)
    return outputs


def json_feed(feed: Feed, items: tuple[FeedItem, ...], config: SiteConfig) -> bytes:
    """Return the feed as a JSON Feed 1.1 document."""

    def url(path: str) -> str:
        return site_url(config, path) or relative(path, feed.json)

    doc: dict[str, Any] = {"version": JSON_FEED_VERSION, "title": feed.title}
    if config.base_url:
        doc["home_page_url"] = site_url(config, feed.page)
        doc["feed_url"] = site_url(config, feed.json)
    if config.description:
        doc["description"] = config.description
    doc["language"] = config.language
    doc["authors"] = [{"name": config.author or config.title}]
    doc["items"] = [
        {
            "id": item.id,
            "url": url(item.entry.briefing.url),
            "title": item.entry.briefing.title,
            "summary": item.entry.briefing.summary.strip(),
            "content_text": _content_text(item.entry.briefing),
            "date_published": item.published,
            "date_modified": item.updated,
            **({"tags": [config.tag_name(t) for t in item.entry.briefing.tags]} if item.entry.briefing.tags else {}),
            "attachments": [{"url": url(item.entry.briefing.markdown_url), "mime_type": "text/markdown", "title": "This briefing as Markdown"}],
        }
        for item in items
    ]
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _feed_context(feed: Feed, config: SiteConfig, zone: dt.tzinfo) -> dict[str, Any]:
    """Return what atom.xml gets of a feed: its items, its id and when it last changed."""
    items = tuple(_item(entry, config, zone) for entry in feed.entries)
    return {"feed": feed, "items": items, "id": _feed_id(config, feed), "updated": _newest(feed.entries, zone, config)}


def _briefing_deps(entries: tuple[Entry, ...]) -> frozenset[str]:
    return frozenset(f"briefing:{e.briefing.slug}" for e in entries)


def _item(entry: Entry, config: SiteConfig, zone: dt.tzinfo) -> FeedItem:
    """Return a briefing's feed item: its URL as id when base_url is set, else a UUID made from the site and slug."""
    b = entry.briefing
    ident = site_url(config, b.url) or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'briefing:{config.title}:{b.slug}')}"
    return FeedItem(entry, ident, rfc3339(b.date, zone), rfc3339(b.updated or b.date, zone))


def _feed_id(config: SiteConfig, feed: Feed) -> str:
    return site_url(config, feed.atom) or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'briefing:{config.title}:{feed.atom}')}"


def _newest(entries: tuple[Entry, ...], zone: dt.tzinfo, config: SiteConfig) -> str:
    """Return when the feed last changed: its newest entry's update (a feed without entries: the epoch)."""
    dates = [e.briefing.updated or e.briefing.date for e in entries]
    if not dates:
        return dt.datetime(1970, 1, 1, tzinfo=zone).isoformat()
    return rfc3339(max(dates, key=lambda d: d.sort_key), zone)


def _lastmod(page: Page) -> str | None:
    """Return a briefing page's last change as a W3C date; other pages have none."""
    entry = page.context.get("entry")
    if not isinstance(entry, Entry):
        return None
    return (entry.briefing.updated or entry.briefing.date).earliest.isoformat()


def _content_text(b: Briefing) -> str:
    """Return the plain text a JSON Feed item carries: the summary and the key points."""
    text = " ".join(b.summary.split())
    if b.key_points:
        text += "\n\n" + "\n".join(f"- {point}" for point in b.key_points)
    return text


MARKDOWN_SPECIAL = re.compile(r"([\\\[\]])")


def _markdown_text(text: str) -> str:
    """Return text safe inside a Markdown link's brackets."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))

