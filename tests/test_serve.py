"""briefing serve without a browser: path resolution, Host and Origin checks, raw HTTP, the WebSocket protocol, rebuilds."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from websockets.sync.client import connect

from conftest import hear_ctrl_c
from generator.pipeline import BuildConfig, build
from generator.serve import PreviewServer, Rebuild, ServeConfig, ServeError, Snapshot, host_allowed, inject, origin_allowed, resolve, script_tag
from generator import pipeline as pipeline_module
from generator import serve as serve_module
from generator.cli import main
from generator.load import EVERYTHING
from generator.watch import INOTIFY_LOG, classify, is_editor_file, unwatch, watch

REPO = Path(__file__).resolve().parent.parent
FILES = {"index.html": b"", "actors/index.html": b"", "assets/style.css": b"", "briefings/a-b/index.html": b"", "briefings/a-b/index.md": b""}
TIMEOUT = 20


# -- pure functions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/", "index.html"),
        ("/index.html", "index.html"),
        ("/actors/", "actors/index.html"),
        ("/actors", "actors/"),  # answered with a redirect to the folder URL
        ("/assets/style.css?v=3", "assets/style.css"),
        ("/briefings/a%2Db/index.md", "briefings/a-b/index.md"),
        ("/missing.html", None),
    ],
)
def test_resolve_finds_pages_and_folders(target: str, expected: str | None) -> None:
    assert resolve(target, FILES) == expected


TRAVERSALS = [
    "/../etc/passwd",
    "/../../../../etc/passwd",
    "/actors/../../etc/passwd",
    "/actors/../index.html",  # even one that would stay inside
    "/./index.html",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/assets%2fstyle.css",
    "/..%5c..%5cwindows%5cwin.ini",
    "/..\\..\\etc\\passwd",
    "/assets\\style.css",
    "//etc/passwd",
    "/actors//index.html",
    "etc/passwd",
    "/%00index.html",
    "/index.html%00",
    "/%252e%252e/etc/passwd",  # double-encoded: decodes once to a literal %2e%2e, which is no page
    "/C:/Windows/win.ini",
    "/etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_resolve_refuses_every_form_of_traversal(target: str) -> None:
    assert resolve(target, FILES) is None


NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "phone.lan"})


@pytest.mark.parametrize(
    "host, ok",
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("LOCALHOST:8000", True),
        ("[::1]:8000", True),
        ("phone.lan:8000", True),
        ("127.0.0.1:8001", False),  # another port: another server
        ("evil.example:8000", False),
        ("evil.example", False),
        ("127.0.0.1", False),  # no port, and the port is not 80
        ("", False),
        (None, False),
        ("127.0.0.1:8000:1", False),
    ],
)
def test_host_check(host: str | None, ok: bool) -> None:
    assert host_allowed(host, NAMES, 8000) is ok


def test_origin_check() -> None:
    assert origin_allowed("http://127.0.0.1:8000", NAMES, 8000)
    assert origin_allowed("http://localhost:8000", NAMES, 8000)
    assert not origin_allowed("http://evil.example:8000", NAMES, 8000)
    assert not origin_allowed("http://127.0.0.1:9999", NAMES, 8000)
    assert not origin_allowed("null", NAMES, 8000)
    assert not origin_allowed(None, NAMES, 8000)


def test_inject_puts_the_script_before_the_last_body_end() -> None:
    page = b"<html><body><p>x</p></body></html>\n"
    assert inject(page, "abc") == b"<html><body><p>x</p>" + script_tag("abc") + b"</body></html>\n"
    assert inject(b"<p>no body</p>", "abc") == b"<p>no body</p>" + script_tag("abc")


@pytest.mark.parametrize(
    "path, kind",
    [
        ("content/site.yaml", "config"),
        ("content/briefings/2025/kim.md", "briefing"),
        ("content/briefings/2025", "briefing"),
        ("content/actors/kim-jong-un.yaml", "actor"),
        ("content/experts/park.yml", "expert"),
        ("seeds/000.txt", "seed"),
        ("static/logo.png", "static"),
        ("themes/default/templates/base.html", "template"),
        ("themes/default/static/style.css", "asset"),
        ("themes/mine/theme.yaml", "theme"),
        ("content/briefings/2025/kim.md.swp", None),
        ("content/briefings/2025/.kim.md.swp", None),
        ("content/briefings/2025/kim.md~", None),
        ("content/briefings/2025/.#kim.md", None),
        ("content/briefings/2025/#kim.md#", None),
        ("content/briefings/2025/4913", None),
        ("content/briefings/2025/kim.md.tmp", None),
        ("content/briefings/notes.txt", None),
        ("content/.git/HEAD", None),
        ("site/index.html", None),
        ("README.md", None),
    ],
)
def test_classify(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def test_lost_events_make_the_next_rebuild_look_at_every_file(tmp_path: Path) -> None:
    """When the kernel's inotify queue overflows, watchdog says so in its log and the events are gone: serve is told that everything may have changed."""
    (tmp_path / "content").mkdir()
    heard: list[set[str]] = []
    observer = watch(tmp_path, (), heard.append)
    try:
        INOTIFY_LOG.warning("Inotify queue overflowed; filesystem events were lost")
    finally:
        unwatch(observer)
    assert heard == [{EVERYTHING}]
    INOTIFY_LOG.warning("Inotify queue overflowed; filesystem events were lost")  # an observer stopped listens no more
    assert heard == [{EVERYTHING}]


