"""Write the rendered site: guard the output folder, stage the new files beside it, apply them under a journal.

The output folder holds a manifest (`.briefing-manifest.json`) of the files the generator
wrote; later builds replace or delete only those. A build writes its changed files into a
staging folder beside the output (`.<output>.briefing-staging-XXXX`), then moves them in
one by one with `os.replace` (a folder the output does not have yet moves in whole, with
the files staged in it), keeping the files they replace as hard links in the same
staging folder. A journal (`.briefing-journal.json`) says what is under way: if the apply
fails it is rolled back at once, and if the process dies (SIGKILL, power to the process)
the next run rolls it back before anything else, so the previous site comes back as it was.
The guarantees are stated in docs/safety.md.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from .diagnostics import Diagnostics
from .model import RESERVED_IDS, Pos
from .pages import Output

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not locked against each other
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MANIFEST = ".briefing-manifest.json"
JOURNAL = ".briefing-journal.json"
STAGING = ".briefing-staging-"  # staging folders: .<output name>.briefing-staging-XXXX beside the output
HOST_FILES = frozenset({".git", ".nojekyll", "CNAME", "_redirects", "_headers"})  # a host's own files: never touched
STAGE_THREADS = 2  # threads that create the staged files (two halve the time on two cores; more gained nothing)
STAGE_THREADED = 200  # from this many files to stage
PAUSE_HOOK = "BRIEFING_TEST_PAUSE_APPLY"  # tests only: after the first file applied, create this file and wait


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    deleted: int
    kept: tuple[str, ...]  # files in the output the generator did not write (or that changed since), left alone


@dataclass(frozen=True)
class _Plan:
    """What one apply does, as the journal records it."""

    staging: str  # the staging folder's name, beside the output
    writes: tuple[tuple[str, bool], ...]  # (path, whether a previous file is replaced)
    deletes: tuple[str, ...]
    dirs: tuple[str, ...]  # folders the apply creates, parents first
    manifest: dict[str, str]  # the manifest before the apply, restored by a rollback

    def to_json(self) -> bytes:
        doc = {"version": 1, "staging": self.staging, "writes": [list(w) for w in self.writes], "deletes": list(self.deletes), "dirs": list(self.dirs), "manifest": self.manifest}
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> _Plan | None:
        """Return the plan a journal holds, or None when it is not one of ours (then nothing is touched)."""
        try:
            doc = json.loads(data)
            staging = doc["staging"]
            writes = tuple((str(rel), bool(had)) for rel, had in doc["writes"])
            deletes = tuple(str(rel) for rel in doc["deletes"])
            dirs = tuple(str(rel) for rel in doc["dirs"])
            manifest = {str(k): str(v) for k, v in doc["manifest"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        paths = [rel for rel, _ in writes] + list(deletes) + list(dirs) + list(manifest)
        if not isinstance(staging, str) or "/" in staging or STAGING not in staging or not all(unsafe_path(p) is None for p in paths):
            return None
        return cls(staging, writes, deletes, dirs, manifest)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the guard ------------------------------------------------------------------------


def check_output(output: Path, source: Path, diagnostics: Diagnostics) -> None:
    """Refuse an output folder where a build could destroy files it does not own; then recover an interrupted apply.

    Paths are compared resolved (links followed, `..` removed) and component by
    component, so `docs-site` is not inside `docs`.
    """
    problem = _guard(output, source)
    if problem:
        diagnostics.error(Pos(str(output)), problem)
        return
    try:
        message = recover(output)
    except OSError as exc:
        diagnostics.error(Pos(str(output)), f"cannot recover the interrupted build in the output folder: {exc.strerror or exc}")
        return
    if message:
        log.warning("%s: %s", output, message)


def _guard(output: Path, source: Path) -> str | None:
    """Return why the output folder is refused, or None."""
    out = Path(os.path.realpath(output))
    src = Path(os.path.realpath(source))
    home = Path(os.path.realpath(Path.home()))
    if out == Path(out.anchor) or out == home or home.is_relative_to(out):
        return "refusing to build into the file-system root, the home folder or a folder that contains it; choose a folder such as site/"
    if out == src or src.is_relative_to(out):
        return "refusing to build into the source folder or a folder that contains it; choose a folder such as site/"
    for name in ("content", "themes", "seeds", "static"):
        for folder in {src / name, Path(os.path.realpath(src / name))}:
            if out.is_relative_to(folder):
                return f"refusing to build inside the sources' {name}/ folder; choose a folder outside it, such as site/"
    if output.is_symlink() and not _owned(out):
        return "the output folder is a symbolic link to a folder briefing did not make; refusing to write through it"
    if out.exists() and not out.is_dir():
        return "the output path exists and is not a folder"
    if out.is_dir() and not _owned(out):
        try:
            foreign = sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and p.name not in HOST_FILES)
        except OSError as exc:
            return f"cannot read the output folder: {exc.strerror}"
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            return f"the output folder is not empty and holds no briefing manifest (it holds {shown}); choose an empty folder or a new one"
    return None


def _owned(folder: Path) -> bool:
    """Return whether folder holds a manifest of ours."""
    return read_manifest(folder) is not None


def read_manifest(output: Path) -> dict[str, str] | None:
    """Return the files the manifest lists with their digests (unsafe paths left out), or None without a manifest of ours."""
    path = output / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return None
        doc = json.loads(path.read_bytes())
        if doc.get("generator") != "briefing":
            return None
        return {str(rel): str(sha) for rel, sha in dict(doc["files"]).items() if unsafe_path(str(rel)) is None}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@functools.lru_cache(maxsize=1 << 17)  # pure, and asked again of every output path by each rebuild
def unsafe_path(rel: str) -> str | None:
    """Return why rel cannot be a path inside the output folder, or None when it is a plain relative path."""
    if not rel or "\x00" in rel or "\\" in rel:
        return "is empty or holds a NUL byte or a backslash"
    path = PurePosixPath(rel)
    if path.is_absolute() or rel.startswith("/"):
        return "is absolute"
    for part in rel.split("/"):
        if part in ("", ".", ".."):
            return "has an empty, '.' or '..' part"
        if part.startswith("."):
            return "has a hidden part (the output's hidden files are never written)"
        if part.split(".")[0].lower() in RESERVED_IDS:
            return f"has a part named after a Windows device ({part})"
    return None


@functools.lru_cache(maxsize=1 << 17)
def _fold(rel: str) -> str:
    """Return the form two paths share when a file system would take them for the same file."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", rel).casefold())


