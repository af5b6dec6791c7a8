"""Every source problem of the pipeline issue: exact `path:line:col: error: message`, exit 1, no traceback, output untouched."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest
from conftest import BASE_SITE, BRIEFING, run_cli, run_main, snapshot, write_files

from generator.pipeline import BuildConfig, build

FRONT = """---
title: First
date: 2025-01-02
summary: >
  A short summary.
{extra}---

{body}
"""


def briefing(extra: str = "", body: str = "Body text.") -> str:
    return FRONT.format(extra=extra, body=body)


CASES: list[tuple[str, dict[str, str | bytes], list[str]]] = [
    (
        "malformed-yaml",
        {"content/briefings/first.md": "---\ntitle: First\ndate: 2025-01-02\nsummary: [unclosed\n---\n\nBody.\n"},
        ["content/briefings/first.md:5:1: error: malformed YAML: did not find expected ',' or ']' (while parsing a flow sequence)"],
    ),
    (
        "missing-required-field",
        {"content/briefings/first.md": "---\ntitle: First\nsummary: A summary.\n---\n\nBody.\n"},
        ["content/briefings/first.md:2:1: error: missing required field 'date'"],
    ),
    (
        "unknown-key-did-you-mean",
        {"content/briefings/first.md": "---\ntitle: First\ndate: 2025-01-02\nsumary: A summary.\n---\n\nBody.\n"},
        [
            "content/briefings/first.md:2:1: error: missing required field 'summary' (or a '::: summary' block in the body)",
            "content/briefings/first.md:4:1: error: unknown key 'sumary'; did you mean 'summary'?",
        ],
    ),
    (
        "wrong-type-country-no",
        {"content/actors/alice.yaml": "name: Alice Example\nkind: person\ncountry: NO\n"},
        ['content/actors/alice.yaml:3:10: error: country: expected text, but YAML reads \'NO\' as a boolean; put it in quotes: "NO"'],
    ),
    (
        "wrong-type-list-for-text",
        {"content/briefings/first.md": briefing("watch: just text\n")},
        ["content/briefings/first.md:6:8: error: watch: expected a list, got 'just text'"],
    ),
    (
        "unknown-actor-in-front-matter",
        {"content/briefings/first.md": briefing("actors:\n  alise:\n    stance: neutral\n")},
        ["content/briefings/first.md:7:3: error: unknown actor id 'alise': no file alise.yaml in content/actors/; did you mean 'alice'?"],
    ),
    (
        "unknown-expert-in-front-matter",
        {"content/briefings/first.md": briefing("experts:\n  carol:\n    gist: Something\n")},
        ["content/briefings/first.md:7:3: error: unknown expert id 'carol': no file carol.yaml in content/experts/"],
    ),
    (
        "unknown-id-in-mention",
        {"content/briefings/first.md": briefing(body="Hello [[alicee|Alice]] there.")},
        ["content/briefings/first.md:8:9: error: unknown actor or expert id 'alicee': no file alicee.yaml in content/actors/ or content/experts/; did you mean 'alice'?"],
    ),
    (
        "unknown-expert-in-view",
        {"content/briefings/first.md": briefing(body="::: view bobb\nA view.\n:::")},
        ["content/briefings/first.md:8:10: error: unknown expert id 'bobb': no file bobb.yaml in content/experts/; did you mean 'bob'?"],
    ),
    (
        "actor-given-a-view",
        {"content/briefings/first.md": briefing(body="::: view alice\nA view.\n:::")},
        ["content/briefings/first.md:8:10: error: 'alice' is an actor, not an expert; only experts give views"],
    ),
    (
        "invalid-date",
        {"content/briefings/first.md": "---\ntitle: First\ndate: 1 March 2025\nsummary: A summary.\n---\n\nBody.\n"},
        ["content/briefings/first.md:3:7: error: date: expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got '1 March 2025'"],
    ),
    (
        "impossible-date",
        {"content/briefings/first.md": "---\ntitle: First\ndate: 2024-02-30\nsummary: A summary.\n---\n\nBody.\n"},
        ["content/briefings/first.md:3:7: error: date: impossible date '2024-02-30': February 2024 has no day 30"],
    ),
    (
        "duplicate-slug-across-folders",
        {"content/briefings/2024/first.md": BRIEFING.format(title="Again")},
        ["content/briefings/first.md:1:1: error: duplicate slug 'first': content/briefings/2024/first.md has the same file name; slugs must be unique across sub-folders"],
    ),
    (
        "id-shared-by-actor-and-expert",
        {"content/experts/alice.yaml": "name: Alice Scholar\n"},
        ["content/experts/alice.yaml:1:1: error: id 'alice' is used by content/actors/alice.yaml too; actors and experts share one set of ids"],
    ),
    (
        "unclosed-block",
        {"content/briefings/first.md": briefing(body="::: view bob\nA view that never ends.")},
        ["content/briefings/first.md:8:1: error: '::: view' block is not closed; end it with a line ':::'"],
    ),
    (
        "id-outside-pattern",
        {"content/actors/Alice_B.yaml": "name: Alice B\nkind: person\n"},
        ["content/actors/Alice_B.yaml:1:1: error: file name 'Alice_B' is not a valid id: use lower-case letters and digits joined by single hyphens"],
    ),
    (
        "non-utf8-file",
        {"content/briefings/first.md": briefing(body="Caf\xe9").encode("latin-1")},
        ["content/briefings/first.md:8:4: error: file is not valid UTF-8 (byte 0xe9); save it as UTF-8"],
    ),
]


@pytest.fixture(scope="module")
def good_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the output of one good build of the small site, for each case to copy (one build, not one per case)."""
    root = write_files(tmp_path_factory.mktemp("good"), BASE_SITE)
    assert not build(BuildConfig(root, root / "site")).failed
    return root / "site"


