"""Golden files: the example site's pages, checked in and compared byte for byte with a fresh build."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from conftest import REPO, snapshot

from generator.pipeline import BuildConfig, build

GOLDEN = REPO / "tests" / "golden" / "example"
TEXT_SUFFIXES = (".md", ".html", ".xml", ".json", ".txt", ".svg")
SKIP_FOLDERS = ("pagefind/", "assets/")  # the search index is a binary tool's output; assets are copies
LISTING = "FILES.txt"


def _built(example_site: Path, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "out"
    report = build(BuildConfig(example_site, out))
    assert not report.failed, "\n".join(map(str, report.diagnostics))
    return {k: v for k, v in snapshot(out).items() if not k.startswith(".")}


def _golden_view(files: dict[str, bytes]) -> dict[str, bytes]:
    """Return the files the golden tree keeps, plus a listing of every generated file."""
    kept = {k: v for k, v in files.items() if k.endswith(TEXT_SUFFIXES) and not k.startswith(SKIP_FOLDERS)}
    kept[LISTING] = "".join(f"{k}\n" for k in sorted(files)).encode()
    return kept


def test_example_site_matches_golden(example_site: Path, tmp_path: Path, update_golden: bool) -> None:
    expected_view = _golden_view(_built(example_site, tmp_path))
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in expected_view.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
        return
    golden = snapshot(GOLDEN)
    assert golden, "no golden files: run `pytest --update-golden` and review the diff"
    for rel in sorted(set(golden) | set(expected_view)):
        if golden.get(rel) != expected_view.get(rel):
            old = golden.get(rel, b"").decode("utf-8", "replace").splitlines(keepends=True)
            new = expected_view.get(rel, b"").decode("utf-8", "replace").splitlines(keepends=True)
            diff = "".join(list(difflib.unified_diff(old, new, f"golden/{rel}", f"built/{rel}"))[:60])
            raise AssertionError(f"{rel} differs from its golden file (review, then `pytest --update-golden`):\n{diff}")


def test_two_builds_are_byte_identical(example_site: Path, tmp_path: Path) -> None:
    first = snapshot_build(example_site, tmp_path / "one")
    second = snapshot_build(example_site, tmp_path / "two")
    assert first == second
    assert any(k.endswith("index.md") for k in first)


def snapshot_build(source: Path, out: Path) -> dict[str, bytes]:
    report = build(BuildConfig(source, out))
    assert not report.failed
    return {k: v for k, v in snapshot(out).items()}