def origin(output: Output) -> str:
    """Return what an output was made from, for messages: a static file, a theme asset or a generated page."""
    for key in sorted(output.deps):
        kind, _, name = key.partition(":")
        if kind == "static":
            return f"static/{name}"
        if kind == "asset":
            return f"the theme's static/{name}"
    return f"the generated page {output.path}" if output.path.endswith((".html", ".md")) else f"the generated file {output.path}"


def check_outputs(outputs: list[Output], diagnostics: Diagnostics) -> None:
    """Report outputs whose path leaves the output folder, and outputs that would land on the same file or folder.

    Paths are compared after case-folding and Unicode NFC normalisation, as a macOS or
    Windows file system would compare them.
    """
    files: dict[str, Output] = {}
    for o in outputs:
        why = unsafe_path(o.path)
        if why:
            diagnostics.error(_pos(o), f"output path {o.path!r} {why}; refused")
            continue
        key = _fold(o.path)
        if key in files:
            first = files[key]
            if first.path == o.path:
                same = "the same path"
            elif unicodedata.normalize("NFC", first.path) == unicodedata.normalize("NFC", o.path):
                same = f"the same path: the names differ only in their Unicode form ({first.path!a} and {o.path!a})"
            else:
                same = f"the same path once case is ignored ({first.path!r} and {o.path!r})"
            diagnostics.error(_pos(o), f"{origin(first)} and {origin(o)} would both be written to {same}; rename one")
            continue
        files[key] = o
    folders: dict[str, Output] = {}
    for key, o in files.items():
        parts = key.split("/")
        for n in range(1, len(parts)):
            folders.setdefault("/".join(parts[:n]), o)
    for key, o in sorted(files.items()):
        if key in folders:
            other = folders[key]
            diagnostics.error(_pos(o), f"{origin(o)} would be written to {o.path!r}, which {origin(other)} needs as a folder; rename one")


def _pos(o: Output) -> Pos:
    """Return the position to report an output's problem at: its static file, else the output path."""
    for key in sorted(o.deps):
        if key.startswith("static:"):
            return Pos(f"static/{key[7:]}")
    return Pos(o.path)


