"""Shared fixtures: the example site, tiny site projects, running the CLI, and the --update-golden option."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Callable, NamedTuple

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent


@functools.cache
def benchmark_module(name: str) -> ModuleType:
    """Return benchmarks/NAME.py loaded as a module (benchmarks/ is a folder of scripts, not a package): the synthetic sites, the import scores."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# Property tests (tests/test_property.py): `ci` is derandomized so a failure repeats run
# after run; CI services set CI=true. HYPOTHESIS_PROFILE=dev explores new examples locally.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


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


BASE_SITE: dict[str, str | bytes] = {
    "content/site.yaml": SITE_YAML,
    "content/actors/alice.yaml": ACTOR.format(name="Alice Example"),
    "content/experts/bob.yaml": EXPERT.format(name="Bob Scholar"),
    "content/briefings/first.md": BRIEFING.format(title="First"),
}


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
        base = dict(BASE_SITE)
        base.update(files or {})
        return write_files(tmp_path / name, {k: v for k, v in base.items() if v is not None})

    return make


class CliResult(NamedTuple):
    """What a run of the command line gave: unpack as (exit code, stdout, stderr) or read by name."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> CliResult:
    """Run `python -m generator ARGS` in a subprocess and return (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return CliResult(done.returncode, done.stdout, done.stderr)


def run_main(*args: str) -> CliResult:
    """Run the command line in this process (no interpreter start-up) and return (exit code, stdout, stderr).

    An exception that escapes main() is printed to stderr as the interpreter would, so
    a test that looks for "Traceback" sees it; paths in args should be absolute.
    """
    from generator.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 - reported the way `python -m generator` would show it
            traceback.print_exc(file=err)
            code = 1
    return CliResult(code, out.getvalue(), err.getvalue())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file under folder (hidden ones too) with its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def hear_ctrl_c() -> None:
    """preexec_fn for a child a test sends SIGINT: a test run started in the background of a non-interactive shell ignores SIGINT, and a child inherits that (and Python then installs no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
