"""Write the rendered site: check the output folder, stage the changed files beside it, then apply them under a journal.

The output folder holds a manifest (`.briefing-manifest.json`) of the files the generator
wrote; later builds replace or delete only those. While files are applied, a journal
(`.briefing-journal.json`) says what is under way, so that a run interrupted there is
finished by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostics
from .model import Pos
from .pages import Output

MANIFEST = ".briefing-manifest.json"
JOURNAL = ".briefing-journal.json"


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    deleted: int
    kept: tuple[str, ...]  # files in the output the generator did not write


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_output(output: Path, source: Path, diagnostics: Diagnostics) -> None:
    """Refuse an output folder where a build could destroy sources or files it does not own."""
    out = output.resolve()
    src = source.resolve()
    shown = str(output)
    if out == Path(out.anchor) or out == Path.home().resolve():
        diagnostics.error(Pos(shown), "refusing to build into the file-system root or the home folder; choose an empty folder such as site/")
        return
    if out == src or src.is_relative_to(out):
        diagnostics.error(Pos(shown), "refusing to build into the source folder or a folder that contains it; choose a folder such as site/")
        return
    for name in ("content", "themes", "seeds", "static"):
        if out.is_relative_to(src / name):
            diagnostics.error(Pos(shown), f"refusing to build inside {name}/; choose a folder outside the sources, such as site/")
            return
    if output.is_symlink() and not (out / MANIFEST).is_file():
        diagnostics.error(Pos(shown), "the output folder is a symbolic link to a folder the generator did not make; refusing to write through it")
        return
    if out.exists() and not out.is_dir():
        diagnostics.error(Pos(shown), "the output path exists and is not a folder")
        return
    if out.is_dir() and not (out / MANIFEST).is_file():
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(".")]
        if foreign:
            diagnostics.error(Pos(shown), f"the output folder is not empty and was not made by briefing (it holds {', '.join(sorted(foreign)[:3])}); choose an empty folder")


def read_manifest(output: Path) -> dict[str, str]:
    try:
        return dict(json.loads((output / MANIFEST).read_text("utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def recover(output: Path) -> None:
    """Finish an apply that a crash interrupted: its journal lists the staged files still to move."""
    journal = output / JOURNAL
    if not journal.is_file():
        return
    try:
        plan = json.loads(journal.read_text("utf-8"))
    except ValueError:
        journal.unlink()
        return
    staging = Path(plan["staging"])
    for rel in plan["write"]:
        staged = staging / rel
        if staged.is_file():
            (output / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, output / rel)
    for rel in plan["delete"]:
        _remove(output, rel)
    _save_manifest(output, plan["manifest"])
    shutil.rmtree(staging, ignore_errors=True)
    journal.unlink()


def write_site(outputs: list[Output], output: Path) -> WriteReport:
    """Apply the outputs to the output folder: stage changed files beside it, then move them in."""
    output.mkdir(parents=True, exist_ok=True)
    recover(output)
    old = read_manifest(output)
    new = {o.path: digest(o.data) for o in outputs}
    changed = [o for o in outputs if old.get(o.path) != new[o.path] or not (output / o.path).is_file()]
    stale = sorted(set(old) - set(new))
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.staging-", dir=output.parent))
    try:
        for o in changed:
            target = staging / o.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(o.data)
        plan = {"staging": str(staging), "write": [o.path for o in changed], "delete": stale, "manifest": dict(sorted(new.items()))}
        _atomic_write(output / JOURNAL, json.dumps(plan).encode())
        for o in changed:
            (output / o.path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / o.path, output / o.path)
        for rel in stale:
            _remove(output, rel)
        _save_manifest(output, new)
        (output / JOURNAL).unlink()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    kept = tuple(
        sorted(
            p.relative_to(output).as_posix()
            for p in output.rglob("*")
            if p.is_file() and p.relative_to(output).as_posix() not in new and not any(part.startswith(".") for part in p.relative_to(output).parts)
        )
    )
    return WriteReport(len(changed), len(outputs) - len(changed), len(stale), kept)


def _remove(output: Path, rel: str) -> None:
    """Delete a file the generator wrote, never following a link; prune folders it leaves empty."""
    path = output / rel
    if path.is_symlink() or path.is_file():
        path.unlink()
    parent = path.parent
    while parent != output and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _save_manifest(output: Path, files: dict[str, str]) -> None:
    doc = {"generator": "briefing", "files": dict(sorted(files.items()))}
    _atomic_write(output / MANIFEST, (json.dumps(doc, indent=1) + "\n").encode())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
