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


CONTRAST = """() => {
  const rgb = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opacity = (e, prop) => { let o = parseFloat(getComputedStyle(e)[prop]); for (let n = e; n && n.tagName !== 'svg'; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity); return o; };
  const paint = (e, prop) => { const [r, g, b, a] = rgb(getComputedStyle(e)[prop]); return [r, g, b, a * opacity(e, prop + 'Opacity')]; };
  const page = rgb(getComputedStyle(document.body).backgroundColor);
  const found = [];
  for (const svg of document.querySelectorAll('svg.graphic-svg')) {
    const ruler = svg.querySelector('.ruler');
    const band = ruler ? over(paint(ruler, 'fill'), page) : page;
    for (const t of svg.querySelectorAll('text')) {
      const disc = t.classList.contains('badge-number') ? t.previousElementSibling : null;
      const behind = disc ? over(paint(disc, 'fill'), page) : t.classList.contains('tick-label') ? band : page;
      found.push({what: 'text.' + t.getAttribute('class'), need: 4.5, ratio: ratio(over(paint(t, 'fill'), behind), behind)});
    }
    for (const [sel, prop] of [['.mark', 'fill'], ['.span', 'fill'], ['.badge', 'fill'], ['.actor-mark', 'fill'], ['.expert-mark', 'fill'],
                               ['.edge', 'stroke'], ['.expert-edge', 'stroke'], ['.leader', 'stroke'], ['.break', 'stroke']]) {
      for (const e of svg.querySelectorAll(sel)) found.push({what: sel, need: 3, ratio: ratio(over(paint(e, prop), page), page)});
    }
  }
  return found;
}"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (scripts/test.sh installs it)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_graphics_pass_contrast_in_light_and_dark(example_site: Path, tmp_path: Path, scheme: str) -> None:
    """Text in a graphic needs 4.5:1 against what it sits on, the marks and lines that carry meaning 3:1 (WCAG 1.4.3, 1.4.11); axe does not look inside SVG."""
    playwright = pytest.importorskip("playwright.sync_api")
    report = build(BuildConfig(example_site, tmp_path / "site"))
    assert not report.failed
    pages = ["briefings/kim-jong-un-beijing-victory-day/index.html", "timeline/2025/index.html", "map/index.html", "actors/kim-jong-un/index.html"]
    worst: dict[str, float] = {}
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(color_scheme=scheme)
        for rel in pages:
            tab.goto((tmp_path / "site" / rel).as_uri())
            for item in tab.evaluate(CONTRAST):
                key = f"{item['what']} (needs {item['need']})"
                worst[key] = min(worst.get(key, 99.0), item["ratio"])
        browser.close()
    assert {"text.node-label (needs 4.5)", "text.badge-number (needs 4.5)", "text.tick-label (needs 4.5)", ".edge (needs 3)", ".span (needs 3)"} <= set(worst)
    failing = {k: round(v, 2) for k, v in worst.items() if v < float(k.split("needs ")[1].rstrip(")"))}
    assert not failing, failing
