"""Loading sources: a rebuild reuses the text of files whose stat is unchanged, and still sees every edit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from generator import load
from generator.diagnostics import Diagnostics
from generator.load import LoadMemo, load_sources
from generator.pipeline import BuildConfig, build
from generator.serve import PreviewServer, ServeConfig


def same_size_edit(path: Path, old: str, new: str) -> None:
    """Replace old by new (as long) in the file and set its times back, as `touch -r` or `rsync -t` would leave them."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def loaded(root: Path, memo: LoadMemo | None = None) -> load.RawSources:
    diagnostics = Diagnostics()
    raw = load_sources(root, diagnostics, memo)
    assert not diagnostics.items, diagnostics.items
    return raw


def test_a_settled_unchanged_file_is_not_read_again(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)  # every file counts as settled
    root = make_site()
    memo = LoadMemo()
    first = loaded(root, memo)
    assert set(memo) == {str(root / f.path) for f in (first.site, *first.briefings, *first.actors, *first.experts) if f is not None}
    again = loaded(root, memo)
    assert again == first == loaded(root)  # the same sources as a load without a memo
    assert all(a is b for a, b in zip(again.briefings + again.actors, first.briefings + first.actors))  # reused, not read again


def test_an_edit_keeping_size_and_mtime_is_read(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)  # the memo trusts stats alone: only the ctime can reveal the edit
    root = make_site()
    memo = LoadMemo()
    loaded(root, memo)
    same_size_edit(root / "content/briefings/first.md", "Body text.", "Body TEXT.")
    (briefing,) = [f for f in loaded(root, memo).briefings if f.path == "content/briefings/first.md"]
    assert "Body TEXT." in briefing.text


def test_a_fresh_file_is_read_every_time(make_site: Callable[..., Path]) -> None:
    root = make_site()  # just written: within SETTLE_NS, a stat may not change on the next write in the same clock tick
    memo = LoadMemo()
    first = loaded(root, memo)
    assert memo == {}
    assert loaded(root, memo) == first


def test_a_fresh_file_read_again_with_the_same_text_is_the_same_object(make_site: Callable[..., Path]) -> None:
    """The stages after load recognise an unchanged file by identity: a file too fresh to trust its stat is read again, and handed back as the same object when its text is the same."""
    root = make_site()
    memo = LoadMemo()
    first = loaded(root, memo)
    again = loaded(root, memo)
    assert all(a is b for a, b in zip(again.briefings + again.actors, first.briefings + first.actors))
    same_size_edit(root / "content/briefings/first.md", "Body text.", "Body TEXT.")  # as fresh, the same size and mtime: only the bytes tell
    (edited,) = [f for f in loaded(root, memo).briefings if f.path == "content/briefings/first.md"]
    (before,) = [f for f in first.briefings if f.path == "content/briefings/first.md"]
    assert "Body TEXT." in edited.text and edited is not before


