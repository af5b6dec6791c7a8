"""Tests of the search stage: Pagefind fed from memory, its bundle kept under a digest of the indexed pages, its failures reported."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from generator import search
from generator.diagnostics import Diagnostics
from generator.pages import Output

PAGE = """<!doctype html><html lang="en"><head><title>{title}</title><meta name="description" content="{title} summary" data-pagefind-meta="summary[content]"></head>
<body><header>Site</header><main data-pagefind-body><h1>{title}</h1><p>{text}</p></main></body></html>"""


def site(texts: dict[str, str]) -> list[Output]:
    """Return outputs of a small site: one briefing page per text, a list page and an asset that search must leave out."""
    pages = [Output(f"briefings/{slug}/index.html", PAGE.format(title=slug.title(), text=text).encode(), frozenset({f"briefing:{slug}"})) for slug, text in texts.items()]
    return pages + [Output("briefings/index.html", b"<main data-pagefind-body>list</main>"), Output("assets/style.css", b"body{}")]


def bundle(outputs: list[Output], cache: Path) -> dict[str, bytes]:
    diags = Diagnostics()
    found = search.search_outputs(outputs, cache, diags)
    assert not diags.items, [str(d) for d in diags.items]
    return {o.path: o.data for o in found}


def words(files: dict[str, bytes]) -> str:
    """Return the text of every fragment in a bundle (fragments are gzipped JSON after a signature)."""
    text = []
    for path, data in sorted(files.items()):
        if path.startswith("pagefind/fragment/"):
            raw = gzip.decompress(data)
            fragment = json.loads(raw[raw.index(b"{"):])
            text.append(f"{fragment['url']} {fragment['content']}")
    return "\n".join(text)


def test_the_bundle_indexes_the_pages_given_from_memory_and_leaves_pagefinds_ui_out(tmp_path: Path) -> None:
    files = bundle(site({"alpha": "Sanctions on copper exports", "beta": "A ceasefire in the north"}), tmp_path / "cache")
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert sum(lang["page_count"] for lang in entry["languages"].values()) == 2  # not the list page, not the stylesheet
    assert "pagefind/pagefind.js" in files and not any(p.endswith(search.UNUSED) for p in files)
    text = words(files)
    assert "/briefings/alpha/index.html Alpha. Sanctions on copper exports." in text
    assert "/briefings/beta/index.html" in text and "list" not in text
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name != search.CACHE]  # nothing but the kept bundle


def test_the_same_pages_reuse_the_kept_bundle_and_a_changed_page_runs_pagefind_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    pages = site({"alpha": "Copper", "beta": "Ceasefire"})
    first = bundle(pages, cache)
    real = search.run_pagefind
    runs: list[int] = []

    def counted(binary: Path, indexed: list[Output], started: object = None) -> dict[str, bytes]:
        runs.append(len(indexed))
        return real(binary, indexed, started)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "run_pagefind", counted)
    assert bundle(pages, cache) == first and runs == []
    unindexed = [o if o.path != "briefings/index.html" else Output(o.path, b"<main data-pagefind-body>other list</main>") for o in pages]
    assert bundle(unindexed, cache) == first and runs == []  # a page search does not cover changed: the same index
    edited = site({"alpha": "Copper and tin", "beta": "Ceasefire"})
    changed = bundle(edited, cache)
    assert runs == [2] and changed != first and "Copper and tin" in words(changed)
    assert bundle(edited, tmp_path / "fresh") == changed  # the kept bundle is the one a build without a cache makes


def test_a_damaged_or_hostile_kept_bundle_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    pages = site({"alpha": "Copper"})
    good = bundle(pages, cache)
    (cache / search.CACHE).write_bytes(b"not a zip")
    assert bundle(pages, cache) == good
    key = search.bundle_key(sorted(search.indexed_pages(pages), key=lambda o: o.path), search.pagefind_binary())  # type: ignore[arg-type]
    with zipfile.ZipFile(cache / search.CACHE, "w") as archive:
        archive.comment = key.encode()
        archive.writestr("../../escape.js", b"alert(1)")
    assert bundle(pages, cache) == good


def fake_pagefind(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "pagefind"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    "script, message",
    [
        ("echo 'thread main panicked: boom' >&2; exit 101\n", "search: Pagefind failed (exit 101): thread main panicked: boom"),
        ("cat > /dev/null & printf 'bm90IGpzb24=,'; wait\n", "search: Pagefind failed: "),
        ("exec cat > /dev/null\n", "search: Pagefind failed: Pagefind stopped before it answered"),
    ],
)
def test_a_failing_pagefind_is_a_positioned_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, message: str) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake_pagefind(tmp_path, script)))
    diags = Diagnostics()
    assert search.search_outputs(site({"alpha": "Copper"}), tmp_path / "cache", diags) == []
    assert [(d.path, d.severity) for d in diags.items] == [("pagefind/", "error")]
    assert diags.items[0].message.startswith(message), diags.items[0].message
    assert not (tmp_path / "cache" / search.CACHE).exists()


def test_a_missing_pagefind_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "nowhere"))
    diags = Diagnostics()
    assert search.search_outputs(site({"alpha": "Copper"}), tmp_path / "cache", diags) == []
    assert "pip install 'pagefind[bin]'" in diags.items[0].message


def test_the_service_indexes_what_the_command_line_indexes(tmp_path: Path) -> None:
    """The bundle's chunks may be cut differently (pages are numbered in another order), but the pages and their words are the same."""
    pages = site({"alpha": "Sanctions on copper exports", "beta": "A ceasefire in the north", "gamma": "Talks in Geneva"})
    ours = bundle(pages, tmp_path / "cache")
    folder = tmp_path / "pages"
    for o in search.indexed_pages(pages):
        (folder / o.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / o.path).write_bytes(o.data)
    binary = search.pagefind_binary()
    assert binary is not None
    subprocess.run([str(binary), "--site", str(folder), "--output-path", str(tmp_path / "cli"), "--keep-index-url", "--silent"], check=True)
    cli = {f"pagefind/{p.relative_to(tmp_path / 'cli').as_posix()}": p.read_bytes() for p in (tmp_path / "cli").rglob("*") if p.is_file()}
    assert words(ours) == words(cli)

    def same_everywhere(files: dict[str, bytes]) -> dict[str, bytes]:
        """Return the files that do not depend on the order pages were numbered in: fragments, the script, the WebAssembly."""
        return {p: data for p, data in files.items() if not p.startswith("pagefind/index/") and not p.endswith((".pf_meta", "pagefind-entry.json")) and os.path.basename(p) not in search.UNUSED}

    assert same_everywhere(ours) == same_everywhere(cli)


