"""The preview server: build into memory, serve it over HTTP, rebuild on change, tell open pages over a WebSocket.

As in MkDocs' livereload, the build is a plain callable; the watchdog callback only
records changed paths under a Condition; one loop waits until the edits stop (the
debounce window), rebuilds through the pipeline incrementally, and publishes the new
site as a whole under a new build number, then tells each open page what concerns it.
The pages open in a browser are rendered first and published ahead of the rest (see
PreviewServer._ahead), so the page being edited follows the save before the lists that
show it are made again.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import http.server
import json
import logging
import mimetypes
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import unquote, urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from .diagnostics import Diagnostic, format_text
from .pages import Output
from .pipeline import Ahead, BuildConfig, BuildReport, BuildState, build, prepare_rebuilds
from .theme import builtin_themes
from .watch import unwatch, watch

log = logging.getLogger(__name__)

DEBOUNCE = 0.015  # seconds without events before a rebuild for one changed file (an editor's save): see docs/serve.md
DEBOUNCE_MANY = 0.06  # the same once the changes name more than one file (a checkout, a copy): see docs/serve.md
COLLECT_EVERY = 10  # rebuilds after which a full garbage collection is due, run once serve is idle (see _settle_memory)
COLLECT_IDLE = 2.0  # seconds without a change after which a due collection runs
COLLECT_LATEST = 100  # rebuilds after which it runs at the end of a rebuild, idle or not
SCRIPT_URL = "/__briefing__/livereload.js"
EVENTS_URL = "/__briefing__/events"
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
PORT_TRIES = 10
AHEAD_WAIT = 0.3  # seconds a build waits, after telling the open pages rendered ahead, for them to load before it goes on
LIVERELOAD_JS = (Path(__file__).parent / "livereload.js").read_bytes()
TYPES = {".md": "text/markdown; charset=utf-8", ".xml": "application/xml; charset=utf-8", ".json": "application/json", ".txt": "text/plain; charset=utf-8"}


class ServeError(Exception):
    """A problem that stops the server from starting (the CLI prints it)."""


@dataclass(frozen=True)
class ServeConfig:
    source: Path
    host: str = "127.0.0.1"
    port: int = 8000
    allow_hosts: tuple[str, ...] = ()
    poll: bool = False
    next_free_port: bool = False  # the port was not chosen: take the next free one, and say so
    debounce: float = DEBOUNCE
    debounce_many: float = DEBOUNCE_MANY


@dataclass(frozen=True)
class Rebuild:
    """What one build did, for the terminal and for tests."""

    number: int
    sources: tuple[str, ...]  # the changed paths that caused it (empty for the first build)
    report: BuildReport
    changed: tuple[str, ...]  # output paths whose bytes differ from the last good build
    milliseconds: float  # the build itself
    settled: float = 0.0  # ms from the first change of the burst to the build's start (the debounce wait)
    told: int = 0  # open pages sent a notice
    telling: float = 0.0  # ms from the build's end to the last notice sent
    told_ahead: int = 0  # open pages told to reload before the build ended, their pages rendered first
    ahead: float = 0.0  # ms from the build's start to those notices sent


@dataclass(frozen=True)
class Snapshot:
    """A built site as served: a whole build, or the last whole build with the open pages of the next one (complete=False)."""

    number: int = 0
    files: Mapping[str, bytes] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[Diagnostic, ...] = ()
    complete: bool = True  # False while the build numbered so renders the pages not open

    @property
    def styles(self) -> int:
        """The build whose stylesheets this snapshot serves: its own, or the last whole build's while it is not complete."""
        return self.number if self.complete else self.number - 1


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def script_tag(page_digest: str, build: int = 0) -> bytes:
    """Return the tag injected into a served HTML page: the page's digest, and the build whose stylesheets it links."""
    return f'<script src="{SCRIPT_URL}" data-digest="{page_digest}" data-build="{build}"></script>'.encode()


