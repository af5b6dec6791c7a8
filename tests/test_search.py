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
    """Return the URL and text of every page in a bundle's first part, one line each."""
    return "\n".join(f"{url} {text}" for url, text in sorted(fragments(files).items()))


def fragments(files: dict[str, bytes], folder: str = "pagefind/") -> dict[str, str]:
    """Return the text of each page a part's bundle holds, by URL (the part's fragments only, not its subfolders'): gzipped JSON after a signature."""
    found = {}
    for path, data in files.items():
        if path.startswith(folder + "fragment/"):
            raw = gzip.decompress(data)
            fragment = json.loads(raw[raw.index(b"{") :])
            found[fragment["url"]] = fragment["content"]
    return found


def test_the_bundle_indexes_the_pages_given_from_memory_and_leaves_pagefinds_ui_out(tmp_path: Path) -> None:
    files = bundle(site({"alpha": "Sanctions on copper exports", "beta": "A ceasefire in the north"}), tmp_path / "cache")
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert sum(lang["page_count"] for lang in entry["languages"].values()) == 2  # not the list page, not the stylesheet
    assert "pagefind/pagefind.js" in files and not any(p.endswith(search.UNUSED) for p in files)
    text = words(files)
    assert "/briefings/alpha/index.html Alpha. Sanctions on copper exports." in text
    assert "/briefings/beta/index.html" in text and "list" not in text
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name != search.CACHE.format(1)]  # nothing but the kept bundle


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
    (cache / search.CACHE.format(1)).write_bytes(b"not a zip")
    assert bundle(pages, cache) == good
    key = search.bundle_key(sorted(search.indexed_pages(pages), key=lambda o: o.path), search.pagefind_binary())  # type: ignore[arg-type]
    with zipfile.ZipFile(cache / search.CACHE.format(1), "w") as archive:
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
    assert not (tmp_path / "cache" / search.CACHE.format(1)).exists()


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

    assert json.loads(ours.pop(f"pagefind/{search.PARTS}")) == {"parts": []}  # ours alone: one part, nothing to merge
    assert same_everywhere(ours) == same_everywhere(cli)


def test_indexing_runs_in_the_background_and_a_cancel_stops_pagefind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = site({"alpha": "Copper", "beta": "Ceasefire"})
    started = search.start_search(pages, tmp_path / "cache")
    diags = Diagnostics()
    assert started.result(diags) == search.search_outputs(pages, tmp_path / "fresh", diags) and not diags.items
    kept = (tmp_path / "cache" / search.CACHE.format(1)).read_bytes()
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
    assert (tmp_path / "cache" / search.CACHE.format(1)).read_bytes() == kept  # a stopped run keeps nothing


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


def test_parts_share_the_pages_in_their_order_and_a_page_keeps_its_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "PART_PAGES", 3)
    pages = sorted(search.indexed_pages(site({f"b{n:02d}": "text" for n in range(10)})), key=lambda o: o.path)
    shares = search.parts(pages)
    assert len(shares) == 4 and sorted(o.path for share in shares for o in share) == [o.path for o in pages]
    assert all([o.path for o in share] == sorted(o.path for o in share) for share in shares)  # each in the pages' order
    where = {o.path: n for n, share in enumerate(search.parts(pages)) for o in share}
    grown = sorted(search.indexed_pages(site({f"b{n:02d}": "text" for n in range(10)} | {"a1": "text", "a2": "text"})), key=lambda o: o.path)
    assert all(where[o.path] == n for n, share in enumerate(search.parts(grown)) for o in share if o.path in where)  # the same part, with two more pages before them
    monkeypatch.setattr(search, "PART_PAGES", 10)
    assert search.parts(pages) == [pages]  # up to PART_PAGES: one part, the bundle a site has always had


def test_a_site_over_the_part_size_is_indexed_in_parts_that_hold_every_page_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {f"b{n}": f"Talks number {n} on copper" for n in range(7)}
    whole = bundle(site(texts), tmp_path / "one")
    monkeypatch.setattr(search, "PART_PAGES", 3)
    files = bundle(site(texts), tmp_path / "parts")
    listed = json.loads(files[f"pagefind/{search.PARTS}"])["parts"]
    assert listed == ["part-2/", "part-3/"]
    found = [fragments(files)] + [fragments(files, f"pagefind/{folder}") for folder in listed]
    assert all(found) and sum(len(f) for f in found) == 7
    assert {url: text for f in found for url, text in f.items()} == fragments(whole)  # every page, once, with the same words
    for folder in listed:  # a part after the first has its index, not the engine that searches it
        names = {p[len(f"pagefind/{folder}") :] for p in files if p.startswith(f"pagefind/{folder}")}
        assert "pagefind-entry.json" in names and any(n.startswith("index/") for n in names)
        assert not names & {"pagefind.js", "pagefind-worker.js"} and not any(n.startswith("wasm.") for n in names)
        entry = json.loads(files[f"pagefind/{folder}pagefind-entry.json"])
        assert entry["version"] == json.loads(files["pagefind/pagefind-entry.json"])["version"]
    assert "pagefind/pagefind.js" in files and any(p.startswith("pagefind/wasm.") for p in files)
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [search.CACHE.format(n) for n in (1, 2, 3)]


def test_an_edit_indexes_again_only_the_part_it_changed_and_fewer_parts_forget_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "PART_PAGES", 3)
    cache = tmp_path / "cache"
    texts = {f"b{n}": f"Talks number {n}" for n in range(7)}
    first = bundle(site(texts), cache)
    real = search.run_pagefind
    runs: list[list[str]] = []

    def counted(binary: Path, indexed: list[Output], started: object = None) -> dict[str, bytes]:
        runs.append([o.path for o in indexed])
        return real(binary, indexed, started)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "run_pagefind", counted)
    assert bundle(site(texts), cache) == first and runs == []
    edited = bundle(site(texts | {"b4": "Talks about tin"}), cache)
    shares = search.parts(sorted(search.indexed_pages(site(texts)), key=lambda o: o.path))
    assert runs == [[o.path for o in share] for share in shares if "briefings/b4/index.html" in [o.path for o in share]]
    assert edited == bundle(site(texts | {"b4": "Talks about tin"}), tmp_path / "fresh")  # the same bundle as a build without a cache
    indexed = {url: text for folder in ("", "part-2/", "part-3/") for url, text in fragments(edited, f"pagefind/{folder}").items()}
    assert "Talks about tin" in indexed["/briefings/b4/index.html"]
    monkeypatch.setattr(search, "PART_PAGES", 1000)
    bundle(site(texts), cache)
    assert sorted(p.name for p in cache.iterdir()) == [search.CACHE.format(1)]  # one part now: the others' bundles are gone