# --- the apply ------------------------------------------------------------------------


def write_site(outputs: list[Output], output: Path, diagnostics: Diagnostics | None = None, late: Callable[[], list[Output] | None] | None = None) -> WriteReport | None:
    """Apply the outputs to the output folder: stage the changed files beside it, then move them in under a journal.

    `late` gives more outputs once the first ones are staged (the search bundle, made
    meanwhile on another core), or None when they could not be made (the caller has
    reported why): then nothing is applied. Return None (with the problem in diagnostics)
    when the site could not be written; the previous site is then left exactly as it was.
    """
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    shown = Pos(str(output))
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        diagnostics.error(shown, f"cannot create the output folder: {exc.strerror}")
        return None
    try:
        with _locked(output):
            recovered = _recover_locked(output)
            if recovered:
                log.warning("%s: %s", output, recovered)
            return _write_locked(outputs, output, diagnostics, late)
    except BlockingIOError:
        diagnostics.error(shown, "another briefing build is writing to this output folder; try again when it is done")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        diagnostics.error(shown, f"cannot write the site: {exc.strerror or exc}{where}; the previous site is unchanged")
    return None


def _write_locked(outputs: list[Output], output: Path, diagnostics: Diagnostics, late: Callable[[], list[Output] | None] | None) -> WriteReport | None:
    old = read_manifest(output) or {}
    new: dict[str, str] = {}
    changed: list[Output] = []
    staging = _make_staging(output)
    try:
        made: set[str] = set()
        _stage(staging / "new", _changed(outputs, output, old, new, changed), made)
        if late is not None:
            more = late()
            if more is None:
                return None
            outputs = [*outputs, *more]
            check_outputs(outputs, diagnostics)
            if diagnostics.errors:
                return None
            _stage(staging / "new", _changed(more, output, old, new, changed), made)
        changed.sort(key=lambda o: o.path)
        problems, dirs = _preflight(output, [o.path for o in changed], old)
        for message in problems:
            diagnostics.error(Pos(str(output)), message)
        if problems:
            return None
        deletes, kept_stale = _deletable(output, sorted(set(old) - set(new)), old)
        plan = _Plan(staging.name, tuple((o.path, o.path in old and os.path.lexists(output / o.path)) for o in changed), tuple(deletes), tuple(dirs), dict(sorted(old.items())))
        _apply(output, staging, plan, dict(sorted(new.items())))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(output, deletes)
    kept = sorted(set(foreign_files(output, set(new))) | set(kept_stale))
    return WriteReport(len(changed), len(outputs) - len(changed), len(deletes), tuple(kept))


def _changed(outputs: list[Output], output: Path, old: dict[str, str], new: dict[str, str], changed: list[Output]) -> list[Output]:
    """Record each output's digest in new; return (and add to changed) those the output folder does not hold as they are."""
    found = []
    for o in outputs:
        new[o.path] = digest(o.data)
        if old.get(o.path) != new[o.path] or not _stands(output / o.path, len(o.data)):
            found.append(o)
    changed += found
    return found


