"""How far apart the watcher's callbacks come within one burst of saves: what serve's debounce window must outlast.

    .venv/bin/python benchmarks/watch_gaps.py [--briefings 1000] [--rounds 3]

It synthesizes a site in a temporary git repository, watches it as `briefing serve`
does (generator.watch), and makes bursts the way editors and git do: an atomic save
(temporary file renamed over the original), vim's save (rename to a backup, write,
delete the backup), a delete and re-create, and checkouts of a commit that changed 300
briefings. For each it prints the callbacks seen, the largest gap between two of them
and the burst's span. A gap longer than the window splits a burst into two rebuilds
(correct, only slower); the window is the time every save waits before its rebuild.
It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import synth  # noqa: E402
from generator.watch import unwatch, watch  # noqa: E402

GIT = ["git", "-c", "user.email=bench@example.org", "-c", "user.name=bench"]
CHANGED = 300  # briefings the second commit changes


def _git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--briefings", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watch-gaps-") as folder:
        root = synth.synthesize(Path(folder) / "site", args.briefings)
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "one")
        files = sorted((root / "content" / "briefings").rglob("*.md"))[:CHANGED]
        for f in files:
            f.write_text(f.read_text("utf-8") + "\nChanged.\n", "utf-8")
        _git(root, "commit", "-qam", "two")
        target = files[len(files) // 2]
        stamps: list[float] = []
        observer = watch(root, [], lambda paths: stamps.append(time.perf_counter()))
        time.sleep(0.5)

        def atomic() -> None:
            tmp = target.with_name("." + target.name + ".tmp")
            tmp.write_text(target.read_text("utf-8") + "x\n", "utf-8")
            os.replace(tmp, target)

        def vim() -> None:
            backup = target.with_name(target.name + "~")
            os.rename(target, backup)
            target.write_text(backup.read_text("utf-8") + "y\n", "utf-8")
            os.remove(backup)

        def recreate() -> None:
            text = target.read_text("utf-8")
            os.remove(target)
            target.write_text(text + "z\n", "utf-8")

        bursts: list[tuple[str, Callable[[], None]]] = [
            ("atomic save", atomic),
            ("vim save", vim),
            ("delete and re-create", recreate),
            (f"git checkout of {CHANGED} files", lambda: _git(root, "checkout", "-q", "HEAD~1", "--", ".")),
            (f"git checkout back", lambda: _git(root, "checkout", "-q", "HEAD", "--", ".")),
        ]
        print(f"watcher callbacks within a burst, {args.briefings} briefings, {os.cpu_count()} cores")
        print(f"{'burst':32} {'callbacks':>9} {'largest gap':>12} {'span':>10}")
        worst = 0.0
        try:
            for _ in range(args.rounds):
                for name, make in bursts:
                    stamps.clear()
                    make()
                    time.sleep(1.0)
                    gaps = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:])]
                    gap = max(gaps, default=0.0)
                    worst = max(worst, gap)
                    span = (stamps[-1] - stamps[0]) * 1000 if stamps else 0.0
                    print(f"{name:32} {len(stamps):9d} {gap:9.2f} ms {span:7.1f} ms")
        finally:
            unwatch(observer)
        print(f"largest gap within a burst: {worst:.2f} ms")


if __name__ == "__main__":
    main()
