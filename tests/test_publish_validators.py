"""Publish-ready output, proven by third-party checkers: the W3C Nu HTML Checker, nginx plus a link crawler, axe-core in chromium, print to PDF.

The tools come from scripts/test.sh: vnu.jar and axe-core from npm (package.json), Java,
nginx and chromium from Debian. Without one of them a test is skipped, except under CI
(CI=true), where a missing tool is a failure.
"""

from __future__ import annotations

import contextlib
import gzip
import html.parser
import json
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from conftest import REPO

from generator import search
from generator.pipeline import BuildConfig, build

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
BASE = "https://example.org/korea-briefings/"  # the example site's base_url
PREFIX = "/briefings/"  # where nginx serves the site: a sub-path, not the host's root
BRIEFING = "briefings/kim-jong-un-beijing-victory-day/index.html"
AXE_PAGES = {
    "home": "index.html",
    "briefing": BRIEFING,
    "actor": "actors/kim-jong-un/index.html",
    "expert": "experts/park-won-gon/index.html",
    "timeline": "timeline/2025/index.html",
    "tag": "tags/china/index.html",
    "search": "search/index.html?q=Beijing",
    "map": "map/index.html",
}


def need(path: str | Path | None, what: str) -> str:
    """Return the tool's path, or skip (fail under CI) when it is not installed."""
    if path is not None and Path(path).exists():
        return str(path)
    message = f"{what} is not installed: run scripts/test.sh (as root for Debian's packages)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def build_site(source: Path, out: Path) -> Path:
    report = build(BuildConfig(source, out))
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    return out


def synth_site(root: Path, n: int = 50) -> Path:
    """Write a deterministic site project of n briefings over several years, with characters that need escaping."""
    rng = random.Random(4)
    actors = [f"actor-{i}" for i in range(10)]
    experts = [f"expert-{i}" for i in range(4)]
    tags = [f"topic-{i}" for i in range(6)]
    files = {
        "content/site.yaml": "title: Synthetic & <Large> Briefings\ndescription: Fifty \"briefings\" for the validators.\n"
        "base_url: https://example.org/synthetic/\ntimezone: Europe/Paris\nper_page: 10\ntags:\n" + "".join(f"  {t}: Topic {t[-1]} & co\n" for t in tags),
    }
    for i, ident in enumerate(actors):
        kind = ("person", "state", "organisation")[i % 3]
        files[f"content/actors/{ident}.yaml"] = f"name: Actor {i} O'Brien\nkind: {kind}\nrole: Role <{i}>\ncountry: Country {i % 4}\naliases:\n  - Alias{i}\nsummary: Actor {i} & friends.\n"
    for i, ident in enumerate(experts):
        files[f"content/experts/{ident}.yaml"] = f"name: Expert {i}\ntitle: Fellow\naffiliation: Institute \"{i}\"\nfield: Security\n"
    for i in range(n):
        year = 2019 + i % 7
        cast, voices = rng.sample(actors, 3), rng.sample(experts, 2)
        front = [
            "---",
            f"title: 'Briefing {i}: talks & <tensions> \"{rng.choice(['rise', 'ease'])}\"'",
            f"date: {year}-{1 + i % 12:02d}-{1 + i % 27:02d}",
            "source:",
            f"  seed: s{i}.txt",
            "  outlet: Wire & Co",
            f"  url: https://news.example/{i}?a=1&b=2",
            "  article: full",
            "tags:",
            *[f"  - {t}" for t in rng.sample(tags, 2)],
            f"summary: Summary {i} with <angle> & ampersand, about Actor {cast[0][-1]}.",
            "key_points:",
            "  - First point & more.",
            "  - Second point <b>not bold</b>.",
            "  - Third point.",
            "actors:",
            *[f"  {a}:\n    stance: {rng.choice(['supportive', 'sceptical', 'opposed', 'neutral', 'mixed'])}\n    position: Position on {i}." for a in cast],
            "experts:",
            *[f"  {e}:\n    stance: sceptical\n    gist: Gist {i} of {e}." for e in voices],
            "timeline:",
            f"  - date: {year - 1}\n    event: Year event {i}",
            f"  - date: {year}-{1 + i % 12:02d}\n    event: Month event {i}",
            "watch:",
            "  - What happens next & why.",
            "---",
            "",
        ]
        body = [
            f"[[{cast[0]}]] met [[{cast[1]}|the other side]] on day {i}. A `code & <span>` sample and a [link](https://example.com/?q={i}&x=%3Cy%3E).",
            f"::: view {voices[0]}\nExpert view {i}: *cautious* & measured.\n:::",
            f"::: view {voices[1]}\nAnother view {i}, with a list:\n\n- one\n- two\n:::",
            f"## Background {i}\n\nMore text about [[{cast[2]}]].",
        ]
        files[f"content/briefings/{year}/b-{i:03d}.md"] = "\n".join(front) + "\n\n".join(body) + "\n"
        files[f"seeds/s{i}.txt"] = f"Seed text {i}.\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    for name in ("content", "seeds"):
        shutil.copytree(REPO / name, root / name)
    return build_site(root, root / "www")


