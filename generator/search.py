"""Index the rendered briefing, actor and expert pages with Pagefind; return its search bundle as outputs under pagefind/.

Pagefind (PyPI `pagefind[bin]`) ships a static-search indexer as a binary. It runs as a
service (`pagefind --service`) that hands the bundle back through a pipe: the write stage
stays the only one that touches the output. It reads the pages from a private folder in
memory (tmpfs, /dev/shm), where it parses them on every core, as its command line does; it
numbers the pages in the order the folder lists them, so the folder is used only when its
listing is the pages' sorted order, and the bundle is the same bytes either way. Where
there is no such folder, the pages go through the pipe one by one (one core). The bundle
is kept in the site's `.briefing-cache/` under a digest of the indexed pages and the
binary, so a build whose indexed pages did not change reuses it instead of running
Pagefind again. `start_search` runs Pagefind on a thread, so the build goes on (twins,
feeds, staging) while it indexes; the write stage takes the bundle last.
Pagefind holds about 270 KB a page until it writes the bundle (3.1 GB at 10,700 pages),
so a site of more than PART_PAGES indexed pages is indexed in parts, one Pagefind after
another, each page in the part a digest of its path picks: the first part's bundle is
pagefind/ itself, the others' pagefind/part-N/ (their index only: the first part's script
searches them), and pagefind/briefing-parts.json lists them for the search page, which
merges them (Pagefind's mergeIndex: one list of results, by score). Each part is kept in
the cache on its own, so a build re-indexes only the parts whose pages changed.
What the index shows per result comes from the pages themselves: `data-pagefind-body` on
`<main>`, and `data-pagefind-meta` on the head's description (the summary) and kind.
The search page's script (themes/default/static/search.js) loads the bundle relative to
itself and resolves result URLs against the site's root, so search works under any sub-path.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from .diagnostics import Diagnostics
from .model import Pos
from .pages import Output
from .write import unsafe_path

log = logging.getLogger(__name__)

BUNDLE = "pagefind"
SEARCH_PAGE = "search/index.html"
INDEXED = ("briefings/", "actors/", "experts/")
FALLBACK = "index.html"  # indexed when there is nothing else, so that an empty site still has a bundle
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css", "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")
TIMEOUT = 600
CACHE = "search-part-{}.zip"  # in the cache folder: the last bundle of each part, its key as the archive comment
PART_PAGES = 1000  # indexed pages a part holds, about: Pagefind's memory grows with them (~270 KB a page), its time does not (~4 CPU-ms a page)
PART = "part-{}/"  # the folder of part 2, 3, ... in the bundle (part 1 is the bundle's root)
PARTS = "briefing-parts.json"  # in the bundle: the folders of the parts after the first, for the search page to merge
ENGINE = ("pagefind.js", "pagefind-worker.js")  # with the WebAssembly: only the first part's are used, they search every part
MEMORY = Path("/dev/shm")  # a file system in memory, if the machine has one: Pagefind reads a folder there on every core
FOLDER = "briefing-search-"  # the folder of pages in memory is named briefing-search-PID-XXXXXXXX
FORMAT = b"briefing-search 4"  # part of the cache key: change it when what is asked of Pagefind changes


def pagefind_binary() -> Path | None:
    """Return the Pagefind executable: $PAGEFIND_BINARY_PATH, else the one `pagefind[bin]` installed."""
    configured = os.environ.get("PAGEFIND_BINARY_PATH")
    if configured:
        return Path(configured)
    try:
        from pagefind_bin import get_executable  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(get_executable())


def indexes(path: str) -> bool:
    """Whether search covers the page at path: a briefing's, an actor's or an expert's own page (not lists, not page-2)."""
    return path.startswith(INDEXED) and path.endswith("/index.html") and path.count("/") == 2


def indexed_pages(outputs: list[Output]) -> list[Output]:
    """Return the HTML outputs that search covers: briefings, actors and experts (the home page if there are none)."""
    pages = [o for o in outputs if indexes(o.path)]
    return pages or [o for o in outputs if o.path == FALLBACK]


def search_outputs(outputs: list[Output], cache: Path, diagnostics: Diagnostics) -> list[Output]:
    """Return the Pagefind bundle for the site's pages (the cached one if they did not change), or report why it could not be made."""
    return start_search(outputs, cache).result(diagnostics)


