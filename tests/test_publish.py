"""Publish-ready output: feeds, sitemap, robots.txt, llms.txt, head metadata, JSON-LD, hashed assets, 404.html, the search bundle."""

from __future__ import annotations

import datetime as dt
import html
import gzip
import json
import re
import shutil
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
from conftest import REPO

from generator.assets import asset_names, asset_outputs
from generator.metadata import script_json
from generator.pipeline import BuildConfig, BuildReport, build

BASE = "https://example.org/korea-briefings/"


def built(source: Path, out: Path, **options: object) -> BuildReport:
    report = build(BuildConfig(source, out, **options))  # type: ignore[arg-type]
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    return report


def local_file(site: Path, url: str, base: str = BASE) -> Path:
    """Return the file an absolute site URL is served from (a folder's index.html for a folder URL)."""
    assert url.startswith(base), url
    rel = urlsplit(url[len(base) :]).path
    path = site / rel
    return path / "index.html" if rel == "" or rel.endswith("/") else path


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the example site, built once for this module."""
    root = tmp_path_factory.mktemp("example")
    for name in ("content", "seeds"):
        shutil.copytree(REPO / name, root / name)
    out = root / "site"
    built(root, out)
    return out


def feeds_of(site: Path) -> list[Path]:
    return sorted(site.glob("feed.xml")) + sorted(site.glob("tags/*/feed.xml")) + sorted(site.glob("actors/*/feed.xml"))


def test_every_atom_feed_parses_cleanly_and_links_to_pages(example: Path) -> None:
    feeds = feeds_of(example)
    assert {p.relative_to(example).as_posix() for p in feeds} >= {"feed.xml", "tags/china/feed.xml", "actors/kim-jong-un/feed.xml"}
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        for entry in parsed.entries:
            assert local_file(example, entry.link).is_file(), entry.link
            assert entry.summary and entry.title and entry.id
    main = feedparser.parse((example / "feed.xml").read_bytes())
    assert [e.title for e in main.entries][:1] == ["Kim Jong Un takes the train to Beijing to be seen as a nuclear state"]
    first = main.entries[0]
    assert {t.term: t.label for t in first.tags}["nuclear"] == "Nuclear weapons"  # display names from site.yaml
    assert first.published == "2025-09-01T00:00:00+09:00"  # the site's timezone: Asia/Seoul
    assert main.feed.links[0].href == BASE + "feed.xml"


def test_tag_and_actor_feeds_hold_only_their_briefings(example: Path) -> None:
    inter = feedparser.parse((example / "tags" / "inter-korean" / "feed.xml").read_bytes())
    assert [e.link for e in inter.entries] == [BASE + "briefings/north-korea-nuclear-constitution-two-hostile-states/"]
    assert inter.feed.title == "Korea Peninsula Briefings: Inter-Korean relations"
    xi = feedparser.parse((example / "actors" / "xi-jinping" / "feed.xml").read_bytes())
    assert [e.link for e in xi.entries] == [BASE + "briefings/kim-jong-un-beijing-victory-day/"]


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def check_json_feed(doc: dict, site: Path) -> None:
    """Assert the JSON Feed 1.1 rules: version, title, items with a unique id and content; typed optional fields."""
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    for key in ("home_page_url", "feed_url", "description", "language"):
        assert isinstance(doc.get(key, ""), str)
    assert all(isinstance(a["name"], str) for a in doc.get("authors", []))
    assert "author" not in doc  # 1.0's field, deprecated by 1.1
    ids = [item["id"] for item in doc["items"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) for i in ids)
    for item in doc["items"]:
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert all(isinstance(t, str) for t in item.get("tags", []))
        assert local_file(site, item["url"]).is_file()
        for attachment in item.get("attachments", []):
            assert attachment["mime_type"] and local_file(site, attachment["url"]).is_file()


def test_json_feeds_follow_json_feed_1_1(example: Path) -> None:
    paths = sorted(example.rglob("feed.json"))
    assert len(paths) == len(feeds_of(example))
    for path in paths:
        check_json_feed(json.loads(path.read_text("utf-8")), example)
    doc = json.loads((example / "feed.json").read_text("utf-8"))
    assert doc["feed_url"] == BASE + "feed.json"
    assert doc["items"][0]["tags"] == ["North Korea", "China", "Russia", "Nuclear weapons"]


def test_every_sitemap_url_maps_to_a_page_and_every_page_is_listed(example: Path) -> None:
    text = (example / "sitemap.xml").read_text("utf-8")
    urls = re.findall(r"<loc>([^<]+)</loc>", text)
    files = {local_file(example, html.unescape(u)) for u in urls}
    assert all(f.is_file() for f in files)
    pages = {p for p in example.rglob("*.html") if not p.relative_to(example).as_posix().startswith(("404.html", "search/"))}
    assert files == pages
    assert "<lastmod>2025-09-01</lastmod>" in text
    assert (example / "robots.txt").read_text("utf-8").splitlines()[-1] == f"Sitemap: {BASE}sitemap.xml"


def test_llms_txt_lists_every_markdown_page_with_its_summary(example: Path) -> None:
    text = (example / "llms.txt").read_text("utf-8")
    assert text.startswith("# Korea Peninsula Briefings\n\n> ")
    links = re.findall(r"^- \[(.+?)\]\((\S+)\): (.+)$", text, re.M)
    assert len(links) == len(list(example.glob("briefings/*/index.md"))) == 2
    for _, url, summary in links:
        assert url.endswith("/index.md") and local_file(example, url).is_file()
        assert len(summary.split()) > 10


def test_head_metadata_of_a_briefing_page(example: Path) -> None:
    page = (example / "briefings" / "kim-jong-un-beijing-victory-day" / "index.html").read_text("utf-8")
    head = page.split("</head>")[0]
    canonical = BASE + "briefings/kim-jong-un-beijing-victory-day/"
    assert f'<link rel="canonical" href="{canonical}">' in head
    for needle in ('property="og:type" content="article"', f'property="og:url" content="{canonical}"', 'name="twitter:card" content="summary"', 'property="og:title"', 'name="twitter:description"'):
        assert needle in head
    assert 'type="application/atom+xml"' in head and 'href="../../feed.xml"' in head
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.S).group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Kim Jong Un takes the train to Beijing to be seen as a nuclear state"
    assert data["datePublished"] == "2025-09-01T00:00:00+09:00"
    assert {"@type": "Person", "name": "Kim Jong Un", "url": BASE + "actors/kim-jong-un/"} in data["about"]
    assert data["description"].startswith("Kim Jong Un is travelling")


def test_every_page_has_title_description_canonical_open_graph_and_twitter_card(example: Path) -> None:
    pages = sorted(example.rglob("*.html"))
    assert len(pages) > 25
    for path in pages:
        rel = path.relative_to(example).as_posix()
        head = path.read_text("utf-8").split("</head>")[0]
        title = re.findall(r"<title>([^<]+)</title>", head)
        assert len(title) == 1 and title[0].strip(), rel
        described = re.search(r'<meta name="description" content="([^"]+)"', head)
        assert described and len(described.group(1).split()) >= 3, rel
        for name in ('property="og:title"', 'property="og:description"', 'property="og:type"', 'name="twitter:card"', 'name="twitter:title"'):
            assert head.count(name) == 1, f"{rel}: {name}"
        if rel == "404.html":  # served at every missing address: it names no address as its own
            assert 'rel="canonical"' not in head and 'property="og:url"' not in head
            continue
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', head)
        assert canonical and local_file(example, canonical.group(1)) == path, rel
        assert f'<meta property="og:url" content="{canonical.group(1)}">' in head, rel


def test_headings_never_skip_a_level_and_search_landmarks_are_named_apart(example: Path) -> None:
    """Screen readers navigate by headings and landmarks (axe's heading-order and landmark-unique, moderate, so not in the axe test)."""
    for path in sorted(example.rglob("*.html")):
        levels = [int(n) for n in re.findall(r"<h([1-6])\b", path.read_text("utf-8"))]
        assert levels and levels[0] == 1, path
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{path.relative_to(example)}: h{before} then h{after}"
    search = (example / "search" / "index.html").read_text("utf-8")
    forms = re.findall(r'<form class="([^"]+)" (?:id="[^"]+" )?role="search"( aria-label="[^"]+")?', search)
    assert len(forms) == 2 and len({label for _, label in forms}) == 2, forms


def test_news_article_cites_its_source(example: Path, make_site: Callable[..., Path], tmp_path: Path) -> None:
    def citation(page: Path) -> dict:
        return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page.read_text("utf-8"), re.S).group(1))["citation"]

    seed_only = citation(example / "briefings" / "kim-jong-un-beijing-victory-day" / "index.html")
    assert seed_only == {"@type": "NewsArticle", "identifier": "000_98b5563f73ea4a52.txt"}  # the example names its seed only
    front = "---\ntitle: T\ndate: 2025-01-02\nsummary: Short.\nsource:\n  outlet: Wire & Co\n  url: https://news.example/a?b=1\n  author: A. Writer\n  published: 2025-01-01\n---\n\nBody.\n"
    out = tmp_path / "out"
    built(make_site({"content/briefings/first.md": front}), out)
    assert citation(out / "briefings" / "first" / "index.html") == {
        "@type": "NewsArticle",
        "publisher": {"@type": "Organization", "name": "Wire & Co"},
        "name": "Wire & Co",
        "url": "https://news.example/a?b=1",
        "author": {"@type": "Person", "name": "A. Writer"},
        "datePublished": "2025-01-01",
    }


