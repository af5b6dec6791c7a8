"""The annotation scanner: mentions and blocks found with their positions; malformed ones reported."""

from __future__ import annotations

from generator.annotations import rewrite_body, scan_body
from generator.diagnostics import Diagnostics


def scan(text: str, first_line: int = 10):  # type: ignore[no-untyped-def]
    diagnostics = Diagnostics()
    body = scan_body(text, "b.md", first_line, diagnostics)
    return body, [str(d) for d in diagnostics.sorted()]


def test_mentions_with_line_and_column() -> None:
    body, problems = scan("Intro.\n\nSee [[kim-jong-un|Kim]] and [[xi-jinping]].\n")
    assert problems == []
    assert [(m.id, m.text, m.pos.line, m.pos.col) for m in body.mentions] == [("kim-jong-un", "Kim", 12, 7), ("xi-jinping", "", 12, 31)]


def test_mentions_in_code_are_not_annotations() -> None:
    body, problems = scan("Use `[[not-this]]` here.\n\n```\n[[nor-this]]\n```\n\n~~~md\n[[Nor_This]]\n~~~\n")
    assert problems == []
    assert body.mentions == ()


def test_view_blocks_are_collected_with_anchors() -> None:
    text = "Para.\n\n::: view park-won-gon\nOne [[china]].\n\nTwo.\n:::\n\n::: view park-won-gon\nThree.\n:::\n"
    body, problems = scan(text)
    assert problems == []
    assert [(v.expert, v.anchor, v.text, v.pos.line, v.pos.col) for v in body.views] == [
        ("park-won-gon", "view-park-won-gon-1", "One [[china]].\n\nTwo.", 12, 10),
        ("park-won-gon", "view-park-won-gon-2", "Three.", 18, 10),
    ]
    assert [m.id for m in body.mentions] == ["china"]
    assert "::: view park-won-gon" in body.markdown  # views stay in the article


def test_summary_and_key_points_blocks_leave_the_article() -> None:
    text = "::: summary\nThe [[china|Chinese]] bottom line.\n:::\n\n::: key-points\n- First point\n- Second\n  continued\n:::\n\nArticle.\n"
    body, problems = scan(text)
    assert problems == []
    assert body.summary == "The Chinese bottom line."
    assert body.key_points == ("First point", "Second continued")
    assert body.markdown == "Article.\n"


def test_malformed_blocks_are_reported_where_they_stand() -> None:
    _, problems = scan("::: view\nx\n:::\n:::\n::: quote\n::: view a-b\n::: view c\n")
    assert problems == [
        "b.md:10:5: error: '::: view' needs exactly one expert id, as '::: view EXPERT-ID'",
        "b.md:13:1: error: ':::' closes no block; a block opens with '::: view EXPERT-ID', '::: summary' or '::: key-points'",
        "b.md:14:5: error: unknown block 'quote'; expected view, summary or key-points",
        "b.md:15:1: error: '::: view' block is not closed; end it with a line ':::'",
        "b.md:16:1: error: '::: view' opens a block inside the '::: view' block opened at line 15; close that one with ':::' first",
    ]


def test_bad_ids_in_annotations() -> None:
    _, problems = scan("A [[Kim_Jong]] and [[ok|]].\n\n::: view Park\nx\n:::\n")
    assert problems == [
        "b.md:10:5: error: 'Kim_Jong' is not a valid id in a mention (lower-case letters and digits joined by single hyphens)",
        "b.md:10:25: error: empty text after '|' in a mention",
        "b.md:12:10: error: 'Park' is not a valid id (lower-case letters and digits joined by single hyphens)",
    ]


def test_word_count_ignores_annotation_syntax() -> None:
    body, _ = scan("[[kim-jong-un|Kim Jong Un]] went by train.\n\n::: view x\nHe said so.\n:::\n")
    assert body.words == 9


def test_rewrite_body_makes_plain_markdown() -> None:
    text = "See [[a|Alpha]] and `[[b]]`, <script>x</script> & &amp; here.\n\n::: view e\nSaid [[a]].\n:::\nNext paragraph.\n"
    out = rewrite_body(text, lambda i, t: f"[{t or i.upper()}](/{i})", lambda e, n: f"> **{e} {n}**")
    assert out == (
        "See [Alpha](/a) and `[[b]]`, &lt;script>x&lt;/script> & &amp;amp; here.\n"
        "\n"
        "> **e 1**\n"
        ">\n"
        "> Said [A](/a).\n"
        "\n"
        "Next paragraph.\n"
    )
