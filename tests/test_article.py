"""The Python-Markdown extensions: mentions, view blocks, alias links, and the sanitizer."""

from __future__ import annotations

from generator.article import ArticleRenderer, Registry, sanitize

REGISTRY = Registry(
    names={"kim-jong-un": "Kim Jong Un", "xi-jinping": "Xi Jinping", "park": "Park Won-gon", "prof-kim": "Professor Kim"},
    urls={"kim-jong-un": "../../actors/kim-jong-un/index.html", "xi-jinping": "../../actors/xi-jinping/index.html", "park": "../../experts/park/index.html", "prof-kim": "../../experts/prof-kim/index.html"},
    aliases={"Kim Jong Un": "kim-jong-un", "Kim": "kim-jong-un", "Xi Jinping": "xi-jinping", "President Xi": "xi-jinping", "Xi": "xi-jinping", "Professor Kim": "prof-kim", "Park Won-gon": "park"},
)


def html(text: str, link_aliases: bool = True) -> str:
    return ArticleRenderer(REGISTRY).convert(text, link_aliases=link_aliases)


def test_mention_with_and_without_text() -> None:
    assert html("[[kim-jong-un|The leader]] met [[xi-jinping]].", link_aliases=False) == (
        '<p><a class="mention" data-id="kim-jong-un" href="../../actors/kim-jong-un/index.html">The leader</a> met '
        '<a class="mention" data-id="xi-jinping" href="../../actors/xi-jinping/index.html">Xi Jinping</a>.</p>'
    )


def test_mention_is_not_a_reference_link_and_not_rendered_in_code() -> None:
    assert html("`[[kim-jong-un]]`", link_aliases=False) == "<p><code>[[kim-jong-un]]</code></p>"


def test_view_block_renders_a_marked_passage() -> None:
    out = html("Before.\n\n::: view park\nFirst.\n\nSecond.\n:::\n\nAfter.", link_aliases=False)
    assert out == (
        "<p>Before.</p>\n"
        '<div class="view" data-expert="park" id="view-park-1">\n'
        '<p class="view-by"><a href="../../experts/park/index.html">Park Won-gon</a></p>\n'
        "<p>First.</p>\n<p>Second.</p>\n</div>\n"
        "<p>After.</p>"
    )


def test_alias_links_first_unmarked_mention_only() -> None:
    out = html("Kim left. Kim arrived. Xi waited.")
    assert out.count('data-id="kim-jong-un"') == 1
    assert out.startswith('<p><a class="mention alias" data-id="kim-jong-un" href="../../actors/kim-jong-un/index.html">Kim</a> left. Kim arrived.')
    assert '<a class="mention alias" data-id="xi-jinping" href="../../actors/xi-jinping/index.html">Xi</a> waited.' in out


def test_alias_longest_match_first_and_whole_words() -> None:
    out = html("Professor Kim spoke. Kimchi is food. President Xi listened.")
    assert '<a class="mention alias" data-id="prof-kim" href="../../experts/prof-kim/index.html">Professor Kim</a>' in out
    assert 'data-id="kim-jong-un"' not in out  # "Kim" inside "Professor Kim" and "Kimchi" is not the leader
    assert ">President Xi</a>" in out


def test_alias_never_in_headings_links_or_code_and_case_sensitive() -> None:
    out = html("## Kim in a heading\n\n[Kim](http://example.org) and `Kim` and KIM and kim.\n\nFinally Kim.")
    assert "<h2>Kim in a heading</h2>" in out
    assert '<a href="http://example.org">Kim</a>' in out
    assert "<code>Kim</code>" in out
    assert out.endswith('<p>Finally <a class="mention alias" data-id="kim-jong-un" href="../../actors/kim-jong-un/index.html">Kim</a>.</p>')


def test_explicit_mention_before_means_no_alias_link() -> None:
    out = html("[[kim-jong-un|The leader]] went. Kim arrived.")
    assert out.count('data-id="kim-jong-un"') == 1


def test_shared_alias_is_not_linked() -> None:
    registry = Registry(REGISTRY.names, REGISTRY.urls, {k: v for k, v in REGISTRY.aliases.items() if k != "Kim"})
    out = ArticleRenderer(registry).convert("Kim arrived.")
    assert out == "<p>Kim arrived.</p>"


def test_sanitizer_removes_active_content_and_keeps_formatting() -> None:
    dirty = (
        '<p onclick="x()">Hi <strong>there</strong><script>alert(1)</script>'
        '<a href="javascript:alert(1)">j</a><a href="vbscript:x">v</a><img src="data:text/html;base64,xx" onerror="y()">'
        '<a href="https://example.org/">ok</a><a href="../rel/index.html">rel</a></p>'
    )
    assert sanitize(dirty) == '<p>Hi <strong>there</strong><a>j</a><a>v</a><img><a href="https://example.org/">ok</a><a href="../rel/index.html">rel</a></p>'


def test_raw_html_in_markdown_is_sanitized() -> None:
    out = html('Text <iframe src="https://evil"></iframe><b onmouseover="x">bold</b>')
    assert out == "<p>Text <b>bold</b></p>"


MARKDOWN_SAMPLES = [
    "Plain prose, no markup at all: just words.",
    "A `code span` and ``double `ticks` `` and an escaped \\`tick\\` and \\\\`code after backslashes`.",
    "> a quote\n> over two lines\n\nand a line with a > in it",
    "# Heading\n\nText with a # in it.\n\n## Closed ##\n\nSetext\n------",
    "Term\n: its definition\n\nA time: 10:30, a ratio 3:1.",
    "Mixed: `x` > y # z\n\n> quoted `code`\n\nTerm\n:   definition with `code`",
    "    indented code with ` and > and #",
    "[[kim-jong-un]] said `[[xi-jinping]]` is code.",
]


def test_patterns_that_skip_text_lacking_their_character_render_as_without_the_test() -> None:
    import markdown

    from generator.article import BriefingExtension, _Needs

    guarded = ArticleRenderer(REGISTRY)
    assert isinstance(guarded.md.inlinePatterns["backtick"].compiled_re, _Needs)
    assert all(isinstance(guarded.md.parser.blockprocessors[n].RE, _Needs) for n in ("quote", "hashheader", "deflist"))
    plain = markdown.Markdown(extensions=["extra", "sane_lists", BriefingExtension(REGISTRY)], output_format="html")
    for text in MARKDOWN_SAMPLES:
        plain.reset()
        assert guarded.convert(text) == sanitize(plain.convert(text)), text
