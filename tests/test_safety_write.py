"""Safety of the output folder: the guard, the manifest, collisions, and atomic builds that survive failures and kills."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import BRIEFING, REPO, hear_ctrl_c, run_cli, snapshot
from generator import write
from generator.diagnostics import Diagnostics
from generator.pipeline import BuildConfig, BuildReport, build

BAD_DATE = BRIEFING.format(title="First").replace("2025-01-02", "2025-02-30")


def run(source: Path, output: Path) -> BuildReport:
    return build(BuildConfig(source, output))


def leftovers(*folders: Path) -> list[str]:
    """Return staging folders, journals and temporary files left in or beside the folders."""
    found = []
    for folder in folders:
        for place in (folder, folder.parent):
            if place.is_dir():
                found += [p.name for p in place.iterdir() if write.STAGING in p.name or p.name.endswith(".tmp") or p.name == write.JOURNAL]
    return sorted(set(found))


def errors(report: BuildReport) -> str:
    return "\n".join(str(d) for d in report.errors)


# --- the guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, message",
    [
        (".", "source folder"),
        ("..", "contains it"),
        ("content", "content/"),
        ("content/briefings/site", "content/"),
        ("themes/site", "themes/"),
        ("seeds", "seeds/"),
        ("static/out", "static/"),
    ],
)
def test_an_output_folder_over_or_inside_the_sources_is_refused_and_nothing_is_touched(make_site: Callable[..., Path], where: str, message: str) -> None:
    source = make_site({"static/logo.txt": "logo", "seeds/a.txt": "seed"})
    before = snapshot(source.parent)
    report = run(source, source / where)
    assert report.failed
    assert message in errors(report) and f"{source / where}:1:1: error: refusing" in errors(report)
    assert snapshot(source.parent) == before


def test_the_root_the_home_folder_and_its_parents_are_refused(make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_site()
    home = tmp_path / "home" / "user"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for output in (Path("/"), home, home.parent, home / ".." / "user"):
        report = run(source, output)
        assert report.failed and "home folder" in errors(report), output
    assert not any(home.iterdir())


def test_a_name_that_only_starts_like_the_source_is_not_inside_it(tmp_path: Path, make_site: Callable[..., Path]) -> None:
    source = make_site(name="docs")
    report = run(source, tmp_path / "docs-site")
    assert not report.failed, errors(report)
    assert (tmp_path / "docs-site" / "index.html").is_file()


def test_a_non_empty_folder_without_a_manifest_is_refused_but_host_files_alone_are_fine(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"years of work")
    report = run(source, mine)
    assert report.failed and "not empty" in errors(report) and "thesis.docx" in errors(report)
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]

    pages = tmp_path / "pages"
    (pages / ".git").mkdir(parents=True)
    (pages / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (pages / "CNAME").write_text("briefings.example.org\n")
    report = run(source, pages)
    assert not report.failed, errors(report)
    assert (pages / "CNAME").read_text() == "briefings.example.org\n" and (pages / ".git" / "HEAD").is_file()
    assert report.written is not None and report.written.kept == ()


def test_an_output_path_that_is_a_file_is_refused(make_site: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "site").write_text("not a folder")
    report = run(make_site(), tmp_path / "site")
    assert report.failed and "is not a folder" in errors(report)
    assert (tmp_path / "site").read_text() == "not a folder"


def test_a_symlinked_output_is_refused_unless_it_points_at_a_site_briefing_made(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    report = run(source, tmp_path / "link")
    assert report.failed and "symbolic link" in errors(report)
    assert list(elsewhere.iterdir()) == []

    assert not run(source, tmp_path / "real").failed
    (tmp_path / "link2").symlink_to(tmp_path / "real")
    report = run(source, tmp_path / "link2")
    assert not report.failed, errors(report)


# --- the manifest ---------------------------------------------------------------------


def test_later_builds_delete_only_what_briefing_wrote_and_report_the_rest(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/briefings/second.md": BRIEFING.format(title="Second")})
    out = tmp_path / "site"
    assert not run(source, out).failed
    (out / "notes.txt").write_text("mine")
    (out / "briefings" / "second" / "comments.txt").write_text("mine too")
    for name in ("CNAME", "_redirects", "_headers", ".nojekyll"):
        (out / name).write_text(name)
    (out / ".well-known").mkdir()
    (out / ".well-known" / "security.txt").write_text("contact")

    (source / "content/briefings/second.md").unlink()
    report = run(source, out)
    assert not report.failed, errors(report)
    assert not (out / "briefings" / "second" / "index.html").exists()  # generated, no longer: deleted
    assert (out / "briefings" / "second" / "comments.txt").read_text() == "mine too"
    assert (out / "notes.txt").read_text() == "mine"
    assert all((out / n).read_text() == n for n in ("CNAME", "_redirects", "_headers", ".nojekyll"))
    assert (out / ".well-known" / "security.txt").is_file()
    assert report.written is not None
    assert report.written.kept == ("briefings/second/comments.txt", "notes.txt")

    result = run_cli("build", "--source", str(source), "--output", str(out))
    assert result.returncode == 0 and "left alone 2 file(s)" in result.stderr


def test_a_generated_file_the_user_changed_is_kept_when_it_is_no_longer_generated(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/briefings/second.md": BRIEFING.format(title="Second")})
    out = tmp_path / "site"
    assert not run(source, out).failed
    (out / "briefings" / "second" / "index.md").write_text("edited by hand")
    (source / "content/briefings/second.md").unlink()
    report = run(source, out)
    assert (out / "briefings" / "second" / "index.md").read_text() == "edited by hand"
    assert report.written is not None and "briefings/second/index.md" in report.written.kept


def test_deletion_never_follows_a_symlinked_folder(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site({"content/briefings/second.md": BRIEFING.format(title="Second")})
    out = tmp_path / "site"
    assert not run(source, out).failed
    victim = tmp_path / "victim"
    shutil.copytree(out / "briefings" / "second", victim)
    shutil.rmtree(out / "briefings" / "second")
    (out / "briefings" / "second").symlink_to(victim)  # the manifest's files now lie behind a link
    (source / "content/briefings/second.md").unlink()
    report = run(source, out)
    assert not report.failed, errors(report)
    assert (victim / "index.html").is_file() and (victim / "index.md").is_file()
    assert report.written is not None and "briefings/second/index.html" in report.written.kept


def test_writing_never_goes_through_a_symlinked_folder(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site()
    out = tmp_path / "site"
    assert not run(source, out).failed
    victim = tmp_path / "victim"
    victim.mkdir()
    shutil.rmtree(out / "briefings" / "first")
    (out / "briefings" / "first").symlink_to(victim)
    before = snapshot(out)
    report = run(source, out)
    assert report.failed and "briefings/first in the output folder is a symbolic link" in errors(report)
    assert list(victim.iterdir()) == [] and snapshot(out) == before


def test_a_hostile_manifest_cannot_make_a_build_delete_outside_the_output(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site()
    out = tmp_path / "site"
    assert not run(source, out).failed
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    digest = write.digest(b"keep me")
    doc = json.loads((out / write.MANIFEST).read_text())
    doc["files"].update({"../victim.txt": digest, str(victim): digest, "a/../../victim.txt": digest})
    (out / write.MANIFEST).write_text(json.dumps(doc))
    assert not run(source, out).failed
    assert victim.read_text() == "keep me"


def test_a_file_briefing_did_not_write_is_never_overwritten(make_site: Callable[..., Path], tmp_path: Path) -> None:
    source = make_site()
    out = tmp_path / "site"
    assert not run(source, out).failed
    (source / "content/briefings/second.md").write_text(BRIEFING.format(title="Second"))
    (out / "briefings" / "second").mkdir()
    (out / "briefings" / "second" / "index.html").write_text("my own page")
    before = snapshot(out)
    report = run(source, out)
    assert report.failed and "briefings/second/index.html in the output folder was not written by briefing" in errors(report)
    assert snapshot(out) == before


# --- collisions -----------------------------------------------------------------------


COLLISIONS = [  # files of static/ that land on a generated page's path, and what the error says
    ({"static/index.html": "<p>mine</p>"}, "the generated page index.html and static/index.html would both be written to the same path"),
    ({"static/Index.HTML": "<p>mine</p>"}, "the generated page index.html and static/Index.HTML would both be written to the same path once case is ignored ('index.html' and 'Index.HTML')"),
    ({"static/caf\u00e9.txt": "nfc", "static/cafe\u0301.txt": "nfd"}, "would both be written to the same path: the names differ only in their Unicode form ('cafe\\u0301.txt' and 'caf\\xe9.txt')"),
    ({"static/tags": "a file"}, "static/tags would be written to 'tags', which the generated page tags/index.html needs as a folder"),
    ({"static/con.txt": "x"}, "Windows device"),
]


@pytest.mark.parametrize("files, expected", COLLISIONS)
def test_outputs_landing_on_the_same_path_are_an_error_naming_both_sources(make_site: Callable[..., Path], tmp_path: Path, files: dict[str, str], expected: str) -> None:
    report = run(make_site(files), tmp_path / "site")
    assert report.failed and expected in errors(report), errors(report)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("files, expected", COLLISIONS)
def test_a_rebuild_that_adds_a_colliding_output_is_refused_as_a_build_is(make_site: Callable[..., Path], tmp_path: Path, files: dict[str, str], expected: str) -> None:
    """A rebuild skips the path checks when the paths are the last good build's: one that adds a path must check again (serve builds in memory)."""
    source = make_site({})
    config = BuildConfig(source, tmp_path / "site", write=False)
    first = build(config)
    assert not first.failed, errors(first)
    again = build(config, previous=first.state)  # the same paths: nothing to report
    assert not again.failed, errors(again)
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, "utf-8")
    report = build(config, previous=again.state)
    assert report.failed and expected in errors(report), errors(report)


