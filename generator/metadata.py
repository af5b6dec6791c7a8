"""Describe each HTML page for machines: canonical URL, Open Graph type and image, feed links, and schema.org JSON-LD."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .feeds import page_feed, rfc3339, site_url
from .link import Entry
from .model import Actor, Expert, SiteConfig
from .pages import Page
from .theme import safe_url

SCHEMA_TYPES = {"person": "Person", "organisation": "Organization", "state": "GovernmentOrganization"}
SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class PageMeta:
    """What base.html's head says about a page beyond its title and description."""

    canonical: str | None  # absolute, only with base_url
    og_type: str  # website | article | profile
    image: str | None  # absolute, only with base_url
    feeds: tuple[tuple[str, str, str], ...]  # (title, type, output path): the site's feed, then the page's own
    jsonld: Markup | None  # serialized for a <script type="application/ld+json"> element
    published: str | None = None  # article:published_time
    kind: str | None = None  # what search results call the page: Briefing, Actor, Expert


def script_json(data: Any) -> Markup:
    """Return data as JSON that cannot end or confuse the script element holding it: <, >, & and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return Markup(text)


def page_metadata(config: SiteConfig, page: Page) -> PageMeta:
    """Return the head metadata of an HTML page, from what the page shows."""
    zone = _zone(config)
    canonical = None if page.path == "404.html" else site_url(config, page.path)
    feeds = [(config.title, "application/atom+xml", "feed.xml"), (config.title, "application/feed+json", "feed.json")]
    own = page_feed(page)
    if own is not None:
        feeds += [(f"{config.title}: {page.title}", "application/atom+xml", own[0]), (f"{config.title}: {page.title}", "application/feed+json", own[1])]
    og_type, image, data, published, kind = "website", None, None, None, None
    entry = page.context.get("entry")
    if isinstance(entry, Entry):
        og_type, kind = "article", "Briefing"
        published = rfc3339(entry.briefing.date, zone)
        data = news_article(entry, config, zone, canonical)
    elif isinstance(page.context.get("actor"), Actor):
        actor: Actor = page.context["actor"]
        og_type, kind = ("profile" if actor.kind == "person" else "website"), "Actor"
        image = _image_url(actor.image, config)
        data = actor_thing(actor, config, canonical, image)
    elif isinstance(page.context.get("expert"), Expert):
        og_type, kind = "profile", "Expert"
        data = expert_person(page.context["expert"], canonical)
    elif page.path == "index.html":
        data = website(config)
    return PageMeta(canonical, og_type, image, tuple(feeds), script_json(data) if data is not None else None, published, kind)


def news_article(entry: Entry, config: SiteConfig, zone: dt.tzinfo, url: str | None) -> dict[str, Any]:
    """Return a briefing as schema.org NewsArticle: about = its actors, mentions = its experts, citation = its source."""
    b = entry.briefing
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": b.title,
        "description": " ".join(b.summary.split()),
        "datePublished": rfc3339(b.date, zone),
        "dateModified": rfc3339(b.updated or b.date, zone),
        "inLanguage": config.language,
        "author": {"@type": "Organization", "name": config.author or config.title},
        "publisher": _publisher(config),
        "wordCount": b.body.words,
    }
    if url:
        data["url"] = url
        data["mainEntityOfPage"] = url
    if b.tags:
        data["keywords"] = [config.tag_name(t) for t in b.tags]
    if entry.actors:
        data["about"] = [_reference(card.actor.name, SCHEMA_TYPES.get(card.actor.kind, "Thing"), site_url(config, card.actor.url)) for card in entry.actors]
    if entry.experts:
        data["mentions"] = [_reference(s.expert.name, "Person", site_url(config, s.expert.url)) for s in entry.experts]
    source = b.source
    if source and (source.outlet or source.url or source.author or source.seed):
        citation: dict[str, Any] = {"@type": "NewsArticle"}
        if source.seed:
            citation["identifier"] = source.seed  # the article as received: the page names it the same way
        if source.outlet:
            citation["publisher"] = {"@type": "Organization", "name": source.outlet}
            citation["name"] = source.outlet
        if source.url and safe_url(source.url) != "#":
            citation["url"] = source.url
        if source.author:
            citation["author"] = {"@type": "Person", "name": source.author}
        if source.published:
            citation["datePublished"] = source.published.iso
        data["citation"] = citation
    return data


def actor_thing(actor: Actor, config: SiteConfig, url: str | None, image: str | None) -> dict[str, Any]:
    """Return an actor as schema.org Person, Organization or GovernmentOrganization (a state)."""
    kind = SCHEMA_TYPES.get(actor.kind, "Thing")
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": kind, "name": actor.name}
    if url:
        data["url"] = url
    if actor.aliases:
        data["alternateName"] = list(actor.aliases)
    if actor.summary or (actor.role and kind != "Person"):
        data["description"] = actor.summary or actor.role
    if actor.role and kind == "Person":
        data["jobTitle"] = actor.role
    if actor.country:
        country = {"@type": "Country", "name": actor.country}
        data["nationality" if kind == "Person" else "location"] = country
    if image:
        data["image"] = image
    links = [link.url for link in actor.links if safe_url(link.url) != "#" and "://" in link.url]
    if links:
        data["sameAs"] = links
    return data


def expert_person(expert: Expert, url: str | None) -> dict[str, Any]:
    """Return an expert as schema.org Person: name as the sources give it, title, affiliation, field."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Person", "name": expert.name}
    if url:
        data["url"] = url
    if expert.title:
        data["jobTitle"] = expert.title
    if expert.affiliation:
        data["affiliation"] = {"@type": "Organization", "name": expert.affiliation}
    if expert.field:
        data["knowsAbout"] = expert.field
    if expert.bio:
        data["description"] = expert.bio
    links = [link.url for link in expert.links if safe_url(link.url) != "#" and "://" in link.url]
    if links:
        data["sameAs"] = links
    return data


def website(config: SiteConfig) -> dict[str, Any]:
    """Return the home page's schema.org WebSite, with its search action when the site has a base_url."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "WebSite", "name": config.title, "inLanguage": config.language}
    if config.description:
        data["description"] = config.description
    if config.base_url:
        data["url"] = site_url(config, "index.html")
        data["potentialAction"] = {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{site_url(config, 'search/index.html')}?q={{search_term_string}}"},
            "query-input": "required name=search_term_string",
        }
    return data


def _publisher(config: SiteConfig) -> dict[str, Any]:
    publisher: dict[str, Any] = {"@type": "Organization", "name": config.title}
    if config.base_url:
        publisher["url"] = site_url(config, "index.html")
    return publisher


def _image_url(image: str, config: SiteConfig) -> str | None:
    """Return an image's absolute URL: a web URL as it is, a path in the site under base_url."""
    if not image:
        return None
    if "://" in image:
        return image if image.startswith(("https://", "http://")) and safe_url(image) != "#" else None
    return site_url(config, image.lstrip("/"))


def _reference(name: str, kind: str, url: str | None) -> dict[str, Any]:
    return {"@type": kind, "name": name, **({"url": url} if url else {})}


def _zone(config: SiteConfig) -> dt.tzinfo:
    """Return the site's time zone (an unknown one is reported by the feeds; UTC here)."""
    try:
        return zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc
