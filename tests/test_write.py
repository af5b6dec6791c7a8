"""Tests of the writer: the manifest, rewriting only what changed, deleting stale files, and the output-folder guard."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from generator.diagnostics import Diagnostics
from generator.pages import Output
from generator.write import MANIFEST, STAGE_THREADED, check_output, write_site

from conftest import run_cli, snapshot


def outputs(files: dict[str, str]) -> list[Output]:
    return [Output(path, data.encode()) for path, data in files.items()]


def write(files: dict[str, str], out: Path) -> tuple[object, Diagnostics]:
    diags = Diagnostics()
    return write_site(outputs(files), out, diags), diags


def refusal(output: Path, source: Path) -> list[str]:
    """Return the messages check_output gives for building source into output."""
    diags = Diagnostics()
    check_output(output, source, diags)
    return [d.message for d in diags.items]


def test_manifest_lists_every_written_file_with_its_digest(tmp_path: Path) -> None:
    out = tmp_path / "site"
    report, diags = write({"index.html": "<p>home</p>", "a/b/index.html": "deep"}, out)
    assert not diags.items and report is not None
    assert (report.written, report.unchanged, report.deleted) == (2, 0, 0)
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["generator"] == "briefing"
    assert doc["files"] == {
        "a/b/index.html": hashlib.sha256(b"deep").hexdigest(),
        "index.html": hashlib.sha256(b"<p>home</p>").hexdigest(),
    }
    assert list(doc["files"]) == sorted(doc["files"])
    assert (out / "a/b/index.html").read_text() == "deep"


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "same", "page/index.html": "old"}, out)
    before = os.stat(out / "index.html")
    report, _ = write({"index.html": "same", "page/index.html": "new"}, out)
    after = os.stat(out / "index.html")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (report.written, report.unchanged, report.deleted) == (1, 1, 0)
    assert (out / "page/index.html").read_text() == "new"


def test_a_file_edited_by_hand_is_written_again(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "ours"}, out)
    (out / "index.html").unlink()
    report, _ = write({"index.html": "ours"}, out)
    assert report.written == 1
    assert (out / "index.html").read_text() == "ours"


def test_stale_generated_files_are_deleted_and_empty_folders_pruned(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "home", "briefings/old/index.html": "gone soon"}, out)
    report, _ = write({"index.html": "home"}, out)
    assert report.deleted == 1
    assert not (out / "briefings").exists()
    assert json.loads((out / MANIFEST).read_text())["files"].keys() == {"index.html"}


def test_foreign_files_are_kept_and_reported(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "home"}, out)
    (out / "notes.txt").write_text("mine")
    (out / "CNAME").write_text("example.org\n")
    report, diags = write({"index.html": "home", "about/index.html": "about"}, out)
    assert not diags.items
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "CNAME").read_text() == "example.org\n"
    assert report.kept == ("notes.txt",)


def test_a_stale_file_changed_since_it_was_written_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "home", "old.html": "generated"}, out)
    (out / "old.html").write_text("edited by hand")
    report, _ = write({"index.html": "home"}, out)
    assert report.deleted == 0
    assert (out / "old.html").read_text() == "edited by hand"
    assert report.kept == ("old.html",)


def test_a_foreign_file_in_the_way_stops_the_write_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": "home"}, out)
    (out / "about.html").write_text("someone else's")
    before = snapshot(out)
    report, diags = write({"index.html": "home v2", "about.html": "ours"}, out)
    assert report is None
    assert [d.message for d in diags.items] == ["about.html in the output folder was not written by briefing and would be overwritten; move it away"]
    assert snapshot(out) == before


def test_new_folders_move_in_whole_and_a_failed_apply_takes_them_out_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    write({"index.html": "home", "old/index.html": "old"}, out)
    before = snapshot(out)
    moved: list[str] = []
    real = os.replace

    def failing(src: object, dst: object) -> None:
        rel = Path(str(dst)).relative_to(out).as_posix()
        if not rel.startswith("."):  # the journal and the manifest are written by rename too
            moved.append(rel)
        if len(moved) == 3 and moved[-1] == rel:
            raise PermissionError(13, "Permission denied", str(dst))
        real(src, dst)  # type: ignore[arg-type]

    files = {"index.html": "home 2", "old/index.html": "old 2", "new/index.html": "n", "new/deep/a.html": "a", "new/deep/b.html": "b", "old/more/c.html": "c"}
    monkeypatch.setattr(os, "replace", failing)
    report, diags = write(files, out)
    assert report is None and "Permission denied" in str(diags.errors[0])
    assert moved[:2] == ["new", "old/more"]  # one rename per new folder, with the files staged in it
    assert snapshot(out) == before and sorted(p.name for p in out.iterdir()) == [".briefing-manifest.json", "index.html", "old"]
    monkeypatch.setattr(os, "replace", real)
    report, diags = write(files, out)
    assert report is not None and report.written == 6 and not diags.items
    assert {rel: data.decode() for rel, data in snapshot(out).items() if rel != MANIFEST} == files


def test_many_files_are_staged_by_threads_with_the_same_bytes_and_a_failure_in_one_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"p{i % 37}/f{i}.html": f"page {i} " * (i % 50) for i in range(3 * STAGE_THREADED)}  # (some of them empty)
    serial = tmp_path / "serial"
    monkeypatch.setattr("generator.write.STAGE_THREADED", 10**9)
    write(files, serial)
    monkeypatch.undo()
    out = tmp_path / "site"
    report, diags = write(files, out)
    assert report is not None and report.written == len(files) and not diags.items
    assert snapshot(out) == snapshot(serial)
    before = snapshot(out)
    real = os.open
    failed: list[str] = []

    def failing(path: object, flags: int, mode: int = 0o777, **kw: object) -> int:
        if str(path).endswith("/f100.html"):
            failed.append(path)
            raise OSError(28, "No space left on device", path)
        return real(path, flags, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", failing)
    report, diags = write({rel: data + "!" for rel, data in files.items()}, out)
    assert failed and report is None and "No space left on device" in diags.errors[0].message
    monkeypatch.undo()
    assert snapshot(out) == before and not [p for p in tmp_path.iterdir() if "staging" in p.name]


def test_refuses_output_equal_to_source(tmp_path: Path) -> None:
    assert refusal(tmp_path, tmp_path) == ["refusing to build into the source folder or a folder that contains it; choose a folder such as site/"]


def test_refuses_output_that_contains_the_source(tmp_path: Path) -> None:
    src = tmp_path / "project"
    src.mkdir()
    assert refusal(tmp_path, src) == ["refusing to build into the source folder or a folder that contains it; choose a folder such as site/"]


@pytest.mark.parametrize("inside", ["content", "content/site", "themes/x", "seeds", "static/out"])
def test_refuses_output_inside_a_source_folder(tmp_path: Path, inside: str) -> None:
    top = inside.split("/")[0]
    assert refusal(tmp_path / inside, tmp_path) == [f"refusing to build inside the sources' {top}/ folder; choose a folder outside it, such as site/"]


def test_refuses_a_non_empty_folder_without_a_manifest(tmp_path: Path) -> None:
    src, out = tmp_path / "project", tmp_path / "site"
    src.mkdir()
    out.mkdir()
    for name in ["a.txt", "b.txt", "c.txt", "d.txt"]:
        (out / name).write_text("x")
    assert refusal(out, src) == ["the output folder is not empty and holds no briefing manifest (it holds a.txt, b.txt, c.txt, ...); choose an empty folder or a new one"]


def test_accepts_an_empty_folder_a_new_one_and_one_with_only_host_files(tmp_path: Path) -> None:
    src = tmp_path / "project"
    src.mkdir()
    (tmp_path / "empty").mkdir()
    host = tmp_path / "host"
    host.mkdir()
    (host / ".git").mkdir()
    (host / "CNAME").write_text("example.org\n")
    assert refusal(tmp_path / "empty", src) == []
    assert refusal(tmp_path / "new", src) == []
    assert refusal(host, src) == []


def test_accepts_a_folder_holding_our_manifest(tmp_path: Path) -> None:
    src, out = tmp_path / "project", tmp_path / "site"
    src.mkdir()
    write({"index.html": "home"}, out)
    assert refusal(out, src) == []


def test_a_sibling_whose_name_starts_like_the_source_is_not_inside_it(tmp_path: Path) -> None:
    """`docs-site` is not inside `docs`, nor `content-out` inside `content`: paths compare part by part."""
    src = tmp_path / "docs"
    (src / "content").mkdir(parents=True)
    assert refusal(tmp_path / "docs-site", src) == []
    assert refusal(src / "content-out", src) == []


def test_the_cli_refuses_output_equal_to_source_and_touches_nothing(make_site) -> None:
    root = make_site()
    before = snapshot(root)
    result = run_cli("build", "--output", ".", cwd=root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        ".:1:1: error: refusing to build into the source folder or a folder that contains it; choose a folder such as site/",
        "build failed: 1 error(s); nothing was written to .",
    ]
    assert snapshot(root) == before


def test_late_outputs_are_staged_after_the_first_and_applied_with_them(tmp_path: Path) -> None:
    """The search bundle comes last (it is made while the pages are staged): it lands in the same journalled apply."""
    out = tmp_path / "site"
    write({"index.html": "home", "pagefind/old.js": "old"}, out)
    asked: list[bool] = []

    def late() -> list[Output]:
        asked.append((out.parent / "site").exists())
        return outputs({"pagefind/pagefind.js": "js", "pagefind/fragment/a.pf": "a", "index2.html": "more"})

    diags = Diagnostics()
    report = write_site(outputs({"index.html": "home", "briefings/a/index.html": "a"}), out, diags, late)
    assert report is not None and not diags.items and asked == [True]
    assert (report.written, report.unchanged, report.deleted) == (4, 1, 1)  # pagefind/old.js is no longer made
    files = {rel: data.decode() for rel, data in snapshot(out).items() if rel != MANIFEST}
    assert files == {"index.html": "home", "briefings/a/index.html": "a", "pagefind/pagefind.js": "js", "pagefind/fragment/a.pf": "a", "index2.html": "more"}
    assert sorted(json.loads((out / MANIFEST).read_text())["files"]) == sorted(files)


@pytest.mark.parametrize("late_files", [None, {"index.html": "clash"}, {"INDEX.html": "clash"}, {"briefings": "a file where a folder is"}])
def test_late_outputs_that_fail_or_collide_leave_the_site_as_it_was(tmp_path: Path, late_files: dict[str, str] | None) -> None:
    out = tmp_path / "site"
    write({"index.html": "home"}, out)
    before = snapshot(out)
    diags = Diagnostics()
    report = write_site(outputs({"index.html": "home v2", "briefings/a/index.html": "a"}), out, diags, lambda: None if late_files is None else outputs(late_files))
    assert report is None and snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging folder left beside it
    assert late_files is None or "would" in diags.errors[0].message  # None: the caller reported why