def start_search(outputs: list[Output], cache: Path) -> Indexing:
    """Start making the bundle for the site's pages in the background: Pagefind runs while the build goes on; `result()` waits for it.

    The pages to index, the parts, their keys and the cache lookups are done here, at once;
    only the parts whose bundle is not kept run Pagefind, one after another, on a thread that
    waits on its pipes.
    """
    pages = sorted(indexed_pages(outputs), key=lambda o: o.path.split("/"))  # the order a folder of them is walked in, by name
    binary = pagefind_binary()
    if binary is None or not binary.is_file():
        return Indexing(error="search: the Pagefind binary is not installed; install it with pip install 'pagefind[bin]'")
    if not pages:
        return Indexing(files={})
    deps = frozenset({"search:index"} | {d for page in pages for d in page.deps if not d.startswith("template:")})
    shares = parts(pages)
    keys = [bundle_key(share, binary) for share in shares]
    kept = [_cached(cache / CACHE.format(n), key) for n, key in enumerate(keys, start=1)]
    _forget_parts(cache, len(shares))
    indexing = Indexing(deps=deps)
    if all(files is not None for files in kept):
        indexing.files = _joined(kept)  # type: ignore[arg-type]
        return indexing
    indexing.run(binary, shares, kept, cache, keys)
    return indexing


