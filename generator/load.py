"""Read a site project's files into raw sources: text with the path it came from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


def _files(folder: Path, root: Path, suffixes: tuple[str, ...], diagnostics: Diagnostics) -> list[Path]:
    """Return the files under folder with one of the suffixes, sorted; refuse links leaving root."""
    found: list[Path] = []
    if not folder.is_dir():
        return found
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:
            link = Path(dirpath, name)
            if not link.is_symlink():
                continue
            shown = Pos(link.relative_to(root).as_posix())
            if not link.resolve().is_relative_to(real_root):  # os.walk does not enter it; say so rather than skip it
                diagnostics.error(shown, "symbolic link points outside the site project; refused")
            else:
                diagnostics.warning(shown, "symbolic link to a folder is not followed; link the files instead")
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith(suffixes):
                continue
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    diagnostics.error(Pos(rel), "symbolic link points outside the site project; refused")
                    continue
            found.append(path)
    return found


def _read(path: Path, root: Path, diagnostics: Diagnostics) -> RawFile | None:
    rel = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            diagnostics.error(Pos(rel), f"file is {size} bytes; a source file may have at most {MAX_FILE_BYTES} (1 MiB): split it or move data to static/")
            return None
        data = path.read_bytes()
    except OSError as exc:
        diagnostics.error(Pos(rel), f"cannot read file: {exc.strerror}")
        return None
    text = decode(rel, data, diagnostics)
    return None if text is None else RawFile(rel, text)


def load_sources(root: Path, diagnostics: Diagnostics) -> RawSources:
    """Read every source file of the site project at root."""
    content = root / "content"
    if not content.is_dir():
        diagnostics.error(Pos("content"), f"no content/ folder in {root}; is this a site project?")

    def read_all(folder: Path, suffixes: tuple[str, ...]) -> tuple[RawFile, ...]:
        files = (_read(p, root, diagnostics) for p in _files(folder, root, suffixes, diagnostics))
        return tuple(f for f in files if f is not None)

    site_path = content / "site.yaml"
    site = _read(site_path, root, diagnostics) if site_path.is_file() else None
    seeds = tuple(p.relative_to(root / "seeds").as_posix() for p in _files(root / "seeds", root, ("",), diagnostics))
    static = tuple(p.relative_to(root / "static").as_posix() for p in _files(root / "static", root, ("",), diagnostics))
    return RawSources(
        root=root,
        site=site,
        briefings=read_all(content / "briefings", (".md",)),
        actors=read_all(content / "actors", (".yaml", ".yml")),
        experts=read_all(content / "experts", (".yaml", ".yml")),
        seeds=seeds,
        static=static,
    )
