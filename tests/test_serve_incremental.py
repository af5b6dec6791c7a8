"""Incremental rebuilds: after every kind of edit, the result equals a clean build of the same sources."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from conftest import benchmark_module

from generator import pipeline as pipeline_module
from generator.pages import Output
from generator.pipeline import Ahead, BuildConfig, BuildReport, build, prepare_rebuilds
from generator.serve import PreviewServer, ServeConfig
from generator.watch import unwatch, watch

REPO = Path(__file__).resolve().parent.parent
synth = benchmark_module("synth")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a 10-briefing site with its own copy of the default theme (so templates can be edited)."""
    return _new_site(tmp_path_factory.mktemp("inc") / "site")


def _new_site(path: Path) -> Path:
    root = synth.synthesize(path, 10, seed=7)
    with (root / "content" / "site.yaml").open("a", encoding="utf-8") as f:
        f.write("per_page: 4\n")  # lists paginate, so pages shift between page files
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")
    # A draft, an actor alias that appears unmarked in an article, and a static file.
    first = sorted((root / "content" / "briefings").rglob("*.md"))[0]
    first.write_text(first.read_text("utf-8").replace("---\n", "---\ndraft: true\n", 1), "utf-8")
    (root / "static" / "logo.txt").write_text("logo\n", "utf-8")
    return root


def _config(root: Path) -> BuildConfig:
    """Return the build options serve uses (in memory, drafts shown, stable asset names)."""
    return PreviewServer(ServeConfig(root)).build_config


def _files(report: BuildReport) -> dict[str, bytes]:
    assert not report.failed, report.diagnostics
    return {o.path: o.data for o in report.outputs}


def _edit(path: Path, old: str, new: str) -> Callable[[], None]:
    def apply() -> None:
        text = path.read_text("utf-8")
        assert old in text, (path, old)
        path.write_text(text.replace(old, new, 1), "utf-8")

    return apply


def _briefing(root: Path, n: int) -> Path:
    return next((root / "content" / "briefings").rglob(f"briefing-{n:05d}.md"))


def _rename(root: Path, n: int, slug: str) -> Callable[[], None]:
    def apply() -> None:
        path = _briefing(root, n)
        path.rename(path.with_name(f"{slug}.md"))

    return apply


def _steps(root: Path) -> list[tuple[str, Callable[[], None]]]:
    content = root / "content"
    theme = root / "themes" / "default"
    b5, b6 = _briefing(root, 5), _briefing(root, 6)
    return [
        ("briefing body", _edit(b5, "::: view", "A new sentence in the article.\n\n::: view")),
        ("briefing title", _edit(b5, "title: Briefing 5 on", "title: Retitled briefing 5 on")),
        ("briefing tags", _edit(b5, "tags:\n", "tags:\n  - brand-new-tag\n")),
        ("briefing summary", _edit(b5, "summary: ", "summary: Newly summarised. ")),
        ("briefing key point", _edit(b5, "key_points:\n", "key_points:\n  - A new first point.\n")),
        ("briefing actor stance", _edit(b5, "    stance: supportive", "    stance: opposed")),
        ("briefing actor position", _edit(b5, "    position: ", "    position: Now ")),
        ("briefing expert gist", _edit(b5, "    gist: ", "    gist: Lately ")),
        ("briefing view text", _edit(b5, "\n:::\n", "\nAn added last sentence of the view.\n:::\n")),
        ("briefing event text", _edit(b5, "    event: ", "    event: Reportedly ")),
        ("briefing question and update", _edit(b5, "\ndate: ", "\nquestion: What comes next?\nupdated: 2030-01-02\ndate: ")),
        ("seed edit", lambda: (root / "seeds" / "briefing-00003.txt").write_text((root / "seeds" / "briefing-00003.txt").read_text("utf-8")[:-40] + "\n", "utf-8")),
        ("briefing article appended", lambda: _briefing(root, 4).open("a", encoding="utf-8").write("\nA closing sentence.\n")),
        ("briefing date to a new year", _edit(b6, "\ndate: 20", "\ndate: 19")),
        ("briefing timeline", _edit(b6, "timeline:\n", "timeline:\n  - date: 1950\n    event: A new early event\n")),
        ("actor edit", _edit(content / "actors" / "actor-001.yaml", "role: ", "role: Newly appointed ")),
        ("actor rename", _edit(content / "actors" / "actor-002.yaml", "name: ", "name: Renamed ")),
        ("actor alias found in articles", lambda: (content / "actors" / "actor-003.yaml").open("a").write("aliases:\n  - Observers\n")),
        ("expert edit", _edit(content / "experts" / "expert-001.yaml", "title: Senior fellow", "title: Director")),
        ("actor country", _edit(content / "actors" / "actor-004.yaml", "country: Country", "country: Land")),
        ("actor kind", _edit(content / "actors" / "actor-004.yaml", "kind: state", "kind: person")),
        ("actor summary", _edit(content / "actors" / "actor-001.yaml", "summary: ", "summary: Lately ")),
        ("expert affiliation", _edit(content / "experts" / "expert-000.yaml", "affiliation: Institute", "affiliation: University")),
        ("template edit", _edit(theme / "templates" / "partials" / "actor_card.html", "<dt>Kind</dt>", "<dt>Type</dt>")),
        ("base template edit", _edit(theme / "templates" / "base.html", "Skip to content", "Skip to the content")),
        ("asset edit", _edit(theme / "static" / "style.css", "", "/* edited */\n")),
        ("static file edit", _edit(root / "static" / "logo.txt", "logo", "new logo")),
        ("draft published", _edit(_briefing(root, 0), "draft: true", "draft: false")),
        ("site.yaml edit", _edit(content / "site.yaml", "title: Synthetic Briefings", "title: Edited Briefings")),
        ("briefing deleted", lambda: _briefing(root, 7).unlink()),
        ("briefing renamed", _rename(root, 8, "a-renamed-briefing")),
        ("briefing added", lambda: shutil.copy(_briefing(root, 9), _briefing(root, 9).with_name("a-copied-briefing.md"))),
    ]


