#!/usr/bin/env python3
"""Screenshot the graphics (a briefing's timeline, a year's timeline, the actor map, an actor's neighbourhood) in chromium.

Usage: python3 scripts/screenshots_graphics.py [--out DIR] [--synthetic] [--chromium PATH]

Builds the example site (or, with --synthetic, the 60-actor test site) into a temporary folder and
writes PNGs named <page>-<width>-<scheme>.png at 375 px and 1280 px, light and dark, into --out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from generator.pipeline import BuildConfig, build  # noqa: E402

WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")


def pages_to_shoot(site: Path) -> dict[str, str]:
    """Return name -> page path for the pages with graphics: the briefing with most events, a year, the map, the busiest actor."""
    briefings = sorted(site.glob("briefings/*/index.html"), key=lambda p: (-p.read_text("utf-8").count('class="event '), p.as_posix()))
    years = sorted(site.glob("timeline/*/index.html"), key=lambda p: (-p.read_text("utf-8").count('class="lane"'), p.as_posix()))
    actors = sorted(site.glob("actors/*/index.html"), key=lambda p: (-p.read_text("utf-8").count('class="node actor'), p.as_posix()))
    chosen = {"map": site / "map" / "index.html"}
    if briefings:
        chosen["briefing"] = briefings[0]
    if years:
        chosen["year"] = years[0]
    if actors:
        chosen["actor"] = actors[0]
    return {name: path.relative_to(site).as_posix() for name, path in sorted(chosen.items()) if path.is_file()}


def shoot(site: Path, out: Path, chromium: str) -> list[Path]:
    """Write the screenshots of site's graphics pages into out; return their paths."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for scheme in SCHEMES:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
                for name, rel in pages_to_shoot(site).items():
                    page.goto((site / rel).as_uri())
                    figure = page.locator("figure.graphic").first
                    target = out / f"{name}-{width}-{scheme}.png"
                    if figure.count():
                        figure.scroll_into_view_if_needed()
                        page.screenshot(path=str(target), full_page=True, clip=_clip(page, figure, width))
                    else:
                        page.screenshot(path=str(target))
                    written.append(target)
                page.close()
        browser.close()
    return written


def _clip(page, figure, width: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Return the page area around a figure: its heading above and some of the list below."""
    box = figure.bounding_box()
    top = max(0.0, box["y"] - 60) + page.evaluate("window.scrollY")
    return {"x": 0, "y": top, "width": width, "height": min(box["height"] + 220, 2400)}


def main(argv: list[str] | None = None) -> int:
    """Build a site and screenshot its graphics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "briefing-screenshots")
    parser.add_argument("--synthetic", action="store_true", help="shoot the 60-actor, 100-event test site instead of the example site")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = REPO
        if args.synthetic:
            from test_graphics_synthetic import write_synthetic_site

            source = write_synthetic_site(Path(tmp) / "synthetic")
        site = Path(tmp) / "site"
        report = build(BuildConfig(source, site))
        if report.failed:
            for diagnostic in report.diagnostics:
                print(diagnostic, file=sys.stderr)
            return 1
        for path in shoot(site, args.out, args.chromium):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
