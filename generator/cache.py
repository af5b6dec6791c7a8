"""Remember each written build by a fingerprint of everything it read, so a build of unchanged sources does nothing.

The fingerprint hashes the generator's version and code, the build's options, and the
bytes of every file under content/, seeds/, static/ and themes/ of the site, and of the
themes that ship with the package. A successful build that wrote its output records the
fingerprint, its warnings and the size and modification time of every file it left in
the output folder, in `.briefing-cache/builds/`. The next build with the same fingerprint,
whose output files all still stand as recorded, repeats the warnings and stops there.
Anything else (an edited, added or removed source, another option, a touched output
file, a newer generator) is a full build. This module imports nothing heavy, so the
check runs before the pipeline's libraries load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import __version__
from .config import BuildConfig
from .diagnostics import Diagnostic

FOLDERS = ("content", "seeds", "static", "themes")
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Record:
    """What a written build left: its fingerprint, warnings, briefing count and output files (path -> [size, mtime_ns])."""

    fingerprint: str
    briefings: int
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, list[int]]


def _files(folder: Path) -> Iterable[Path]:
    """Yield the files under folder in a stable order, hidden ones and symlinked folders left out as load does."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath, name)


def fingerprint(config: BuildConfig) -> str:
    """Return a digest of the generator, the build's options and every file it may read."""
    source = config.source
    options = dataclasses.replace(config, source=config.source.resolve(), output=config.output.resolve())
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{__version__}\0{options!r}\0".encode())
    for path in sorted(PACKAGE.rglob("*.py")):  # an edited generator is another generator
        st = path.stat()
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    roots = [source / name for name in FOLDERS] + [PACKAGE / "themes", PACKAGE.parent / "themes"]
    for root in roots:
        h.update(f"\0root\0{root}\0".encode())
        if not root.is_dir():
            continue
        for path in _files(root):
            h.update(f"{path.relative_to(root).as_posix()}\0".encode())
            try:
                h.update(hashlib.blake2b(path.read_bytes(), digest_size=20).digest())
            except OSError:
                h.update(b"\0unreadable\0")
    return h.hexdigest()


def _record_path(source: Path, output: Path) -> Path:
    key = hashlib.blake2b(str(output.resolve()).encode(), digest_size=10).hexdigest()
    return source / ".briefing-cache" / "builds" / f"{key}.json"


def _stat(output: Path, paths: Iterable[str]) -> dict[str, list[int]] | None:
    """Return the size and modification time of each output file, or None if one is missing or not a plain file."""
    found = {}
    for rel in paths:
        try:
            st = os.lstat(output / rel)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        found[rel] = [st.st_size, st.st_mtime_ns]
    return found


def lookup(source: Path, output: Path, print_: str) -> Record | None:
    """Return the record of the last build if it had this fingerprint and its output stands untouched."""
    path = _record_path(source, output)
    try:
        data = json.loads(path.read_text("utf-8"))
        record = Record(data["fingerprint"], data["briefings"], tuple(Diagnostic(**d) for d in data["diagnostics"]), data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.fingerprint != print_ or _stat(output, record.files) != record.files:
        return None
    return record


def save(source: Path, output: Path, print_: str, briefings: int, diagnostics: Iterable[Diagnostic], paths: Iterable[str]) -> None:
    """Record a written build; a record that cannot be written only costs the next build its shortcut."""
    files = _stat(output, paths)
    path = _record_path(source, output)
    try:
        if files is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"fingerprint": print_, "briefings": briefings, "diagnostics": [d.__dict__ for d in diagnostics], "files": files}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def forget(source: Path, output: Path) -> None:
    """Drop the record for output (a build that failed or changed nothing recordable)."""
    try:
        _record_path(source, output).unlink(missing_ok=True)
    except OSError:
        pass
