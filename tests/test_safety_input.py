"""Hostile and malformed input files: each is built correctly in bounded time or refused with a positioned error, never a traceback or a hang."""

from __future__ import annotations

import re

import os
import socket
import stat
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import BRIEFING, run_cli
from generator.budget import Overrun, Resident, can_enforce, map_bounded
from generator.pipeline import BuildConfig, BuildReport, build

HOSTILE = Path(__file__).parent / "hostile" / "files"


def check(source: Path, **options: object) -> BuildReport:
    return build(BuildConfig(source, source.parent / "site", write=False, **options))  # type: ignore[arg-type]


def lines(report: BuildReport) -> list[str]:
    """Return the errors as printed; every one carries a path, a line and a column."""
    for d in report.diagnostics:
        assert d.path and d.line >= 1 and d.col >= 1, d
    return [str(d) for d in report.errors]


def test_an_alias_bomb_is_stopped_with_a_positioned_error(make_site: Callable[..., Path]) -> None:
    source = make_site({"content/actors/bomb.yaml": (HOSTILE / "alias-bomb.yaml").read_text()})
    started = time.monotonic()
    errors = lines(check(source))
    assert time.monotonic() - started < 30
    assert any(e.startswith("content/actors/bomb.yaml:") and "expands to more than 50000 values (too many aliases?)" in e for e in errors), errors


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: N\nkind: person\naliases: &x [a, *x]\n", "content/actors/loop.yaml:3:10: error: YAML value contains itself through an alias"),
        ("name: N\nkind: person\naliases: [" + ", ".join(["a"] * 60_000) + "]\n", "content/actors/loop.yaml:3:10: error: YAML document has more than 50000 values"),
    ],
)
def test_recursive_aliases_and_documents_of_too_many_values_are_refused(make_site: Callable[..., Path], text: str, expected: str) -> None:
    errors = lines(check(make_site({"content/actors/loop.yaml": text})))
    assert expected in errors, errors
    assert not any("loop.yaml" in e and "aliases:" in e for e in errors), errors  # refused before any field is read


def test_deep_nesting_is_refused_instead_of_crashing_libyaml(make_site: Callable[..., Path]) -> None:
    """libyaml's composer recurses in C: 100,000 nested lists used to end the process with a segfault."""
    source = make_site({"content/actors/deep.yaml": "name: Deep\nkind: person\naliases: " + "[" * 100_000 + "]" * 100_000 + "\n"})
    result = run_cli("check", "--source", str(source))  # in a subprocess: a crash must not take pytest with it
    assert result.returncode == 1, result.stderr
    # at the 33rd level (3:41), or where PyYAML >= 6.0.4's own scanner limit stops it earlier than our parse
    assert re.search(r"content/actors/deep\.yaml:3:\d+: error: YAML nests lists and mappings more than 32 levels deep", result.stderr), result.stderr


