"""Rendering shared out between forked workers gives the same site, byte for byte, as rendering in one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import benchmark_module, snapshot

from generator import pipeline
from generator.budget import can_enforce
from generator.pipeline import BuildConfig, build

synth = benchmark_module("synth")


@pytest.mark.skipif(not can_enforce(), reason="no fork on this platform: rendering is always in one process")
def test_workers_render_the_same_bytes_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = synth.synthesize(tmp_path / "site", 30, seed=3)
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 10**9)
    one = build(BuildConfig(site, tmp_path / "one"))
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 1)
    shared = build(BuildConfig(site, tmp_path / "shared"))
    assert not one.failed and not shared.failed, (one.diagnostics, shared.diagnostics)
    assert [o.path for o in one.outputs] == [o.path for o in shared.outputs]
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "shared")
    assert one.state is not None and shared.state is not None
    assert one.state.references == shared.state.references  # what rebuilds reuse is complete too


@pytest.mark.skipif(not can_enforce(), reason="no fork on this platform")
def test_a_template_error_in_workers_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = synth.synthesize(tmp_path / "site", 12, seed=3)
    theme = site / "themes" / "broken"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.yaml").write_text("extends: default\n", "utf-8")
    (theme / "templates" / "briefing.html").write_text('{% extends "base.html" %}{% block main %}{{ nothing.at.all }}{% endblock %}\n', "utf-8")
    site_yaml = site / "content" / "site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("theme: default", "theme: broken"), "utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 1)
    report = build(BuildConfig(site, tmp_path / "out"))
    assert report.failed
    errors = [str(d) for d in report.errors]
    assert len(errors) == 1 and errors[0].startswith("themes/broken/templates/briefing.html:1:1: error: template error"), errors
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not can_enforce(), reason="no fork on this platform")
def test_provenance_compared_in_workers_reports_what_one_process_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = synth.synthesize(tmp_path / "site", 12, seed=3)
    for n, path in enumerate(sorted((site / "seeds").iterdir())[:4]):  # seeds that no longer match their articles: warnings
        path.write_text(path.read_text("utf-8")[: -30 * (n + 1)] + "\nA sentence only the seed has.\n", "utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_DOCUMENTS", 10**9)
    one = build(BuildConfig(site, tmp_path / "one", write=False))
    monkeypatch.setattr(pipeline, "PARALLEL_DOCUMENTS", 1)
    shared = build(BuildConfig(site, tmp_path / "shared", write=False))
    assert not one.failed and len(one.warnings) >= 4
    assert one.diagnostics == shared.diagnostics
    assert [o.data for o in one.outputs] == [o.data for o in shared.outputs]


def test_a_comparison_that_overruns_its_budget_is_an_error_at_the_briefing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.budget import Overrun

    site = synth.synthesize(tmp_path / "site", 3, seed=3)
    monkeypatch.setattr(pipeline, "_shared_out", lambda fn, items, seconds: [Overrun("took longer than 10 s")] + [fn(i) for i in items[1:]])
    report = build(BuildConfig(site, tmp_path / "out"))
    assert report.failed and not (tmp_path / "out").exists()
    errors = [str(d) for d in report.errors]
    assert len(errors) == 1 and "error: comparing this article with its seed took longer than 10 s, the time budget per document" in errors[0], errors
    assert errors[0].startswith("content/briefings/")


@pytest.mark.skipif(not can_enforce(), reason="no fork on this platform")
def test_many_pages_come_in_many_small_shares_with_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = synth.synthesize(tmp_path / "site", 30, seed=3)
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 10**9)
    one = build(BuildConfig(site, tmp_path / "one"))
    calls: list[list[tuple[list, list]]] = []
    real = pipeline.map_bounded

    def spy(fn, items, seconds, workers=None):  # type: ignore[no-untyped-def]
        if isinstance(items[0], tuple):  # the render's shares (not articles or seeds)
            calls.append(list(items))
        return real(fn, items, seconds, workers)

    monkeypatch.setattr(pipeline, "map_bounded", spy)
    monkeypatch.setattr(pipeline, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(pipeline, "SHARE_PAGES", 3)
    shared = build(BuildConfig(site, tmp_path / "shared"))
    assert not one.failed and not shared.failed, shared.diagnostics
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "shared")
    assert len(calls) == 2  # the pages search covers, then the others
    for shares in calls:
        pages = sum(len(md) + len(html) for md, html in shares)
        assert len(shares) >= -(-pages // 3) > 2 * 4, (pages, len(shares))  # more than four shares a worker
        for side in (0, 1):  # the Markdown pages, the HTML pages: each folder's in one share
            owner: dict[str, int] = {}
            for k, share in enumerate(shares):
                for page in share[side]:
                    assert owner.setdefault(page.path.rpartition("/")[0], k) == k, page.path


def test_a_build_runs_with_the_cycle_collector_off_and_leaves_it_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    site = synth.synthesize(tmp_path / "site", 3, seed=3)
    seen: list[bool] = []
    real = pipeline.link
    monkeypatch.setattr(pipeline, "link", lambda *a, **k: seen.append(gc.isenabled()) or real(*a, **k))
    assert gc.isenabled()
    assert not build(BuildConfig(site, tmp_path / "one")).failed
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        (site / "content" / "site.yaml").write_text("title: [unclosed\n", "utf-8")  # a failed build too
        assert build(BuildConfig(site, tmp_path / "two")).failed
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.skipif(not can_enforce(), reason="no fork on this platform")
def test_forked_workers_collect_cycles_but_leave_what_they_were_forked_with_alone() -> None:
    import gc

    from generator.budget import map_bounded

    gc.disable()  # as a build forks them
    try:
        found = map_bounded(lambda _: (gc.isenabled(), gc.get_freeze_count() > 0), [0, 1], 60.0, 2)
    finally:
        gc.enable()
    assert found == [(True, True), (True, True)]
