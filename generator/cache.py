"""Remember each written build by a fingerprint of everything it read, so a build of unchanged sources does nothing.

The fingerprint covers the generator's version and code, the build's options, and every
file under content/, seeds/, static/ and themes/ of the site and the themes that ship
with the package. A file counts by its stat, not its bytes: its path, size, inode,
modification time and status-change time (st_ctime_ns). Tools can set a modification
time back (touch -d, rsync -t, os.utime), but nothing but the kernel sets the ctime: any
write, rename or utime makes it the current time, so an edit that keeps the size and the
mtime still changes the fingerprint. Adding, removing or renaming a file changes the
listing. One gap remains, the one git calls racy: file systems stamp times at a coarse
clock tick, so a file rewritten again, at the same size, within the tick in which the
fingerprint read its stat would look unchanged. A file whose ctime is within SETTLE_NS
of the moment the fingerprint is taken is therefore vouched for by the hash of its
bytes too: such files are listed, with that hash, after the digest (the fingerprint is
text: the digest, then one "hash path" line per fresh file), and the next lookup hashes
them again instead of trusting their stat. Long-settled files are never read.

A successful build that wrote its output records the fingerprint, its warnings and the
size and modification time of every file it left in the output folder, in
`.briefing-cache/builds/`. The next build whose digest is the same, whose fresh files
still hash the same and whose output files all still stand as recorded, repeats the
warnings and stops there. Anything else (an edited, added or removed source, another
option, a touched output file, a newer generator) is a full build. This module imports
nothing heavy, so the check runs before the pipeline's libraries load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import __version__
from .config import BuildConfig
from .diagnostics import Diagnostic

FOLDERS = ("content", "seeds", "static", "themes")
PACKAGE = Path(__file__).resolve().parent
SETTLE_NS = 2_000_000_000  # a file changed this recently is checked by its bytes, not only its stat (far above any clock tick)


@dataclass(frozen=True)
class Record:
    """What a written build left: its fingerprint, warnings, briefing count and output files (path -> [size, mtime_ns])."""

    fingerprint: str
    briefings: int
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, list[int]]


@dataclass(frozen=True)
class Hit:
    """A recorded build that still holds, and the files in its output folder it did not write."""

    record: Record
    others: tuple[str, ...]  # output paths not in record.files, hidden ones left out


def folder_entries(path: str) -> list[tuple[os.DirEntry[str], bool]]:
    """Return a folder's entries sorted by name, hidden ones left out, each with whether it is a folder (raise OSError if it cannot be read)."""
    with os.scandir(path) as it:
        entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    found = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        found.append((entry, is_dir))
    return found


def _files(folder: str, links_are_files: bool = False) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Yield (path relative to folder, entry) for the files under folder, sorted, hidden ones left out.

    A linked folder is never entered: as load does, it is passed over, or with
    links_are_files it is listed as a file, as the writer lists what it did not write.
    """
    stack = [("", folder)]
    while stack:
        prefix, path = stack.pop()
        try:
            entries = folder_entries(path)
        except OSError:
            continue
        folders = []
        for entry, is_dir in entries:
            if is_dir and not entry.is_symlink():
                folders.append((prefix + entry.name + "/", entry.path))
            elif links_are_files or not is_dir:
                yield prefix + entry.name, entry
        stack.extend(reversed(folders))


def _digest(path: str) -> str:
    """Return the hash of a file's bytes, or a mark that it could not be read."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=20)).hexdigest()
    except OSError:
        return "unreadable"


def fingerprint(config: BuildConfig) -> str:
    """Return the fingerprint of the generator, the build's options and every file it may read (see the module docstring)."""
    source = config.source
    options = dataclasses.replace(config, source=config.source.resolve(), output=config.output.resolve())
    settled = time.time_ns() - SETTLE_NS  # taken before any stat, so a file changed after it is fresh
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{__version__}\0{options!r}\0".encode())
    fresh: list[str] = []

    def add(rel: str, entry: os.DirEntry[str]) -> None:
        try:
            st = entry.stat()  # follows a linked file, as reading it does
        except OSError:
            h.update(f"{rel}\0unreadable\0".encode())
            return
        h.update(f"{rel}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0".encode())
        if st.st_ctime_ns >= settled:
            fresh.append(f"{_digest(entry.path)} {entry.path}")

    for rel, entry in _files(str(PACKAGE)):  # an edited generator is another generator
        if rel.endswith(".py"):
            add(rel, entry)
    for root in [source / name for name in FOLDERS] + [PACKAGE / "themes", PACKAGE.parent / "themes"]:
        h.update(f"\0root\0{root}\0".encode())
        for rel, entry in _files(str(root)):
            add(rel, entry)
    return "\n".join([h.hexdigest(), *fresh])


def _record_path(source: Path, output: Path) -> Path:
    key = hashlib.blake2b(str(output.resolve()).encode(), digest_size=10).hexdigest()
    return source / ".briefing-cache" / "builds" / f"{key}.json"


def _stat(output: Path, paths: Iterable[str]) -> dict[str, list[int]] | None:
    """Return the size and modification time of each output file, or None if one is missing or not a plain file."""
    found = {}
    for rel in paths:
        got = _lstat(os.path.join(output, rel))
        if got is None:
            return None
        found[rel] = got
    return found


def _lstat(path: str | os.DirEntry[str]) -> list[int] | None:
    """Return a plain file's [size, mtime_ns] without following a link, or None."""
    try:
        st = path.stat(follow_symlinks=False) if isinstance(path, os.DirEntry) else os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns] if stat.S_ISREG(st.st_mode) else None


def lookup(source: Path, output: Path, print_: str) -> Hit | None:
    """Return the last build if its fingerprint matches print_ and its output stands untouched, with the output's other files.

    Fresh files the record lists are hashed again; those that have settled since are
    dropped from the record, their stat now enough, so the next lookup reads none.
    """
    path = _record_path(source, output)
    try:
        data = json.loads(path.read_text("utf-8"))
        record = Record(data["fingerprint"], data["briefings"], tuple(Diagnostic(**d) for d in data["diagnostics"]), data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    digest, *fresh = record.fingerprint.split("\n")
    if digest != print_.partition("\n")[0]:
        return None
    found = {rel: _lstat(entry) for rel, entry in _files(str(output), links_are_files=True)}  # one walk: the recorded files and the others
    for rel, want in record.files.items():
        got = found.pop(rel) if rel in found else _lstat(os.path.join(output, rel))  # a hidden path is not walked
        if got != want:
            return None
    settled = time.time_ns() - SETTLE_NS
    young = []
    for line in fresh:  # stats too recent to vouch for the bytes: hash them again
        hashed, _, source_path = line.partition(" ")
        try:
            if _digest(source_path) != hashed:
                return None
            if os.stat(source_path).st_ctime_ns >= settled:
                young.append(line)
        except OSError:
            return None
    if len(young) < len(fresh):
        data["fingerprint"] = "\n".join([digest, *young])
        _write(path, data)
    return Hit(record, tuple(found))


def save(source: Path, output: Path, print_: str, briefings: int, diagnostics: Iterable[Diagnostic], paths: Iterable[str]) -> None:
    """Record a written build; a record that cannot be written only costs the next build its shortcut."""
    files = _stat(output, paths)
    path = _record_path(source, output)
    if files is None:
        forget(source, output)
        return
    _write(path, {"fingerprint": print_, "briefings": briefings, "diagnostics": [d.__dict__ for d in diagnostics], "files": files})


def _write(path: Path, data: dict[str, object]) -> None:
    """Write a record whole or not at all; failing only costs the next build its shortcut."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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