def inject(html: bytes, page_digest: str, build: int = 0) -> bytes:
    """Return the page with the live-reload script before its last </body> (or at its end)."""
    tag = script_tag(page_digest, build)
    at = html.lower().rfind(b"</body>")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


def resolve(target: str, files: Mapping[str, bytes]) -> str | None:
    """Return the output path a request target names; None when missing or when it tries to leave the site.

    Refused whatever they decode to: backslashes, encoded slashes or backslashes, NUL, `.`
    and `..` segments, empty segments (`//`), and anything not starting with one `/`.
    A folder names its index.html; `folder` without the slash answers with that path + "/".
    """
    raw = target.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    lowered = raw.lower()
    if any(code in lowered for code in ("%2f", "%5c", "%00")):
        return None
    path = unquote(raw, errors="strict") if "%" in raw else raw
    if "\\" in path or "\x00" in path:
        return None
    parts = path.split("/")[1:]
    if any(p in (".", "..") for p in parts) or any(p == "" for p in parts[:-1]):
        return None
    rel = "/".join(parts)
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    if rel in files:
        return rel
    if f"{rel}/index.html" in files:
        return f"{rel}/"  # the caller redirects to the folder URL, so relative links work
    return None


def host_allowed(value: str | None, names: frozenset[str], port: int) -> bool:
    """Return whether a Host header (or an Origin's host) is one of the names, with the server's port."""
    if not value:
        return False
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value.partition("]")
        name += "]"
        given = rest[1:] if rest.startswith(":") else None
    elif value.count(":") == 1:
        name, _, given = value.partition(":")
    else:
        name, given = value, None
    if given is None:
        return port == 80 and name in names
    return given == str(port) and name in names


def origin_allowed(origin: str | None, names: frozenset[str], port: int) -> bool:
    """Return whether a WebSocket's Origin is this server as one of the allowed names."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and not parts.path.strip("/") and host_allowed(parts.netloc, names, port)


class _Client:
    """One open page's WebSocket: the sans-I/O protocol and its socket, written under a lock."""

    def __init__(self, sock: socket.socket, protocol: ServerProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.lock = threading.Lock()
        self.page: str | None = None  # the output path the page shows
        self.digest = ""

    def send(self, message: dict[str, object]) -> bool:
        """Send a JSON message; return False when the connection is gone."""
        with self.lock:
            try:
                self.protocol.send_text(json.dumps(message).encode())
                self._flush()
                return True
            except (OSError, Exception):  # a closed protocol raises InvalidState
                return False

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)


