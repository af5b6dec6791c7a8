"""Find a briefing body's annotations (mentions, view, summary and key-points blocks) with their positions.

Python-Markdown keeps no source positions, so this scanner reads the body first: it
reports malformed annotations where they stand and returns what it found. The Markdown
extensions in `article.py` then only render what this scanner accepted.
"""

from __future__ import annotations

import re
from typing import Callable

from .diagnostics import Diagnostics
from .model import ID_PATTERN, Body, Mention, Pos, View

MENTION = re.compile(r"\[\[([^\[\]|\n]*)(?:\|([^\[\]\n]*))?\]\]")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
DIRECTIVE = re.compile(r"^:::(.*)$")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
BLOCKS = ("view", "summary", "key-points")
WORD = re.compile(r"\w+(?:[’'-]\w+)*")


ENTITY = re.compile(r"&#?\w+;")

def strip_mentions(text: str) -> str:
    """Return text with `[[id|text]]` replaced by its text and `[[id]]` by the id."""
    return MENTION.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), text)


def _mask_code_spans(line: str) -> str:
    """Return line with inline code spans blanked out, so their text is not scanned."""
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def scan_body(text: str, path: str, first_line: int, diagnostics: Diagnostics) -> Body:
    """Return the body's annotations; report malformed ones into diagnostics."""
    lines = text.split("\n")
    kept: list[str] = []  # the article, without summary and key-points blocks
    mentions: list[Mention] = []
    views: list[View] = []
    summary_lines: list[str] = []
    key_point_lines: list[str] = []
    fence: str | None = None
    block: tuple[str, str, Pos] | None = None  # (kind, expert id, where it opened)
    block_lines: list[str] = []
    view_counts: dict[str, int] = {}

    for index, line in enumerate(lines):
        lineno = first_line + index
        if fence is None:
            opening = FENCE.match(line)
            if opening:
                fence = opening.group(1)
        elif line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None
            _keep(block, line, kept, block_lines)
            continue
        if fence is not None:
            _keep(block, line, kept, block_lines)
            continue

        directive = DIRECTIVE.match(line)
        if directive:
            words = directive.group(1).split()
            if not words:  # a closing `:::`
                if block is None:
                    diagnostics.error(Pos(path, lineno, 1), "':::' closes no block; a block opens with '::: view EXPERT-ID', '::: summary' or '::: key-points'")
                    kept.append(line)
                    continue
                kind, expert, opened = block
                inner = "\n".join(block_lines).strip("\n")
                if kind == "view":
                    view_counts[expert] = view_counts.get(expert, 0) + 1
                    views.append(View(expert, inner, f"view-{expert}-{view_counts[expert]}", opened))
                    kept.append(line)
                elif kind == "summary":
                    summary_lines.extend(block_lines)
                else:
                    key_point_lines.extend(block_lines)
                block, block_lines = None, []
                continue
            name, args = words[0], words[1:]
            col = line.index(name) + 1
            if block is not None:
                diagnostics.error(
                    Pos(path, lineno, 1),
                    f"'::: {name}' opens a block inside the '::: {block[0]}' block opened at line {block[2].line}; close that one with ':::' first",
                )
                continue
            if name not in BLOCKS:
                diagnostics.error(Pos(path, lineno, col), f"unknown block '{name}'; expected view, summary or key-points")
                kept.append(line)
                continue
            expert = ""
            if name == "view":
                if len(args) != 1:
                    diagnostics.error(Pos(path, lineno, col), "'::: view' needs exactly one expert id, as '::: view EXPERT-ID'")
                    block, block_lines = ("invalid", "", Pos(path, lineno, 1)), []
                    continue
                expert = args[0]
                arg_col = line.index(expert, col + len(name) - 1) + 1
                if not ID_PATTERN.match(expert):
                    diagnostics.error(Pos(path, lineno, arg_col), f"{expert!r} is not a valid id (lower-case letters and digits joined by single hyphens)")
                opened = Pos(path, lineno, arg_col)
            elif args:
                diagnostics.error(Pos(path, lineno, col + len(name) + 1), f"'::: {name}' takes no arguments")
                opened = Pos(path, lineno, 1)
            else:
                opened = Pos(path, lineno, 1)
            block, block_lines = (name, expert, opened), []
            if name == "view":
                kept.append(line)
            continue

        for match in MENTION.finditer(_mask_code_spans(line)):
            ident = match.group(1).strip()
            col = match.start() + 3
            if not ID_PATTERN.match(ident):
                diagnostics.error(Pos(path, lineno, col), f"{ident!r} is not a valid id in a mention (lower-case letters and digits joined by single hyphens)")
                continue
            label = match.group(2)
            if label is not None and not label.strip():
                diagnostics.error(Pos(path, lineno, match.start() + len(match.group(1)) + 4), "empty text after '|' in a mention")
                continue
            mentions.append(Mention(ident, (label or "").strip(), Pos(path, lineno, col)))
        _keep(block, line, kept, block_lines)

    if block is not None:
        kind, _, opened = block
        diagnostics.error(Pos(opened.path, opened.line, 1), f"'::: {kind}' block is not closed; end it with a line ':::'")
    body_markdown = "\n".join(kept).strip("\n") + "\n"
    words = len(WORD.findall(strip_mentions("\n".join(line for line in kept if not DIRECTIVE.match(line)))))
    return Body(
        markdown=body_markdown,
        mentions=tuple(mentions),
        views=tuple(views),
        summary=" ".join(strip_mentions("\n".join(summary_lines)).split()),
        key_points=_list_items(key_point_lines),
        first_line=first_line,
        words=words,
    )


