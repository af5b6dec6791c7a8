"""briefing serve in a real browser (Debian's chromium through Playwright): live reload, stylesheet swap, error overlay."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest

from generator.serve import PreviewServer, Rebuild, ServeConfig

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SLUG = "kim-jong-un-beijing-victory-day"
WAIT_MS = 20_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (scripts/test.sh installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser") / "example"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "seeds", root / "seeds")
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")  # a theme of its own to edit
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[PreviewServer]:
    serve = PreviewServer(ServeConfig(site, port=0))
    serve.start()
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        args = ["--no-sandbox", "--disable-gpu"]
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server: PreviewServer):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    yield tab
    context.close()


def save(path: Path, old: str, new: str) -> None:
    """Change a file the way editors save: write a temporary file, then rename it over the original."""
    text = path.read_text("utf-8")
    assert old in text, old
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text.replace(old, new, 1), "utf-8")
    os.replace(tmp, path)


def restore(server: PreviewServer, path: Path, old: str, new: str) -> None:
    """Undo a test's edit and wait until its build is served, so the next test starts from a settled site."""
    number = server.snapshot.number
    save(path, old, new)
    assert server.wait_for_build(number + 1, WAIT_MS / 1000) is not None


def briefing_source(site: Path) -> Path:
    return next(site.glob(f"content/briefings/**/{SLUG}.md"))


def open_briefing(page, server: PreviewServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}briefings/{SLUG}/index.html")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.evaluate("() => { window.__sameDocument = true; }")


def test_an_edit_shows_without_a_manual_reload(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    open_briefing(page, server)
    assert page.locator("h1").first.inner_text().startswith("Kim Jong Un")
    save(briefing_source(site), "title: Kim Jong Un takes the train", "title: Kim Jong Un rides the train")
    page.wait_for_function("() => document.querySelector('h1').textContent.includes('rides the train')")
    assert page.evaluate("() => window.__sameDocument") is True  # the new document was swapped in: no navigation
    assert page.title().startswith("Kim Jong Un rides the train")  # its head's description too
    html = page.evaluate("() => document.documentElement.outerHTML")
    assert html.count("/__briefing__/livereload.js") == 1 and "rides the train" in html


def test_a_swapped_page_keeps_its_scroll_position_and_follows_the_next_edit(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 800, "height": 400})
    open_briefing(page, server)
    page.evaluate("() => window.scrollTo(0, 600)")
    y = page.evaluate("() => window.scrollY")
    assert y > 0
    save(briefing_source(site), "title: Kim Jong Un", "title: Scrolled Kim Jong Un")
    page.wait_for_function("() => document.querySelector('h1').textContent.startsWith('Scrolled')")
    assert page.evaluate("() => window.scrollY") == y
    save(briefing_source(site), "title: Scrolled Kim Jong Un", "title: Kim Jong Un")  # the page told the server its new digest: it is told again
    page.wait_for_function("() => !document.querySelector('h1').textContent.startsWith('Scrolled')")
    assert page.evaluate("() => window.__sameDocument") is True


def test_a_page_with_scripts_of_its_own_reloads(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}search/")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.evaluate("() => { window.__sameDocument = true; }")
    config = site / "content" / "site.yaml"
    title = next(line for line in config.read_text("utf-8").splitlines() if line.startswith("title:"))
    save(config, title, title + " Reloaded")
    try:
        page.wait_for_function("() => document.title.includes('Reloaded') && !window.__sameDocument")  # search.js must run in the new page
    finally:
        restore(server, config, title + " Reloaded", title)


