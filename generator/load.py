"""Read a site project's files into raw sources: text with the path it came from."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .cache import SETTLE_NS, folder_entries
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


@dataclass(frozen=True)
class Listing:
    """One folder's entries as a scan saw them, sorted by name (dotfiles left out): (name, is a folder, is a symbolic link)."""

    entries: tuple[tuple[str, bool, bool], ...]
    made: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, str, bool]]] = field(default_factory=dict, compare=False, repr=False)  # _files' per folder: made once per listing
    read: dict[tuple[str, ...], tuple[tuple[RawFile, ...], tuple[str, ...]]] = field(default_factory=dict, compare=False, repr=False)  # load_sources' files read here, and their paths, while the watcher vouches for the folder

    @cached_property
    def folders(self) -> tuple[tuple[str, bool], ...]:
        """(name, is a symbolic link) of the folders listed."""
        return tuple((name, is_link) for name, is_dir, is_link in self.entries if is_dir)

    @cached_property
    def has_links(self) -> bool:
        """Whether a file listed is a symbolic link (its stat is read at every load: nobody watches its target)."""
        return any(is_link and not is_dir for _, is_dir, is_link in self.entries)

    def files(self, path: str, rel: str, suffixes: tuple[str, ...]) -> list[tuple[str, str, bool]]:
        """Return (path, path relative to the project, is a symbolic link) of the files listed with one of the suffixes; made once for a listing (a rebuild reuses unchanged folders' listings)."""
        key = (path, rel, suffixes)
        found = self.made.get(key)
        if found is None:
            found = self.made[key] = [(os.path.join(path, name), rel + name, is_link) for name, is_dir, is_link in self.entries if not is_dir and name.endswith(suffixes)]
        return found


class LoadMemo(dict):  # type: ignore[type-arg]
    """What `serve` need not read again: path -> (its stat when read, the RawFile read); and each folder's last listing (`folders`)."""

    def __init__(self) -> None:
        super().__init__()
        self.folders: dict[str, Listing] = {}  # folder path -> its entries
        self.links: set[str] = set()  # paths of files that are symbolic links: their stat is always read (nobody watches their targets)
        self.seeds: tuple[frozenset[str], tuple[str, ...], dict[str, str]] | None = None  # the names asked for, the seed files there were, and the texts read (provenance.read_seeds)
        self.unsettled: dict[str, RawFile] = {}  # path -> the file read while its stat was too fresh to trust: read again next time, and handed back if the text is the same


Touched = frozenset[str] | None  # the paths (relative to the project, "/"-separated) the watcher saw change since the memo was filled; None: unknown
EVERYTHING = "*"  # a touched path that stands for every path (the watcher lost events)


def _touches(touched: frozenset[str], rel: str) -> bool:
    """Return whether a touched path is rel itself or a folder above it."""
    if rel in touched or EVERYTHING in touched:
        return True
    at = rel.find("/")
    while at >= 0:
        if rel[:at] in touched:
            return True
        at = rel.find("/", at + 1)
    return False


def _vouched(touched: Touched, folder: str) -> bool:
    """Return whether the watcher saw no change in a folder or above it: no path it reported is the folder, above it, or in it."""
    return touched is not None and not _touches(touched, folder) and not any(os.path.dirname(t) == folder for t in touched)


def _listing(path: str, memo: LoadMemo | None, vouched: bool) -> Listing | None:
    """Return a folder's entries, from the memo when the watcher vouches for the folder (None: it cannot be read)."""
    if memo is not None and vouched and path in memo.folders:
        return memo.folders[path]
    try:
        entries = tuple((e.name, is_dir, e.is_symlink()) for e, is_dir in folder_entries(path))
    except OSError:
        if memo is not None:
            memo.folders.pop(path, None)
        return None  # as os.walk does: a folder that cannot be read is passed over
    if memo is None:
        return Listing(entries)
    old = memo.folders.get(path)
    listing = memo.folders[path] = old if old is not None and old.entries == entries else Listing(entries)  # an edit in place lists the same names
    return listing


Chunk = tuple[Listing | None, list[tuple[str, str, bool]]]  # one folder's files; with its listing when the watcher vouches for every one of them