@pytest.mark.parametrize("name,files,expected", CASES, ids=[c[0] for c in CASES])
def test_error_is_positioned_and_nothing_is_written(name: str, files: dict[str, str | bytes], expected: list[str], make_site: Callable[..., Path], good_output: Path) -> None:
    root = make_site()
    out = root / "site"
    shutil.copytree(good_output, out)  # the site as a good build left it
    before = snapshot(out)

    make_site(files)
    result = run_main("build", "--source", str(root), "--output", str(out))

    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert lines == expected
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "nothing was written" in result.stderr
    assert snapshot(out) == before
    assert not [p for p in root.iterdir() if "staging" in p.name]


def test_all_problems_are_reported_at_once_in_file_order(make_site: Callable[..., Path]) -> None:
    root = make_site(
        {
            "content/actors/alice.yaml": "name: Alice Example\nkind: robot\n",
            "content/briefings/first.md": briefing("draft: maybe\n", "See [[nobody]]."),
        }
    )
    expected = [
        "content/actors/alice.yaml:2:7: error: kind: expected one of person, state, organisation, got 'robot'",
        "content/briefings/first.md:6:8: error: draft: expected true or false, got 'maybe'",
        "content/briefings/first.md:9:7: error: unknown actor or expert id 'nobody': no file nobody.yaml in content/actors/ or content/experts/",
    ]
    result = run_cli("check", "--source", str(root))
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if ": error: " in line] == expected
    assert result.stderr.splitlines()[-1] == "check: 3 error(s), 0 warning(s)"
    # The same through `python -m generator build` in a real process: exit 1, no traceback, nothing written.
    built = run_cli("build", cwd=root)
    assert (built.returncode, built.stdout) == (1, "")
    assert built.stderr.splitlines() == [*expected, "build failed: 3 error(s); nothing was written to site"]
    assert not (root / "site").exists()


def test_check_json_format_lists_the_same_problems(make_site: Callable[..., Path]) -> None:
    import json

    root = make_site({"content/briefings/first.md": briefing(body="See [[nobody]].")})
    result = run_cli("check", "--source", str(root), "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["errors"] == 1
    assert doc["diagnostics"] == [
        {
            "path": "content/briefings/first.md",
            "line": 8,
            "column": 7,
            "severity": "error",
            "message": "unknown actor or expert id 'nobody': no file nobody.yaml in content/actors/ or content/experts/",
        }
    ]
