"""Editorial checks: `check --lint` advice, and the warnings about disagreement attributions and corrections."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from conftest import run_cli

from generator.pipeline import BuildConfig, build

EPOCH_2025_06_01 = "1748736000"  # SOURCE_DATE_EPOCH for 1 June 2025, 00:00 UTC


def _briefing(front: str, body: str = "Body text.\n") -> str:
    return f"---\ntitle: T\ndate: 2025-01-02\n{front}---\n\n{body}"


GOOD = "summary: A short summary.\nkey_points:\n  - One.\n  - Two.\n  - Three.\n"


def _lint(make_site: Callable[..., Path], front: str, body: str = "Body text.\n") -> list[str]:
    root = make_site({"content/briefings/first.md": _briefing(front, body)})
    report = build(BuildConfig(root, root / "site", write=False, lint=True))
    return [str(d) for d in report.diagnostics]


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_2025_06_01)


def test_a_clean_briefing_gets_no_advice(make_site: Callable[..., Path]) -> None:
    assert _lint(make_site, GOOD) == []


def test_a_long_summary_is_reported_at_the_summary(make_site: Callable[..., Path]) -> None:
    front = GOOD.replace("A short summary.", " ".join(["word"] * 61))
    assert _lint(make_site, front) == ["content/briefings/first.md:4:10: warning: summary has 61 words; keep the bottom line to about 60"]


@pytest.mark.parametrize("count, shown", [(2, "2 key points"), (6, "6 key points")])
def test_too_few_or_too_many_key_points(make_site: Callable[..., Path], count: int, shown: str) -> None:
    front = "summary: S.\nkey_points:\n" + "".join(f"  - Point {n}.\n" for n in range(count))
    assert _lint(make_site, front) == [f"content/briefings/first.md:6:3: warning: {shown}; three to five read best"]


def test_no_key_points_at_all_is_advice_too(make_site: Callable[..., Path]) -> None:
    assert _lint(make_site, "summary: S.\n") == ["content/briefings/first.md:2:1: warning: no key points; three to five read best"]


def test_a_view_without_a_gist(make_site: Callable[..., Path]) -> None:
    body = "::: view bob\nBob spoke.\n:::\n"
    assert _lint(make_site, GOOD, body) == [
        "content/briefings/first.md:11:10: warning: view of 'bob' has no gist; add one under 'experts' in the front matter"
    ]


def test_experts_who_all_share_a_stance_need_a_disagreement(make_site: Callable[..., Path]) -> None:
    files = {"content/experts/carol.yaml": "name: Carol Critic\n"}
    experts = "experts:\n  bob:\n    stance: sceptical\n    gist: No.\n  carol:\n    stance: sceptical\n    gist: Also no.\n"
    root = make_site({**files, "content/briefings/first.md": _briefing(GOOD + experts)})
    report = build(BuildConfig(root, root / "site", write=False, lint=True))
    assert [str(d) for d in report.diagnostics] == [
        "content/briefings/first.md:10:3: warning: all 2 experts are sceptical and there is no `disagreement`; give the strongest counter-view, attributed"
    ]
    disagreement = "disagreement:\n  by: Some analysts\n  view: It may work.\n"
    root = make_site({**files, "content/briefings/first.md": _briefing(GOOD + experts + disagreement)}, name="with")
    assert build(BuildConfig(root, root / "site", write=False, lint=True)).diagnostics == []
    mixed = experts.replace("stance: sceptical\n    gist: Also no.", "stance: supportive\n    gist: Yes.")
    root = make_site({**files, "content/briefings/first.md": _briefing(GOOD + mixed)}, name="mixed")
    assert build(BuildConfig(root, root / "site", write=False, lint=True)).diagnostics == []


def test_a_stale_status(make_site: Callable[..., Path]) -> None:
    fresh = GOOD + "status:\n  label: escalating\n  as_of: 2025-05-01\n"
    assert _lint(make_site, fresh) == []
    stale = GOOD + "status:\n  label: escalating\n  as_of: 2025-01-02\n"
    assert _lint(make_site, stale) == [
        "content/briefings/first.md:10:3: warning: status 'escalating' is as of 2025-01-02, 150 days ago; update it or remove it (stale after 90 days)"
    ]


def test_lint_is_off_in_build_and_in_plain_check(make_site: Callable[..., Path]) -> None:
    root = make_site({"content/briefings/first.md": _briefing("summary: S.\n")})
    assert build(BuildConfig(root, root / "site")).diagnostics == []
    plain = run_cli("check", "--strict", "--source", str(root))
    assert plain.returncode == 0, plain.stderr
    linted = run_cli("check", "--lint", "--source", str(root))
    assert linted.returncode == 0 and "no key points" in linted.stderr
    assert run_cli("check", "--lint", "--strict", "--source", str(root)).returncode == 1


def test_a_disagreement_by_an_id_outside_the_briefing_is_a_warning(make_site: Callable[..., Path]) -> None:
    front = GOOD + "disagreement:\n  by: bob\n  view: No.\n"
    root = make_site({"content/briefings/first.md": _briefing(front)})
    report = build(BuildConfig(root, root / "site", write=False))
    assert [str(d) for d in report.diagnostics] == [
        "content/briefings/first.md:10:7: warning: disagreement.by: 'bob' is not in this briefing, so the page cannot link it; list it under 'actors' or 'experts'"
    ]
    typo = GOOD + "disagreement:\n  by: bobb\n  view: No.\n"
    root = make_site({"content/briefings/first.md": _briefing(typo)}, name="typo")
    assert [d.message for d in build(BuildConfig(root, root / "site", write=False)).diagnostics] == [
        "disagreement.by: 'bobb' is neither an actor nor an expert id, so it is shown as written; did you mean 'bob'?"
    ]


def test_a_disagreement_by_a_participant_is_linked(make_site: Callable[..., Path]) -> None:
    front = GOOD + "experts:\n  bob:\n    gist: Yes.\ndisagreement:\n  by: bob\n  view: No, says Bob.\n"
    root = make_site({"content/briefings/first.md": _briefing(front)})
    report = build(BuildConfig(root, root / "site"))
    assert report.diagnostics == []
    html = (root / "site/briefings/first/index.html").read_text(encoding="utf-8")
    assert '<footer>— <a href="../../experts/bob/index.html">Bob Scholar</a></footer>' in html
    markdown = (root / "site/briefings/first/index.md").read_text(encoding="utf-8")
    assert "> No, says Bob.\n>\n> — [Bob Scholar](../../experts/bob/index.html)" in markdown


def test_corrections_need_an_updated_date_that_covers_them(make_site: Callable[..., Path]) -> None:
    front = GOOD + "updated: 2025-01-03\ncorrections:\n  - date: 2025-01-04\n    text: Fixed a name.\n  - date: 2025-01-01\n    text: Too early.\n"
    root = make_site({"content/briefings/first.md": _briefing(front)})
    assert [str(d) for d in build(BuildConfig(root, root / "site", write=False)).diagnostics] == [
        "content/briefings/first.md:11:11: warning: correction dated 2025-01-04, but `updated` is 2025-01-03; set `updated: 2025-01-04`",
        "content/briefings/first.md:13:11: warning: correction dated 2025-01-01, before the briefing's date 2025-01-02",
    ]