def _files(folder: Path, root: Path, suffixes: tuple[str, ...], diagnostics: Diagnostics, memo: LoadMemo | None = None, touched: Touched = None) -> list[tuple[str, str, bool]]:
    """Return (path, path relative to root, whether its stat must be read) of the files under folder with one of the suffixes, in os.walk's sorted order; refuse links leaving root."""
    return [file for _, files in _chunks(folder, root, suffixes, diagnostics, memo, touched) for file in files]


def _chunks(folder: Path, root: Path, suffixes: tuple[str, ...], diagnostics: Diagnostics, memo: LoadMemo | None = None, touched: Touched = None) -> list[Chunk]:
    """Return _files' answer folder by folder.

    Given the memo and the paths the watcher saw change, a folder with no change in it
    or above it is not listed again, and a file that did not change (and is no symbolic
    link, whose target nobody watches) need not have its stat read. A folder none of whose
    files need it comes with its listing, which keeps what was read there
    (`Listing.read`, emptied whenever the folder is not vouched for).
    """
    found: list[Chunk] = []
    if not folder.is_dir():
        return found
    real_root = root.resolve()

    def inside(path: str) -> bool:
        return Path(path).resolve().is_relative_to(real_root)

    def visit(path: str, rel: str) -> None:
        folder = rel.rstrip("/")
        vouched = _vouched(touched, folder)
        listing = _listing(path, memo, vouched)
        if listing is None:
            return
        every = touched is None or _touches(touched, folder)  # no file here is vouched for
        for name, is_link in listing.folders:
            if not is_link:
                continue
            shown = Pos(rel + name)
            if not inside(os.path.join(path, name)):  # never entered; say so rather than skip it
                diagnostics.error(shown, "symbolic link points outside the site project; refused")
            else:
                diagnostics.warning(shown, "symbolic link to a folder is not followed; link the files instead")
        files = listing.files(path, rel, suffixes)
        if memo is not None and vouched and not listing.has_links:
            found.append((listing, files))  # (path, rel, is a link: False) is (path, rel, must be checked: False)
        else:
            listing.read.clear()
            checked: list[tuple[str, str, bool]] = []
            for file, shown, is_link in files:
                if is_link:
                    if not inside(file):
                        diagnostics.error(Pos(shown), "symbolic link points outside the site project; refused")
                        continue
                    if memo is not None:
                        memo.links.add(file)
                elif memo is not None and memo.links:
                    memo.links.discard(file)
                checked.append((file, shown, every or shown in touched))  # type: ignore[operator]  (a link is checked anyway: read_file)
            found.append((None, checked))
        for name, is_link in listing.folders:
            if not is_link:
                visit(os.path.join(path, name), rel + name + "/")

    visit(str(folder), folder.relative_to(root).as_posix() + "/")
    return found


def source_path(root: str, rel: str) -> str:
    """Return the path of a file of the project at root, as str(root / rel) spells it (without pathlib's cost, paid per file per rebuild)."""
    if os.sep != "/" or root == ".":
        return str(Path(root) / rel)
    return f"{root.rstrip('/')}/{rel}"


def read_file(path: str, rel: str, diagnostics: Diagnostics, memo: LoadMemo, settled: int | None = None, check: bool = True) -> RawFile | None:
    """Return the decoded file at path, from the memo if its stat is the one it had when read and long settled (before `settled`, ns).

    With check False (the watcher saw no change to the file), a file in the memo is taken
    from it without reading its stat.
    """
    if not check and (hit := memo.get(path)) is not None and path not in memo.links:
        return hit[1]  # type: ignore[no-any-return]
    settled = time.time_ns() - SETTLE_NS if settled is None else settled
    try:
        st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            diagnostics.error(Pos(rel), f"file is {st.st_size} bytes; a source file may have at most {MAX_FILE_BYTES} (1 MiB): split it or move data to static/")
            memo.pop(path, None)  # the next rebuild must report it again, not take its last good text
            memo.unsettled.pop(path, None)
            return None
        key = (st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)
        hit = memo.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        diagnostics.error(Pos(rel), f"cannot read file: {exc.strerror}")
        memo.pop(path, None)
        memo.unsettled.pop(path, None)
        return None
    text = decode(rel, data, diagnostics)
    earlier = hit[1] if hit is not None else memo.unsettled.get(path)
    if text is None:
        memo.pop(path, None)
        memo.unsettled.pop(path, None)
        return None
    raw = earlier if earlier is not None and earlier.text == text and earlier.path == rel else RawFile(rel, text)  # the same text as read before: the same object, which the later stages' memos recognise
    if st.st_ctime_ns < settled:  # a fresher stat might not change at the next write in the same clock tick (cache.py)
        memo[path] = (key, raw)
        memo.unsettled.pop(path, None)
    else:
        memo.pop(path, None)  # nor may an older entry stand for it
        memo.unsettled[path] = raw
    return raw