def test_indexing_runs_in_the_background_and_a_cancel_stops_pagefind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = site({"alpha": "Copper", "beta": "Ceasefire"})
    started = search.start_search(pages, tmp_path / "cache")
    diags = Diagnostics()
    assert started.result(diags) == search.search_outputs(pages, tmp_path / "fresh", diags) and not diags.items
    kept = (tmp_path / "cache" / search.CACHE).read_bytes()
    pid = tmp_path / "pid"
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake_pagefind(tmp_path, f"echo $$ > {pid}; exec cat > /dev/null\n")))  # never answers
    hanging = search.start_search(site({"gamma": "Talks"}), tmp_path / "cache")
    for _ in range(200):
        if pid.exists() and pid.read_text().strip():
            break
        time.sleep(0.01)
    hanging.cancel()
    assert hanging.thread is not None and not hanging.thread.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid.read_text()), 0)
    assert (tmp_path / "cache" / search.CACHE).read_bytes() == kept  # a stopped run keeps nothing


def test_answers_are_split_at_their_ends_however_the_pipe_cuts_them() -> None:
    """The bundle is one answer of megabytes, read in chunks: it is found whole, and so are the small answers around it."""
    import base64
    import io

    answers = [{"message_id": 1, "payload": {"type": "NewIndex"}}, {"message_id": 2, "payload": {"type": "GetFiles", "files": [{"path": "a", "content": "x" * 3_000_000}]}}, {"message_id": 3, "payload": {}}]
    stream = io.BufferedReader(io.BytesIO(b"".join(base64.b64encode(json.dumps(a).encode()) + b"," for a in answers)), buffer_size=1 << 16)
    reader = search._Answers(stream)
    assert [reader.next() for _ in answers] == answers
    with pytest.raises(EOFError):
        reader.next()