def test_editor_files() -> None:
    assert all(is_editor_file(n) for n in (".x.md.swp", "x.md~", ".#x.md", "4913", "#x.md#", "x.swx", "~$doc.md", "style.css___jb_tmp___", "style.css___jb_old___"))
    assert not any(is_editor_file(n) for n in ("x.md", "kim-jong-un.yaml", "style.css", "4914"))


# -- a running server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve") / "example"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "seeds", root / "seeds")
    (root / "static").mkdir()
    (root / "static" / "note.txt").write_text("a static file\n", "utf-8")
    return root


class Recorder:
    """Collect rebuilds as the server reports them; wait for one with a timeout, never a sleep."""

    def __init__(self) -> None:
        self.rebuilds: list[Rebuild] = []
        self.cond = threading.Condition()

    def __call__(self, rebuild: Rebuild) -> None:
        with self.cond:
            self.rebuilds.append(rebuild)
            self.cond.notify_all()

    def wait(self, number: int) -> Rebuild:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.rebuilds) >= number, TIMEOUT), f"no build {number}"
            return self.rebuilds[number - 1]

    def build(self, number: int) -> Rebuild:
        """The rebuild that published snapshot `number`: pages hear of a build before the recorder does."""
        with self.cond:
            assert self.cond.wait_for(lambda: any(r.number == number for r in self.rebuilds), TIMEOUT), f"no build numbered {number}"
            return next(r for r in self.rebuilds if r.number == number)

    def settle(self, server: PreviewServer) -> int:
        """Wait until every build the server has published is recorded; return how many are."""
        self.build(server.snapshot.number)  # the first build is number 1, recorded too
        return len(self.rebuilds)


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[PreviewServer]:
    recorder = Recorder()
    serve = PreviewServer(ServeConfig(site, port=0, allow_hosts=("phone.lan",)), recorder)
    serve.recorder = recorder  # type: ignore[attr-defined]
    serve.start()
    yield serve
    serve.stop()