@pytest.fixture(scope="module")
def synth_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = synth_site(tmp_path_factory.mktemp("synth"))
    return build_site(root, root / "www")


def vnu_errors(*folders: Path) -> list[str]:
    """Return every error the Nu HTML Checker reports on the HTML files under the folders."""
    java = need(shutil.which("java"), "java")
    jar = need(VNU, "vnu.jar (npm vnu-jar)")
    done = subprocess.run([java, "-jar", jar, "--errors-only", "--skip-non-html", "--format", "json", *map(str, folders)], capture_output=True, text=True, timeout=600)
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    return [f"{m.get('url', '?')}:{m.get('lastLine', '?')}: {m.get('message')} [{m.get('extract', '')!r}]" for m in messages]


def test_vnu_finds_no_error_in_the_example_site(example_out: Path) -> None:
    assert len(list(example_out.rglob("*.html"))) > 25
    assert vnu_errors(example_out) == []


def test_vnu_finds_no_error_in_a_site_of_50_briefings(synth_out: Path) -> None:
    assert len(list(synth_out.glob("briefings/*/index.html"))) == 50
    assert list(synth_out.glob("tags/*/page-2.html")), "the fixture should paginate"
    assert vnu_errors(synth_out) == []


@pytest.fixture(scope="module")
def served(example_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the example site with Debian's nginx on a free loopback port under /briefings/; yield the site's URL."""
    yield from nginx_serving(example_out, tmp_path_factory.mktemp("nginx"))


def nginx_serving(site: Path, run: Path) -> Iterator[str]:
    """Serve the site folder with Debian's nginx on a free loopback port under PREFIX; yield its URL, stop nginx afterwards."""
    nginx = need(shutil.which("nginx") or "/usr/sbin/nginx", "nginx (Debian nginx-light)")
    run.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = run / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  types {{ application/wasm wasm; text/markdown md; }}
  access_log off;
  client_body_temp_path {run}/body;
  proxy_temp_path {run}/proxy;
  fastcgi_temp_path {run}/fastcgi;
  uwsgi_temp_path {run}/uwsgi;
  scgi_temp_path {run}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location {PREFIX} {{
      alias {site}/;
      error_page 404 {PREFIX}404.html;
    }}
  }}
}}
""",
        "utf-8",
    )
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(url + "index.html", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stderr.read().decode() if process.stderr else ''}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()  # by its PID; master_process off: one process
        process.wait(timeout=10)


class Links(html.parser.HTMLParser):
    """Collect a page's references (href, src, srcset) and the ids it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.ids.add(values[name])  # type: ignore[arg-type]
        for name in ("href", "src", "action", "data-bundle", "data-root"):
            if values.get(name):
                self.refs.append(values[name])  # type: ignore[arg-type]
        if values.get("srcset"):
            self.refs.extend(part.strip().split(" ")[0] for part in values["srcset"].split(",") if part.strip())  # type: ignore[union-attr]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_no_broken_internal_link_under_a_sub_path(served: str, example_out: Path) -> None:
    """Crawl from the home page: pages, assets, fragments, feeds, sitemap and 404.html; every internal link resolves."""
    origin = f"{urlsplit(served).scheme}://{urlsplit(served).netloc}"
    seen: dict[str, tuple[int, bytes]] = {}
    ids: dict[str, set[str]] = {}
    broken: list[str] = []
    fragments: list[tuple[str, str, str]] = []
    queue = deque([served + "index.html", served + "404.html", served + "feed.xml", served + "sitemap.xml", served + "robots.txt", served + "llms.txt"])
    queue.extend(served + p.relative_to(example_out).as_posix() for p in sorted(example_out.rglob("feed.*")))

    def visit(url: str, referrer: str) -> None:
        if url.startswith(BASE):
            url = served + url[len(BASE) :]  # absolute links (feeds, sitemap, 404.html) name the published site
        if not url.startswith(origin):
            return
        url, fragment = urldefrag(url)
        if not url.startswith(served):
            broken.append(f"{referrer} -> {url} (outside the site's sub-path)")
            return
        if url not in seen:
            seen[url] = fetch(url)
            queue.append(url)
        if seen[url][0] != 200:
            broken.append(f"{referrer} -> {url} ({seen[url][0]})")
        elif fragment:
            fragments.append((referrer, url, fragment))

    for start in list(queue):
        seen[start] = fetch(start)
        assert seen[start][0] == 200, start
    done: set[str] = set()
    while queue and len(seen) < 2000:
        url = queue.popleft()
        if url in done:
            continue
        done.add(url)
        status, body = seen[url]
        if status != 200:
            continue
        path = urlsplit(url).path
        text = body.decode("utf-8", "replace")
        if path.endswith(".html") or path.endswith("/"):
            parser = Links()
            parser.feed(text)
            ids[url] = parser.ids
            for ref in parser.refs:
                visit(urljoin(url, ref), url)
        elif path.endswith(".xml"):
            import re

            for ref in re.findall(r'(?:href="|<loc>)([^"<]+)', text):
                visit(urljoin(url, ref.replace("&amp;", "&")), url)
        elif path.endswith(".json"):
            doc = json.loads(text)
            for ref in [doc.get("home_page_url"), doc.get("feed_url")] + [i["url"] for i in doc.get("items", [])] + [a["url"] for i in doc.get("items", []) for a in i.get("attachments", [])]:
                if ref:
                    visit(urljoin(url, ref), url)
        elif path.endswith(".txt"):
            import re

            for ref in re.findall(r"(?:Sitemap: |\]\()(\S+?)(?:\)|$)", text, re.M):
                visit(urljoin(url, ref), url)
    for referrer, url, fragment in fragments:
        if fragment not in ids.get(url, set()):
            broken.append(f"{referrer} -> {url}#{fragment} (no such id)")
    assert not broken, "\n".join(sorted(set(broken))[:40])
    pages = [u for u in seen if u.endswith(".html")]
    assert len(pages) >= len(list(example_out.rglob("*.html")))  # every page was reached
    assert any("/assets/style." in u for u in seen) and any("/pagefind/pagefind.js" in u for u in seen)