def test_actor_and_expert_pages_carry_person_or_organization(example: Path) -> None:
    def jsonld(rel: str) -> dict:
        text = (example / rel).read_text("utf-8")
        return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))

    assert jsonld("actors/kim-jong-un/index.html")["@type"] == "Person"
    assert jsonld("actors/north-korea/index.html")["@type"] == "GovernmentOrganization"
    expert = jsonld("experts/park-won-gon/index.html")
    assert expert["@type"] == "Person" and expert["affiliation"]["@type"] == "Organization"
    for rel in ("actors/kim-jong-un/index.html", "experts/park-won-gon/index.html", "index.html", "tags/china/index.html"):
        head = (example / rel).read_text("utf-8").split("</head>")[0]
        assert head.count("<title>") == 1 and 'name="description" content="' in head and 'rel="canonical"' in head
    assert 'href="feed.xml"' in (example / "actors" / "kim-jong-un" / "index.html").read_text("utf-8")  # its own feed


def test_script_json_cannot_leave_its_script_element() -> None:
    hostile = {"headline": "</script><script>alert(1)</script> & <!-- \u2028"}
    text = str(script_json(hostile))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile


def test_hostile_title_in_json_ld_stays_inside_the_script(make_site: Callable[..., Path], tmp_path: Path) -> None:
    title = "Talks </script><script>alert(1)</script> & more"
    source = make_site({"content/briefings/first.md": f"---\ntitle: '{title}'\ndate: 2025-01-02\nsummary: Short.\n---\n\nBody.\n"})
    out = tmp_path / "out"
    built(source, out)
    page = (out / "briefings" / "first" / "index.html").read_text("utf-8")
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(scripts) == 1 and json.loads(scripts[0])["headline"] == title
    assert "<script>alert" not in page