class PreviewServer:
    """Build, serve, watch and rebuild; `start()` returns once the first build is served."""

    def __init__(self, config: ServeConfig, on_rebuild: Callable[[Rebuild], None] = lambda r: None) -> None:
        self.config = config
        self.on_rebuild = on_rebuild
        self.build_config = BuildConfig(config.source, config.source / ".briefing-serve", drafts=True, write=False, hash_assets=False)
        self.since_collect = 0
        self.snapshot = Snapshot()
        self.state: BuildState | None = None
        self.lock = threading.Lock()  # guards snapshot and clients
        self.built = threading.Condition(self.lock)
        self.clients: set[_Client] = set()
        self.awaited: dict[str, int] = {}  # digest -> open pages told to load it ahead of the build's end, not yet back
        self.changes = threading.Condition()
        self.pending: set[str] = set()
        self.first_event = 0.0  # when the burst being collected began (monotonic)
        self.last_event = 0.0
        self.stopping = False
        self.names = frozenset({config.host.lower(), *LOCAL_NAMES, *(h.lower() for h in config.allow_hosts)})
        self.httpd: http.server.ThreadingHTTPServer | None = None
        self.threads: list[threading.Thread] = []
        self.observer = None

    # -- life cycle ---------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Bind the port (so a port in use fails at once), build once, then serve, watch and rebuild in background threads."""
        self.httpd = self._bind()
        # Watch before the first build, so an edit saved while it runs is rebuilt after it (a large site takes a while).
        self.observer = watch(self.config.source, (builtin_themes(),), self.notify, poll=self.config.poll)
        try:
            self._rebuild(())
        except BaseException:  # Ctrl-C during the first build: free the port, stop watching
            self.stop()
            self.httpd = None
            raise
        if self.state is not None:
            prepare_rebuilds(self.state)  # so the first save is as quick as the next ones
        for target, name in ((self.httpd.serve_forever, "briefing-http"), (self._loop, "briefing-rebuild")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        """Stop watching, serving and rebuilding; close every connection (kept-alive ones and open pages' WebSockets)."""
        with self.changes:
            self.stopping = True
            self.changes.notify_all()
        if self.observer is not None:
            unwatch(self.observer)
        if self.httpd is not None:
            if self.threads:  # shutdown() waits for serve_forever, so only once it runs
                self.httpd.shutdown()
            self.httpd.server_close()
            # A browser's kept-alive connection would otherwise go on being answered from this
            # server's last snapshot, even by a new server on the same port.
            self.httpd.close_connections()
        with self.lock:
            self.clients.clear()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.state is not None:
            self.state.resident.close()  # the worker that rendered rebuilds' articles

    def _bind(self) -> http.server.ThreadingHTTPServer:
        """Return the HTTP server bound to the configured host and port (or the next free port, if allowed)."""
        tries = PORT_TRIES if self.config.next_free_port else 1
        server = self
        handler = type("Handler", (_Handler,), {"server_ref": server})
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        server_class = type("Server", (_HTTPServer,), {"address_family": family})
        for port in range(self.config.port, self.config.port + tries):
            try:
                return server_class((self.config.host, port), handler)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise ServeError(f"cannot listen on {self.config.host}:{port}: {exc.strerror}") from None
        if tries == 1:
            raise ServeError(f"port {self.config.port} on {self.config.host} is in use (another `briefing serve`?); choose another with --port")
        raise ServeError(f"ports {self.config.port}-{self.config.port + tries - 1} on {self.config.host} are all in use; choose one with --port")

    # -- watching and rebuilding --------------------------------------------------

    def notify(self, paths: set[str]) -> None:
        """Record changed source paths (called on the watcher's thread; does nothing else)."""
        with self.changes:
            now = time.monotonic()
            if not self.pending:
                self.first_event = now
            self.pending |= paths
            self.last_event = now
            self.changes.notify_all()

    def _loop(self) -> None:
        """Wait for changes, let a burst of events settle, rebuild; changes during a rebuild cause one more."""
        while True:
            with self.changes:
                due = self.since_collect >= COLLECT_EVERY
                idle = not self.changes.wait_for(lambda: self.pending or self.stopping, COLLECT_IDLE if due else None)  # nothing changed for a while: collect now, in no writer's way
            if idle:
                self._collect()
                continue
            with self.changes:
                while not self.stopping:
                    window = self.config.debounce if len(self.pending) <= 1 else self.config.debounce_many  # a save names one file; a checkout's events come further apart
                    quiet = self.last_event + window - time.monotonic()
                    if quiet <= 0:
                        break
                    self.changes.wait(quiet)
                if self.stopping:
                    return
                sources, self.pending = self.pending, set()
                first = self.first_event
            try:
                self._rebuild(tuple(sorted(sources)), first)
            except Exception:  # never let a bug in a build stop the preview
                log.exception("rebuild failed unexpectedly")

    def _rebuild(self, sources: tuple[str, ...], first_event: float | None = None) -> Rebuild:
        """Build (incrementally after the first time), publish the result as one snapshot, notify the pages."""
        started = time.perf_counter()
        settled = (time.monotonic() - first_event) * 1000 if first_event is not None else 0.0
        with self.lock:
            old = self.snapshot  # the last whole build: this one is compared with it
            open_pages = frozenset(self._page_for(client.page, old) for client in self.clients)
        told_ahead, ahead_ms = 0, 0.0
        published = old  # the last whole build, then with the open pages published ahead over it

        def ready(outputs: list[Output]) -> None:
            nonlocal told_ahead, ahead_ms, published
            published, told = self._ahead(published, old.number + 1, outputs)
            told_ahead += told
            ahead_ms = (time.perf_counter() - started) * 1000  # (when the last were told)

        def settle() -> None:
            with self.lock:  # let those pages load while both cores are free, before the rest of the build takes them
                self.built.wait_for(lambda: not self.awaited, AHEAD_WAIT)
                self.awaited.clear()

        ahead = Ahead(open_pages, ready, settle) if self.state is not None and open_pages and not old.errors else None  # after a failed build, the whole build clears the overlays
        touched = frozenset(sources) if self.state is not None else None  # what the watcher saw change: only those files are looked at (load.py)
        report = build(self.build_config, previous=self.state, ahead=ahead, touched=touched)
        with self.lock:
            if report.failed:
                errors = tuple(d for d in report.diagnostics if d.severity == "error") or tuple(report.diagnostics)
                snapshot = Snapshot(old.number + 1, old.files, old.digests, errors)
                changed: tuple[str, ...] = ()
            else:
                self.state = report.state
                files = {o.path: o.data for o in report.outputs}
                digests = {path: old.digests[path] if old.files.get(path) == data else digest(data) for path, data in files.items()}
                changed = tuple(sorted(p for p in files.keys() | old.files.keys() if old.digests.get(p) != digests.get(p)))
                snapshot = Snapshot(old.number + 1, files, digests)
            self.snapshot = snapshot
            clients = list(self.clients)
            self.built.notify_all()
        finished = time.perf_counter()
        told = 0
        for client in clients:
            message = self._message(client, snapshot, changed, recovered=bool(old.errors) and not snapshot.errors)
            if message is None:
                continue
            if client.send(message):
                told += 1
            else:
                self._drop(client)
        telling = (time.perf_counter() - finished) * 1000
        result = Rebuild(snapshot.number, sources, report, changed, (finished - started) * 1000, settled, told, telling, told_ahead, ahead_ms)
        self.on_rebuild(result)
        self._settle_memory()
        return result

    def _ahead(self, base: Snapshot, number: int, outputs: list[Output]) -> tuple[Snapshot, int]:
        """Publish open pages a build rendered first over what is published (the last whole build, or it with the build's first batch), as build `number`, and tell those pages to reload; return the snapshot published and how many were told.

        Each such page is final: its bytes are those the whole build will have. Until the
        build ends, the other pages are the last build's (a link from the page may lead to a
        list that does not show the edit yet, for the time the rest takes). The pages told
        are marked as showing their new digest, so the end of the build does not reload
        them again.
        """
        with self.lock:
            files, digests = dict(base.files), dict(base.digests)
            for o in outputs:
                files[o.path] = o.data
                digests[o.path] = base.digests[o.path] if base.files.get(o.path) == o.data else digest(o.data)
            snapshot = Snapshot(number, files, digests, complete=False)
            self.snapshot = snapshot
            clients = list(self.clients)
        fresh = {o.path for o in outputs}
        told = 0
        for client in clients:
            page = self._page_for(client.page, snapshot)
            if page not in fresh or snapshot.digests[page] == client.digest:
                continue
            client.digest = snapshot.digests[page]
            if client.send({"type": "reload", "build": snapshot.number}):
                told += 1
                with self.lock:
                    self.awaited[client.digest] = self.awaited.get(client.digest, 0) + 1
            else:
                self._drop(client)
        return snapshot, told

    def _settle_memory(self) -> None:
        """Keep the garbage collector off the next rebuild's path, once the pages have been told of this one.

        A serve process holds two builds' worth of objects; a full collection walks them all
        (~0.25 s at 1,000 briefings) and fell inside every other rebuild. Freezing what exists
        after a build takes it out of later collections. Little of an old build is cyclic
        garbage (~500 objects in ten rebuilds at 1,000 briefings; the rest is freed as its
        last reference goes), so a full collection is due every COLLECT_EVERY rebuilds and
        runs when serve has been idle for COLLECT_IDLE seconds (_loop), or at the latest
        after COLLECT_LATEST rebuilds, here: run after each tenth rebuild, it made the next
        save wait (a stylesheet edit 1 in 5 times ~330-410 ms instead of ~120 ms).
        """
        self.since_collect += 1
        if self.since_collect >= COLLECT_LATEST:
            self._collect()
        gc.freeze()

    def _collect(self) -> None:
        """Collect every generation (what a build left frozen too), then freeze what is left."""
        gc.unfreeze()
        gc.collect()
        self.since_collect = 0
        gc.freeze()

    def wait_for_build(self, number: int, timeout: float) -> Snapshot | None:
        """Return the snapshot once build `number` (or a later one) is published; None on timeout."""
        with self.lock:
            if self.built.wait_for(lambda: self.snapshot.number >= number and self.snapshot.complete, timeout):
                return self.snapshot
        return None

    # -- talking to pages ---------------------------------------------------------

    def _message(self, client: _Client, snapshot: Snapshot, changed: tuple[str, ...], recovered: bool) -> dict[str, object] | None:
        """Return what one open page must hear of a build: reload, swap stylesheets, an error, or nothing."""
        if snapshot.errors:
            return {"type": "error", "build": snapshot.number, "text": format_text(list(snapshot.errors)), "diagnostics": [d.as_dict() for d in snapshot.errors]}
        page = self._page_for(client.page, snapshot)
        css = ["/" + p for p in changed if p.endswith(".css")]  # a page swapped in keeps its stylesheets: it swaps these too
        if recovered or snapshot.digests.get(page, "") != client.digest:
            return {"type": "reload", "build": snapshot.number, "css": css}
        if any(not p.endswith((".html", ".md", ".css", ".xml", ".json", ".txt")) for p in changed):
            return {"type": "reload", "build": snapshot.number, "css": css}  # an image or script the page may show
        if css:
            return {"type": "css", "build": snapshot.number, "paths": css}
        return None

    def _page_for(self, url_path: str | None, snapshot: Snapshot) -> str:
        """Return the output path served for a page's URL path (404.html when there is none)."""
        try:
            found = resolve(url_path or "/", snapshot.files)
        except UnicodeDecodeError:
            found = None
        if found is None or found.endswith("/"):
            return "404.html"
        return found

    def hello(self, client: _Client, message: dict[str, object]) -> None:
        """Register what page a new connection shows; catch it up if it missed a build or an error."""
        client.page = str(message.get("path") or "/")
        client.digest = str(message.get("digest") or "")
        with self.lock:
            snapshot = self.snapshot
            self.clients.add(client)
            if self.awaited.get(client.digest):
                self.awaited[client.digest] -= 1
                if not self.awaited[client.digest]:
                    del self.awaited[client.digest]
                self.built.notify_all()
        served = message.get("build")  # the build its stylesheets came from: one saved since may not have reached it
        stale = isinstance(served, int) and 0 < served < snapshot.styles
        reply = self._message(client, snapshot, tuple(sorted(p for p in snapshot.files if p.endswith(".css"))) if stale else (), recovered=False)
        if reply is not None and not client.send(reply):
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        with self.lock:
            self.clients.discard(client)


class _HTTPServer(http.server.ThreadingHTTPServer):
    """The HTTP server: one thread per connection; a browser that drops a connection is not an error."""

    daemon_threads = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every connection still open; their threads then see the end and finish."""
        with self.connections_lock:
            open_now = list(self.connections)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: object, client_address: object) -> None:
        """Log a failed request; a connection the browser closed (a reload mid-load) at debug level only."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("%s closed the connection: %s", client_address, error)
        else:
            log.exception("request from %s failed", client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answer GET and HEAD from the current snapshot; upgrade the events URL to a WebSocket."""

    server_ref: PreviewServer
    server_version = "briefing-serve"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (Nagle's algorithm and delayed ACKs)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _refuse_method(self) -> None:
        self._send(405, b"Only GET and HEAD are answered here.\n", "text/plain; charset=utf-8", head=False, extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method

    def _answer(self, head: bool) -> None:
        serve = self.server_ref
        if not host_allowed(self.headers.get("Host"), serve.names, serve.port):
            self._send(403, b"Forbidden: unknown Host (start serve with --allow-host NAME to accept it).\n", "text/plain; charset=utf-8", head)
            return
        path = self.path.split("?", 1)[0]
        if path == EVENTS_URL and not head:
            self._websocket()
            return
        if path == SCRIPT_URL:
            self._send(200, LIVERELOAD_JS, "text/javascript; charset=utf-8", head)
            return
        snapshot = serve.snapshot
        try:
            found = resolve(self.path, snapshot.files)
        except UnicodeDecodeError:
            found = None
        if found is not None and found.endswith("/"):
            self._send(301, b"", "text/plain; charset=utf-8", head, extra={"Location": "/" + found})
            return
        status = 200
        if found is None:
            status, found = 404, "404.html"
        data = snapshot.files.get(found)
        if data is None:  # no site yet (the first build failed): an empty page that still shows the overlay
            self._send(status, inject(b"<!DOCTYPE html><title>Briefing</title><body></body>", ""), "text/html; charset=utf-8", head)
            return
        kind = TYPES.get(Path(found).suffix) or mimetypes.guess_type(found)[0] or "application/octet-stream"
        if found.endswith(".html"):
            data, kind = inject(data, snapshot.digests[found], snapshot.styles), "text/html; charset=utf-8"
        elif kind.startswith("text/") and "charset" not in kind:
            kind += "; charset=utf-8"
        self._send(status, data, kind, head, extra={"X-Briefing-Build": str(snapshot.number)})  # which build answered (its open pages only, while incomplete)

    def _send(self, status: int, body: bytes, kind: str, head: bool, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _websocket(self) -> None:
        """Accept the page's WebSocket if its Origin is this server, then read its messages until it closes."""
        serve = self.server_ref
        if not origin_allowed(self.headers.get("Origin"), serve.names, serve.port):
            self.close_connection = True
            self._send(403, b"Forbidden: unknown Origin.\n", "text/plain; charset=utf-8", head=False)
            return
        protocol = ServerProtocol()
        # http.server has read the request already; hand the protocol the same bytes to parse.
        head = f"GET {self.path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in self.headers.items()) + "\r\n"
        protocol.receive_data(head.encode("latin-1"))
        request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
        if request is None:
            self.close_connection = True
            self._send(400, b"Bad WebSocket request.\n", "text/plain; charset=utf-8", head=False)
            return
        response = protocol.accept(request)
        protocol.send_response(response)
        self.wfile.flush()
        client = _Client(self.connection, protocol)
        with client.lock:
            client._flush()
        self.close_connection = True
        if response.status_code != 101:
            return
        try:
            while protocol.state is not State.CLOSED:
                data = self.rfile.read1(65536)
                with client.lock:
                    if data:
                        protocol.receive_data(data)
                    else:
                        protocol.receive_eof()
                    events = protocol.events_received()
                    client._flush()
                for event in events:
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        try:
                            message = json.loads(event.data)
                        except ValueError:
                            continue
                        if isinstance(message, dict):
                            serve.hello(client, message)
                if not data:
                    break
        except OSError:
            pass
        finally:
            serve._drop(client)