def test_yaml_never_constructs_objects(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/actors/evil.yaml": (HOSTILE / "python-object.yaml").read_text()})
    result = run_cli("check", "--source", str(source), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "content/actors/evil.yaml:2:7: error: name: expected text" in result.stderr
    assert "content/actors/evil.yaml:3:7: error: kind: expected text" in result.stderr
    assert not (tmp_path / "PWNED").exists() and not (source / "PWNED").exists()


def test_yaml_1_1_surprises_are_positioned_errors_with_a_hint_to_quote(make_site: Callable[..., Path]) -> None:
    source = make_site({"content/actors/norway.yaml": (HOSTILE / "yaml11-surprises.yaml").read_text(), "content/briefings/impossible.md": (HOSTILE / "impossible-date.md").read_text()})
    errors = "\n".join(lines(check(source)))
    assert "content/actors/norway.yaml:3:10: error: country: expected text, but YAML reads 'NO' as a boolean; put it in quotes: \"NO\"" in errors
    assert "content/actors/norway.yaml:4:7: error: role: expected text, but YAML reads 'yes' as a boolean" in errors
    assert "content/actors/norway.yaml:5:10: error: summary: expected text, but YAML reads '1_000' as a number" in errors
    assert "content/actors/norway.yaml:7:5: error: aliases: expected text, but YAML reads '2024-01-02' as a date" in errors
    assert "content/briefings/impossible.md:3:7: error: date: impossible date '2024-02-30': February 2024 has no day 30" in errors


def test_oversized_files_and_yaml_documents_are_refused_quickly(make_site: Callable[..., Path]) -> None:
    huge = BRIEFING.format(title="Huge") + ("A sentence of a very long article. " * 150_000)  # about 5 MB
    big_front = "---\ntitle: Big\ndate: 2024-01-01\nsummary: S\nwatch:\n" + "  - a thing to watch, again and again\n" * 8000 + "---\nBody.\n"  # 300 KB
    source = make_site({"content/briefings/huge.md": huge, "content/briefings/big-front.md": big_front})
    started = time.monotonic()
    errors = lines(check(source))
    assert time.monotonic() - started < 30
    assert f"content/briefings/huge.md:1:1: error: file is {len(huge.encode())} bytes; a source file may have at most 1048576 (1 MiB)" in "\n".join(errors)
    assert any(e.startswith("content/briefings/big-front.md:2:1: error: YAML document is") and "the limit is 262144" in e for e in errors), errors


def test_ids_and_slugs_cannot_leave_their_folder(make_site: Callable[..., Path]) -> None:
    body = "Mentions [[../../etc/passwd]] and [[/abs|x]].\n\n::: view ../bob\nA view.\n:::\n"
    front = "---\ntitle: T\ndate: 2024-01-01\nsummary: S\ntags:\n  - ../up\nactors:\n  ../../alice:\n    position: p\n---\n"
    source = make_site(
        {
            "content/briefings/con.md": BRIEFING.format(title="Device"),
            "content/actors/aux.yaml": "name: Aux\nkind: person\n",
            "content/experts/Bad Name.yaml": "name: Bad\n",
            "content/briefings/escape.md": front + body,
            "content/actors/nul.yaml": "name: Nul\x00\nkind: person\n",
        }
    )
    errors = "\n".join(lines(check(source)))
    assert "content/briefings/con.md:1:1: error: file name 'con' is a reserved device name on Windows" in errors
    assert "content/actors/aux.yaml:1:1: error: file name 'aux' is a reserved device name on Windows" in errors
    assert "content/experts/Bad Name.yaml:1:1: error: file name 'Bad Name' is not a valid id" in errors
    assert "content/briefings/escape.md:6:5: error: tags: '../up' is not a valid id" in errors
    assert "content/briefings/escape.md:8:3: error: actors: '../../alice' is not a valid id" in errors
    assert "content/briefings/escape.md:11:12: error: '../../etc/passwd' is not a valid id in a mention" in errors
    assert "content/briefings/escape.md:13:10: error: '../bob' is not a valid id" in errors
    assert "unknown expert id '../bob'" not in errors  # reported once, as an invalid id
    assert "content/actors/nul.yaml:1:1: error: file contains a NUL character" in errors


def test_the_language_must_be_a_language_tag(make_site: Callable[..., Path]) -> None:
    """It is written into every page's <html lang>, and Pagefind panics on a long one."""
    hostile = make_site({"content/site.yaml": 'title: T\nlanguage: "en\\"><script>alert(1)</script>"\n'}, name="hostile")
    assert "content/site.yaml:2:11: error: language: 'en\"><script>alert(1)</script>' is not a valid language tag (a language tag such as en, pt-BR or zh-Hant-TW, at most 20 characters)" in lines(check(hostile))
    long = make_site({"content/site.yaml": "title: T\nlanguage: en-aaaaaaaa-bbbbbbbb-cccccccc\n"}, name="long")
    assert any("language: 'en-aaaaaaaa-bbbbbbbb-cccccccc' is not a valid language tag" in e for e in lines(check(long)))
    fine = make_site({"content/site.yaml": "title: T\nlanguage: zh-Hant-TW\n"}, name="fine")
    assert not check(fine).failed


def test_symlinks_that_leave_the_project_are_refused(make_site: Callable[..., Path], tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.yaml").write_text("name: Root\nkind: person\n")
    (secret / "stolen.md").write_text(BRIEFING.format(title="Stolen"))
    source = make_site()
    (source / "content/actors/passwd.yaml").symlink_to(secret / "passwd.yaml")
    (source / "content/briefings/elsewhere").symlink_to(secret)
    (source / "content/actors/alias.yaml").symlink_to(source / "content/actors/alice.yaml")  # inside: fine
    report = check(source)
    errors = "\n".join(lines(report))
    assert "content/actors/passwd.yaml:1:1: error: symbolic link points outside the site project; refused" in errors
    assert "content/briefings/elsewhere:1:1: error: symbolic link points outside the site project; refused" in errors
    assert "alias.yaml" not in errors and "Stolen" not in errors


def test_non_utf8_is_a_positioned_error_and_bom_crlf_build_correctly(make_site: Callable[..., Path], tmp_path: Path) -> None:
    bad = make_site({"content/briefings/latin.md": (HOSTILE / "latin1-briefing.md").read_bytes()}, name="bad")
    assert "content/briefings/latin.md:2:11: error: file is not valid UTF-8 (byte 0xe9); save it as UTF-8" in lines(check(bad))

    good = make_site({"content/briefings/windows.md": (HOSTILE / "bom-crlf-briefing.md").read_bytes()}, name="good")
    report = build(BuildConfig(good, tmp_path / "site"))
    assert not report.failed, lines(report)
    page = (tmp_path / "site/briefings/windows/index.md").read_bytes()
    html = (tmp_path / "site/briefings/windows/index.html").read_text()
    assert b"\r" not in page and b"\xef\xbb\xbf" not in page and page.startswith(b"# Windows line endings")
    assert "Saved by Notepad, with a BOM." in html and 'class="view"' in html


@pytest.mark.parametrize(
    "path, text, expected",
    [
        ("content/briefings/empty.md", "", "content/briefings/empty.md:1:1: error: expected front matter"),
        ("content/briefings/blank.md", "\n\n  \n", "content/briefings/blank.md:1:1: error: expected front matter"),
        ("content/briefings/bare.md", "---\n---\n", "content/briefings/bare.md:2:1: error: empty document"),
        ("content/actors/empty.yaml", "", "content/actors/empty.yaml:1:1: error: empty document"),
        ("content/site.yaml", "", "content/site.yaml:1:1: error: empty document"),
        ("content/actors/comments.yaml", "# only a comment\n", "content/actors/comments.yaml:1:1: error: empty document"),  # was dropped without a word
        ("content/briefings/bom.md", "---\n\ufeff\n---\nBody.\n", "content/briefings/bom.md:2:1: error: empty document"),  # found by test_property.py
    ],
)
def test_empty_files_are_positioned_errors(make_site: Callable[..., Path], path: str, text: str, expected: str) -> None:
    errors = lines(check(make_site({path: text})))
    assert any(e.startswith(expected) for e in errors), errors


def test_ten_thousand_registry_entries_build_in_bounded_time(make_site: Callable[..., Path], tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"content/actors/actor-{i}.yaml": f"name: Actor Number {i}\nkind: person\naliases:\n  - Alias {i}\n" for i in range(10_000)}
    files["content/briefings/first.md"] = BRIEFING.format(title="Crowded") + "\nActor Number 17 met Alias 9999 and [[actor-5000]].\n"
    source = make_site(files)
    started = time.monotonic()
    report = build(BuildConfig(source, tmp_path / "site"))
    seconds = time.monotonic() - started
    assert not report.failed, lines(report)[:5]
    assert seconds < 120, seconds
    assert (tmp_path / "site/actors/actor-9999/index.html").is_file()
    article = (tmp_path / "site/briefings/first/index.html").read_text()
    assert "../../actors/actor-17/index.html" in article and "../../actors/actor-9999/index.html" in article


@pytest.mark.skipif(not can_enforce(), reason="the time budget needs fork")
def test_markdown_built_to_backtrack_is_stopped_by_the_time_budget(make_site: Callable[..., Path]) -> None:
    """Python-Markdown takes minutes over 30 KB of '[' (its link patterns backtrack); the budget stops it."""
    source = make_site({"content/briefings/brackets.md": BRIEFING.format(title="Brackets") + "[" * 30_000 + "\n"})
    started = time.monotonic()
    report = check(source, document_seconds=2.0)
    assert time.monotonic() - started < 30
    errors = lines(report)
    assert len(errors) == 1, errors
    assert errors[0].startswith("content/briefings/brackets.md:7:1: error: rendering this article took longer than 2 s, the time budget per document")


def _slow(n: int) -> int:
    if n == 2:
        time.sleep(60)
    if n == 4:
        os._exit(3)  # a worker that dies (as the OOM killer would do it)
    return n * n


@pytest.mark.skipif(not can_enforce(), reason="the time budget needs fork")
def test_a_rebuild_stops_markdown_built_to_backtrack_in_its_resident_worker(make_site: Callable[..., Path]) -> None:
    source = make_site({"content/briefings/brackets.md": BRIEFING.format(title="Brackets") + "Fine at first.\n"})
    config = BuildConfig(source, source.parent / "site", write=False, document_seconds=2.0)
    first = build(config)
    assert not first.failed and first.state is not None
    (source / "content/briefings/brackets.md").write_text(BRIEFING.format(title="Brackets") + "[" * 30_000 + "\n", "utf-8")
    started = time.monotonic()
    report = build(config, previous=first.state)  # one article to render: the resident worker's
    assert time.monotonic() - started < 30
    errors = lines(report)
    assert len(errors) == 1 and errors[0].startswith("content/briefings/brackets.md:7:1: error: rendering this article took longer than 2 s"), errors
    (source / "content/briefings/brackets.md").write_text(BRIEFING.format(title="Brackets") + "Fine again.\n", "utf-8")
    fixed = build(config, previous=first.state)  # a new worker replaces the one stopped
    assert not fixed.failed, fixed.diagnostics
    assert b"Fine again." in next(o.data for o in fixed.outputs if o.path.endswith("brackets/index.html"))
    first.state.resident.close()


@pytest.mark.skipif(not can_enforce(), reason="the time budget needs fork")
def test_map_bounded_keeps_order_stops_overruns_and_survives_dead_workers() -> None:
    started = time.monotonic()
    results = map_bounded(_slow, list(range(7)), seconds=1.0, workers=2)
    assert time.monotonic() - started < 10
    assert results[:2] == [0, 1] and results[3] == 9 and results[5:] == [25, 36]
    assert results[2] == Overrun("took longer than 1 s")
    assert isinstance(results[4], Overrun) and "died" in results[4].reason
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        map_bounded(lambda n: 1 // n, [1, 0], seconds=5.0)
    assert map_bounded(lambda n: n + 1, [1, 2], seconds=None) == [2, 3]


def _pid(n: int) -> tuple[int, int]:
    return _slow(n), os.getpid()


@pytest.mark.skipif(not can_enforce(), reason="the time budget needs fork")
def test_the_resident_worker_is_kept_between_calls_and_replaced_after_an_overrun_or_a_death() -> None:
    resident = Resident()
    try:
        first = resident.map(_pid, [0, 1], seconds=5.0)
        assert [r[0] for r in first] == [0, 1]  # type: ignore[index]
        pid = first[0][1]  # type: ignore[index]
        assert pid != os.getpid() and first[1][1] == pid  # type: ignore[index]
        assert resident.map(_pid, [3], seconds=5.0) == [(9, pid)]  # the same worker, not forked again
        started = time.monotonic()
        results = resident.map(_pid, [2, 4, 5], seconds=5.0)  # (a new worker imports this module within the budget)
        assert time.monotonic() - started < 20
        assert results[0] == Overrun("took longer than 5 s")
        assert isinstance(results[1], Overrun) and "died" in results[1].reason
        assert results[2][0] == 25 and results[2][1] not in (pid, os.getpid())  # type: ignore[index]
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            resident.map(_divide, [0], seconds=5.0)
        assert resident.map(_pid, [6], seconds=None) == [(36, os.getpid())]  # no budget: here
    finally:
        resident.close()
    assert resident.process is None


def _divide(n: int) -> int:
    return 1 // n


def _sockets(_: object) -> int:
    """Return how many sockets this process holds."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            count += stat.S_ISSOCK(os.fstat(int(name)).st_mode)
        except OSError:
            pass
    return count


@pytest.mark.skipif(not can_enforce() or not Path("/proc/self/fd").is_dir(), reason="the time budget needs fork; the count needs /proc")
def test_the_resident_worker_holds_none_of_this_process_s_sockets() -> None:
    with socket.socket() as listener:  # as serve's listening socket: a worker that lives on must not keep the port
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        resident = Resident()
        try:
            assert resident.map(_sockets, [None], seconds=30.0) == [1]  # its own connection to this process only
        finally:
            resident.close()
