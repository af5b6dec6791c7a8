"""The speed benchmark: build synthetic sites of N briefings and print one table of medians, memory and peer ratios.

    .venv/bin/python benchmarks/run.py                 # N = 1,000, with Pelican and MkDocs in the same run
    .venv/bin/python benchmarks/run.py --n 10000 --no-peers
    .venv/bin/python benchmarks/run.py --n 1000 --n 5000 --n 10000 --no-peers --runs 1
    .venv/bin/python benchmarks/run.py --serve-edits 20  # also the save-to-reload latency of `briefing serve` in chromium

Every figure is the median of --runs runs of a new `briefing build` process (cold: no cache,
a new output folder; warm: the same output folder and cache after a build: "no-change" is
the build command's shortcut, the edits are full builds whose writes skip unchanged files).
Memory is the peak of the whole process tree (workers included), sampled from /proc in
cold runs of its own (sampling slows the build it watches) as the sum of each process's
proportional set size (PSS: pages a forked worker shares with its parent count once, not
twice). Peers build the same articles as plain Markdown pages, installed into a temporary
virtualenv by this script. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import synth  # noqa: E402

from generator.annotations import strip_mentions  # noqa: E402

TARGETS_1K = {"cold": 2.5, "no-change": 0.3}
TARGETS_10K = {"cold": 25.0}


def _descendants(pid: int) -> list[int]:
    """Return pid and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_kib(pid: int) -> int:
    """Return the process's proportional set size (its resident size where smaps_rollup is missing), in KiB."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def run_measured(cmd: list[str], cwd: Path | None = None, memory: bool = False) -> tuple[float, float, str]:
    """Run cmd; return (seconds, peak MiB of its process tree or 0.0 when memory is not sampled, stderr).

    Reading a process's PSS (smaps_rollup) walks its page tables: 1.5-2 ms for a 70 MB
    process, several for the build's 300 MB ones, four processes at a time, every 20 ms.
    That slowed the build it timed (until the fourteenth session it sampled every timed
    run: a cold build of 1,000 briefings 16.1-16.6 s unsampled, 15.8-21.0 s sampled, in
    three interleaved pairs). So a timed run is not sampled, and a sampled run's time is
    not used.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_rss_kib(p) for p in _descendants(proc.pid)))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    if memory:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return seconds, peak / 1024, err