def load_sources(root: Path, diagnostics: Diagnostics, memo: LoadMemo | None = None, touched: Touched = None) -> RawSources:
    """Read every source file of the site project at root.

    With a memo (kept by `serve` between rebuilds), a file whose stat (size, inode,
    modification and status-change time) is the one it had when it was read is not read
    again; the memo afterwards holds only current files. An edit always changes the
    ctime, even one that keeps the size and sets the modification time back; a file
    changed in the last SETTLE_NS is read again every time, as the clock that stamps it
    is coarse. Given also the paths the watcher saw change since (touched), only those
    files' stats are read, and only the folders holding them listed (_files).
    """
    memo = LoadMemo() if memo is None else memo
    settled = time.time_ns() - SETTLE_NS  # before any stat
    content = root / "content"
    if not content.is_dir():
        diagnostics.error(Pos("content"), f"no content/ folder in {root}; is this a site project?")

    current: set[str] = set()  # the files read: the memo keeps only these

    def read_all(folder: Path, suffixes: tuple[str, ...]) -> tuple[RawFile, ...]:
        files: list[RawFile] = []
        for listing, chunk in _chunks(folder, root, suffixes, diagnostics, memo, touched):
            if listing is not None:  # no file here changed: what was read here last time stands, if all of it came from the memo
                kept = listing.read.get(suffixes)
                if kept is None and all(path in memo for path, _, _ in chunk):
                    kept = listing.read[suffixes] = (tuple(memo[path][1] for path, _, _ in chunk), tuple(path for path, _, _ in chunk))
                if kept is not None:
                    files += kept[0]
                    current.update(kept[1])
                    continue
            for path, rel, check in chunk:
                found = read_file(path, rel, diagnostics, memo, settled, check)
                if found is not None:
                    files.append(found)
                    current.add(path)
        return tuple(files)

    site_path = content / "site.yaml"
    site = read_file(str(site_path), "content/site.yaml", diagnostics, memo, settled, must_check(touched, "content/site.yaml")) if site_path.is_file() else None
    seed_files = _files(root / "seeds", root, ("",), diagnostics, memo, touched)
    current.update(path for path, _, _ in seed_files)  # (read by provenance)
    seeds = tuple(rel.removeprefix("seeds/") for _, rel, _ in seed_files)
    static = tuple(rel.removeprefix("static/") for _, rel, _ in _files(root / "static", root, ("",), diagnostics, memo, touched))
    raw = RawSources(
        root=root,
        site=site,
        briefings=read_all(content / "briefings", (".md",)),
        actors=read_all(content / "actors", (".yaml", ".yml")),
        experts=read_all(content / "experts", (".yaml", ".yml")),
        seeds=seeds,
        static=static,
    )
    current.add(str(site_path))
    for gone in [p for p in memo if p not in current]:
        del memo[gone]
    return raw


def touches_folder(touched: Touched, folder: str) -> bool:
    """Return whether the watcher may have seen a change anywhere under a top folder of the project (always, without its paths)."""
    return touched is None or any(t == EVERYTHING or t == folder or t.startswith(folder + "/") for t in touched)


def must_check(touched: Touched, rel: str) -> bool:
    """Return whether a file's stat must be read to know it is unchanged: always, unless the watcher vouches for it (it saw no change to it or above it)."""
    return touched is None or _touches(touched, rel)
