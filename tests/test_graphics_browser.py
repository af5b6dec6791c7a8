"""In chromium: no label of any graphic overlaps another or leaves its drawing, on a phone and a desktop, at 60 actors and 100 events."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_graphics_synthetic import write_synthetic_site

from generator.pipeline import BuildConfig, build

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTHS = (375, 1280)

MEASURE = """() => [...document.querySelectorAll('svg.graphic-svg')].map(svg => {
  const vb = svg.viewBox.baseVal;
  const labels = [...svg.querySelectorAll('text')].map(t => {
    const b = t.getBBox(), m = t.getCTM(), s = svg.getCTM();
    const inv = s.inverse().multiply(m);  // the text's box in the drawing's own coordinates
    const p = new DOMPoint(b.x, b.y).matrixTransform(inv), q = new DOMPoint(b.x + b.width, b.y + b.height).matrixTransform(inv);
    return {text: t.textContent, x1: p.x, y1: p.y, x2: q.x, y2: q.y};
  });
  const figure = svg.closest('figure');
  const list = figure && figure.nextElementSibling && figure.nextElementSibling.matches('ol') ? figure.nextElementSibling.children.length : null;
  return {cls: svg.getAttribute('class'), width: vb.width, height: vb.height, labels, badges: svg.querySelectorAll('.badge-number').length, list,
          fontPx: parseFloat(getComputedStyle(svg.querySelector('text')).fontSize) * svg.getScreenCTM().a};
})"""


def overlaps(a: dict, b: dict, tolerance: float = 0.5) -> bool:
    return min(a["x2"], b["x2"]) - max(a["x1"], b["x1"]) > tolerance and min(a["y2"], b["y2"]) - max(a["y1"], b["y1"]) > tolerance


@pytest.fixture(scope="module")
def synthetic_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graphics-browser")
    source = write_synthetic_site(root / "synthetic")
    report = build(BuildConfig(source, root / "site"))
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    return root / "site"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (scripts/test.sh installs it)")
@pytest.mark.parametrize("width", WIDTHS)
def test_no_label_overlaps_or_vanishes(synthetic_build: Path, width: int) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    pages = sorted(synthetic_build.glob("briefings/*/index.html")) + sorted(synthetic_build.glob("timeline/*/index.html"))
    pages += [synthetic_build / "map" / "index.html"] + sorted(synthetic_build.glob("actors/*/index.html"))[:6]
    checked = {"labels": 0, "graphics": 0, "events": 0}
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": width, "height": 900})
        for path in pages:
            tab.goto(path.as_uri())
            for svg in tab.evaluate(MEASURE):
                where = f"{path.relative_to(synthetic_build)} at {width}px ({svg['cls']})"
                checked["graphics"] += 1
                assert svg["fontPx"] >= 11, f"labels drawn at {svg['fontPx']:.1f}px in {where}: too small to read"
                labels = svg["labels"]
                checked["labels"] += len(labels)
                for n, a in enumerate(labels):
                    assert a["x1"] >= -0.5 and a["y1"] >= -0.5 and a["x2"] <= svg["width"] + 0.5 and a["y2"] <= svg["height"] + 0.5, f"{a['text']!r} is cut off in {where}"
                    for b in labels[n + 1 :]:
                        assert not overlaps(a, b), f"{a['text']!r} overlaps {b['text']!r} in {where}"
                if "timeline-graphic" in svg["cls"]:
                    assert svg["list"] == svg["badges"], f"every event needs its number in the graphic and in the list after it: {where}"
                    checked["events"] += svg["badges"]
        browser.close()
    assert checked["graphics"] == len(pages) and checked["labels"] > 500  # one graphic on each page
    assert checked["events"] == 200  # 100 events, each on its briefing's timeline and on its year's