def test_check_outputs_refuses_paths_leaving_the_output() -> None:
    from generator.pages import Output

    diagnostics = Diagnostics()
    outputs = [Output(p, b"x", frozenset({"template:x.html"})) for p in ("../up.html", "/abs.html", "a/./b.html", "a\x00b", ".hidden", "ok/index.html")]
    write.check_outputs(outputs, diagnostics)
    assert len(diagnostics.errors) == 5 and "ok/index.html" not in str(diagnostics.errors)


# --- atomic builds --------------------------------------------------------------------


@pytest.fixture
def built(make_site: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """Return a source, its built output and a snapshot of that output."""
    source = make_site({"content/briefings/second.md": BRIEFING.format(title="Second")})
    out = tmp_path / "site"
    report = run(source, out)
    assert not report.failed, errors(report)
    (source / "content/briefings/third.md").write_text(BRIEFING.format(title="Third"))
    (source / "content/briefings/second.md").write_text(BRIEFING.format(title="Second, revised"))
    return source, out, snapshot(out)


def test_a_source_error_leaves_the_previous_site_exactly_as_it_was(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    source, out, before = built
    (source / "content/briefings/first.md").write_text(BAD_DATE)
    result = run_cli("build", "--source", str(source), "--output", str(out))
    assert result.returncode == 1 and "has no day 30" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(out) == before and leftovers(out) == []


def test_a_template_error_leaves_the_previous_site_exactly_as_it_was(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    source, out, before = built
    (source / "content/site.yaml").write_text("title: Test site\nbase_url: https://example.org/\ntheme: broken\n")
    (source / "themes/broken/templates").mkdir(parents=True)
    (source / "themes/broken/theme.yaml").write_text("extends: default\n")
    (source / "themes/broken/templates/briefing.html").write_text("{{ entry.briefing.no_such_field.upper() }}\n")
    report = run(source, out)
    assert report.failed and "themes/broken/templates/briefing.html:1:1: error: template error" in errors(report)
    assert snapshot(out) == before and leftovers(out) == []


def test_a_full_disk_leaves_the_previous_site_exactly_as_it_was(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    source, out, before = built
    (source / "static").mkdir()
    (source / "static" / "report.pdf").write_bytes(b"%PDF" + bytes(3_000_000))  # over the 2 MiB file-size limit
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        ["bash", "-c", 'ulimit -f 2048; exec "$0" -m generator build --source "$1" --output "$2"', sys.executable, str(source), str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot write the site: File too large" in result.stderr and "the previous site is unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(out) == before and leftovers(out) == []


def test_a_full_tmpfs_leaves_the_previous_site_exactly_as_it_was(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    source, out, _ = built
    mount = Path(tempfile.mkdtemp(prefix="briefing-tmpfs-"))
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        mount.rmdir()
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        small = mount / "site"
        assert not run(source, small).failed
        before = snapshot(small)
        (source / "static").mkdir()
        (source / "static" / "report.pdf").write_bytes(b"%PDF" + bytes(3_000_000))  # more than the tmpfs holds
        report = run(source, small)
        assert report.failed and "No space left on device" in errors(report), errors(report)
        assert snapshot(small) == before and leftovers(small) == []
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        mount.rmdir()


def test_a_failure_half_way_through_the_apply_is_rolled_back(built: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    source, out, before = built
    real = os.replace
    calls = []

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 4:
            raise PermissionError(13, "Permission denied", str(dst))
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "replace", failing)
    report = run(source, out)
    assert report.failed and "cannot write the site: Permission denied" in errors(report)
    assert snapshot(out) == before and leftovers(out) == []


def test_a_real_permission_error_leaves_the_previous_site(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    """Make a folder of the site unwritable: read-only for a user, immutable for root (who ignores permissions)."""
    source, out, _ = built
    (source / "content/briefings/first.md").write_text(BRIEFING.format(title="Changed"))
    locked = out / "briefings" / "first"
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
            pytest.skip("root ignores permissions and this file system has no immutable flag")
        unlock = ["chattr", "-i", str(locked)]
    else:
        locked.chmod(0o555)
        unlock = ["chmod", "755", str(locked)]
    try:
        before = snapshot(out)
        result = run_cli("build", "--source", str(source), "--output", str(out))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "cannot write the site: " in result.stderr and ("Permission denied" in result.stderr or "Operation not permitted" in result.stderr)
        assert snapshot(out) == before and leftovers(out) == []
    finally:
        subprocess.run(unlock, check=True)


def test_ctrl_c_half_way_through_the_apply_is_rolled_back(built: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    source, out, before = built
    real = os.replace
    calls = []

    def interrupted(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(source, out)
    assert snapshot(out) == before and leftovers(out) == []


def _paused_build(source: Path, out: Path, marker: Path) -> subprocess.Popen[str]:
    """Start a build that stops after applying its first file, and wait until it is there."""
    env = dict(os.environ, PYTHONPATH=str(REPO), **{write.PAUSE_HOOK: str(marker)})
    process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--source", str(source), "--output", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached its apply"
        time.sleep(0.05)
    return process


def test_a_real_ctrl_c_during_the_apply_rolls_back_and_says_so(built: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    source, out, before = built
    process = _paused_build(source, out, tmp_path / "applying")
    assert snapshot(out) != before  # one file is already in
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert snapshot(out) == before and leftovers(out) == []


def test_sigkill_during_the_apply_is_rolled_back_by_the_next_run(built: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    source, out, before = built
    process = _paused_build(source, out, tmp_path / "applying")
    process.kill()
    process.communicate(timeout=60)
    assert (out / write.JOURNAL).is_file() and snapshot(out) != before  # really interrupted mid-way

    good = (source / "content/briefings/first.md").read_text()
    (source / "content/briefings/first.md").write_text(BAD_DATE)  # the next run fails, but first recovers
    result = run_cli("build", "--source", str(source), "--output", str(out))
    assert result.returncode == 1 and "rolled back to the previous site" in result.stderr
    assert snapshot(out) == before and leftovers(out) == []

    (source / "content/briefings/first.md").write_text(good)
    assert not run(source, out).failed
    clean = tmp_path / "clean"
    assert not run(source, clean).failed
    assert snapshot(out) == snapshot(clean) and leftovers(out) == []


def test_sigkill_at_any_moment_of_a_build_leaves_the_old_site_or_the_new_one(built: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    source, out, before = built
    saved = tmp_path / "saved"
    shutil.copytree(out, saved)
    assert not run(source, tmp_path / "after").failed
    after = snapshot(tmp_path / "after")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for delay in (0.4, 1.2, 2.5):
        shutil.rmtree(out)
        shutil.copytree(saved, out)
        process = subprocess.Popen([sys.executable, "-m", "generator", "build", "--source", str(source), "--output", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.kill()
        process.wait()
        write.recover(out)
        assert snapshot(out) in (before, after), f"a mixed site after a kill at {delay} s"
        assert leftovers(out) == []


def test_a_second_build_cannot_write_while_one_is_applying(built: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    source, out, _ = built
    process = _paused_build(source, out, tmp_path / "applying")
    try:
        diagnostics = Diagnostics()
        assert write.write_site([], out, diagnostics) is None
        assert "another briefing build is writing" in str(diagnostics.errors[0])
    finally:
        process.kill()
        process.communicate(timeout=60)


def test_nothing_temporary_is_left_after_a_successful_build(built: tuple[Path, Path, dict[str, bytes]]) -> None:
    source, out, _ = built
    report = run(source, out)
    assert not report.failed
    assert leftovers(out) == []
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [write.MANIFEST]
