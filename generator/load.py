"""Read a site project's files into raw sources: text with the path it came from."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import SETTLE_NS
from .diagnostics import Diagnostics
from .model import Pos

MAX_FILE_BYTES = 1024 * 1024  # one source file (site.yaml, a registry entry, a briefing): see docs/safety.md


@dataclass(frozen=True)
class RawFile:
    """One source file's text (UTF-8 decoded, BOM removed, line endings made \\n)."""

    path: str  # relative to the site project, with forward slashes
    text: str


@dataclass(frozen=True)
class RawSources:
    root: Path
    site: RawFile | None
    briefings: tuple[RawFile, ...]
    actors: tuple[RawFile, ...]
    experts: tuple[RawFile, ...]
    seeds: tuple[str, ...]  # file names under seeds/
    static: tuple[str, ...]  # paths under static/


def decode(path: str, data: bytes, diagnostics: Diagnostics) -> str | None:
    """Return the text of a UTF-8 file, or report where it stops being UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        diagnostics.error(
            Pos(path, line, col),
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
        )
        return None
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        diagnostics.error(Pos(path, line, 1), "file contains a NUL character; is it a text file?")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _files(folder: Path, root: Path, suffixes: tuple[str, ...], diagnostics: Diagnostics) -> list[tuple[str, str]]:
    """Return (path, path relative to root) of the files under folder with one of the suffixes, in os.walk's sorted order; refuse links leaving root."""
    found: list[tuple[str, str]] = []
    if not folder.is_dir():
        return found
    real_root = root.resolve()

    def inside(path: str) -> bool:
        return Path(path).resolve().is_relative_to(real_root)

    def visit(path: str, rel: str) -> None:
        try:
            with os.scandir(path) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            return  # as os.walk does: a folder that cannot be read is passed over
        folders, files = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (folders if is_dir else files).append(entry)
        for entry in folders:
            if not entry.is_symlink():
                continue
            shown = Pos(rel + entry.name)
            if not inside(entry.path):  # never entered; say so rather than skip it
                diagnostics.error(shown, "symbolic link points outside the site project; refused")
            else:
                diagnostics.warning(shown, "symbolic link to a folder is not followed; link the files instead")
        for entry in files:
            if not entry.name.endswith(suffixes):
                continue
            if entry.is_symlink() and not inside(entry.path):
                diagnostics.error(Pos(rel + entry.name), "symbolic link points outside the site project; refused")
                continue
            found.append((entry.path, rel + entry.name))
        for entry in folders:
            if not entry.is_symlink():
                visit(entry.path, rel + entry.name + "/")

    visit(str(folder), folder.relative_to(root).as_posix() + "/")
    return found


LoadMemo = dict  # path -> (its stat when read, the RawFile read): what `serve` need not read again


def source_path(root: str, rel: str) -> str:
    """Return the path of a file of the project at root, as str(root / rel) spells it (without pathlib's cost, paid per file per rebuild)."""
    if os.sep != "/" or root == ".":
        return str(Path(root) / rel)
    return f"{root.rstrip('/')}/{rel}"


def read_file(path: str, rel: str, diagnostics: Diagnostics, memo: LoadMemo, settled: int | None = None) -> RawFile | None:
    """Return the decoded file at path, from the memo if its stat is the one it had when read and long settled (before `settled`, ns)."""
    settled = time.time_ns() - SETTLE_NS if settled is None else settled
    try:
        st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            diagnostics.error(Pos(rel), f"file is {st.st_size} bytes; a source file may have at most {MAX_FILE_BYTES} (1 MiB): split it or move data to static/")
            return None
        key = (st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)
        hit = memo.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        diagnostics.error(Pos(rel), f"cannot read file: {exc.strerror}")
        return None
    text = decode(rel, data, diagnostics)
    if text is None:
        return None
    raw = RawFile(rel, text)
    if st.st_ctime_ns < settled:  # a fresher stat might not change at the next write in the same clock tick (cache.py)
        memo[path] = (key, raw)
    return raw


def load_sources(root: Path, diagnostics: Diagnostics, memo: LoadMemo | None = None) -> RawSources:
    """Read every source file of the site project at root.

    With a memo (kept by `serve` between rebuilds), a file whose stat (size, inode,
    modification and status-change time) is the one it had when it was read is not read
    again; the memo afterwards holds only current files. An edit always changes the
    ctime, even one that keeps the size and sets the modification time back; a file
    changed in the last SETTLE_NS is read again every time, as the clock that stamps it
    is coarse.
    """
    memo = {} if memo is None else memo
    settled = time.time_ns() - SETTLE_NS  # before any stat
    content = root / "content"
    if not content.is_dir():
        diagnostics.error(Pos("content"), f"no content/ folder in {root}; is this a site project?")

    def read_all(folder: Path, suffixes: tuple[str, ...]) -> tuple[RawFile, ...]:
        files = (read_file(path, rel, diagnostics, memo, settled) for path, rel in _files(folder, root, suffixes, diagnostics))
        return tuple(f for f in files if f is not None)

    site_path = content / "site.yaml"
    site = read_file(str(site_path), "content/site.yaml", diagnostics, memo, settled) if site_path.is_file() else None
    seeds = tuple(rel.removeprefix("seeds/") for _, rel in _files(root / "seeds", root, ("",), diagnostics))
    static = tuple(rel.removeprefix("static/") for _, rel in _files(root / "static", root, ("",), diagnostics))
    raw = RawSources(
        root=root,
        site=site,
        briefings=read_all(content / "briefings", (".md",)),
        actors=read_all(content / "actors", (".yaml", ".yml")),
        experts=read_all(content / "experts", (".yaml", ".yml")),
        seeds=seeds,
        static=static,
    )
    base = str(root)
    current = {str(site_path)} | {source_path(base, f.path) for f in (*raw.briefings, *raw.actors, *raw.experts)} | {source_path(base, "seeds/" + name) for name in seeds}  # seeds: read by provenance
    for gone in [p for p in memo if p not in current]:
        del memo[gone]
    return raw
