"""The live-reload benchmark: time from an editor's save to the change visible in a browser tab of `briefing serve`.

    .venv/bin/python benchmarks/serve_latency.py --briefings 1000 --edits 20
    .venv/bin/python benchmarks/serve_latency.py --site PATH --edits 5       # an existing site project (edited, then restored)

It synthesizes a site (benchmarks/synth.py) with its own copy of the default theme, starts
`python3 -m generator serve` as a subprocess, opens the newest briefing's page and its first
actor's page in Debian's chromium (Playwright), and has a separate editor process save files
the way editors do (write a temporary file in the same folder, then os.replace it over the
original). Three kinds of edit, each --edits times:

- briefing: a unique marker sentence added to the briefing's article, seen in the open page (the
  everyday save: only the briefing's own pages and those that show its article change);
- title: a unique marker word added to the briefing's title, seen in the open page; every list
  that shows the briefing (home, archive, actor and tag pages, feeds) changes with it;
- css: a new custom-property value in the theme's style.css, applied in the open page without navigating;
- actor: a marker added to the actor's role, seen on the open actor page.

Latency runs from the rename (the editor's wall clock, printed right after os.replace) to the
first animation frame at which the page shows the change (the page's own wall clock,
performance.timeOrigin + performance.now(), returned by wait_for_function); both clocks are
the machine's. Every other page that shows the edited text (home, actor, tag and archive
pages, the Markdown twin, the actors index, the stylesheet) is then fetched over HTTP and
must be current: "dependents" is the time from the rename to the last of them confirmed,
an upper bound. The serve process's own line per rebuild gives the split: the debounce wait,
the time from the build's start to the open page told (serve renders the open pages first
and tells them before it renders the rest), the whole build, and the time to tell the
open pages at its end. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FIRST_FRAME = "addEventListener('DOMContentLoaded', () => requestAnimationFrame(() => { window.__briefingFirstFrame = performance.timeOrigin + performance.now(); }));"
TARGET_MEDIAN_MS = 150.0
TARGET_P90_MS = 300.0
TARGET_DEPENDENTS_MS = 1000.0
STARTUP_SECONDS = 900.0  # the first build of a large site on a loaded machine
EDIT_SECONDS = 300.0  # one edit, from the rename to every dependent page current
SETTLE_SECONDS = 0.3  # quiet time between edits, so each one is measured alone
KINDS = ("briefing", "title", "css", "actor")
REBUILD_LINE = re.compile(r"^build (\d+): (.*) changed: .* in (\d+) ms \((\d+) ms for the edits to settle; (?:\d+ open page\(s\) told ahead at (\d+) ms, )?(\d+) open page\(s\) told ([\d.]+) ms after\)")

# The editor: a separate process that saves files the way editors do and says when each rename happened.
EDITOR = r"""
import json, os, sys, time
for line in sys.stdin:
    order = json.loads(line)
    path = order["path"]
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(order["text"])
    os.replace(tmp, path)
    renamed = time.time()
    print(json.dumps({"renamed": renamed}), flush=True)
