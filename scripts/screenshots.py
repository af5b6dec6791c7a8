"""Take the documentation's screenshots: build the example site, then photograph two of its pages."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; `playwright install` cannot download browsers here
WIDTH = 1280
HEIGHT = 1600  # a page taller than this is cut (a shorter one is not padded), so the files stay small
VIEWPORT_HEIGHT = 800  # the window; the shot takes the page below it too, up to HEIGHT
MAX_BYTES = 400 * 1024


@dataclass(frozen=True)
class Shot:
    page: str  # path in the built site
    image: str  # file name under docs/images/


SHOTS = (
    Shot("briefings/kim-jong-un-beijing-victory-day/index.html", "briefing.png"),
    Shot("actors/kim-jong-un/index.html", "actor.png"),
)


def build_example(output: Path) -> None:
    """Build the repository's example site into output with the command a user runs."""
    subprocess.run(
        [sys.executable, "-m", "generator", "build", "--source", str(REPO), "--output", str(output)],
        cwd=REPO,
        check=True,
    )


def take(site: Path, images: Path, chromium: str) -> list[tuple[Path, int]]:
    """Photograph each page of SHOTS in light mode; return the images written and their sizes."""
    from playwright.sync_api import sync_playwright

    images.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": VIEWPORT_HEIGHT},
                device_scale_factor=1,
                color_scheme="light",
                reduced_motion="reduce",
            )
            page = context.new_page()
            for shot in SHOTS:
                page.goto((site / shot.page).as_uri(), wait_until="load")
                target = images / shot.image
                height = min(HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
                clip = {"x": 0, "y": 0, "width": WIDTH, "height": height}
                page.screenshot(path=str(target), full_page=True, clip=clip, animations="disabled")
                written.append((target, target.stat().st_size))
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Build the example site in a temporary folder and write docs/images/*.png; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser to drive (default {CHROMIUM})")
    parser.add_argument("--images", type=Path, default=REPO / "docs" / "images", help="where to write the PNG files")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="briefing-shots-") as tmp:
        site = Path(tmp) / "site"
        build_example(site)
        written = take(site, args.images, args.chromium)
    status = 0
    for path, size in written:
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {size} bytes")
        if size > MAX_BYTES:
            print(f"{path}: error: {size} bytes is over the {MAX_BYTES}-byte budget", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
