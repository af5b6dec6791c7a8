"""Property tests: for any input, the loader, the scanner, the extensions and the whole build give a result or positioned errors, never an exception; two builds of one input are byte-identical.

Sizes are bounded and `deadline=None` (a build takes seconds on a loaded machine); CI
runs the derandomized `ci` profile registered in conftest.py, so a failure there repeats.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import markdown
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_files
from test_safety_xss import active_parts
from generator import schema
from generator.annotations import rewrite_body, scan_body
from generator.article import ArticleRenderer, registry_for
from generator.diagnostics import Diagnostic, Diagnostics
from generator.load import RawFile, decode
from generator.parse import parse_actor, parse_briefing
from generator.pipeline import BuildConfig, build
from generator.theme import markdown_escape

# Pieces that the formats give meaning to, mixed with arbitrary text, so the examples
# reach the scanner's and the YAML reader's branches instead of staying plain prose.
YAML_PIECES = st.sampled_from(
    ["---", "...", "title:", "date:", "summary:", "actors:", "tags:", "  - ", "  ", ": ", "&a ", "*a", "!!python/object:os.system", "[", "]", "{", "}",
     "NO", "yes", "1_000", "2024-02-30", "2024-01", "'", '"', "|", ">", "#", "\t", "\n", "\r\n", "\ufeff", "\x00", "~", "null", "kim-jong-un:", "stance: x"]
)
BODY_PIECES = st.sampled_from(
    ["[[", "]]", "[[alice]]", "[[alice|Alice]]", "[[bob|", "|", "::: view bob\n", "::: view\n", "::: summary\n", "::: key-points\n", ":::\n", "::: nope\n",
     "```\n", "~~~\n", "`", "<script>", "</script>", "<img onerror=x>", "[a](javascript:x)", "![i](data:x)", "&#106;", "Alice Example", "Bob Scholar",
     "# ", "- ", "> ", "\n", "\n\n", "    ", "*", "_", "\\", "[", "]", "(", ")", "<", ">", "&"]
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


def mixed(pieces: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    """Return text made of format pieces and arbitrary text, at most `size` pieces long."""
    return st.lists(st.one_of(pieces, TEXT), max_size=size).map("".join)


def assert_positioned(diagnostics: list[Diagnostic], path: str, lines: int) -> None:
    """Assert every problem names the file and a line and column inside it."""
    for d in diagnostics:
        assert d.path == path and 1 <= d.line <= lines + 1 and d.col >= 1, d


@settings(max_examples=300, deadline=None)
@given(mixed(YAML_PIECES, 40))
def test_any_front_matter_is_read_or_reported_with_positions(text: str) -> None:
    source = ("---\n" + text + "\n---\nBody.\n").replace("\r\n", "\n").replace("\r", "\n")  # as load.decode hands it on
    diagnostics = Diagnostics()
    briefing = parse_briefing(RawFile("content/briefings/any.md", source), diagnostics)
    assert briefing is not None or diagnostics.errors
    assert_positioned(diagnostics.items, "content/briefings/any.md", source.count("\n") + 1)


@settings(max_examples=300, deadline=None)
@given(mixed(YAML_PIECES, 40))
def test_any_registry_entry_is_read_or_reported_with_positions(text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as load.decode hands every file to the parsers
    diagnostics = Diagnostics()
    actor = parse_actor(RawFile("content/actors/any.yaml", text), diagnostics)
    assert actor is not None or diagnostics.errors
    assert_positioned(diagnostics.items, "content/actors/any.yaml", text.count("\n") + 1)
    values = schema.read_document(text, schema.ACTOR, "content/actors/any.yaml", 0, Diagnostics())
    assert values is None or isinstance(values, dict)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_give_a_positioned_error(data: bytes) -> None:
    diagnostics = Diagnostics()
    text = decode("content/actors/any.yaml", data, diagnostics)
    assert (text is None) == bool(diagnostics.errors)
    assert_positioned(diagnostics.items, "content/actors/any.yaml", data.count(b"\n") + 1)
    if text is not None:
        assert "\r" not in text and not text.startswith("\ufeff")


REGISTRY = registry_for(
    {},
    {},
    set(),
    lambda url: url,
)


@settings(max_examples=300, deadline=None)
@given(mixed(BODY_PIECES, 60))
def test_any_body_is_scanned_rewritten_and_rendered_without_an_exception(text: str) -> None:
    diagnostics = Diagnostics()
    body = scan_body(text, "content/briefings/any.md", 5, diagnostics)
    assert_positioned(diagnostics.items, "content/briefings/any.md", 5 + text.count("\n"))
    for mention in body.mentions:
        assert mention.id in text and 5 <= mention.pos.line <= 5 + text.count("\n")
    # the callbacks escape ids and labels as emit.py's do (the theme's finalize escapes every value of the Markdown page)
    page = rewrite_body(body.markdown, lambda ident, label: f"[{markdown_escape(label or ident)}](#{ident})", lambda expert, n: f"> **{markdown_escape(expert)}**")
    assert active_parts(markdown.markdown(page, extensions=["fenced_code"])) == []  # the Markdown page, as a host renders it
    assert active_parts(ArticleRenderer(REGISTRY).convert(body.markdown)) == []  # the article in the HTML page


FIELD = st.one_of(TEXT, st.sampled_from(["NO", "yes", "1_000", "2024-01-02", "<b>x</b>", "a: b", "[x]", "&a", "*a", "- x", "'", '"', ""]))


@st.composite
def sites(draw: st.DrawFn) -> dict[str, str | bytes]:
    """Return a small site project: a few registry entries and briefings with arbitrary field values and bodies."""
    files: dict[str, str | bytes] = {"content/site.yaml": f"title: {json.dumps(draw(FIELD))}\nbase_url: https://example.org/\n"}
    ids = draw(st.lists(st.from_regex(r"[a-z]{1,6}(-[a-z0-9]{1,3})?", fullmatch=True), min_size=1, max_size=3, unique=True))
    for ident in ids:
        files[f"content/actors/{ident}.yaml"] = f"name: {draw(FIELD)}\nkind: {draw(st.sampled_from(['person', 'state', 'robot']))}\naliases:\n  - {draw(FIELD)}\n"
    for n in range(draw(st.integers(1, 2))):
        mentions = " ".join(f"[[{i}]]" for i in draw(st.lists(st.sampled_from(ids + ["nobody"]), max_size=3)))
        date = draw(st.sampled_from(["2025-01-02", "2025-02", "2025", "2024-02-30", "soon"]))
        front = f"---\ntitle: {draw(FIELD)}\ndate: {date}\nsummary: {draw(FIELD)}\ntags:\n  - {draw(st.sampled_from(['news', 'Bad Tag', 'x']))}\n---\n"
        files[f"content/briefings/b{n}.md"] = front + draw(mixed(BODY_PIECES, 20)) + "\n" + mentions + "\n"
    return files


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sites())
def test_any_site_builds_or_gives_positioned_errors_and_two_builds_are_identical(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    folder = tmp_path / f"site-{abs(hash(tuple(sorted(files.items()))))}"
    source = write_files(folder / "project", files)
    config = dict(write=False, document_seconds=None)
    first = build(BuildConfig(source, folder / "out", **config))  # type: ignore[arg-type]
    second = build(BuildConfig(source, folder / "out", **config))  # type: ignore[arg-type]
    for d in first.diagnostics:
        assert d.path and d.line >= 1 and d.col >= 1, d
    assert first.failed == bool(first.errors)
    assert [str(d) for d in first.diagnostics] == [str(d) for d in second.diagnostics]
    if not first.failed:
        assert first.outputs and [(o.path, o.data) for o in first.outputs] == [(o.path, o.data) for o in second.outputs]
        assert all(set(string.printable) | {"-", "/", "."} >= set(o.path) for o in first.outputs)  # no path from a value
