"""Shared fixtures: the example site, tiny site projects, running the CLI, and the --update-golden option."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite the golden files under tests/golden/ from a fresh build")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """Return a copy of the repository's example site project (content/ and seeds/)."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "seeds", root / "seeds")
    if (REPO / "static").is_dir():
        shutil.copytree(REPO / "static", root / "static")
    return root


SITE_YAML = "title: Test site\nbase_url: https://example.org/\n"
ACTOR = "name: {name}\nkind: person\nrole: Leader\ncountry: Somewhere\n"
EXPERT = "name: {name}\ntitle: Professor\naffiliation: A University\n"
BRIEFING = """---
title: {title}
date: 2025-01-02
summary: >
  A short summary.
---

Body text.
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a site project from a mapping of relative paths to text (or bytes)."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that writes a small valid site project, with files added or replaced."""

    def make(files: dict[str, str | bytes] | None = None, name: str = "project") -> Path:
        base: dict[str, str | bytes] = {
            "content/site.yaml": SITE_YAML,
            "content/actors/alice.yaml": ACTOR.format(name="Alice Example"),
            "content/experts/bob.yaml": EXPERT.format(name="Bob Scholar"),
            "content/briefings/first.md": BRIEFING.format(title="First"),
        }
        base.update(files or {})
        return write_files(tmp_path / name, {k: v for k, v in base.items() if v is not None})

    return make


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m generator ARGS` in a subprocess and return its result."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file under folder (hidden ones too) with its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