def test_a_folder_in_memory_and_the_pipe_give_the_same_bundle_and_the_folder_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pagefind parses a folder on every core but numbers its pages in the order it walks them: the folder is used only when that is the pages' order."""
    if not search.MEMORY.is_dir():
        pytest.skip("no file system in memory (/dev/shm) on this machine")
    memory = Path(tempfile.mkdtemp(dir=search.MEMORY))
    monkeypatch.setattr(search, "MEMORY", memory)
    texts = {f"b{n:02d}": f"Talks number {n} on copper and the ceasefire" for n in range(12)} | {"b01-a": "A slug that sorts apart by name", "b1": "Another"}
    pages = site(texts) + [Output("actors/kim/index.html", PAGE.format(title="Kim", text="An actor").encode())]
    conversations: list[bool] = []
    real = search._converse
    monkeypatch.setattr(search, "_converse", lambda process, pages, folder=None: conversations.append(folder is not None) or real(process, pages, folder))
    left = memory / f"{search.FOLDER}999999999-killed"  # left by a build that was killed (no such process can be)
    running = memory / f"{search.FOLDER}{os.getppid()}-running"  # a build that still runs
    for folder in (left, running):
        (folder / "briefings").mkdir(parents=True)
    from_folder = bundle(pages, tmp_path / "a")
    assert conversations == [True] and list(memory.iterdir()) == [running]  # the folder was used and is gone, and so is the one left
    running.joinpath("briefings").rmdir()
    running.rmdir()
    listed = sorted(o.path for o in search.indexed_pages(pages))
    monkeypatch.setattr(search, "_walk", lambda folder, under="": iter(listed))  # a file system that lists paths by their characters ('b01-a' before 'b01/')
    from_pipe = bundle(pages, tmp_path / "b")
    assert conversations == [True, False] and not list(memory.iterdir())
    assert from_folder == from_pipe
    memory.rmdir()


def test_drawings_are_left_out_of_what_pagefind_parses_and_the_bundle_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pagefind leaves a drawing's text out of the index, but parsing it is a quarter of a briefing page's indexing: the pages go without it."""
    from generator.graphics import briefing_timeline
    from generator.model import Event, PartialDate

    drawing = str(briefing_timeline([Event(PartialDate.parse("2025-03-01"), "Tick labels and talks in Geneva"), Event(PartialDate.parse("2025-04"), "A second event")]))
    nested = "<svg><svg><text>Nested words</text></svg></svg>"
    marked = '<svg><text data-pagefind-meta="drawn">Marked words</text></svg>'
    pages = site({"alpha": f"Copper exports. {drawing} After the drawing.", "beta": f"{nested} A ceasefire", "gamma": f"{marked} Talks"})
    stripped = search.searchable(pages[0].data)
    assert b"<svg" not in stripped and b"After the drawing." in stripped and b"Copper exports." in stripped
    assert search.searchable(pages[1].data) == pages[1].data and search.searchable(pages[2].data) == pages[2].data  # as they are
    quick = bundle(pages, tmp_path / "a")
    monkeypatch.setattr(search, "searchable", lambda data: data)
    assert bundle(pages, tmp_path / "b") == quick  # the index Pagefind makes of the whole pages
    text = words(quick)
    assert "Copper exports. After the drawing." in text and "Geneva" not in text