def test_the_memo_holds_only_current_files(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    memo = LoadMemo()
    loaded(root, memo)
    gone = root / "content/briefings/first.md"
    assert str(gone) in memo
    gone.unlink()
    raw = load_sources(root, Diagnostics(), memo)
    assert str(gone) not in memo and all(f.path != "content/briefings/first.md" for f in raw.briefings)


def test_a_rebuild_sees_an_edit_keeping_size_and_mtime(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    config: BuildConfig = PreviewServer(ServeConfig(root)).build_config  # as `briefing serve` rebuilds: in memory
    first = build(config)
    assert not first.failed and first.state is not None and first.state.loaded
    same_size_edit(root / "content/briefings/first.md", "Body text.", "Body TEXT.")
    again = build(config, previous=first.state)
    assert not again.failed
    page = {o.path: o.data for o in again.outputs}["briefings/first/index.html"]
    assert b"Body TEXT." in page


@pytest.mark.parametrize("root", ["/srv/site", "/", ".", "site", "../up/site"])
def test_source_path_spells_a_path_as_pathlib_does(root: str) -> None:
    """The memo is keyed by the paths scandir gives (str of Path): source_path must give the same ones, or a rebuild reads everything again."""
    for rel in ("content/briefings/2024/a.md", "seeds/an article.txt"):
        assert load.source_path(str(Path(root)), rel) == str(Path(root) / rel)


def _load_touched(root: Path, memo: LoadMemo, touched: frozenset[str] | None) -> load.RawSources:
    diagnostics = Diagnostics()
    raw = load_sources(root, diagnostics, memo, touched)
    assert not diagnostics.items, diagnostics.items
    return raw


def _text(raw: load.RawSources, rel: str) -> str | None:
    return next((f.text for f in (*raw.briefings, *raw.actors, *raw.experts) if f.path == rel), None)


def test_with_the_watchers_paths_only_those_files_and_folders_are_looked_at(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """serve passes what its watcher saw change: a file it did not report is taken from the memo without a stat, one it did is read."""
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    memo = LoadMemo()
    _load_touched(root, memo, None)
    first = root / "content/briefings/first.md"
    first.write_text(first.read_text("utf-8").replace("Body text.", "Edited body."), "utf-8")
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(load.os, "stat", lambda path, *a, **k: (stats.append(str(path)), real_stat(path, *a, **k))[1])
    unseen = _load_touched(root, memo, frozenset())
    assert "Body text." in (_text(unseen, "content/briefings/first.md") or "")  # nothing reported: the memo stands, proving no stat was read
    files = lambda: [p for p in stats if "/content/briefings/" in p or "/content/actors/" in p or "/content/experts/" in p]  # noqa: E731
    assert files() == []  # (the folders at the top are still looked at: a few stats, not one per file)
    seen = _load_touched(root, memo, frozenset({"content/briefings/first.md"}))
    assert "Edited body." in (_text(seen, "content/briefings/first.md") or "") and files() == [str(first)]
    assert _load_touched(root, memo, frozenset({load.EVERYTHING})) == load_sources(root, Diagnostics())  # events lost: everything is looked at
    monkeypatch.setattr(load.os, "stat", real_stat)

    new = root / "content/briefings/2031/later.md"  # a new folder with a new briefing, reported as the folder
    new.parent.mkdir()
    new.write_text(first.read_text("utf-8"), "utf-8")
    assert _text(_load_touched(root, memo, frozenset({"content/briefings/2031"})), "content/briefings/2031/later.md") is not None
    new.unlink()
    new.parent.rmdir()
    assert _text(_load_touched(root, memo, frozenset({"content/briefings/2031"})), "content/briefings/2031/later.md") is None
    assert _load_touched(root, memo, frozenset()) == load_sources(root, Diagnostics())


def test_a_folder_the_watcher_vouches_for_keeps_what_was_read_there_until_a_file_in_it_is_reported(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    first = root / "content/briefings/first.md"
    other = root / "content/briefings/2031/other.md"  # a folder of its own, reported on its own
    other.parent.mkdir()
    other.write_text(first.read_text("utf-8"), "utf-8")
    memo = LoadMemo()
    _load_touched(root, memo, None)
    _load_touched(root, memo, frozenset())
    reads: list[str] = []
    real_read = load.read_file
    monkeypatch.setattr(load, "read_file", lambda path, rel, *a, **k: (reads.append(rel), real_read(path, rel, *a, **k))[1])
    _load_touched(root, memo, frozenset())
    assert not [r for r in reads if r.startswith("content/briefings/")]  # each folder's files taken as one piece
    first.write_text(first.read_text("utf-8").replace("Body text.", "Edited body."), "utf-8")
    assert "Edited body." in (_text(_load_touched(root, memo, frozenset({"content/briefings/first.md"})), "content/briefings/first.md") or "")
    assert "Edited body." in (_text(_load_touched(root, memo, frozenset()), "content/briefings/first.md") or "")  # not the piece kept before the edit
    monkeypatch.setattr(load, "SETTLE_NS", 10**19)  # every file fresh: none is kept in the memo once read
    first.write_text(first.read_text("utf-8").replace("Edited body.", "Fresh body."), "utf-8")
    assert "Fresh body." in (_text(_load_touched(root, memo, frozenset({"content/briefings/first.md"})), "content/briefings/first.md") or "")
    assert "Fresh body." in (_text(_load_touched(root, memo, frozenset({"content/briefings/2031/other.md"})), "content/briefings/first.md") or "")  # its folder vouched for, but the file read again
    assert _load_touched(root, memo, frozenset()) == load_sources(root, Diagnostics())


def test_a_linked_file_is_looked_at_though_the_watcher_says_nothing(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody watches a symbolic link's target, so its stat is read on every rebuild."""
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    target = root / "shared.md"
    first = root / "content/briefings/first.md"
    target.write_text(first.read_text("utf-8"), "utf-8")
    link = root / "content/briefings/linked.md"
    link.symlink_to(target)
    memo = LoadMemo()
    _load_touched(root, memo, None)
    target.write_text(target.read_text("utf-8").replace("Body text.", "Through the link."), "utf-8")
    assert "Through the link." in (_text(_load_touched(root, memo, frozenset()), "content/briefings/linked.md") or "")


def test_seeds_the_watcher_vouches_for_are_not_read_again_and_a_broken_one_is_reported_every_time(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import provenance

    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site({"seeds/a.txt": "Alpha.\n", "seeds/b.txt": "Beta.\n"})
    names = {"a.txt", "b.txt"}
    memo = LoadMemo()

    def seeds(touched: frozenset[str] | None) -> tuple[dict[str, str], list[str]]:
        diagnostics = Diagnostics()
        texts = provenance.read_seeds(load_sources(root, diagnostics, memo, touched), names, diagnostics, memo, touched)
        return texts, [d.message for d in diagnostics.items]

    assert seeds(None) == ({"a.txt": "Alpha.\n", "b.txt": "Beta.\n"}, [])
    reads: list[str] = []
    real_read = provenance.read_file
    monkeypatch.setattr(provenance, "read_file", lambda path, rel, *a, **k: (reads.append(rel), real_read(path, rel, *a, **k))[1])
    assert seeds(frozenset({"content/site.yaml"})) == ({"a.txt": "Alpha.\n", "b.txt": "Beta.\n"}, []) and reads == []  # nothing under seeds/ reported
    (root / "seeds/a.txt").write_text("Alpha again.\n", "utf-8")
    assert seeds(frozenset({"seeds/a.txt"}))[0]["a.txt"] == "Alpha again.\n"
    assert seeds(frozenset())[0]["a.txt"] == "Alpha again.\n"
    (root / "seeds/b.txt").write_bytes(b"Beta \xff.\n")
    texts, errors = seeds(frozenset({"seeds/b.txt"}))
    assert "b.txt" not in texts and errors and "not valid UTF-8" in errors[0]
    assert seeds(frozenset())[1] == errors  # reported again by the next rebuild, not hidden by what was kept
    names.discard("b.txt")
    assert seeds(frozenset()) == ({"a.txt": "Alpha again.\n"}, [])


def test_a_seed_that_cannot_be_read_fails_every_rebuild_until_it_is_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed read forgets the file's last good text: a rebuild for another file must not take it from the memo."""
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "site"
    for folder in ("content", "seeds"):
        shutil.copytree(repo / folder, root / folder)
    config = BuildConfig(root, root / ".out", drafts=True, write=False)
    state = build(config).state
    seed = sorted((root / "seeds").glob("*.txt"))[0]
    seed.write_bytes(seed.read_bytes() + b"\xff\n")
    broken = build(config, previous=state, touched=frozenset({seed.relative_to(root).as_posix()}))
    assert broken.failed and any("not valid UTF-8" in d.message for d in broken.diagnostics)
    again = build(config, previous=state, touched=frozenset({"content/site.yaml"}))  # serve keeps the last good state after a failure
    assert again.failed and any("not valid UTF-8" in d.message for d in again.diagnostics)