"""


@dataclass
class Sample:
    """One edit: the latency in the open page and to the last dependent page confirmed, in ms."""

    page_ms: float
    dependents_ms: float
    navigated: bool  # whether the open page loaded a new document


@dataclass
class Kind:
    samples: list[Sample] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (share in 0..1) of the values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Editor:
    """The separate process that saves files: hand it a path and the new text, get the rename's wall-clock time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", EDITOR], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def save(self, path: Path, text: str) -> float:
        """Save text over path by temporary file and rename; return the rename's time (seconds since the epoch)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"path": str(path), "text": text}) + "\n")
        self.process.stdin.flush()
        return float(json.loads(self.process.stdout.readline())["renamed"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


class Server:
    """`python3 -m generator serve` as a subprocess; its rebuild lines, parsed, arrive on a queue."""

    def __init__(self, site: Path, log: Path) -> None:
        self.log = log.open("w", encoding="utf-8")
        command = [sys.executable, "-m", "generator", "serve", "--source", str(site), "--port", str(_free_port())]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.url:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit(f"serve did not start within {STARTUP_SECONDS:.0f} s; see {log}") from None
            found = re.search(r" at (http://\S+/) ", line)
            if found:
                self.url = found.group(1)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # the process ended

    def rebuilds(self) -> Iterator[dict[str, float]]:
        """Yield the parsed rebuild lines printed so far (build number, build ms, settle ms, ms to the open pages rendered ahead, telling ms)."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            found = REBUILD_LINE.match(line)
            if found:
                ahead = float(found.group(5)) if found.group(5) else float(found.group(3))  # no page ahead: they are told at the end
                yield {"build": float(found.group(1)), "build_ms": float(found.group(3)), "settle_ms": float(found.group(4)), "ahead_ms": ahead, "told": float(found.group(6)), "telling_ms": float(found.group(7))}

    def get(self, path: str) -> bytes:
        return self.fetch(path)[0]

    def fetch(self, path: str) -> tuple[bytes, int]:
        """Return a served file and the number of the build that served it."""
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read(), int(response.headers.get("X-Briefing-Build", "0"))

    def stop(self) -> None:
        self.process.send_signal(2)  # Ctrl-C
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _links(html: bytes, pattern: str) -> list[str]:
    """Return the distinct site-root-relative paths of links in a page under briefings/SLUG/ that match pattern."""
    found = []
    for href in re.findall(rb'href="((?:\.\./)+' + pattern.encode() + rb')"', html):
        path = re.sub(r"^(\.\./)+", "", href.decode())
        if path not in found:
            found.append(path)
    return found


def _wait_visible(page, script: str, arg: object) -> float:  # type: ignore[no-untyped-def]
    """Wait until script(arg) is true in the page; return the page's wall-clock time (seconds) when it first was.

    In a document that the reload brought, that is its first frame after DOMContentLoaded
    (FIRST_FRAME records it), not the later moment Playwright's poller reached the new document.
    """
    first = "(!window.__briefingBench && window.__briefingFirstFrame)"  # only in a document that came after the edit
    check = f"(arg) => ({script})(arg) ? ({first} || performance.timeOrigin + performance.now()) : 0"
    handle = page.wait_for_function(check, arg=arg, polling="raf", timeout=EDIT_SECONDS * 1000)
    return float(handle.json_value()) / 1000


def _served_at(server: Server, path: str, marker: bytes, build: int, seen: float, deadline: float) -> float:
    """Return when path was first served with marker: `seen` if the build the open page showed had it, else when a fetch found it.

    The server publishes each build whole and names it in every response (X-Briefing-Build),
    so a dependent page served by the open page's build was current when that page was.
    """
    while True:
        data, served_by = server.fetch(path)
        if marker in data:
            return seen if served_by == build else time.time()
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} never showed {marker!r}")
        time.sleep(0.02)


def _wait_served(server: Server, paths: list[str], marker: bytes, build: int, seen: float, renamed: float) -> float:
    """Return seconds from the rename to the last of the paths current (see _served_at)."""
    deadline = time.monotonic() + EDIT_SECONDS
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        times = list(pool.map(lambda path: _served_at(server, path, marker, build, seen, deadline), paths))
    return max(times) - renamed