def test_assets_get_content_hashed_names_in_build_and_stable_names_when_asked(example_site: Path, tmp_path: Path) -> None:
    hashed = tmp_path / "hashed"
    built(example_site, hashed)
    css = [p.name for p in (hashed / "assets").iterdir() if p.suffix == ".css"]
    assert len(css) == 1 and re.fullmatch(r"style\.[0-9a-f]{10}\.css", css[0])
    page = (hashed / "briefings" / "kim-jong-un-beijing-victory-day" / "index.html").read_text("utf-8")
    assert f'href="../../assets/{css[0]}"' in page
    stable = tmp_path / "stable"
    built(example_site, stable, hash_assets=False)
    assert (stable / "assets" / "style.css").read_bytes() == (hashed / "assets" / css[0]).read_bytes()
    assert 'href="assets/style.css"' in (stable / "index.html").read_text("utf-8")


def test_a_changed_asset_gets_a_new_name_and_stylesheets_follow_it(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.svg").write_text("<svg/>", "utf-8")
    (tmp_path / "style.css").write_text("h1 { background: url('img/logo.svg'); } a { background: url(https://x.test/a.png); }", "utf-8")
    files = {"img/logo.svg": tmp_path / "img" / "logo.svg", "style.css": tmp_path / "style.css"}
    names = asset_names(files)
    assert re.fullmatch(r"img/logo\.[0-9a-f]{10}\.svg", names["img/logo.svg"])
    css = {o.path: o.data.decode() for o in asset_outputs(files, names)}[f"assets/{names['style.css']}"]
    assert f"url('{names['img/logo.svg']}')" in css and "url(https://x.test/a.png)" in css
    (tmp_path / "img" / "logo.svg").write_text("<svg></svg>", "utf-8")
    renamed = asset_names(files)
    assert renamed["img/logo.svg"] != names["img/logo.svg"] and renamed["style.css"] != names["style.css"]
    assert asset_names(files, hashed=False) == {"img/logo.svg": "img/logo.svg", "style.css": "style.css"}


def test_every_internal_link_is_relative_and_names_a_file_so_the_site_opens_from_file_urls(example: Path) -> None:
    """file:// has no index files for folders and no server root: every link must be relative and end at a file."""
    refs = re.compile(r'\b(?:href|src|action|data-bundle|data-root)="([^"]*)"')
    checked = 0
    for path in sorted(example.rglob("*.html")):
        if path.name == "404.html":  # served at any depth, so it links from base_url (test_404_renders_styled_at_any_depth)
            continue
        text = re.sub(r'<link rel="canonical" href="[^"]*">', "", path.read_text("utf-8"))  # absolute by definition
        for ref in refs.findall(text):
            ref = html.unescape(ref)
            if ref.startswith(("http://", "https://", "mailto:")) or ref.startswith("#"):
                assert not ref.startswith(BASE), f"{path}: an internal link must be relative: {ref}"
                continue
            assert not ref.startswith("/"), f"{path}: {ref} needs a server root"
            target = (path.parent / urlsplit(ref).path).resolve()
            assert target.is_file(), f"{path.relative_to(example)}: {ref} is not a file"
            assert target.is_relative_to(example.resolve()), f"{path}: {ref} leaves the site"
            checked += 1
    assert checked > 500


def test_404_renders_styled_at_any_depth(example: Path) -> None:
    page = (example / "404.html").read_text("utf-8")
    assert re.search(rf'<link rel="stylesheet" href="{BASE}assets/style\.[0-9a-f]{{10}}\.css">', page)
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs and all(h.startswith((BASE, "#")) for h in hrefs), [h for h in hrefs if not h.startswith((BASE, "#"))]


def test_missing_base_url_warns_once_and_links_relative(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/site.yaml": "title: No base\ntimezone: America/New_York\n"})
    out = tmp_path / "out"
    report = built(source, out)
    warnings = [d for d in report.diagnostics if "base_url" in d.message]
    assert len(warnings) == 1 and warnings[0].path == "content/site.yaml"
    assert "sitemap.xml" in warnings[0].message and "feeds" in warnings[0].message
    assert not (out / "sitemap.xml").exists()
    assert "Sitemap:" not in (out / "robots.txt").read_text("utf-8")
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert parsed.bozo == 0
    entry = parsed.entries[0]
    assert entry.id.startswith("urn:uuid:")
    assert entry.published == "2025-01-02T00:00:00-05:00"  # New York in January
    assert (out / urljoin("feed.xml", entry.link)).is_file()
    assert feedparser.parse((out / "actors" / "alice" / "feed.xml").read_bytes()).bozo == 0  # no briefing yet: valid and empty
    assert "canonical" not in (out / "index.html").read_text("utf-8")
    page404 = (out / "404.html").read_text("utf-8")
    assert 'href="/index.html"' in page404 and "<style>" in page404 and "rel=\"stylesheet\"" not in page404  # root links, CSS inlined
    doc = json.loads((out / "feed.json").read_text("utf-8"))
    assert "feed_url" not in doc and (out / doc["items"][0]["url"]).is_file()
    strict = build(BuildConfig(source, tmp_path / "strict", strict=True))
    assert strict.failed  # --strict: the warning fails the build


def test_an_unknown_timezone_is_an_error_at_site_yaml(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/site.yaml": "title: T\nbase_url: https://example.org/\ntimezone: Asia/Seol\n"})
    report = build(BuildConfig(source, tmp_path / "out"))
    assert report.failed
    assert any(d.path == "content/site.yaml" and "unknown timezone 'Asia/Seol'" in d.message and "Asia/Seoul" in d.message for d in report.errors)


def test_search_bundle_indexes_briefings_actors_and_experts(example: Path) -> None:
    entry = json.loads((example / "pagefind" / "pagefind-entry.json").read_text("utf-8"))
    pages = sum(lang["page_count"] for lang in entry["languages"].values())
    expected = sum(len(list(example.glob(f"{kind}/*/index.html"))) for kind in ("briefings", "actors", "experts"))
    assert pages == expected == 2 + 7 + 2
    assert (example / "pagefind" / "pagefind.js").is_file()
    assert not (example / "pagefind" / "pagefind-ui.js").exists()  # our own search page, not Pagefind's UI
    search = (example / "search" / "index.html").read_text("utf-8")
    assert 'data-bundle="../pagefind/pagefind.js"' in search and 'data-root="../index.html"' in search
    header = (example / "briefings" / "kim-jong-un-beijing-victory-day" / "index.html").read_text("utf-8")
    assert 'role="search" aria-label="Site" action="../../search/index.html"' in header


def test_search_reads_each_label_and_value_as_words_of_their_own(example: Path) -> None:
    """Pagefind joins the text of neighbouring cells and list items it does not take for blocks: a fact's label and value must not run together."""
    texts = {}
    for path in (example / "pagefind" / "fragment").iterdir():
        raw = gzip.decompress(path.read_bytes())
        fragment = json.loads(raw[raw.index(b"{") :])
        texts[fragment["url"].lstrip("/")] = fragment["content"]
    pairs = 0
    for url, content in texts.items():
        page = (example / url).read_text("utf-8")
        for first, second in re.findall(r"<(?:dt|dd|th|td)\b[^>]*>([^<]+)</(?:dt|dd|th|td)>\s*<(?:dt|dd|th|td)\b[^>]*>([^<]+)<", page):
            pairs += 1
            assert f"{first.strip()}{second.strip()}" not in content, (url, first, second)
    assert pairs >= 20  # the actor cards' facts and the stance tables' headings


def test_feed_dates_do_not_depend_on_the_clock(example: Path) -> None:
    updated = feedparser.parse((example / "feed.xml").read_bytes()).feed.updated
    assert dt.datetime.fromisoformat(updated) == dt.datetime(2025, 9, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