def _keep(block: tuple[str, str, Pos] | None, line: str, kept: list[str], block_lines: list[str]) -> None:
    """Put a line in the open block's lines, and in the article unless the block is not article text."""
    if block is not None:
        block_lines.append(line)
        if block[0] != "view":
            return
    kept.append(line)


def _list_items(lines: list[str]) -> tuple[str, ...]:
    """Return the items of a Markdown bullet list (continuation lines folded in)."""
    items: list[str] = []
    for line in lines:
        item = re.match(r"^\s*[-*+]\s+(.*)$", line)
        if item:
            items.append(item.group(1))
        elif line.strip() and items:
            items[-1] += " " + line.strip()
    return tuple(" ".join(strip_mentions(i).split()) for i in items)


def rewrite_body(
    text: str,
    mention: Callable[[str, str], str],
    view: Callable[[str, int], str],
) -> str:
    """Return the body as plain Markdown: mentions and views replaced by what the callbacks make.

    `mention(id, text)` returns a mention's Markdown; `view(expert, n)` returns the line that
    opens the n-th view of that expert (its passage follows as a block quote). Every '<' is
    escaped, in code too (Markdown renderers disagree on where code is: an unclosed or
    indented fence, a fence in a block quote, an escaped backtick), entity-like '&' outside
    code, and links to unsafe schemes stay text, so the page shows them instead of running them.
    """
    out: list[str] = []
    fence: str | None = None
    quoting = False
    need_blank = False  # a closed view's quote must not swallow the next line
    counts: dict[str, int] = {}
    for line in text.split("\n"):
        if need_blank and line.strip():
            out.append("")
        need_blank = False
        if fence is None and FENCE.match(line):
            fence = FENCE.match(line).group(1)  # type: ignore[union-attr]
        elif fence is not None and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
            out.append(("> " if quoting else "") + line)
            continue
        if fence is not None:
            out.append(("> " if quoting else "") + defuse_links(line).replace("<", "&lt;"))
            continue
        directive = DIRECTIVE.match(line)
        if directive:
            words = directive.group(1).split()
            if not words:
                quoting = False
                need_blank = True
            elif words[0] == "view" and len(words) == 2:
                counts[words[1]] = counts.get(words[1], 0) + 1
                out.append(view(words[1], counts[words[1]]))
                out.append(">")
                quoting = True
            continue
        masked = _mask_code_spans(line)
        pieces: list[str] = []
        last = 0
        for match in list(MENTION.finditer(masked)) + [None]:
            end = match.start() if match else len(line)
            pieces.append(_escape_outside_code(*_defuse_links(line[last:end], masked[last:end])).replace("<", "&lt;"))
            if match:
                label = (match.group(2) or "").strip()
                pieces.append(mention(match.group(1).strip(), _escape_outside_code(*_defuse_links(label, label))))
                last = match.end()
        rewritten = "".join(pieces)
        out.append((("> " + rewritten) if rewritten else ">") if quoting else rewritten)
    return "\n".join(out).strip("\n") + "\n"


LINK_DESTINATION = re.compile(r"\]\(\s*<?\s*([^\s)>\"']*)")  # `](dest` of an inline link or image
LINK_REFERENCE = re.compile(r"^ {0,3}(\[)[^\]\n]*\]:\s*<?\s*([^\s>]*)", re.M)  # `[label]: dest` of a reference definition
SAFE_SCHEMES = ("http", "https", "mailto")


def _unsafe_destination(destination: str) -> bool:
    """Return whether a Markdown link destination names a scheme other than http, https or mailto (javascript:, data: ...)."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", destination.replace("\\", ""))  # Markdown drops the backslash of `javascript\:`
    return scheme is not None and scheme.group(1).lower() not in SAFE_SCHEMES


def defuse_links(text: str) -> str:
    """Return Markdown text whose links and images to javascript:, data: or other unsafe schemes stay text.

    A backslash before the link's `(` (or its definition's `[`) stops every Markdown
    renderer from making it a link; the reader sees the text as it was written.
    """
    return _defuse_links(text, text)[0]


def _defuse_links(text: str, masked: str) -> tuple[str, str]:
    """Return text and its code-span mask with a backslash put before each unsafe link, in code spans too (a renderer may not see them as code)."""
    at = {m.start() + 1 for m in LINK_DESTINATION.finditer(text) if _unsafe_destination(m.group(1))}
    at |= {m.start(1) for m in LINK_REFERENCE.finditer(text) if _unsafe_destination(m.group(2))}
    for i in sorted(at, reverse=True):
        text, masked = text[:i] + "\\" + text[i:], masked[:i] + "\\" + masked[i:]
    return text, masked


def _escape_outside_code(text: str, masked: str) -> str:
    """Escape '<' and entity-like '&' where the text is not inside a code span."""
    if "<" not in text and "&" not in text:
        return text
    return "".join(
        ("&lt;" if ch == "<" else "&amp;" if ch == "&" and ENTITY.match(text, i) else ch) if masked[i] != " " or ch == " " else ch
        for i, ch in enumerate(text)
    )