def _ready(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => document.readyState === 'complete'", timeout=EDIT_SECONDS * 1000)


def measure(site_root: Path, n_edits: int, log: Path | None = None) -> dict[str, object]:
    """Serve site_root, make n_edits edits of each kind, and return the latencies (ms) and the server's split.

    The site is edited in place and restored at the end; it gets a copy of the default theme
    under themes/ if it has none (the stylesheet edit must not touch the repository's theme).
    """
    from playwright.sync_api import sync_playwright

    site_root = site_root.resolve()
    theme = site_root / "themes" / "default"
    if not theme.exists():
        shutil.copytree(REPO / "themes" / "default", theme)
    log = log or Path(tempfile.mkstemp(prefix="serve-latency-", suffix=".log")[1])
    started = time.perf_counter()
    server = Server(site_root, log)
    startup = time.perf_counter() - started
    editor = Editor()
    originals: dict[Path, str] = {}
    kinds = {k: Kind() for k in KINDS}
    splits: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
    try:
        home = server.get("index.html")
        slug = re.search(rb'href="briefings/([a-z0-9-]+)/index\.html"', home).group(1).decode()  # type: ignore[union-attr]
        briefing_url = f"briefings/{slug}/index.html"
        briefing_html = server.get(briefing_url)
        actor_url = _links(briefing_html, r"actors/[a-z0-9-]+/index\.html")[0]
        actor_id = actor_url.split("/")[1]
        source = next((site_root / "content" / "briefings").rglob(f"{slug}.md"))
        actor_file = next(p for p in (site_root / "content" / "actors").glob(f"{actor_id}.*"))
        css = theme / "static" / "style.css"
        for path in (source, actor_file, css):
            originals[path] = path.read_text("utf-8")
        candidates = ["index.html", f"briefings/{slug}/index.md", "archive/index.html", "actors/index.html"]
        candidates += _links(briefing_html, r"(?:actors|tags)/[a-z0-9-]+/index\.html")
        # The pages that show the briefing's title, and those that show the actor's role.
        role = re.search(r"^role: *(.+)$", originals[actor_file], re.M)
        if role is None:
            raise SystemExit(f"{actor_file}: no one-line role: to edit")
        shows_briefing = [p for p in candidates if f"briefings/{slug}/".encode() in server.get(p) or p.endswith(".md")]
        shows_article = [f"briefings/{slug}/index.md"]  # the lists show the title and summary, not the article
        shows_role = [p for p in [briefing_url, *candidates] if role.group(1).encode() in server.get(p) and p != actor_url]

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            tabs = []
            for _ in range(2):  # each in a window of its own, as a writer keeps them side by side: a tab behind another gets one frame a second
                context = browser.new_context()
                context.add_init_script(FIRST_FRAME)
                tabs.append(context.new_page())
            briefing_tab, actor_tab = tabs
            builds: dict[object, int] = {}  # tab -> the build that served its document or its latest stylesheet

            def track(tab):  # type: ignore[no-untyped-def]
                def on_response(response) -> None:  # type: ignore[no-untyped-def]
                    if response.request.is_navigation_request() or response.request.resource_type == "fetch" or "/assets/style.css" in response.url:  # a reload, a swap's fetch of the page, a stylesheet swap
                        builds[tab] = int(response.headers.get("x-briefing-build", "0"))

                tab.on("response", on_response)

            track(briefing_tab)
            track(actor_tab)
            briefing_tab.goto(server.url + briefing_url)
            actor_tab.goto(server.url + actor_url)
            for tab in (briefing_tab, actor_tab):
                _ready(tab)
            list(server.rebuilds())  # forget the first build's line
            for n in range(n_edits):
                for kind in KINDS:
                    marker = f"Zq{kind}{n:03d}x{os.getpid() % 1000:03d}"
                    for t in (briefing_tab, actor_tab):
                        t.evaluate("() => { window.__briefingBench = true; }")  # gone once the tab loads a new document
                    if kind in ("briefing", "title"):
                        current = source.read_text("utf-8")  # each edit changes one thing of the last version: the article, or the title
                        if kind == "briefing":
                            text = re.sub(r"\n\nThe benchmark adds \w+ here\.\n$", "\n", current).rstrip("\n") + f"\n\nThe benchmark adds {marker} here.\n"
                        else:
                            text = re.sub(r"^title: (.*?)(?: Zq\w+)?$", lambda m: f"title: {m.group(1)} {marker}", current, count=1, flags=re.M)
                        renamed = editor.save(source, text)
                        seen = _wait_visible(briefing_tab, "(m) => document.body && document.body.textContent.includes(m)", marker)
                        tab = briefing_tab
                        dependents = _wait_served(server, shows_article if kind == "briefing" else shows_briefing, marker.encode(), builds[tab], seen, renamed)
                    elif kind == "css":
                        renamed = editor.save(css, originals[css] + f'\n:root {{ --briefing-bench: "{marker}"; }}\n')
                        seen = _wait_visible(briefing_tab, "(m) => getComputedStyle(document.documentElement).getPropertyValue('--briefing-bench').includes(m)", marker)
                        tab = briefing_tab
                        dependents = _wait_served(server, ["assets/style.css"], marker.encode(), builds[tab], seen, renamed)
                    else:
                        text = originals[actor_file].replace(role.group(0), f"role: {role.group(1)} {marker}", 1)
                        renamed = editor.save(actor_file, text)
                        seen = _wait_visible(actor_tab, "(m) => document.body && document.body.textContent.includes(m)", marker)
                        tab = actor_tab
                        dependents = _wait_served(server, shows_role, marker.encode(), builds[tab], seen, renamed)
                    navigated = tab.evaluate("() => window.__briefingBench !== true")
                    kinds[kind].samples.append(Sample((seen - renamed) * 1000, dependents * 1000, bool(navigated)))
                    for t in (briefing_tab, actor_tab):
                        _ready(t)
                    time.sleep(SETTLE_SECONDS)
                    splits[kind].extend(server.rebuilds())
            browser.close()
    finally:
        for path, text in originals.items():
            path.write_text(text, "utf-8")
        editor.close()
        server.stop()
    return _summary(kinds, splits, startup, log)


def _summary(kinds: dict[str, Kind], splits: dict[str, list[dict[str, float]]], startup: float, log: Path) -> dict[str, object]:
    """Return the figures per kind: median and p90 of page latency, worst dependents, and the server's split."""
    result: dict[str, object] = {"startup_s": round(startup, 2), "log": str(log)}
    for name, kind in kinds.items():
        page = [s.page_ms for s in kind.samples]
        deps = [s.dependents_ms for s in kind.samples]
        split = splits[name]
        result[name] = {
            "edits": len(page),
            "median_ms": round(statistics.median(page), 1),
            "p90_ms": round(percentile(page, 0.9), 1),
            "dependents_max_ms": round(max(deps), 1),
            "navigations": sum(s.navigated for s in kind.samples),
            "rebuilds": len(split),
            "settle_median_ms": statistics.median([s["settle_ms"] for s in split]) if split else None,
            "build_median_ms": statistics.median([s["build_ms"] for s in split]) if split else None,
            "ahead_median_ms": statistics.median([s["ahead_ms"] for s in split]) if split else None,
            "telling_median_ms": statistics.median([s["telling_ms"] for s in split]) if split else None,
            "samples_ms": [round(v, 1) for v in page],
        }
    return result


def _ms(value: object, digits: int = 0) -> str:
    return "-" if value is None else f"{float(value):.{digits}f} ms"  # type: ignore[arg-type]


def table(result: dict[str, object]) -> str:
    """Return the figures as a plain-text table, with the targets."""
    head = f"{'edit':<9} {'n':>3} {'median':>9} {'p90':>9} {'dependents max':>15} {'rebuilds':>9} {'settle':>8} {'open page':>10} {'build':>9} {'tell':>7}  navigated"
    rows = [head, "-" * len(head)]
    for name in KINDS:
        k = result[name]
        assert isinstance(k, dict)
        rows.append(
            f"{name:<9} {k['edits']:>3} {_ms(k['median_ms']):>9} {_ms(k['p90_ms']):>9} {_ms(k['dependents_max_ms']):>15} {k['rebuilds']:>9} "
            f"{_ms(k['settle_median_ms']):>8} {_ms(k['ahead_median_ms']):>10} {_ms(k['build_median_ms']):>9} {_ms(k['telling_median_ms'], 1):>7}  {k['navigations']}/{k['edits']}"
        )
    rows.append(f"targets: median < {TARGET_MEDIAN_MS:.0f} ms, p90 < {TARGET_P90_MS:.0f} ms in the open page; dependents < {TARGET_DEPENDENTS_MS:.0f} ms")
    rows.append(f"serve started (first build) in {result['startup_s']} s; serve's output: {result['log']}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefings", type=int, default=1000, help="size of the synthetic site (default 1000)")
    parser.add_argument("--edits", type=int, default=20, help="edits of each kind (default 20)")
    parser.add_argument("--site", type=Path, default=None, help="measure this site project instead of a synthetic one")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-latency-") as scratch:
        site = args.site or synth.synthesize(Path(scratch) / "site", args.briefings, seed=1)
        result = measure(site, args.edits, Path(scratch).parent / f"serve-latency-{os.getpid()}.log")
    print(f"briefing serve latency, {args.site or f'{args.briefings} synthetic briefings'}, {args.edits} edits of each kind, {os.cpu_count()} cores")
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