def briefing(site: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--source", str(site), "--output", str(output)]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_briefing(n: int, runs: int, work: Path) -> dict[str, float]:
    """Return the medians of cold and warm builds and of rebuilds after each kind of edit."""
    site = synth.synthesize(work / f"site-{n}", n, seed=1)
    theme = site / "themes" / "bench"
    (theme / "templates" / "partials").mkdir(parents=True, exist_ok=True)
    (theme / "theme.yaml").write_text("extends: default\n", "utf-8")
    card = (REPO / "themes" / "default" / "templates" / "partials" / "actor_card.html").read_text("utf-8")
    (theme / "templates" / "partials" / "actor_card.html").write_text(card, "utf-8")
    site_yaml = site / "content" / "site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("theme: default", "theme: bench"), "utf-8")
    one = sorted((site / "content" / "briefings").rglob("*.md"))[n // 2]
    actor = site / "content" / "actors" / "actor-001.yaml"
    partial = theme / "templates" / "partials" / "actor_card.html"
    cache = site / ".briefing-cache"

    cold, memory = [], []
    for k in range(runs):
        for sampled in (False, True):  # timed, then sampled for memory (see run_measured)
            if cache.exists():  # moved aside, not deleted (see _set_aside)
                cache.rename(_set_aside(work, f"cache-{n}-{k}-{int(sampled)}"))
            seconds, mib, _ = run_measured(briefing(site, _set_aside(work, f"cold-{n}-{k}-{int(sampled)}")), memory=sampled)
            if sampled:
                memory.append(mib)
            else:
                cold.append(seconds)

    out = work / f"warm-{n}"
    run_measured(briefing(site, out))
    results: dict[str, list[float]] = {"no-change": [], "edit briefing": [], "edit actor": [], "edit template": []}
    for k in range(runs):
        results["no-change"].append(run_measured(briefing(site, out))[0])
        _append(one, f"\nAn added sentence for run {k}.\n")
        results["edit briefing"].append(run_measured(briefing(site, out))[0])
        actor.write_text(actor.read_text("utf-8").replace("role: ", f"role: R{k} ", 1), "utf-8")
        results["edit actor"].append(run_measured(briefing(site, out))[0])
        partial.write_text(partial.read_text("utf-8") + f"<!-- {k} -->\n", "utf-8")
        results["edit template"].append(run_measured(briefing(site, out))[0])
    figures = {"cold": median(cold), "peak MiB": max(memory)}
    figures.update({name: median(values) for name, values in results.items()})
    return figures


def _set_aside(work: Path, name: str) -> Path:
    """Return a new path for a cold build's output or cache, kept until the run ends (the work folder is removed then).

    Deleting them between runs would slow the next build's writes, not by anything that
    build does: on an ext4 file system without a journal (this machine kind's), a new file
    is not given an inode freed in the last minute (six while its inode table is unwritten),
    and each file made skips all of those again. Making 48,000 files took 1.4 s on a disk
    that had deleted nothing for ten minutes, and 9.8 s just after deleting 48,000
    (docs/speed.md, "Deleted files slow the next build").
    """
    folder = work / "set-aside"
    folder.mkdir(exist_ok=True)
    path, k = folder / name, 1
    while path.exists():  # (a --keep folder used again)
        path, k = folder / f"{name}.{k}", k + 1
    return path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def plain_articles(site: Path) -> list[tuple[str, str, str, str]]:
    """Return (slug, title, date, body) of each synthetic briefing, annotations removed."""
    articles = []
    for path in sorted((site / "content" / "briefings").rglob("*.md")):
        text = path.read_text("utf-8")
        _, front, body = text.split("---\n", 2)
        title = next(line[7:] for line in front.splitlines() if line.startswith("title: "))
        date = next(line[6:] for line in front.splitlines() if line.startswith("date: "))
        body = "\n".join(line for line in strip_mentions(body).splitlines() if not line.startswith(":::"))
        articles.append((path.stem, title, date, body))
    return articles


def measure_peers(n: int, runs: int, work: Path, venv: Path) -> dict[str, float]:
    """Return the median cold builds of Pelican and MkDocs on the same articles as plain Markdown."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "pelican[markdown]", "mkdocs"], check=True)
    articles = plain_articles(work / f"site-{n}")
    pelican = work / f"pelican-{n}"
    mkdocs = work / f"mkdocs-{n}"
    for folder in (pelican / "content", mkdocs / "docs"):
        folder.mkdir(parents=True, exist_ok=True)
    for slug, title, date, body in articles:
        (pelican / "content" / f"{slug}.md").write_text(f"Title: {title}\nDate: {date}\nSlug: {slug}\n\n{body}\n", "utf-8")
        (mkdocs / "docs" / f"{slug}.md").write_text(f"# {title}\n\n{body}\n", "utf-8")
    (mkdocs / "docs" / "index.md").write_text("# Synthetic\n", "utf-8")
    (pelican / "pelicanconf.py").write_text("SITENAME = 'Synthetic'\nPATH = 'content'\nTIMEZONE = 'UTC'\nRELATIVE_URLS = True\n", "utf-8")
    (mkdocs / "mkdocs.yml").write_text("site_name: Synthetic\n", "utf-8")
    times: dict[str, list[float]] = {"pelican": [], "mkdocs": []}
    for k in range(runs):
        out = work / f"pelican-out-{k}"
        times["pelican"].append(run_measured([str(venv / "bin" / "pelican"), "content", "-s", "pelicanconf.py", "-o", str(out), "-q"], cwd=pelican)[0])
        out = work / f"mkdocs-out-{k}"
        times["mkdocs"].append(run_measured([str(venv / "bin" / "mkdocs"), "build", "-q", "-d", str(out)], cwd=mkdocs)[0])
    return {name: median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="briefings (repeatable; default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-peers", action="store_true", help="skip Pelican and MkDocs")
    parser.add_argument("--peers-venv", type=Path, default=None, help="reuse this virtualenv for the peers (default: a temporary one)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--serve-edits", type=int, default=0, metavar="K", help="also measure serve's save-to-reload latency in chromium with K edits of each kind (benchmarks/serve_latency.py)")
    args = parser.parse_args()
    sizes = args.n or [1000]
    work = args.keep or Path(tempfile.mkdtemp(prefix="briefing-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    by_n: dict[int, dict[str, float]] = {}
    try:
        for n in sizes:
            figures = measure_briefing(n, args.runs, work)
            by_n[n] = figures
            targets = TARGETS_1K if n == 1000 else TARGETS_10K if n == 10000 else {}
            for name, value in figures.items():
                unit = "MiB" if name == "peak MiB" else "s"
                target = targets.get(name)
                mark = "" if target is None else (f"target < {target} s: " + ("met" if value < target else f"missed by {value - target:.2f} s"))
                rows.append((f"N={n} {name.replace('peak MiB', 'peak memory')}", f"{value:.2f} {unit}" if unit == "s" else f"{value:.0f} {unit}", mark))
            if args.serve_edits:
                import serve_latency

                latency = serve_latency.measure(work / f"site-{n}", args.serve_edits)
                for kind in serve_latency.KINDS:
                    k = latency[kind]
                    rows.append((f"N={n} serve reload, {kind} edit", f"{k['median_ms']:.0f} ms", f"p90 {k['p90_ms']:.0f} ms; every dependent page within {k['dependents_max_ms']:.0f} ms"))
            if n == 1000 and not args.no_peers:
                venv = args.peers_venv or (work / "peers-venv")
                peers = measure_peers(n, args.runs, work, venv)
                for name, seconds in peers.items():
                    rows.append((f"N={n} {name} cold", f"{seconds:.2f} s", f"briefing is {seconds / figures['cold']:.1f}x faster" if figures["cold"] < seconds else f"briefing is {figures['cold'] / seconds:.1f}x slower"))
        if 1000 in by_n and 10000 in by_n:
            rows.append(("10k / 1k cold", f"{by_n[10000]['cold'] / by_n[1000]['cold']:.1f}", "target < 11 (linear)"))
        if 5000 in by_n and 10000 in by_n:
            per = (by_n[10000]["cold"] - by_n[5000]["cold"]) / 5000 * 1000
            rows.append(("cost per briefing, 5k..10k", f"{per:.2f} ms", ""))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