def raw(server: PreviewServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one raw HTTP request (nothing normalised by a client library); return status, headers, body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get(server: PreviewServer, target: str, host: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host_line = f"Host: {host if host is not None else f'127.0.0.1:{server.port}'}\r\n" if host != "" else ""
    return raw(server, f"{method} {target} HTTP/1.1\r\n{host_line}Connection: close\r\n\r\n".encode("latin-1"))


def strip_script(data: bytes) -> bytes:
    start = data.find(b'<script src="/__briefing__/livereload.js"')
    assert start >= 0
    end = data.index(b"</script>", start) + len(b"</script>")
    return data[:start] + data[end:]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_gets_404_over_http(server: PreviewServer, target: str) -> None:
    status, _, body = get(server, target)
    assert status == 404
    assert b"root:" not in body


def test_absolute_form_request_target_cannot_escape(server: PreviewServer) -> None:
    status, _, _ = get(server, f"http://127.0.0.1:{server.port}/../../etc/passwd")
    assert status == 404


def test_host_check_over_http(server: PreviewServer) -> None:
    assert get(server, "/")[0] == 200
    assert get(server, "/", host=f"localhost:{server.port}")[0] == 200
    assert get(server, "/", host=f"phone.lan:{server.port}")[0] == 200  # --allow-host
    status, _, body = get(server, "/", host=f"evil.example:{server.port}")
    assert status == 403 and b"--allow-host" in body
    assert get(server, "/", host="evil.example")[0] == 403
    assert get(server, "/", host="")[0] == 403  # no Host header at all
    assert get(server, "/assets/style.css", host=f"attacker.test:{server.port}")[0] == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_only_get_and_head_are_answered(server: PreviewServer, method: str) -> None:
    status, headers, _ = get(server, "/index.html", method=method)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_unknown_methods_are_refused(server: PreviewServer) -> None:
    assert get(server, "/index.html", method="BREW")[0] == 501


def test_head_has_headers_and_no_body(server: PreviewServer) -> None:
    status, headers, body = get(server, "/index.html")
    h_status, h_headers, h_body = get(server, "/index.html", method="HEAD")
    assert (status, h_status) == (200, 200)
    assert h_body == b""
    assert h_headers["content-length"] == headers["content-length"] == str(len(body))


def test_folders_missing_pages_and_redirects(server: PreviewServer) -> None:
    status, headers, body = get(server, "/actors/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8" and b"<h1>Actors</h1>" in body
    status, headers, _ = get(server, "/actors")
    assert status == 301 and headers["location"] == "/actors/"
    status, _, body = get(server, "/no/such/page.html")
    assert status == 404
    assert strip_script(body) == server.snapshot.files["404.html"]
    assert get(server, "/note.txt")[2] == b"a static file\n"


def test_served_bytes_equal_built_bytes_apart_from_the_script(server: PreviewServer, site: Path, tmp_path: Path) -> None:
    out = tmp_path / "built"
    report = build(BuildConfig(site, out, drafts=True, hash_assets=False))
    assert not report.failed, report.diagnostics
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    served_paths = set(server.snapshot.files)
    compared = 0
    for rel in written:
        if rel not in served_paths:
            assert rel.startswith("pagefind/"), rel  # the search index is made by build only
            continue
        status, _, body = get(server, "/" + rel)
        assert status == 200, rel
        expected = (out / rel).read_bytes()
        if rel.endswith(".html"):
            assert body.count(b"/__briefing__/livereload.js") == 1, rel
            body = strip_script(body)
        assert body == expected, rel
        compared += 1
    assert compared == len(served_paths) > 20
    assert not any(b"livereload" in (out / rel).read_bytes() for rel in written if rel.endswith(".html"))


def test_port_in_use_is_a_clear_error(server: PreviewServer, site: Path) -> None:
    other = PreviewServer(ServeConfig(site, port=server.port))
    with pytest.raises(ServeError, match=f"port {server.port} on 127.0.0.1 is in use"):
        other.start()
    fallback = PreviewServer(ServeConfig(site, port=server.port, next_free_port=True))
    fallback.start()
    try:
        assert fallback.port != server.port
    finally:
        fallback.stop()


# -- the event channel and rebuilds --------------------------------------------------


def ws(server: PreviewServer, origin: str | None = None):  # type: ignore[no-untyped-def]
    origin = origin or f"http://127.0.0.1:{server.port}"
    return connect(f"ws://127.0.0.1:{server.port}/__briefing__/events", origin=origin, open_timeout=TIMEOUT)  # type: ignore[arg-type]


def test_event_channel_checks_origin(server: PreviewServer) -> None:
    with pytest.raises(Exception, match="403"):
        ws(server, origin="http://evil.example:80")
    status, _, _ = raw(server, f"GET /__briefing__/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert status == 403  # no Origin at all


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    tmp = path.with_name(f".{path.name}.tmp")  # the way editors save: a temporary file renamed over the original
    tmp.write_text(text.replace(old, new, 1), "utf-8")
    os.replace(tmp, path)


def test_an_edit_rebuilds_and_tells_the_page_that_changed(server: PreviewServer, site: Path) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    page = "briefings/kim-jong-un-beijing-victory-day/index.html"
    other = "experts/index.html"
    with ws(server) as mine, ws(server) as theirs:
        mine.send(json.dumps({"path": "/" + page, "digest": server.snapshot.digests[page]}))
        theirs.send(json.dumps({"path": "/" + other, "digest": server.snapshot.digests[other]}))
        before = recorder.settle(server)
        source = next(site.glob("content/briefings/**/kim-jong-un-beijing-victory-day.md"))
        _edit(source, "is expected to visit", "is expected to travel to")
        message = json.loads(mine.recv(timeout=TIMEOUT))
        assert message["type"] == "reload"
        rebuild = recorder.wait(before + 1)
        assert rebuild.sources == ("content/briefings/2025/kim-jong-un-beijing-victory-day.md",)
        assert page in rebuild.changed and other not in rebuild.changed
        assert message["build"] == rebuild.number
        assert b"is expected to travel to" in get(server, "/" + page)[2]
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=0.5)  # a page that did not change hears nothing


def test_the_open_page_is_published_and_told_before_the_rest_of_the_build(server: PreviewServer, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    page = "briefings/kim-jong-un-beijing-victory-day/index.html"
    twin = "briefings/kim-jong-un-beijing-victory-day/index.md"  # shows the edit, rendered with the rest
    reached, release = threading.Event(), threading.Event()
    real_feeds = pipeline_module.render_feeds

    def held_feeds(*args, **kwargs):  # type: ignore[no-untyped-def]
        reached.set()  # the pages are rendered: the rest of the build waits here until released
        assert release.wait(TIMEOUT)
        return real_feeds(*args, **kwargs)

    with ws(server) as mine:
        mine.send(json.dumps({"path": "/" + page, "digest": server.snapshot.digests[page]}))
        before = recorder.settle(server)
        number = server.snapshot.number + 1
        monkeypatch.setattr(pipeline_module, "render_feeds", held_feeds)
        source = next(site.glob("content/briefings/**/kim-jong-un-beijing-victory-day.md"))
        try:
            _edit(source, "Kim departed Pyongyang", "Kim set off from Pyongyang")
            message = json.loads(mine.recv(timeout=TIMEOUT))  # told while the build is held
            assert message == {"type": "reload", "build": number}
            assert reached.wait(TIMEOUT)
            status, headers, body = get(server, "/" + page)
            assert (status, headers["x-briefing-build"]) == (200, str(number)) and b"Kim set off from Pyongyang" in body
            assert f'data-build="{number - 1}"'.encode() in body  # its stylesheets are still the last whole build's
            assert b"Kim set off from Pyongyang" not in get(server, "/" + twin)[2]  # not yet: the build has not ended
            assert server.wait_for_build(number, 0.2) is None  # and nobody waiting for the whole build is answered early
        finally:
            release.set()
        rebuild = recorder.wait(before + 1)
        assert (rebuild.number, rebuild.told_ahead, rebuild.told) == (number, 1, 0)  # told once, not again at the end
        assert page in rebuild.changed and twin in rebuild.changed
        assert server.wait_for_build(number, TIMEOUT) is not None
        assert b"Kim set off from Pyongyang" in get(server, "/" + twin)[2]
        after = get(server, "/" + page)[2]
        assert strip_script(after) == strip_script(body)  # the page published ahead is the build's own
        assert f'data-build="{number}"'.encode() in after
        with pytest.raises(TimeoutError):
            mine.recv(timeout=0.5)


def _own_theme(server: PreviewServer, site: Path) -> Path:
    """Return the site's own copy of the default theme (made, and built, the first time), whose stylesheet a test may edit."""
    theme = site / "themes" / "default"
    if not theme.exists():
        shutil.copytree(REPO / "themes" / "default", theme)
        server.recorder.wait(server.recorder.settle(server) + 1)  # type: ignore[attr-defined]
    return theme


def test_a_stylesheet_edit_swaps_css_without_reload(server: PreviewServer, site: Path) -> None:
    page = "index.html"
    theme = _own_theme(server, site)
    with ws(server) as client:
        client.send(json.dumps({"path": "/", "digest": server.snapshot.digests[page]}))
        (theme / "static" / "style.css").write_text((theme / "static" / "style.css").read_text() + "\n.x { color: red }\n")
        message = json.loads(client.recv(timeout=TIMEOUT))
        assert message["type"] == "css" and message["paths"] == ["/assets/style.css"]
        assert get(server, "/assets/style.css")[2].endswith(b".x { color: red }\n")


def test_a_page_told_to_reload_hears_which_stylesheets_changed_with_it(server: PreviewServer, site: Path) -> None:
    theme = _own_theme(server, site)
    with ws(server) as client:
        client.send(json.dumps({"path": "/", "digest": "an-old-digest", "build": server.snapshot.number}))
        assert json.loads(client.recv(timeout=TIMEOUT)) == {"type": "reload", "build": server.snapshot.number, "css": []}
        # The page has not said what it shows since: the next build tells it to reload again, and
        # which stylesheets changed, since a page swapped in keeps the ones it has.
        (theme / "static" / "style.css").write_text((theme / "static" / "style.css").read_text() + "\n.y { color: blue }\n")
        message = json.loads(client.recv(timeout=TIMEOUT))
        assert message["type"] == "reload" and message["css"] == ["/assets/style.css"]


def test_a_broken_source_shows_the_error_and_keeps_the_last_good_site(server: PreviewServer, site: Path) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    actor = site / "content" / "actors" / "china.yaml"
    good = actor.read_text("utf-8")
    last_good = dict(server.snapshot.files)
    try:
        with ws(server) as client:
            client.send(json.dumps({"path": "/", "digest": server.snapshot.digests["index.html"]}))
            actor.write_text(good.replace("kind: state", "kind: state\nkidn: typo"), "utf-8")
            message = json.loads(client.recv(timeout=TIMEOUT))
            assert message["type"] == "error"
            assert message["text"].startswith("content/actors/china.yaml:")
            line = message["diagnostics"][0]["line"]
            assert good.replace("kind: state", "kind: state\nkidn: typo").split("\n")[line - 1].startswith("kidn")
            assert recorder.build(message["build"]).report.failed
            assert dict(server.snapshot.files) == last_good  # the last good site is still served
            # A page opened while the error stands hears of it at once.
            with ws(server) as late:
                late.send(json.dumps({"path": "/", "digest": server.snapshot.digests["index.html"]}))
                assert json.loads(late.recv(timeout=TIMEOUT))["type"] == "error"
            actor.write_text(good, "utf-8")
            kinds = [json.loads(client.recv(timeout=TIMEOUT))["type"]]
            while kinds[-1] == "error":  # the write may have been seen as two saves of a broken file
                kinds.append(json.loads(client.recv(timeout=TIMEOUT))["type"])
            assert kinds[-1] == "reload"
            assert not server.snapshot.errors
    finally:
        if actor.read_text("utf-8") != good:  # a failed assertion must not leave the shared site broken for the tests after it
            actor.write_text(good, "utf-8")


def _a_second_build(server: PreviewServer, site: Path) -> Snapshot:
    """Return the served snapshot once it is whole and not the first build (a page can then be older than it)."""
    if server.snapshot.number == 1:
        recorder: Recorder = server.recorder  # type: ignore[attr-defined]
        before = recorder.settle(server)
        config = site / "content" / "site.yaml"
        config.write_bytes(config.read_bytes())  # an event, and a rebuild that changes nothing
        recorder.wait(before + 1)
    snapshot = server.wait_for_build(server.snapshot.number, TIMEOUT)
    assert snapshot is not None and snapshot.number > 1
    return snapshot


def test_a_page_that_missed_a_build_is_told_to_reload_when_it_connects(server: PreviewServer, site: Path) -> None:
    with ws(server) as client:
        client.send(json.dumps({"path": "/", "digest": "an-old-digest"}))
        assert json.loads(client.recv(timeout=TIMEOUT))["type"] == "reload"
    snapshot = _a_second_build(server, site)
    with ws(server) as client:  # its stylesheets are older too: it swaps them all with its new version
        client.send(json.dumps({"path": "/", "digest": "an-old-digest", "build": snapshot.number - 1}))
        told = json.loads(client.recv(timeout=TIMEOUT))
        assert told["type"] == "reload" and told["css"] == sorted("/" + p for p in snapshot.files if p.endswith(".css"))


def test_a_page_served_by_an_older_build_is_told_to_swap_its_stylesheets_when_it_connects(server: PreviewServer, site: Path) -> None:
    snapshot = _a_second_build(server, site)
    digest = snapshot.digests["index.html"]
    with ws(server) as client:  # its page is current, but a stylesheet may have changed between its load and its hello
        client.send(json.dumps({"path": "/", "digest": digest, "build": snapshot.number - 1}))
        told = json.loads(client.recv(timeout=TIMEOUT))
        assert told["type"] == "css" and told["build"] == snapshot.number
        assert told["paths"] and all(p.endswith(".css") for p in told["paths"])
    with ws(server) as client:  # served by the current build: nothing to catch up
        client.send(json.dumps({"path": "/", "digest": digest, "build": snapshot.number}))
        with pytest.raises(TimeoutError):
            client.recv(timeout=0.5)


def test_editor_temp_files_cause_no_rebuild_and_a_burst_causes_one(server: PreviewServer, site: Path) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    folder = site / "content" / "briefings" / "2025"
    before = recorder.settle(server)
    for name in (".kim.md.swp", "kim.md~", "4913", ".#kim.md"):
        (folder / name).write_text("junk", "utf-8")
        (folder / name).unlink()
    # Then a burst: three saves of the same file within the debounce window's reach, plus a delete and re-create.
    source = folder / "north-korea-nuclear-constitution-two-hostile-states.md"
    text = source.read_text("utf-8")
    for n in range(3):
        source.write_text(text + f"\nBurst {n}.\n", "utf-8")
    source.unlink()
    source.write_text(text + "\nBurst done.\n", "utf-8")
    rebuild = recorder.wait(before + 1)
    assert rebuild.sources == ("content/briefings/2025/north-korea-nuclear-constitution-two-hostile-states.md",)
    assert not rebuild.report.failed
    assert server.wait_for_build(rebuild.number, TIMEOUT) is not None


def test_a_burst_of_many_files_with_gaps_past_the_one_file_window_causes_one_rebuild(server: PreviewServer, site: Path) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    before = recorder.settle(server)
    sources = sorted((site / "content").rglob("*.yaml"))[:4]
    assert len(sources) == 4
    texts = {path: path.read_text("utf-8") for path in sources}
    gap = (serve_module.DEBOUNCE + serve_module.DEBOUNCE_MANY) / 2  # past the window for one file, within the one for many
    time.sleep(2 * serve_module.DEBOUNCE_MANY)
    try:
        for n, path in enumerate(sources):  # the first two at once, then further apart, as a checkout writes them
            path.write_text(texts[path] + "\n", "utf-8")
            if n:
                time.sleep(gap)
        rebuild = recorder.wait(before + 1)
        assert rebuild.sources == tuple(sorted(p.relative_to(site).as_posix() for p in sources))
        time.sleep(4 * serve_module.DEBOUNCE_MANY)
        assert len(recorder.rebuilds) == before + 1  # and no second one
    finally:
        for path, text in texts.items():
            path.write_text(text, "utf-8")
        recorder.wait(before + 2)
        recorder.settle(server)


def test_a_due_garbage_collection_waits_until_serve_is_idle(server: PreviewServer, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    before = recorder.settle(server)
    monkeypatch.setattr(serve_module, "COLLECT_IDLE", 1.0)
    collected = threading.Event()
    monkeypatch.setattr(server, "_collect", lambda: (setattr(server, "since_collect", 0), collected.set()))
    server.since_collect = serve_module.COLLECT_EVERY - 1
    source = site / "content" / "site.yaml"
    text = source.read_text("utf-8")
    try:
        source.write_text(text + "\n", "utf-8")
        recorder.wait(before + 1)  # the rebuild that makes a collection due does not run it ...
        deadline = time.monotonic() + TIMEOUT
        while server.since_collect < serve_module.COLLECT_EVERY and time.monotonic() < deadline:  # (counted after the rebuild is recorded)
            time.sleep(0.01)
        assert server.since_collect == serve_module.COLLECT_EVERY and not collected.is_set()
        source.write_text(text, "utf-8")  # ... nor does a save within the idle time ...
        recorder.wait(before + 2)
        assert not collected.is_set()
        assert collected.wait(TIMEOUT)  # ... it runs once nothing changed for COLLECT_IDLE
        assert server.since_collect == 0
    finally:
        source.write_text(text, "utf-8")
        recorder.settle(server)


def test_serve_command_prints_the_url_and_stops_cleanly_on_ctrl_c(site: Path) -> None:
    command = [sys.executable, "-m", "generator", "serve", "--source", str(site), "--port", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("serving "):  # not two readline()s: a failed first build prints no "build 1" line
            lines.append(process.stdout.readline())
        assert lines[0].startswith("build 1: ")
        assert lines[1].startswith("serving ") and "http://127.0.0.1:" in lines[1]
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    assert "Traceback" not in err and err.strip().endswith("stopped")


def test_polling_watch_sees_an_atomic_save(tmp_path: Path) -> None:
    from watchdog.observers.polling import PollingObserver

    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    source = folder / "a.md"
    source.write_text("one", "utf-8")
    seen: list[set[str]] = []
    cond = threading.Condition()

    def on_change(paths: set[str]) -> None:
        with cond:
            seen.append(paths)
            cond.notify_all()

    observer = watch(tmp_path, (), on_change, poll=True)
    try:
        assert isinstance(observer, PollingObserver)
        _edit(source, "one", "two")
        with cond:
            assert cond.wait_for(lambda: any("content/briefings/a.md" in paths for paths in seen), TIMEOUT)
        assert all(paths <= {"content/briefings/a.md"} for paths in seen)  # never the temporary file
    finally:
        observer.stop()
        observer.join(TIMEOUT)


def test_a_change_during_a_rebuild_is_followed_by_exactly_one_more(server: PreviewServer, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    entered, release = threading.Event(), threading.Event()
    real_build = serve_module.build

    def held_build(config, previous=None, ahead=None, touched=None):  # type: ignore[no-untyped-def]
        if config is server.build_config and not release.is_set():
            entered.set()
            assert release.wait(TIMEOUT)
        return real_build(config, previous=previous, ahead=ahead, touched=touched)

    monkeypatch.setattr(serve_module, "build", held_build)
    kim = next(site.glob("content/briefings/**/kim-jong-un-beijing-victory-day.md"))
    constitution = next(site.glob("content/briefings/**/north-korea-nuclear-constitution-two-hostile-states.md"))
    actor = site / "content" / "actors" / "china.yaml"
    before = recorder.settle(server)
    _edit(kim, "::: view", "A first new sentence.\n\n::: view")
    assert entered.wait(TIMEOUT)  # the rebuild runs (held) ...
    # ... while more changes arrive, as from a git checkout: several files, one of them the same again.
    _edit(constitution, "::: view", "A second new sentence.\n\n::: view")
    _edit(actor, "kind: state", "kind: state\nsummary: A new summary.")
    _edit(kim, "A first new sentence.", "A first new sentence, changed.")
    release.set()
    first, second = recorder.wait(before + 1), recorder.wait(before + 2)
    assert first.sources == ("content/briefings/2025/kim-jong-un-beijing-victory-day.md",)
    assert set(second.sources) == {
        "content/actors/china.yaml",
        "content/briefings/2025/kim-jong-un-beijing-victory-day.md",
        "content/briefings/2025/north-korea-nuclear-constitution-two-hostile-states.md",
    }
    assert not first.report.failed and not second.report.failed
    assert b"A first new sentence, changed." in get(server, "/briefings/kim-jong-un-beijing-victory-day/index.html")[2]
    with recorder.cond:
        assert not recorder.cond.wait_for(lambda: len(recorder.rebuilds) > before + 2, 1.0)  # and no third


def test_a_symlink_out_of_the_project_is_never_served(server: PreviewServer, site: Path) -> None:
    recorder: Recorder = server.recorder  # type: ignore[attr-defined]
    link = site / "static" / "passwd"
    before = recorder.settle(server)
    link.symlink_to("/etc/passwd")
    try:
        rebuild = recorder.wait(before + 1)
        assert rebuild.report.failed
        assert any("symbolic link points outside the site project" in d.message for d in rebuild.report.errors)
        for target in ("/passwd", "/static/passwd"):
            status, _, body = get(server, target)
            assert status == 404 and b"root:" not in body
    finally:
        link.unlink()
    assert not recorder.wait(before + 2).report.failed


def test_a_dropped_connection_is_not_reported_as_an_error(server: PreviewServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    assert server.httpd is not None
    for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "Connection reset by peer"), ValueError("a bug")):
        try:
            raise error
        except Exception:
            server.httpd.handle_error(None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""  # socketserver would print a traceback for each
    assert [r.levelname for r in caplog.records if r.name == "generator.serve"] == ["ERROR"]  # the bug alone, logged


def test_serve_command_says_when_the_port_is_in_use(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--source", str(site), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"serve: error: port {port} on 127.0.0.1 is in use" in err and "--port" in err
    assert "Traceback" not in err


def test_serve_command_warns_when_listening_beyond_this_machine(site: Path) -> None:
    command = [sys.executable, "-m", "generator", "serve", "--source", str(site), "--host", "127.0.0.2", "--port", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)
    try:
        assert process.stdout is not None
        while not (line := process.stdout.readline()).startswith("serving "):
            assert line, "serve ended before it served"
        assert "http://127.0.0.2:" in line
    finally:
        process.send_signal(2)
        _, err = process.communicate(timeout=TIMEOUT)
    assert "warning: listening on 127.0.0.2" in err