def test_a_stylesheet_edit_applies_without_navigating(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    open_briefing(page, server)
    css = site / "themes" / "default" / "static" / "style.css"
    save(css, "", "body { outline: 7px solid rgb(1, 2, 3); }\n")
    page.wait_for_function("() => getComputedStyle(document.body).outlineColor === 'rgb(1, 2, 3)'")
    assert page.evaluate("() => window.__sameDocument") is True  # swapped in place: no navigation
    assert page.locator('link[rel="stylesheet"]').count() >= 1


def test_a_stylesheet_saved_with_the_page_applies_when_the_page_is_swapped_in(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    open_briefing(page, server)
    config = site / "content" / "site.yaml"
    title = next(line for line in config.read_text("utf-8").splitlines() if line.startswith("title:"))
    css = site / "themes" / "default" / "static" / "style.css"
    rule = "body { border-top: 5px solid rgb(4, 5, 6); }\n"
    save(config, title, title + " Restyled")  # every page changes, and the stylesheet with them
    save(css, "", rule)
    try:
        page.wait_for_function("() => document.title.includes('Restyled') && getComputedStyle(document.body).borderTopColor === 'rgb(4, 5, 6)'")
        assert page.evaluate("() => window.__sameDocument") is True  # the new document was swapped in, and the stylesheet beside it
    finally:
        restore(server, css, rule, "")
        restore(server, config, title + " Restyled", title)


def test_a_page_swapped_in_while_its_stylesheet_loads_ends_with_one_stylesheet(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    held: list[object] = []
    page.route("**/assets/style.css?build=*", lambda route: held.append(route))  # the swapped stylesheet does not load until released
    open_briefing(page, server)
    links = page.locator('link[rel="stylesheet"]').count()
    css = site / "themes" / "default" / "static" / "style.css"
    rule = "body { border-bottom: 5px solid rgb(7, 8, 9); }\n"
    save(css, "", rule)
    try:
        page.wait_for_function(f"() => document.querySelectorAll('link[rel=\"stylesheet\"]').length === {links + 1}")
        save(briefing_source(site), "title: Kim Jong Un", "title: Restyled Kim Jong Un")  # the page changes while its stylesheet loads
        page.wait_for_function("() => document.querySelector('h1').textContent.startsWith('Restyled')")
        assert page.evaluate("() => window.__sameDocument") is True  # the loading stylesheet did not make the page reload
        assert held
        while held:
            held.pop().continue_()  # type: ignore[attr-defined]
        page.wait_for_function("() => getComputedStyle(document.body).borderBottomColor === 'rgb(7, 8, 9)'")
        page.wait_for_function(f"() => document.querySelectorAll('link[rel=\"stylesheet\"]').length === {links}")
        assert page.evaluate("() => window.__sameDocument") is True
    finally:
        while held:
            held.pop().continue_()  # type: ignore[attr-defined]
        restore(server, css, rule, "")
        restore(server, briefing_source(site), "title: Restyled Kim Jong Un", "title: Kim Jong Un")


def test_a_broken_source_shows_an_overlay_and_fixing_it_reloads(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    open_briefing(page, server)
    source = briefing_source(site)
    good = source.read_text("utf-8")
    broken = good.replace("tags:\n", "tgas: [oops]\ntags:\n", 1)
    line = broken.split("\n").index("tgas: [oops]") + 1
    save(source, "tags:\n", "tgas: [oops]\ntags:\n")
    overlay = page.locator("#briefing-error-overlay")
    overlay.wait_for(state="visible")
    text = overlay.inner_text()
    assert f"{source.relative_to(site).as_posix()}:{line}:1: error: unknown key 'tgas'" in text
    assert page.evaluate("() => window.__sameDocument") is True  # the last good page stays, under the overlay
    save(source, "tgas: [oops]\ntags:\n", "tags:\n")
    page.wait_for_function("() => !document.getElementById('briefing-error-overlay')")
    assert source.read_text("utf-8") == good


def test_ten_tabs_all_reload(browser, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    try:
        tabs = []
        for _ in range(10):
            tab = context.new_page()
            tab.set_default_timeout(WAIT_MS)
            open_briefing(tab, server)
            tabs.append(tab)
        save(briefing_source(site), "title: Kim Jong Un", "title: Tenfold Kim Jong Un")
        for tab in tabs:
            tab.wait_for_function("() => document.querySelector('h1').textContent.startsWith('Tenfold')")
    finally:
        context.close()


def test_a_page_reconnects_when_the_server_comes_back(page, server: PreviewServer, site: Path) -> None:  # type: ignore[no-untyped-def]
    first = PreviewServer(ServeConfig(site, port=0))
    first.start()
    port = first.port
    second = None
    try:
        page.goto(f"{first.url}briefings/{SLUG}/index.html")
        page.wait_for_function("() => document.readyState === 'complete'")
        first.stop()
        save(briefing_source(site), "title: ", "title: Returning ")  # saved while no server runs
        second = PreviewServer(ServeConfig(site, port=port))
        second.start()
        # The page reconnects by itself, says which build it shows, and is told to reload.
        page.wait_for_function("() => document.querySelector('h1').textContent.startsWith('Returning')")
    finally:
        first.stop()
        if second is not None:
            second.stop()