def parts(pages: list[Output]) -> list[list[Output]]:
    """Share the pages (sorted by path) into parts of about PART_PAGES, each in their order; one part for a site of up to PART_PAGES.

    A page goes to the part a digest of its path picks, so it stays in that part whatever
    else is added or removed (as long as the number of parts stays): an edit re-indexes the
    parts of the pages it changed, not every part after it.
    """
    count = -(-len(pages) // PART_PAGES)
    if count <= 1:
        return [pages]
    shares: list[list[Output]] = [[] for _ in range(count)]
    for page in pages:
        shares[zlib.crc32(page.path.encode()) % count].append(page)
    return [share for share in shares if share]


def _joined(bundles: list[dict[str, bytes]]) -> dict[str, bytes]:
    """Return one bundle of the parts' bundles: the first at the root, each other under its folder without the engine, and the list of those folders."""
    files = dict(bundles[0])
    folders = []
    for n, part in enumerate(bundles[1:], start=2):
        folder = PART.format(n)
        folders.append(folder)
        files.update((folder + name, data) for name, data in part.items() if name not in ENGINE and not name.startswith("wasm."))
    files[PARTS] = json.dumps({"parts": folders}).encode() + b"\n"
    return files


class Indexing:
    """A search bundle being made (or already known): `result()` waits for it, `cancel()` stops Pagefind."""

    def __init__(self, files: dict[str, bytes] | None = None, deps: frozenset[str] = frozenset(), error: str | None = None) -> None:
        self.files = files
        self.deps = deps
        self.error = error
        self.thread: threading.Thread | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def run(self, binary: Path, shares: list[list[Output]], kept: list[dict[str, bytes] | None], cache: Path, keys: list[str]) -> None:
        """Index the parts that are not kept, one after another, on a thread; keep each in the cache as it is made."""

        def index() -> None:
            bundles = list(kept)
            for n, (share, key) in enumerate(zip(shares, keys), start=1):
                if bundles[n - 1] is not None:
                    continue
                if self.cancelled:
                    return
                try:
                    bundles[n - 1] = made = run_pagefind(binary, share, self._started)
                except PagefindError as exc:
                    self.error = f"search: {exc}"
                    return
                if self.cancelled:
                    return
                _keep(cache / CACHE.format(n), key, made)
                log.debug("search: indexed part %d of %d, %d pages, into %d files", n, len(shares), len(share), len(made))
            self.files = _joined(bundles)  # type: ignore[arg-type]

        self.thread = threading.Thread(target=index, name="pagefind", daemon=True)
        self.thread.start()

    def _started(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        if self.cancelled:
            process.kill()

    def result(self, diagnostics: Diagnostics) -> list[Output]:
        """Wait for the bundle; return its files as outputs under pagefind/, or report why there are none."""
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            diagnostics.error(Pos(f"{BUNDLE}/"), self.error)
            return []
        return [Output(f"{BUNDLE}/{name}", data, self.deps) for name, data in sorted((self.files or {}).items())]

    def cancel(self) -> None:
        """Stop Pagefind if it is still running (the build failed before it needed the bundle); wait for its thread."""
        self.cancelled = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.thread is not None:
            self.thread.join()


def bundle_key(pages: list[Output], binary: Path) -> str:
    """Return the digest the bundle is kept under: the indexed pages' paths and bytes, and the Pagefind binary."""
    st = binary.stat()
    h = hashlib.sha256(FORMAT + f"\0{binary}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    for page in pages:
        h.update(b"\0%d\0%s\0" % (len(page.data), page.path.encode()))
        h.update(page.data)
    return h.hexdigest()


def _cached(path: Path, key: str) -> dict[str, bytes] | None:
    """Return the bundle kept under key, or None when the cache holds another one (or none, or a damaged one)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.comment != key.encode() or any(unsafe_path(name) for name in archive.namelist()):
                return None
            return {info.filename: archive.read(info) for info in archive.infolist()}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None


def _keep(path: Path, key: str, files: dict[str, bytes]) -> None:
    """Keep a part's bundle at path (in the cache folder) under key, replacing the last one; a cache that cannot be written is passed over."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.comment = key.encode()
        for name, data in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("search: cannot keep the bundle in %s: %s", path.parent, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _forget_parts(cache: Path, count: int) -> None:
    """Remove the kept bundles of parts beyond the site's count (it shrank), and the single bundle kept before there were parts."""
    prefix, _, suffix = CACHE.partition("{}")
    with contextlib.suppress(OSError):
        for entry in os.scandir(cache):
            number = entry.name[len(prefix) : -len(suffix)] if entry.name.startswith(prefix) and entry.name.endswith(suffix) else ""
            if (number.isdigit() and int(number) > count) or entry.name == "search-bundle.zip":
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


class PagefindError(Exception):
    """Pagefind could not run, failed or answered something unexpected."""


def run_pagefind(binary: Path, pages: list[Output], started: Callable[[subprocess.Popen[bytes]], None] | None = None) -> dict[str, bytes]:
    """Index the pages (sorted by path, name by name) with a Pagefind service; return the bundle's files by name, Pagefind's UI left out.

    The service reads requests (base64 of JSON, each followed by a comma) on stdin and
    answers in the same form on stdout. It is pointed at a folder of the pages in memory
    when one can be made in their order (_pages_folder); else the pages are sent through
    the pipe by a thread while this one reads the answers, so neither pipe can fill up and
    stall the other side. `started` is handed the service's process as soon as it runs
    (so that a caller can stop it). Either way Pagefind reads the pages as `searchable`
    gives them.
    """
    with tempfile.TemporaryFile() as errors, _pages_folder(pages) as folder:
        try:
            process = subprocess.Popen([str(binary), "--service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise PagefindError(f"Pagefind could not run: {exc}") from exc
        if started is not None:
            started(process)
        timer = threading.Timer(TIMEOUT, process.kill)
        timer.start()
        try:
            return _converse(process, pages, folder)
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            process.kill()
            process.wait()
            raise PagefindError(_failure(process.returncode, errors, exc)) from exc
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
            process.wait()


DRAWING = re.compile(rb"<svg\b.*?</svg>", re.S)


def searchable(data: bytes) -> bytes:
    """Return a page without its drawings, which Pagefind leaves out of the index but still parses: the same bundle, made sooner.

    A timeline drawing is a quarter of a briefing page (its words are the list that
    follows it). A drawing that holds another, or anything for Pagefind (data-pagefind-*),
    is left as it is. `tests/test_search.py` checks that the bundle is the same.
    """
    return DRAWING.sub(lambda m: m.group(0) if b"<svg" in m.group(0)[4:] or b"data-pagefind" in m.group(0) else b"", data)


def _converse(process: subprocess.Popen[bytes], pages: list[Output], folder: Path | None = None) -> dict[str, bytes]:
    """Create an index, add every page (the folder of them, if given), and return the bundle's files."""
    assert process.stdin is not None and process.stdout is not None
    answers = _Answers(process.stdout)
    _send(process.stdin, 1, {"type": "NewIndex", "config": {"keep_index_url": True}})
    process.stdin.flush()
    index = _expect(answers.next(), 1, "NewIndex")["index_id"]
    if folder is not None:
        _send(process.stdin, 2, {"type": "AddDir", "index_id": index, "path": str(folder), "glob": "**/*.html"})
        _send(process.stdin, 3, {"type": "GetFiles", "index_id": index})
        process.stdin.flush()
        count = _expect(answers.next(), 2, "IndexedDir")["page_count"]
        if count != len(pages):
            raise ValueError(f"Pagefind indexed {count} of the {len(pages)} pages in {folder}")
        return _bundle(_expect(answers.next(), 3, "GetFiles")["files"])
    failed: list[BaseException] = []

    def feed() -> None:
        try:
            for n, page in enumerate(pages, start=2):
                _send(process.stdin, n, {"type": "AddFile", "index_id": index, "file_path": page.path, "url": None, "file_contents": searchable(page.data).decode("utf-8")})
            _send(process.stdin, len(pages) + 2, {"type": "GetFiles", "index_id": index})
            process.stdin.flush()
        except (OSError, ValueError) as exc:  # the service died, or a page could not be sent: stop it, so the reader sees the end
            failed.append(exc)
            process.kill()

    feeder = threading.Thread(target=feed, name="pagefind-feed", daemon=True)
    feeder.start()
    try:
        for n in range(2, len(pages) + 2):
            _expect(answers.next(), n, "IndexedFile")
        files = _expect(answers.next(), len(pages) + 2, "GetFiles")["files"]
    except EOFError:
        if failed:
            raise EOFError(f"Pagefind could not be given the pages: {failed[0]}") from failed[0]
        raise
    feeder.join()  # on an error the caller kills the service, which ends the feeder's writes
    with contextlib.suppress(OSError):
        process.stdin.close()
    return _bundle(files)


def _bundle(files: list[dict[str, Any]]) -> dict[str, bytes]:
    """Return the files of Pagefind's GetFiles answer by name, its UI left out."""
    found = {str(f["path"]): base64.b64decode(f["content"]) for f in files}
    return {name: data for name, data in found.items() if name.rpartition("/")[2] not in UNUSED}


@contextlib.contextmanager
def _pages_folder(pages: list[Output]) -> Iterator[Path | None]:
    """Yield a private folder in memory that holds the pages in their order (_write_pages), or None; remove it afterwards."""
    folder = _write_pages(pages)
    try:
        yield folder
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _write_pages(pages: list[Output]) -> Path | None:
    """Return a new private folder in memory holding the pages, if it lists them in their order; else None, and nothing is left.

    Pagefind numbers the pages of a folder in the order it walks it (depth first, each
    folder as the file system lists it), and the numbers are in the bundle. A folder is
    only returned when that walk gives exactly the pages' order, so the bundle is the one
    the pipe would give. The pages are written last first: tmpfs lists a folder newest
    first. On a disk, or wherever the listing is in another order, the answer is None.
    """
    if not MEMORY.is_dir():
        return None
    try:
        folder = tempfile.mkdtemp(prefix=f"{FOLDER}{os.getpid()}-", dir=MEMORY)
    except OSError:
        return None
    _remove_left(MEMORY)
    try:
        for page in reversed(pages):
            path = os.path.join(folder, *page.path.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(searchable(page.data))  # (a copy of each page only while it is written)
        if list(_walk(folder)) == [page.path for page in pages]:
            return Path(folder)
    except OSError:  # out of room in memory, say
        pass
    shutil.rmtree(folder, ignore_errors=True)
    return None


def _remove_left(memory: Path) -> None:
    """Remove the folders of pages that builds which no longer run left in memory (a build killed while Pagefind read them)."""
    for entry in memory.glob(f"{FOLDER}*-*"):
        pid = entry.name[len(FOLDER) :].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # alive, another user's
            continue


def _walk(folder: str, under: str = "") -> Iterator[str]:
    """Return the files below folder, depth first, each folder in the order the file system lists it (as Pagefind walks it)."""
    with os.scandir(os.path.join(folder, under)) as entries:
        listed = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_dir in listed:
        path = f"{under}/{name}" if under else name
        if is_dir:
            yield from _walk(folder, path)
        else:
            yield path


def _send(stream: IO[bytes], message: int, payload: dict[str, Any]) -> None:
    stream.write(base64.b64encode(json.dumps({"message_id": message, "payload": payload}).encode()) + b",")


def _expect(answer: dict[str, Any], message: int, kind: str) -> dict[str, Any]:
    """Return the answer's payload if it is the one awaited; else raise with what Pagefind said."""
    payload = answer.get("payload") or {}
    if payload.get("type") == "Error":
        raise ValueError(f"Pagefind answered: {payload.get('message')}")
    if answer.get("message_id") != message or payload.get("type") != kind:
        raise ValueError(f"Pagefind answered {payload.get('type')!r} to message {answer.get('message_id')!r}, expected {kind!r} to {message}")
    return payload


class _Answers:
    """Split the service's output into answers."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = bytearray()

    def next(self) -> dict[str, Any]:
        """Return the next answer; raise EOFError when the service stopped before giving it.

        The bundle comes as one answer of tens of megabytes: each chunk read is searched for
        the end of the answer from where the last search stopped, not from the start.
        """
        searched = 0
        while (end := self.buffer.find(b",", searched)) < 0:
            searched = len(self.buffer)
            chunk = self.stream.read1(1 << 20)  # type: ignore[attr-defined]
            if not chunk:
                raise EOFError("Pagefind stopped before it answered")
            self.buffer += chunk
        answer = json.loads(base64.b64decode(bytes(self.buffer[:end])))
        del self.buffer[: end + 1]
        return answer if isinstance(answer, dict) else {}


def _failure(returncode: int | None, errors: IO[bytes], exc: BaseException) -> str:
    """Return what to say about a failed Pagefind run: its exit status and what it printed, else the error seen."""
    errors.seek(0)
    detail = " ".join(errors.read().decode("utf-8", "replace").split())[:400] or str(exc)
    if returncode not in (None, 0, -9):
        return f"Pagefind failed (exit {returncode}): {detail}"
    return f"Pagefind failed: {detail}"
