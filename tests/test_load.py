"""Loading sources: a rebuild reuses the text of files whose stat is unchanged, and still sees every edit."""

from __future__ import annotations

import os
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
    memo: LoadMemo = {}
    first = loaded(root, memo)
    assert set(memo) == {str(root / f.path) for f in (first.site, *first.briefings, *first.actors, *first.experts) if f is not None}
    again = loaded(root, memo)
    assert again == first == loaded(root)  # the same sources as a load without a memo
    assert all(a is b for a, b in zip(again.briefings + again.actors, first.briefings + first.actors))  # reused, not read again


def test_an_edit_keeping_size_and_mtime_is_read(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)  # the memo trusts stats alone: only the ctime can reveal the edit
    root = make_site()
    memo: LoadMemo = {}
    loaded(root, memo)
    same_size_edit(root / "content/briefings/first.md", "Body text.", "Body TEXT.")
    (briefing,) = [f for f in loaded(root, memo).briefings if f.path == "content/briefings/first.md"]
    assert "Body TEXT." in briefing.text


def test_a_fresh_file_is_read_every_time(make_site: Callable[..., Path]) -> None:
    root = make_site()  # just written: within SETTLE_NS, a stat may not change on the next write in the same clock tick
    memo: LoadMemo = {}
    first = loaded(root, memo)
    assert memo == {}
    assert loaded(root, memo) == first


def test_the_memo_holds_only_current_files(make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "SETTLE_NS", 0)
    root = make_site()
    memo: LoadMemo = {}
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