class _Watcher:
    """Collect what the watcher (watch.watch, as serve runs it) reports, until the events of an edit have come."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.last = 0.0
        self.lock = threading.Lock()

    def __call__(self, paths: set[str]) -> None:
        with self.lock:
            self.paths |= paths
            self.last = time.monotonic()

    def take(self) -> frozenset[str]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if self.paths and time.monotonic() - self.last > 0.3:
                    taken, self.paths = frozenset(self.paths), set()
                    return taken
            time.sleep(0.02)
        raise AssertionError("the watcher reported nothing")


@pytest.mark.parametrize("watched", [False, True], ids=["every stat read", "the watcher's paths"])
def test_each_kind_of_edit_gives_the_same_site_as_a_clean_build(site: Path, tmp_path: Path, watched: bool) -> None:
    """Each kind of edit, rebuilt as `serve` does, gives a clean build's site: reading every file's stat, and (as serve does) only those of the paths its watcher reported."""
    if watched:
        site = _new_site(tmp_path / "site")
        seen = _Watcher()
        observer = watch(site, (), seen)
    config = _config(site)
    report = build(config)
    total = len([o for o in report.outputs if o.path.endswith((".html", ".md"))])
    try:
        _each_kind(site, config, report, total, seen.take if watched else lambda: None, ahead=watched)
    finally:
        if watched:
            unwatch(observer)


def _each_kind(site: Path, config: BuildConfig, report: BuildReport, total: int, touched: Callable[[], frozenset[str] | None], ahead: bool = False) -> None:
    """Apply each kind of edit and rebuild; with ahead, as serve does with pages open: every briefing's page (planned alone, render.plan_alone) or, every other edit, the actors' index too (planned with the rest)."""
    for step, (name, apply) in enumerate(_steps(site)):
        apply()
        before = report.state
        told: list[Output] = []
        open_pages = Ahead(frozenset(p for p in _files(report) if p.startswith("briefings/") and p.endswith(".html")) | ({"actors/index.html"} if step % 2 else set()), told.extend)
        report = build(config, previous=before, touched=touched(), ahead=open_pages if ahead else None)
        clean = build(config)
        assert {o.path: o.data for o in told}.items() <= _files(clean).items(), name  # the open pages told ahead are the clean build's
        assert report.changed is not None or name == "site.yaml edit", name
        assert report.diagnostics == clean.diagnostics, name  # a model reused is reported as a clean build reports it
        assert report.state is not None and before is not None
        assert (report.state.model is before.model) == (name in ("template edit", "base template edit", "asset edit", "static file edit")), name  # no source or seed changed
        assert clean.state is not None
        assert report.state.planned == clean.state.planned, name  # the pages reused from the last plan (render.PlanMemo) are the ones planned afresh
        assert report.state.plans.slug_at == {e.briefing.url: e.briefing.slug for e in report.state.linked.entries}, name  # what plan_alone finds open briefing pages by
        incremental, full = _files(report), _files(clean)
        assert sorted(incremental) == sorted(full), name
        different = [path for path in full if incremental[path] != full[path]]
        assert not different, f"{name}: {different[:5]}"
        if name == "briefing body":
            assert 0 < len(report.rendered) < total / 2, report.rendered


def test_an_unchanged_rebuild_renders_nothing(site: Path) -> None:
    config = _config(site)
    first = build(config)
    again = build(config, previous=first.state)
    assert again.changed == frozenset()
    assert again.rendered == ()
    assert _files(again) == _files(first)


def test_prepared_rebuilds_read_no_template_again_and_give_the_same_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = synth.synthesize(tmp_path / "site", 16, seed=3)
    config = _config(root)
    first = build(config)
    assert first.state is not None
    prepare_rebuilds(first.state)  # as serve does after its first build
    try:
        planned = {("md", p.template) for p in first.state.planned[0]} | {("html", p.template) for p in first.state.planned[1]}
        assert planned <= set(first.state.names)
        assert first.state.resident.process is not None and first.state.resident.process.poll() is None
        asked: list[str] = []
        real = pipeline_module.template_names
        monkeypatch.setattr(pipeline_module, "template_names", lambda env, name: asked.append(name) or real(env, name))
        _edit(_briefing(root, 12), "::: view", "A new sentence.\n\n::: view")()
        again = build(config, previous=first.state)
        assert not {name for name in asked if ("html", name) in planned or ("md", name) in planned}  # pages' templates were known
        assert _files(again) == _files(build(config))
    finally:
        first.state.resident.close()


def _edit_twelve(tmp_path: Path, old: str, new: str) -> tuple[BuildReport, BuildReport]:
    """Build a 16-briefing site, replace old with new in briefing 12, rebuild; return both builds."""
    root = synth.synthesize(tmp_path / "site", 16, seed=3)
    config = _config(root)
    first = build(config)
    assert first.state is not None
    _edit(_briefing(root, 12), old, new)()
    return first, build(config, previous=first.state)


def test_an_article_edit_renders_the_briefing_and_what_shows_its_text_not_the_lists(tmp_path: Path) -> None:
    first, report = _edit_twelve(tmp_path, "::: view", "One more sentence.\n\n::: view")
    assert first.state is not None
    entry = first.state.linked.by_slug["briefing-00012"]
    showing = [e.briefing for e in first.state.linked.entries if "briefing-00012" in {r.slug for r in e.related}]
    own = {entry.briefing.url, entry.briefing.markdown_url}
    related = {b.url for b in showing} | {b.markdown_url for b in showing}
    rendered = set(report.rendered)
    assert own <= rendered
    assert rendered <= own | related, sorted(rendered - own - related)  # the views moved down, but their text and HTML did not change
    # The lists show the briefing's title, date and summary, which did not change: none of them is rendered again.
    lists = {f"tags/{t}/index.html" for t in entry.briefing.tags} | {f"actors/{c.actor.id}/index.html" for c in entry.actors}
    lists |= {"index.html", "archive/index.html", f"archive/{entry.briefing.date.year}/index.html", "tags/index.html", "actors/index.html", "map/index.html"}
    assert not lists & rendered
    assert report.changed == frozenset({"briefing:briefing-00012"})


def test_a_title_edit_renders_the_lists_that_show_the_briefing(tmp_path: Path) -> None:
    first, report = _edit_twelve(tmp_path, "title: Briefing 12 on", "title: Retitled briefing 12 on")
    assert first.state is not None
    entry = first.state.linked.by_slug["briefing-00012"]
    expected = {f"tags/{t}/index.html" for t in entry.briefing.tags} | {f"actors/{c.actor.id}/index.html" for c in entry.actors}
    expected |= {f"experts/{s.expert.id}/index.html" for s in entry.experts} | {f"archive/{entry.briefing.date.year}/index.html"}
    expected |= {f"timeline/{e.date.year}/index.html" for e in entry.briefing.timeline} | {entry.briefing.url, entry.briefing.markdown_url}
    assert expected <= set(report.rendered)
    files = {o.path: o.data for o in report.outputs}
    assert b"Retitled briefing 12 on" in files["feed.xml"] + b"".join(files[f"tags/{t}/feed.xml"] for t in entry.briefing.tags)


def test_validation_checks_again_only_what_changed_and_reports_as_a_clean_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import validate as validate_module

    root = synth.synthesize(tmp_path / "site", 12, seed=5)
    config = _config(root)
    report = build(config)
    assert report.state is not None
    checked: list[str] = []
    check = validate_module._check_briefing
    monkeypatch.setattr(validate_module, "_check_briefing", lambda briefing, *rest: (checked.append(briefing.slug), check(briefing, *rest)))
    _edit(_briefing(root, 3), "title: Briefing 3 on", "title: Retitled briefing 3 on")()
    report = build(config, previous=report.state)
    assert checked == ["briefing-00003"]  # the other eleven are the same objects: their last report stands
    state = report.state
    actor = root / "content" / "actors" / "actor-000.yaml"
    text = actor.read_text("utf-8")
    seed = root / "seeds" / "briefing-00004.txt"
    seed_text = seed.read_text("utf-8")
    for change, undo in [(actor.unlink, lambda: actor.write_text(text, "utf-8")), (seed.unlink, lambda: seed.write_text(seed_text, "utf-8"))]:
        change()  # every briefing with the actor now names an unknown id; the briefing with the seed names a missing file
        broken, clean = build(config, previous=state), build(config)
        assert broken.failed and clean.failed
        assert broken.diagnostics == clean.diagnostics and broken.errors
        undo()
        fixed = build(config, previous=state)
        assert not fixed.failed and fixed.diagnostics == build(config).diagnostics
