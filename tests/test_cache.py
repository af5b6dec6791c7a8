"""The build command's shortcut: a build of unchanged sources into an untouched output does nothing, and anything else is a full build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from conftest import REPO, benchmark_module, run_main, snapshot

from generator import cache

SHORTCUT = "(no source changed since the last build)"


def build(root: Path, *options: str) -> str:
    result = run_main("build", "--source", str(root), "--output", str(root / "site"), *options)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_an_unchanged_site_is_not_built_again_and_its_warnings_are_repeated(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/experts/carol.yaml": "name: Carol\naliases:\n  - Alice Example\n"})  # a warning
    first = build(root)
    assert SHORTCUT not in first and "warning: name 'Alice Example' is used by alice, carol" in first
    before = snapshot(root / "site")
    again = build(root)
    assert SHORTCUT in again and "warning: name 'Alice Example' is used by alice, carol" in again
    assert snapshot(root / "site") == before


@pytest.mark.parametrize(
    "change",
    [
        "edit a briefing",
        "add a static file",
        "edit the stylesheet of a site theme",
        "touch an output file",
        "delete an output file",
        "another option",
    ],
)
def test_any_change_builds_again(change: str, make_site: Callable[..., Path]) -> None:
    root = make_site({"themes/mine/theme.yaml": "extends: default\n", "themes/mine/static/style.css": "body { color: red; }\n"})
    build(root)
    options: tuple[str, ...] = ()
    if change == "edit a briefing":
        page = root / "content/briefings/first.md"
        page.write_text(page.read_text("utf-8").replace("Body text.", "Body text, edited."), "utf-8")
    elif change == "add a static file":
        (root / "static").mkdir(exist_ok=True)
        (root / "static" / "robots-extra.txt").write_text("x\n", "utf-8")
    elif change == "edit the stylesheet of a site theme":
        (root / "themes/mine/static/style.css").write_text("body { color: blue; }\n", "utf-8")
    elif change == "touch an output file":
        (root / "site" / "index.html").write_text("scribbled\n", "utf-8")
    elif change == "delete an output file":
        (root / "site" / "index.html").unlink()
    else:
        options = ("--drafts",)
    again = build(root, *options)
    assert SHORTCUT not in again
    if change == "edit a briefing":
        assert "Body text, edited." in (root / "site/briefings/first/index.html").read_text("utf-8")
    if change in ("touch an output file", "delete an output file"):  # the build's own file, written again
        assert (root / "site" / "index.html").read_text("utf-8").startswith("<!DOCTYPE html>")


def test_a_failed_build_forgets_the_record(make_site: Callable[..., Path]) -> None:
    root = make_site()
    build(root)
    page = root / "content/briefings/first.md"
    good = page.read_text("utf-8")
    page.write_text(good.replace("title: First", "title: [unclosed"), "utf-8")
    assert run_main("build", "--source", str(root), "--output", str(root / "site")).returncode == 1
    page.write_text(good, "utf-8")
    assert SHORTCUT not in build(root)  # the sources match the old record again, but the record is gone
    assert SHORTCUT in build(root)


def record_of(root: Path) -> dict[str, object]:
    """Return the one build record of root (the tests build into root/site only)."""
    (path,) = (root / ".briefing-cache" / "builds").glob("*.json")
    return json.loads(path.read_text("utf-8"))


def test_an_edit_keeping_size_and_mtime_is_seen_by_the_ctime(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "SETTLE_NS", 0)  # every file counts as settled: the record trusts stats alone, no bytes
    root = make_site()
    build(root)
    assert "\n" not in record_of(root)["fingerprint"]  # no file is vouched for by a hash of its bytes
    assert SHORTCUT in build(root)
    page = root / "content/briefings/first.md"
    before, st = page.read_text("utf-8"), page.stat()
    after = before.replace("Body text.", "Body TEXT.")
    assert len(after) == len(before) and after != before
    page.write_text(after, "utf-8")
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))  # as touch -d, rsync -t or a careful editor would leave it
    assert (page.stat().st_size, page.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    again = build(root)
    assert SHORTCUT not in again
    assert "Body TEXT." in (root / "site/briefings/first/index.html").read_text("utf-8")


def test_a_fresh_file_is_vouched_for_by_its_bytes_until_it_settles(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_site()  # just written: every source is fresh
    build(root)
    digest, *fresh = str(record_of(root)["fingerprint"]).split("\n")
    page = str(root / "content/briefings/first.md")
    assert any(line.endswith(" " + page) for line in fresh)
    assert SHORTCUT in build(root)  # the fresh files hash as recorded
    record = record_of(root)
    # as if first.md had been rewritten at the same size within the clock tick of the stat: same stat, other bytes
    record["fingerprint"] = "\n".join([digest, *(("0" * 40 + " " + page) if line.endswith(" " + page) else line for line in fresh)])
    (path,) = (root / ".briefing-cache" / "builds").glob("*.json")
    path.write_text(json.dumps(record), "utf-8")
    assert SHORTCUT not in build(root)
    assert SHORTCUT in build(root)
    monkeypatch.setattr(cache, "SETTLE_NS", 0)  # time passes: the files settle
    assert SHORTCUT in build(root)
    assert record_of(root)["fingerprint"] == digest  # checked by bytes for the last time: the stats now vouch for them
    assert SHORTCUT in build(root)


def test_the_shortcut_reports_files_it_did_not_write_as_a_build_does(make_site: Callable[..., Path]) -> None:
    root = make_site()
    build(root)
    (root / "site" / "notes.txt").write_text("mine\n", "utf-8")
    (root / "site" / "CNAME").write_text("example.org\n", "utf-8")  # a host's own file: never reported
    (root / "site" / "drafts").mkdir()
    (root / "site" / "drafts" / "a.txt").write_text("mine\n", "utf-8")
    left = "left alone 2 file(s) in"
    again = build(root)
    assert SHORTCUT in again and left in again and "(e.g. drafts/a.txt)" in again
    page = root / "content/briefings/first.md"
    page.write_text(page.read_text("utf-8") + "\nMore.\n", "utf-8")
    full = build(root)
    assert SHORTCUT not in full and left in full and "(e.g. drafts/a.txt)" in full


def test_the_no_change_check_loads_no_library_of_the_pipeline(make_site: Callable[..., Path]) -> None:
    root = make_site()
    build(root)
    script = (
        "import sys\n"
        "from generator.cli import main\n"
        f"code = main(['build', '--source', {str(root)!r}])\n"
        "print(code, *sorted(m for m in sys.modules if m.partition('.')[0] in ('generator', 'jinja2', 'markdown', 'yaml', 'nh3', 'multiprocessing')))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert SHORTCUT in done.stdout, done.stderr
    code, *loaded = done.stdout.splitlines()[-1].split()
    assert code == "0" and "generator.cache" in loaded
    heavy = {"jinja2", "markdown", "yaml", "nh3", "multiprocessing", "generator.model", "generator.write", "generator.pipeline"}
    assert heavy.isdisjoint(loaded), f"the no-change check imported {sorted(heavy.intersection(loaded))}"


def test_a_build_over_the_last_output_writes_what_a_build_into_a_new_folder_writes(tmp_path: Path) -> None:
    """After each kind of edit the benchmark makes, and after deleting and renaming a briefing: the same files, byte for byte, with or without the last output and the cache."""
    root = benchmark_module("synth").synthesize(tmp_path / "site", 12, seed=5)
    theme = root / "themes" / "mine"
    (theme / "templates" / "partials").mkdir(parents=True)
    (theme / "theme.yaml").write_text("extends: default\n", "utf-8")
    partial = theme / "templates" / "partials" / "actor_card.html"
    partial.write_text((REPO / "themes/default/templates/partials/actor_card.html").read_text("utf-8"), "utf-8")
    site_yaml = root / "content" / "site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("theme: default", "theme: mine"), "utf-8")
    briefings = sorted((root / "content" / "briefings").rglob("*.md"))
    actor = root / "content" / "actors" / "actor-001.yaml"
    edits = {
        "edit a briefing": lambda: briefings[3].write_text(briefings[3].read_text("utf-8") + "\nAn added sentence.\n", "utf-8"),
        "edit an actor": lambda: actor.write_text(actor.read_text("utf-8").replace("role: ", "role: Acting ", 1), "utf-8"),
        "edit a template": lambda: partial.write_text(partial.read_text("utf-8") + "<!-- edited -->\n", "utf-8"),
        "delete a briefing": lambda: briefings[5].unlink(),
        "rename a briefing": lambda: briefings[7].rename(briefings[7].with_name("renamed.md")),
    }
    build(root)
    for k, (name, edit) in enumerate(edits.items()):
        before = snapshot(root / "site")
        edit()
        build(root)
        fresh = tmp_path / f"fresh-{k}"
        shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("site", ".briefing-cache"))
        build(fresh)
        assert snapshot(root / "site") != before, name  # the edit shows
        assert snapshot(root / "site") == snapshot(fresh / "site"), name