def _stage(root: Path, outputs: list[Output], made: set[str]) -> None:
    """Write the outputs under root: each folder made once (made: those staged already), parents first, each file created new (never through a link).

    From STAGE_THREADED files, two threads create them, each a share: creating a file is
    kernel work that does not hold the interpreter's lock, and on this project's machines
    it is most of a cold build's write (0.1-0.9 ms a file on ext4: 1,000 briefings' 3,859
    pages took 0.6-1.4 s on one thread). An error stops its thread's share and is raised
    here once both threads have stopped.
    """
    base = os.fspath(root)
    if "" not in made:
        os.mkdir(base)
        made.add("")
    folders = {rel.rpartition("/")[0] for rel in (o.path for o in outputs)} - {""}
    for folder in sorted({"/".join(f.split("/")[:n]) for f in folders for n in range(1, f.count("/") + 2)} - made):
        os.mkdir(f"{base}/{folder}")
        made.add(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

    def create(share: list[Output]) -> None:
        for o in share:
            fd = os.open(f"{base}/{o.path}", flags, 0o666)
            try:
                view, done = memoryview(o.data), 0
                while done < len(view):
                    done += os.write(fd, view[done:])
            finally:
                os.close(fd)

    if len(outputs) < STAGE_THREADED:
        create(outputs)
        return
    with ThreadPoolExecutor(STAGE_THREADS) as pool:
        shares = [pool.submit(create, outputs[i::STAGE_THREADS]) for i in range(STAGE_THREADS)]
    for share in shares:
        share.result()  # (raises the first error, once both threads have stopped)


def _stands(path: Path, size: int) -> bool:
    """Return whether a file the manifest says holds the new bytes still looks so: a plain file of their size (an edited copy is written again)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == size


def _preflight(output: Path, paths: list[str], old: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return the problems that stop the apply before it starts, and the folders it will create (parents first)."""
    problems: list[str] = []
    missing: set[str] = set()
    checked: dict[str, str | None] = {}  # folder -> its problem
    for rel in paths:
        parts = rel.split("/")
        for n in range(1, len(parts)):
            folder = "/".join(parts[:n])
            if folder not in checked:
                checked[folder] = None
                path = output / folder
                if n > 1 and "/".join(parts[: n - 1]) in missing:
                    missing.add(folder)  # inside a folder the apply creates
                elif path.is_symlink():
                    checked[folder] = f"{folder} in the output folder is a symbolic link; refusing to write through it"
                elif not path.exists():
                    missing.add(folder)
                elif not path.is_dir():
                    checked[folder] = f"{folder} in the output folder is a file where briefing needs a folder; move it away"
            if checked[folder]:
                problems.append(checked[folder])  # type: ignore[arg-type]
                break
        target = output / rel
        if target.is_dir() and not target.is_symlink():
            problems.append(f"{rel} in the output folder is a folder where briefing writes a file; move it away")
        elif os.path.lexists(target) and rel not in old:
            problems.append(f"{rel} in the output folder was not written by briefing and would be overwritten; move it away")
    return sorted(set(problems)), sorted(missing, key=lambda f: (f.count("/"), f))


def _deletable(output: Path, stale: list[str], old: dict[str, str]) -> tuple[list[str], list[str]]:
    """Return which stale files to delete, and which to keep: reached through a link, or changed since they were written."""
    deletes: list[str] = []
    kept: list[str] = []
    for rel in stale:
        path = output / rel
        parents = [output / "/".join(rel.split("/")[:n]) for n in range(1, rel.count("/") + 1)]
        if any(p.is_symlink() or not p.is_dir() for p in parents):
            if any(p.is_symlink() for p in parents):
                kept.append(rel)
            continue
        if not os.path.lexists(path):
            continue
        if path.is_symlink() or not path.is_file():
            kept.append(rel)
            continue
        try:
            same = digest(path.read_bytes()) == old[rel]
        except OSError:
            same = False
        (deletes if same else kept).append(rel)
    return deletes, kept


def _make_staging(output: Path) -> Path:
    """Create the staging folder beside the output (inside it, hidden, when beside is another file system or not writable)."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}{STAGING}", dir=output.parent))
        if os.stat(staging).st_dev == os.stat(output).st_dev:
            return staging
        os.rmdir(staging)
    except PermissionError:
        pass
    return Path(tempfile.mkdtemp(prefix=STAGING, dir=output))


def _apply(output: Path, staging: Path, plan: _Plan, manifest: dict[str, str]) -> None:
    """Move the staged files in and the stale ones out under the journal; roll back on any failure or interrupt."""
    journal = output / JOURNAL
    _atomic_write(journal, plan.to_json(), sync=True)
    try:
        old_root = staging / "old"
        pause = os.environ.get(PAUSE_HOOK)
        new_dirs = set(plan.dirs)
        whole = [folder for folder in plan.dirs if folder.rpartition("/")[0] not in new_dirs]  # new folders in folders that stand
        moves = [(folder, False) for folder in whole] + [(rel, had) for rel, had in plan.writes if not _inside(rel, new_dirs)]
        for n, (rel, had) in enumerate(moves):
            target = output / rel
            if had:
                _backup(target, old_root / rel)
            os.replace(staging / "new" / rel, target)  # a new folder moves in whole, with every file staged in it
            if pause and n == 0:
                Path(pause).write_text("applying\n")
                time.sleep(60)
        for rel in plan.deletes:
            (old_root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(output / rel, old_root / rel)  # a rename never follows a link
        _save_manifest(output, manifest)
    except BaseException:
        _rollback(output, staging, plan)  # if this fails too, the journal stays and the next run rolls back
        journal.unlink()
        raise
    journal.unlink()


def _inside(rel: str, folders: set[str]) -> bool:
    """Return whether rel lies in one of the folders (a file in a new folder moves in with it)."""
    return rel.rpartition("/")[0] in folders


def _backup(target: Path, backup: Path) -> None:
    """Keep the file about to be replaced: a hard link (no copy), or a copy where links are not allowed."""
    backup.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise
        partial = backup.with_name(backup.name + ".part")  # a copy cut short is never taken for the backup
        shutil.copy2(target, partial, follow_symlinks=False)
        os.replace(partial, backup)


def _rollback(output: Path, staging: Path, plan: _Plan) -> None:
    """Put every file the plan replaced or deleted back, remove the files and folders it added, restore the manifest."""
    old_root = staging / "old"
    for rel, had in reversed(plan.writes):
        target, backup = output / rel, old_root / rel
        if os.path.lexists(backup):
            os.replace(backup, target)
        elif not had and os.path.lexists(target) and not target.is_dir():
            target.unlink()
    for rel in plan.deletes:
        backup = old_root / rel
        if os.path.lexists(backup):
            (output / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, output / rel)
    for folder in reversed(plan.dirs):
        with contextlib.suppress(OSError):
            (output / folder).rmdir()
    if plan.manifest or (output / MANIFEST).exists():
        _save_manifest(output, plan.manifest)


def recover(output: Path) -> str | None:
    """Roll back an apply that a crash interrupted and remove staging folders left behind; say what was done."""
    if not output.is_dir() or (output.is_symlink() and not _owned(output)):
        return None
    with _locked(output):
        return _recover_locked(output)


def _recover_locked(output: Path) -> str | None:
    message = None
    journal = output / JOURNAL
    if journal.is_file() and not journal.is_symlink():
        plan = _Plan.from_json(journal.read_bytes())
        if plan is None:
            return f"{JOURNAL} is not a journal briefing can read; left alone (delete it to go on)"
        staging = next((p for p in (output.parent / plan.staging, output / plan.staging) if p.is_dir() and not p.is_symlink()), output.parent / plan.staging)
        _rollback(output, staging, plan)
        journal.unlink()
        message = "a build was interrupted while it applied its files; rolled back to the previous site"
    for folder in [output.parent, output]:
        prefix = f".{output.name}{STAGING}" if folder == output.parent else STAGING
        with contextlib.suppress(OSError):
            for leftover in sorted(folder.iterdir()):
                if leftover.name.startswith(prefix) and leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
    for tmp in (output / (MANIFEST + ".tmp"), output / (JOURNAL + ".tmp")):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return message


@contextlib.contextmanager
def _locked(output: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder while its files change; raise BlockingIOError if another build has it."""
    if fcntl is None:
        yield
        return
    fd = os.open(output, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def _prune(output: Path, deleted: list[str]) -> None:
    """Remove the folders that deleting files left empty, up to the output folder."""
    for rel in deleted:
        parent = (output / rel).parent
        while parent != output and parent.is_dir() and not parent.is_symlink():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def foreign_files(output: Path, ours: set[str]) -> list[str]:
    """Return the files in the output the generator did not write, hidden and host files aside, without following links."""
    found: list[str] = []
    todo = [""]
    while todo:
        folder = todo.pop()
        try:
            with os.scandir(os.path.join(output, folder)) as entries:
                listed = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        except OSError:
            continue  # as os.walk does: a folder that cannot be read is passed over
        for name, is_dir in listed:
            if name.startswith(".") or (not folder and name in HOST_FILES):
                continue
            rel = f"{folder}/{name}" if folder else name
            if is_dir:
                todo.append(rel)
            elif rel not in ours:
                found.append(rel)
    return sorted(found)


def _save_manifest(output: Path, files: dict[str, str]) -> None:
    doc = {"generator": "briefing", "files": dict(sorted(files.items()))}
    _atomic_write(output / MANIFEST, (json.dumps(doc, indent=1) + "\n").encode())


def _atomic_write(path: Path, data: bytes, sync: bool = False) -> None:
    """Write a file whole or not at all: write a temporary beside it, then rename it over."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
