"""The build command's shortcut: a build of unchanged sources into an untouched output does nothing, and anything else is a full build."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from conftest import run_main, snapshot

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
