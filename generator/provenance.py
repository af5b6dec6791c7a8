"""Compare each briefing's article with the seed it names: changed, added, moved and dropped sentences, and misquotes.

Both texts are normalised first (typographic quotes and dashes to plain ones, runs of
whitespace to one space) and split into sentences. The article is the briefing body
with its annotations resolved to their text (`[[id|text]]` -> text, `[[id]]` -> the
registry name), its Markdown markup and its summary and key-points blocks taken out; a
`## heading` is one sentence, as the seed's subheading line is. Every article sentence
keeps the line and column it starts at, so each finding is reported where it stands.
Findings are warnings (errors under `--strict`).
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import html
import itertools
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .annotations import DIRECTIVE, FENCE
from .diagnostics import Diagnostic, Diagnostics
from .extract import paragraph_lines
from .load import LoadMemo, RawSources, Touched, must_check, read_file, source_path, touches_folder
from .memo import other_objects, same_objects
from .model import Briefing, Change, Pos, Provenance, Site

TYPOGRAPHY = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "…": "...",
    }
)  # fmt: skip
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col sgt capt cmdr adm sen rep gov pres amb st jr sr no vs etc inc co corp ltd dept univ est approx fig"
    " jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
INLINE = re.compile(
    r"\[\[(?P<id>[^\[\]|\n]*)(?:\|(?P<label>[^\[\]\n]*))?\]\]"  # a mention
    r"|!\[[^\]\n]*\]\([^)\n]*\)"  # an image: not text
    r"|\[(?P<link>[^\]\n]*)\]\([^)\n]*\)"  # a link: its text
    r"|\\(?P<escape>[!-/:-@\[-`{-~])"  # a backslash escape
    r"|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);"  # an HTML entity
    r"|\*{1,3}|_{2,3}|`+"  # emphasis and code markers
)
BLOCK_PREFIX = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)*")
DOUBLE_QUOTED = re.compile(r'"([^"]+)"')
SINGLE_QUOTED = re.compile(r"(?<![\w'])'([^']+?)'(?![\w])")
SIMILAR = 0.6  # how alike an article sentence and a seed sentence must be to count as "changed", not "added"
SHOWN = 90  # characters of a sentence quoted in a message


@dataclass(frozen=True)
class Sentence:
    text: str  # normalised
    line: int  # where it starts (in the briefing, or in the seed)
    col: int = 1
    view: str = ""  # the expert whose view passage holds it
    headline: bool = False  # the seed's headline: the briefing's title, not required in its body


@dataclass
class _Chars:
    """Text being built piece by piece, each piece with the (line, column) it came from.

    A piece copied from a source line advances its column with each character; a piece
    put in its place (a mention's name, an entity, a joining space) keeps one origin.
    """

    pieces: list[str] = dataclasses.field(default_factory=list)
    starts: list[int] = dataclasses.field(default_factory=list)  # each piece's offset in the text
    origins: list[tuple[int, int, bool]] = dataclasses.field(default_factory=list)  # (line, column, advances)
    length: int = 0

    def add(self, text: str, origin: tuple[int, int], advances: bool = False) -> None:
        if text:
            self.pieces.append(text)
            self.starts.append(self.length)
            self.origins.append((origin[0], origin[1], advances))
            self.length += len(text)

    def extend(self, other: _Chars) -> None:
        for text, (line, col, advances) in zip(other.pieces, other.origins):
            self.add(text, (line, col), advances)

    def origin(self, offset: int) -> tuple[int, int]:
        """Return the (line, column) the character at offset came from."""
        i = bisect.bisect_right(self.starts, offset) - 1
        line, col, advances = self.origins[i]
        return line, col + (offset - self.starts[i] if advances else 0)


def normalise(text: str) -> str:
    """Return text with typographic quotes and dashes made plain and whitespace folded to single spaces."""
    return " ".join(text.translate(TYPOGRAPHY).split())


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the sentences of a normalised paragraph."""
    spans = []
    start = 0
    for match in BOUNDARY.finditer(text):
        before = text[start : match.start()].rsplit(" ", 1)[-1].lstrip("\"'([").rstrip(".").lower()
        if before in ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
            continue
        spans.append((start, match.end()))
        start = match.end() + 1  # the boundary's space
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _sentences(paragraph: _Chars, view: str = "") -> list[Sentence]:
    raw = "".join(paragraph.pieces)
    text = normalise(raw)
    spans = split_sentences(text)
    if not spans:
        return []
    result = []
    at = _skip(0).match(raw).end()  # a sentence starts at a word: the n-th word here is the n-th word of raw
    counted = 0
    for start, end in spans:
        at = _skip(text.count(" ", counted, start)).match(raw, at).end()
        counted = start
        result.append(Sentence(text[start:end], *paragraph.origin(at), view))
    return result


@functools.lru_cache(maxsize=256)
def _skip(words: int) -> re.Pattern[str]:
    """Return a pattern that matches leading whitespace and then `words` words, each with the whitespace after it."""
    return re.compile(r"\s*" + r"(?:\S+\s+)" * words if words < 100 else r"\s*(?:\S+\s+){%d}" % words)


def seed_sentences(text: str) -> list[Sentence]:
    """Return a seed's sentences, each with its line, its paragraphs read as `briefing import` reads them.

    One paragraph per line or blank-line paragraphs hard-wrapped over several lines; a
    headline first line is marked, as it becomes the title rather than article text.
    """
    result: list[Sentence] = []
    lines = text.split("\n")
    groups, has_headline = paragraph_lines(text)
    for index, group in enumerate(groups):
        chars = _Chars()
        for lineno in group:
            if chars.length:
                chars.add(" ", (lineno, 1))
            chars.add(lines[lineno - 1], (lineno, 1), advances=True)
        headline = has_headline and index == 0
        result.extend(dataclasses.replace(s, headline=True) if headline else s for s in _sentences(chars))
    return result


def _inline(line: str, lineno: int, first_col: int, names: Mapping[str, str]) -> _Chars:
    """Return a line's text with mentions, links and emphasis resolved to what a reader sees."""
    out = _Chars()
    last = 0

    def keep(start: int, end: int) -> None:
        out.add(line[start:end], (lineno, first_col + start), advances=True)

    for match in INLINE.finditer(line):
        keep(last, match.start())
        last = match.end()
        group = match.lastgroup
        if group in ("id", "label"):
            if match.group("label") is not None:
                keep(match.start("label"), match.end("label"))
            else:
                ident = match.group("id").strip()
                out.add(names.get(ident, ident), (lineno, first_col + match.start()))
        elif group == "link":
            keep(match.start("link"), match.end("link"))
        elif group == "escape":
            keep(match.start("escape"), match.end("escape"))
        elif match.group(0).startswith("&"):
            out.add(html.unescape(match.group(0)), (lineno, first_col + match.start()))
    keep(last, len(line))
    return out


def article_sentences(body: str, first_line: int, names: Mapping[str, str]) -> list[Sentence]:
    """Return the sentences of a briefing body, each with its line and column and the view that holds it.

    Summary and key-points blocks, directive lines and fenced code are not article text;
    a blank line, a heading or a directive ends a paragraph.
    """
    result: list[Sentence] = []
    paragraph = _Chars()
    view = ""
    block = ""  # the open block: view, summary, key-points
    fence: str | None = None

    def flush() -> None:
        nonlocal paragraph
        if paragraph.length:
            result.extend(_sentences(paragraph, view))
        paragraph = _Chars()

    for index, line in enumerate(body.split("\n")):
        lineno = first_line + index
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        opening = FENCE.match(line)
        if opening:
            flush()
            fence = opening.group(1)
            continue
        directive = DIRECTIVE.match(line)
        if directive:
            flush()
            words = directive.group(1).split()
            if not words:
                block, view = "", ""
            else:
                block = words[0]
                view = words[1] if block == "view" and len(words) == 2 else ""
            continue
        if block in ("summary", "key-points"):
            continue
        if not line.strip():
            flush()
            continue
        prefix = BLOCK_PREFIX.match(line)
        rest = line[prefix.end() :] if prefix else line
        heading = bool(re.match(r"^ {0,3}#{1,6}[ \t]", line))
        if heading:
            flush()
            rest = re.sub(r"[ \t]+#+[ \t]*$", "", rest)
        if paragraph.length:
            paragraph.add(" ", (lineno, 1))
        paragraph.extend(_inline(rest, lineno, len(line) - len(rest) + 1, names))
        if heading:
            flush()
    flush()
    return result


def quoted(text: str) -> list[tuple[int, str]]:
    """Return the (offset, words) of each passage in quotation marks in a normalised text."""
    found = [(m.start(), m.group(1)) for m in DOUBLE_QUOTED.finditer(text)]
    found += [(m.start(), m.group(1)) for m in SINGLE_QUOTED.finditer(text)]
    return sorted(found)


def compare(briefing: Briefing, body: str, seed: str, names: Mapping[str, str]) -> Provenance:
    """Return how a briefing's body differs from its seed's text."""
    source = briefing.source
    assert source is not None and source.seed
    path = briefing.pos.path
    seed_path = f"seeds/{source.seed}"
    article = article_sentences(body, briefing.body.first_line, names)
    seeds = seed_sentences(seed)
    seed_text = normalise(seed)
    changes: list[Change] = []
    in_seed: dict[str, int] = {}
    for s in seeds:
        in_seed.setdefault(s.text, s.line)
    in_article = {a.text for a in article}
    matcher = difflib.SequenceMatcher(None, [a.text for a in article], [s.text for s in seeds], autojunk=False)
    paired: set[int] = set()  # seed sentences an article sentence was found to be a changed version of
    gaps: list[tuple[int, int, int]] = []  # (article index after the gap, seed j1, seed j2)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op in ("insert", "replace"):  # seed sentences the article lacks here
            gaps.append((i1, j1, j2))
        for i in range(i1, i2):
            sentence = article[i]
            pos = Pos(path, sentence.line, sentence.col)
            if sentence.text in in_seed:
                changes.append(Change("moved", sentence.text, pos, in_seed[sentence.text], sentence.text, sentence.view))
                continue
            best = _closest(sentence.text, seeds, range(j1, j2)) or _closest(sentence.text, seeds, range(len(seeds)))
            if best is None:
                changes.append(Change("added", sentence.text, pos, view=sentence.view))
            else:
                paired.add(best)
                changes.append(Change("changed", sentence.text, pos, seeds[best].line, seeds[best].text, sentence.view))
    if source.article == "full":
        for i, j1, j2 in gaps:
            where = article[i] if i < len(article) else (article[-1] if article else None)
            pos = Pos(path, where.line, 1) if where else Pos(path, briefing.body.first_line, 1)
            for j in range(j1, j2):
                if j not in paired and seeds[j].text not in in_article and not seeds[j].headline:
                    changes.append(Change("dropped", seeds[j].text, pos, seeds[j].line, seeds[j].text))
    for sentence in article:
        if sentence.view:
            for offset, words in quoted(sentence.text):
                if normalise(words) not in seed_text:
                    changes.append(Change("misquoted", words, Pos(path, sentence.line, sentence.col + offset), view=sentence.view))
    for role in (*briefing.actors, *briefing.experts):
        words = role.quote.strip().strip("\"'“”‘’")
        if words and normalise(words) not in seed_text:
            changes.append(Change("misquoted", words, role.quote_pos, view=role.id))
    changes.sort(key=lambda c: (c.pos.line, c.pos.col, c.kind, c.seed_line))
    return Provenance(source.seed, source.article, len(article), tuple(changes))


def _closest(text: str, seeds: list[Sentence], candidates: range) -> int | None:
    """Return the index of the seed sentence most like text, if any is at least SIMILAR alike."""
    best, best_ratio = None, SIMILAR
    for j in candidates:
        matcher = difflib.SequenceMatcher(None, text, seeds[j].text, autojunk=False)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = j, ratio
    return best


def word_changes(seed: str, text: str, most: int = 3) -> str:
    """Return what differs between a seed sentence and the article's version of it, word by word."""
    a, b = seed.split(), text.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        was, now = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        if op == "replace":
            parts.append(f"{_shown(was)} became {_shown(now)}")
        elif op == "delete":
            parts.append(f"{_shown(was)} left out")
        elif op == "insert":
            parts.append(f"{_shown(now)} added")
    more = f" and {len(parts) - most} more" if len(parts) > most else ""
    return "; ".join(parts[:most]) + more


def _shown(text: str) -> str:
    return f'"{text}"' if len(text) <= SHOWN else f'"{text[: SHOWN - 1].rstrip()}…"'


def describe(change: Change, seed: str) -> str:
    """Return the warning's message for one finding."""
    where = f"seeds/{seed} line {change.seed_line}"
    prefix = f"view of {change.view!r}: " if change.view and change.kind != "misquoted" else ""
    if change.kind == "changed":
        tail = "; a view passage must be text of the seed" if change.view else ""
        return f"{prefix}sentence differs from {where}: {word_changes(change.seed_text, change.text)}{tail}"
    if change.kind == "added":
        tail = "; a view passage must be text of the seed" if change.view else ""
        return f"{prefix}sentence is not in seeds/{seed}: {_shown(change.text)}{tail}"
    if change.kind == "moved":
        return f"{prefix}sentence is out of the seed's order (it is at {where}): {_shown(change.text)}"
    if change.kind == "dropped":
        return f"the article is republished in full (source.article: full), but the sentence at {where} is missing here: {_shown(change.text)}"
    return f"quoted words are not in seeds/{seed} verbatim: {_shown(change.text)}"


def read_seeds(raw: RawSources, names: set[str], diagnostics: Diagnostics, memo: LoadMemo | None = None, touched: Touched = None) -> dict[str, str]:
    """Return the text of each named seed that exists, read as load reads sources (UTF-8, BOM and CRLF handled, the same size limit, the same memo and watcher's paths).

    When the watcher saw nothing change under seeds/, and the same names are asked of the
    same seed files, the texts are those read last time (memo.seeds): kept only from a read
    that reported nothing and found every seed in the load memo, none a symbolic link.
    """
    memo = LoadMemo() if memo is None else memo
    last = memo.seeds
    if last is not None and not touches_folder(touched, "seeds") and last[1] == raw.seeds and last[0] == names:
        return last[2]
    texts = {}
    root = str(raw.root)
    mark = len(diagnostics.items)
    paths = []
    for name in sorted(names & set(raw.seeds)):
        path = source_path(root, f"seeds/{name}")
        paths.append(path)
        found = read_file(path, f"seeds/{name}", diagnostics, memo, check=must_check(touched, f"seeds/{name}"))
        if found is not None:
            texts[name] = found.text
    clean = len(diagnostics.items) == mark and all(path in memo and path not in memo.links for path in paths)
    memo.seeds = (frozenset(names), raw.seeds, texts) if clean else None
    return texts


Key = tuple[str, str, str, int]  # what decides a comparison: the briefing's file, its text, the seed's text, the registry's names


class Compared(dict):  # type: ignore[type-arg]
    """check_site's memo: Key -> (the parsed briefing, its Provenance, the briefing with it), and the last call's results by position (`last`)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: _Last | None = None


@dataclass(frozen=True)
class _Last:
    """What check_site was given and gave last time, position by position: a briefing that is the same object there is the same result."""

    briefings: tuple[Briefing, ...]
    seeds: Mapping[str, str]
    names_key: int
    keys: list[Key | None]
    results: list[Briefing]
    warnings: list[tuple[Diagnostic, ...]]


Job = tuple[Briefing, str, str, Mapping[str, str]]  # what compare() takes: the briefing, its body, its seed's text, the registry's names
Mapper = Callable[[Callable[[Job], Provenance], list[Job]], Sequence[object]]  # runs compare on each job, in order (pipeline._shared_out)


def check_site(site: Site, raw: RawSources, seeds: Mapping[str, str], diagnostics: Diagnostics, memo: Compared | None = None, mapper: Mapper | None = None) -> Site:
    """Return the site with each briefing's provenance filled in; report every finding as a warning.

    memo keeps each comparison by what decides it (the briefing's file, its seed's text and
    the registry's names), so a rebuild compares again only what changed, and hands back
    the same briefing object for a file parsed to the same object (parse's cache), so later
    stages see at once that it is unchanged; it is left holding this build's comparisons only.
    When the briefings stand where they stood last time, with the same seed texts and
    names, only the positions whose briefing is another object are looked at again (a
    parsed briefing is the same object only for the same text of the same file); the others
    keep their result and warnings (`Compared.last`). The comparisons to make are handed
    to mapper (the pipeline shares them out between worker processes under the time
    budget per document, budget.py); a result that is an Overrun is reported at the
    briefing's body.
    """
    names = site.names()
    names_key = hash(tuple(sorted(names.items())))
    memo = Compared() if memo is None else memo
    count = len(site.briefings)
    last = memo.last
    if last is not None and len(last.briefings) == count and last.names_key == names_key and same_objects(last.seeds, seeds):
        redo: Sequence[int] = other_objects(last.briefings, site.briefings)
        keys, results, warnings = list(last.keys), list(last.results), list(last.warnings)
        for i in redo:
            memo.pop(keys[i], None)  # (a key holds its file's path: no other position has it)
        used = memo
    else:
        redo, keys, results, warnings = range(count), [None] * count, list(site.briefings), [()] * count
        used = Compared()
    wanted = {site.briefings[i].pos.path for i in redo}
    bodies = {f.path: f.text for f in raw.briefings if f.path in wanted} if redo else {}
    jobs: dict[Key, Job] = {}
    for i in redo:
        briefing = site.briefings[i]
        source = briefing.source
        text = bodies.get(briefing.pos.path)
        if source is None or not source.seed or source.seed not in seeds or text is None:
            keys[i] = None
            continue
        key = keys[i] = (briefing.pos.path, text, seeds[source.seed], names_key)
        if key not in memo and key not in jobs:
            jobs[key] = (briefing, "\n".join(text.split("\n")[briefing.body.first_line - 1 :]), seeds[source.seed], names)
    found = dict(zip(jobs, (mapper or _in_process)(_compare_job, list(jobs.values()))))  # one result per job, in order
    overrun = False
    for i in redo:
        briefing, key = site.briefings[i], keys[i]
        results[i], warnings[i] = briefing, ()
        if key is None:
            continue
        hit = memo.get(key)
        if hit is None:
            provenance = found[key]
            if not isinstance(provenance, Provenance):
                diagnostics.error(Pos(briefing.pos.path, briefing.body.first_line, 1), f"comparing this article with its seed {getattr(provenance, 'reason', 'failed')}, the time budget per document; stopped")
                keys[i], overrun = None, True
                continue
            hit = (briefing, provenance, dataclasses.replace(briefing, provenance=provenance))
        elif hit[0] is not briefing:
            hit = (briefing, hit[1], dataclasses.replace(briefing, provenance=hit[1]))
        used[key] = hit
        assert briefing.source is not None and briefing.source.seed
        found_here = Diagnostics()
        for change in hit[1].changes:
            found_here.warning(change.pos, describe(change, briefing.source.seed))
        results[i], warnings[i] = hit[2], tuple(found_here.items)
    diagnostics.items.extend(itertools.chain.from_iterable(warnings))
    if used is not memo:
        memo.clear()
        memo.update(used)
    memo.last = None if overrun else _Last(site.briefings, seeds, names_key, keys, results, warnings)
    return dataclasses.replace(site, briefings=tuple(results))


def _compare_job(job: Job) -> Provenance:
    return compare(*job)


def _in_process(fn: Callable[[Job], Provenance], jobs: list[Job]) -> list[Provenance]:
    return [fn(job) for job in jobs]


def seed_names(site: Site) -> set[str]:
    """Return the seeds the briefings name."""
    return {b.source.seed for b in site.briefings if b.source and b.source.seed}

