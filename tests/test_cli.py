"""End-to-end: the `briefing` command line in a temporary folder.

The first tests start `python -m generator` as a real process; the option tests call the
same main() in this process, which skips the interpreter's start-up and nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pytest
from conftest import run_cli, run_main

from generator import __version__


def test_new_then_check_then_build(tmp_path: Path) -> None:
    created = run_cli("new", "mysite", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    site = tmp_path / "mysite"
    assert (site / "content" / "site.yaml").is_file()
    assert (site / ".gitignore").read_text() == "site/\n.briefing-cache/\n"

    checked = run_cli("check", cwd=site)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "check: 1 briefing(s), no problems\n")

    built = run_cli("build", cwd=site)
    assert built.returncode == 0, built.stderr
    assert re.fullmatch(r"built 1 briefing\(s\): \d+ file\(s\) written, 0 unchanged, 0 deleted in \d+\.\d\d s -> site\n", built.stdout)
    assert (site / "site" / "index.html").is_file()
    assert (site / "site" / "briefings" / "first-briefing" / "index.md").is_file()

    again = run_main("build", "--source", str(site), "--output", str(site / "site"))
    files = int(built.stdout.split(": ")[1].split(" ")[0])
    shown = re.escape(str(site / "site"))
    assert re.fullmatch(rf"built 1 briefing\(s\): 0 file\(s\) written, {files} unchanged, 0 deleted in \d+\.\d\d s -> {shown}( \(no source changed since the last build\))?\n", again.stdout), again.stdout


def test_new_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = run_cli("new", "taken", cwd=tmp_path)
    assert result.returncode == 1
    assert "taken: error: the folder exists and is not empty" in result.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_version() -> None:
    result = run_cli("--version")
    assert result.stdout.strip() == f"briefing {__version__}"


@pytest.mark.parametrize("command,option", [("new", "PATH"), ("check", "--strict"), ("check", "--format"), ("build", "--output"), ("build", "--drafts"), ("build", "--base-url")])
def test_help_of_each_command(command: str, option: str) -> None:
    result = run_main(command, "--help")
    assert result.returncode == 0
    assert option in result.stdout


def test_drafts_are_left_out_unless_asked_for(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/briefings/wip.md": "---\ntitle: Work in progress\ndate: 2025-02-01\nsummary: Not ready.\ndraft: true\n---\n\nText.\n"})
    plain = run_main("build", "--source", str(root), "--output", str(root / "plain"))
    assert plain.returncode == 0, plain.stderr
    assert not (root / "plain" / "briefings" / "wip").exists()
    assert "Work in progress" not in (root / "plain" / "index.html").read_text()

    drafts = run_main("build", "--source", str(root), "--output", str(root / "drafts"), "--drafts")
    assert drafts.returncode == 0
    page = (root / "drafts" / "briefings" / "wip" / "index.html").read_text()
    assert "Draft" in page


def test_base_url_option_overrides_site_yaml(make_site: Callable[..., Path]) -> None:
    root = make_site()
    result = run_main("build", "--source", str(root), "--output", str(root / "out"), "--base-url", "https://staging.example.net/b/")
    assert result.returncode == 0, result.stderr
    texts = "".join(p.read_text("utf-8", "replace") for p in (root / "out").rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".json", ".txt"))
    assert "https://example.org/" not in texts


def test_strict_turns_warnings_into_failure(make_site: Callable[..., Path]) -> None:
    # Two entries sharing a name is a warning: its unmarked mentions cannot be linked.
    root = make_site({"content/experts/carol.yaml": "name: Carol\naliases:\n  - Alice Example\n"})
    relaxed = run_main("check", "--source", str(root))
    assert relaxed.returncode == 0
    assert "content/experts/carol.yaml:1:1: warning: name 'Alice Example' is used by alice, carol" in relaxed.stderr
    strict = run_main("check", "--source", str(root), "--strict")
    assert strict.returncode == 1
    build = run_main("build", "--source", str(root), "--output", str(root / "out"), "--strict")
    assert build.returncode == 1
    assert not (root / "out").exists()


def test_check_json_has_counts(make_site: Callable[..., Path]) -> None:
    result = run_main("check", "--source", str(make_site()), "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"errors": 0, "warnings": 0, "diagnostics": []}


def test_no_command_prints_help() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "build" in result.stdout