def test_no_reference_to_localhost_in_the_output(example_out: Path, synth_out: Path) -> None:
    for folder in (example_out, synth_out):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt", ".md", ".css", ".js"):
                text = path.read_text("utf-8", "replace")
                assert "localhost" not in text and "127.0.0.1" not in text, path


def test_nginx_serves_the_styled_404_at_any_depth(served: str) -> None:
    status, body = fetch(served + "no/such/deep/page/")
    assert status == 404
    assert b"Page not found" in body and f'href="{BASE}assets/style.'.encode() in body


@pytest.fixture(scope="module")
def browser(served: str) -> Iterator[object]:
    need(CHROMIUM, "chromium (Debian)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def wait_for_search(page: object) -> None:
    page.wait_for_selector("#search-results li", timeout=15000)  # type: ignore[attr-defined]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])  # a phone too: there the graphics scroll sideways, and a scrolling region must take focus
def test_axe_finds_no_serious_or_critical_violation(browser: object, served: str, scheme: str, width: int) -> None:
    axe = need(AXE, "axe-core (npm)")
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    found = {}
    try:
        for name, rel in AXE_PAGES.items():
            page = context.new_page()
            page.goto(served + rel)
            if name == "search":
                wait_for_search(page)
            page.add_script_tag(path=axe)
            violations = page.evaluate(
                """async () => (await axe.run(document)).violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).slice(0, 4).join(", ")}`)"""
            )
            if violations:
                found[name] = violations
            page.close()
    finally:
        context.close()
    assert not found, json.dumps(found, indent=1)


@pytest.mark.parametrize("rel", ["map/index.html", "actors/kim-jong-un/index.html", "timeline/2025/index.html", BRIEFING])
def test_graphics_are_reached_by_keyboard(browser: object, served: str, rel: str) -> None:
    """Tab visits every link drawn in a graphic, shows where it is, and reaches a graphic that scrolls sideways on a phone."""
    context = browser.new_context(viewport={"width": 390, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(served + rel)
    drawn = page.evaluate("[...document.querySelectorAll('svg.graphic-svg a')].map(a => a.getAttribute('href')).sort()")
    total = page.evaluate("document.querySelectorAll('a[href], input, button, [tabindex]').length")
    reached, scroller, outlined = [], False, True
    for _ in range(total + 2):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => { const e = document.activeElement;
                return {svg: !!e.closest('svg.graphic-svg'), href: e.getAttribute('href'), scroller: e.classList.contains('graphic-scroll'),
                        outline: getComputedStyle(e).outlineStyle}; }"""
        )
        if focus["svg"]:
            reached.append(focus["href"])
            outlined = outlined and focus["outline"] == "solid"
        scroller = scroller or focus["scroller"]
    context.close()
    assert sorted(reached) == drawn, "every link in the graphic, once each"
    assert outlined, "a focused link in a graphic shows a focus outline"
    if rel == BRIEFING:
        assert not drawn and scroller, "the briefing's timeline holds no link, so its scrolling box takes focus itself"
    else:
        assert len(drawn) >= 3


def test_search_under_a_sub_path_shows_title_summary_and_context(browser: object, served: str) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(served + "briefings/kim-jong-un-beijing-victory-day/index.html")
    page.fill("#site-search-q", "constitution")
    page.press("#site-search-q", "Enter")  # the header box leads to the search page
    page.wait_for_url("**/search/index.html?q=constitution")
    wait_for_search(page)
    first = page.locator("#search-results li").first
    link = first.locator("h2 a")
    assert "North Korea’s nuclear constitution" in link.inner_text()
    href = link.get_attribute("href")
    assert href == PREFIX + "briefings/north-korea-nuclear-constitution-two-hostile-states/index.html"
    assert fetch(urljoin(served, href))[0] == 200
    assert "Since September 2023" in first.locator(".summary-line").inner_text()  # the summary
    assert first.locator(".excerpt mark").count() >= 1  # the match in context
    assert first.locator(".kicker").text_content() == "Briefing"
    page.fill("#search-q", "Park Won-gon")
    page.wait_for_function("document.querySelector('#search-results h2 a')?.textContent === 'Park Won-gon'", timeout=15000)
    assert not errors, errors
    origin = served.split(PREFIX)[0]
    assert all(r.startswith(origin) for r in requests), [r for r in requests if not r.startswith(origin)]  # no external request
    context.close()


@pytest.fixture(scope="module")
def synth_parts_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic site again, its 64 pages indexed in parts of about 16 (as a site of over 1,000 is, in parts of about 1,000)."""
    root = synth_site(tmp_path_factory.mktemp("synth-parts"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "PART_PAGES", 16)
        return build_site(root, root / "www")


def fragment_urls(folder: Path) -> set[str]:
    """Return the URLs of the pages a Pagefind index holds (its fragments are gzipped JSON after a signature)."""
    urls = set()
    for path in (folder / "fragment").iterdir():
        raw = gzip.decompress(path.read_bytes())
        urls.add(json.loads(raw[raw.index(b"{") :])["url"])
    return urls


def test_search_merges_an_index_in_parts_into_the_results_of_one_index(browser: object, synth_out: Path, synth_parts_out: Path, tmp_path: Path) -> None:
    listed = json.loads((synth_parts_out / "pagefind" / search.PARTS).read_text("utf-8"))["parts"]
    assert listed == ["part-2/", "part-3/", "part-4/"]
    part_of = {url: n for n, folder in enumerate(["", *listed]) for url in fragment_urls(synth_parts_out / "pagefind" / folder)}
    assert len(part_of) == 64 == len(fragment_urls(synth_out / "pagefind"))  # every page in one part, none twice

    def results(site: str, query: str) -> tuple[str, set[str]]:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{site}search/index.html?q={query}")
        wait_for_search(page)
        found = page.text_content("#search-status") or "", set(page.eval_on_selector_all("#search-results h2 a", "links => links.map(a => a.getAttribute('href'))"))
        context.close()
        assert not errors, errors
        return found

    with contextlib.contextmanager(nginx_serving)(synth_out, tmp_path / "one") as one, contextlib.contextmanager(nginx_serving)(synth_parts_out, tmp_path / "parts") as parts:
        for query in ("february", "neutral"):
            status, links = results(parts, query)
            assert (status, links) == results(one, query) and len(links) >= 5, query  # the same pages found, counted the same
            assert len({part_of["/" + link[len(PREFIX) :]] for link in links}) >= 3, query  # from several parts


def test_404_is_styled_when_served_deep(browser: object, served: str) -> None:
    """On the published host (base_url, answered here by nginx) the 404 page is styled at any depth."""
    context = browser.new_context()  # type: ignore[attr-defined]

    def published(route: object) -> None:
        status, body = fetch(served + route.request.url[len(BASE) :])  # type: ignore[attr-defined]
        route.fulfill(status=status, body=body, content_type="text/css" if route.request.url.endswith(".css") else "text/html")  # type: ignore[attr-defined]

    context.route(BASE + "**", published)
    page = context.new_page()
    response = page.goto(BASE + "some/deep/missing/page.html")
    assert response.status == 404
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).borderBottomStyle") == "solid"
    assert page.evaluate("getComputedStyle(document.querySelector('.skip')).position") == "absolute"
    assert page.locator("a.site-title").get_attribute("href") == BASE + "index.html"
    context.close()


@pytest.mark.parametrize("rel", [BRIEFING, "actors/kim-jong-un/index.html"])
def test_print_of_a_briefing_fits_a4_hides_navigation_and_keeps_text_readable(browser: object, served: str, rel: str) -> None:
    page = browser.new_page(viewport={"width": 680, "height": 1000})  # type: ignore[attr-defined]
    page.goto(served + rel)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 680, "height": 1000})  # A4's 210 mm less 2 x 15 mm margins, at 96 px per inch
    report = page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
        const wide = [...document.querySelectorAll("body *")].filter(visible)
            .filter(e => e.getBoundingClientRect().right > width + 1).map(e => e.tagName + "." + e.className);
        const texts = [...document.querySelectorAll("body *")].filter(visible).filter(e => !e.closest("svg"))  // text, not drawings
            .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => [e.tagName + "." + e.className, parseFloat(getComputedStyle(e).fontSize) * 0.75]);
        return {
            scroll: document.documentElement.scrollWidth, width, wide,
            small: texts.filter(([, pt]) => pt < 10), count: texts.length,
            nav: visible(document.querySelector(".site-header nav")),
            search: visible(document.querySelector(".site-search")),
        };
    }"""
    )
    assert report["scroll"] <= report["width"] and report["wide"] == [], report
    assert not report["nav"] and not report["search"]
    assert report["count"] > 30 and report["small"] == [], report["small"]
    pdf = page.pdf(format="A4", margin={"top": "15mm", "bottom": "15mm", "left": "15mm", "right": "15mm"})
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= (2 if rel == BRIEFING else 1)
    page.close()
