"""Find, by plain rules, who and what a raw news article names: actors, experts, views, dated events, summary.

No model and no network: a small gazetteer of states and organisations, title and
attribution patterns for people, family-name rules for their short forms, date patterns
resolved against the article's date, and TextRank over sentence similarity for the
summary. `briefing import` (importer.py) turns what this module finds into a draft.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from .model import MONTHS, PartialDate

# --- gazetteer --------------------------------------------------------------------------

# name, demonyms, capitals, other names
COUNTRIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("Afghanistan", ("Afghan",), ("Kabul",), ()),
    ("Argentina", ("Argentine", "Argentinian"), ("Buenos Aires",), ()),
    ("Australia", ("Australian",), ("Canberra",), ()),
    ("Austria", ("Austrian",), ("Vienna",), ()),
    ("Bangladesh", ("Bangladeshi",), ("Dhaka",), ()),
    ("Belarus", ("Belarusian",), ("Minsk",), ()),
    ("Belgium", ("Belgian",), (), ()),
    ("Brazil", ("Brazilian",), ("Brasília", "Brasilia"), ()),
    ("Cambodia", ("Cambodian",), ("Phnom Penh",), ()),
    ("Canada", ("Canadian",), ("Ottawa",), ()),
    ("China", ("Chinese",), ("Beijing",), ("People's Republic of China", "PRC")),
    ("Cuba", ("Cuban",), ("Havana",), ()),
    ("Denmark", ("Danish",), ("Copenhagen",), ()),
    ("Egypt", ("Egyptian",), ("Cairo",), ()),
    ("Ethiopia", ("Ethiopian",), ("Addis Ababa",), ()),
    ("Finland", ("Finnish",), ("Helsinki",), ()),
    ("France", ("French",), ("Paris",), ()),
    ("Germany", ("German",), ("Berlin",), ()),
    ("Greece", ("Greek",), ("Athens",), ()),
    ("India", ("Indian",), ("New Delhi",), ()),
    ("Indonesia", ("Indonesian",), ("Jakarta",), ()),
    ("Iran", ("Iranian",), ("Tehran",), ()),
    ("Iraq", ("Iraqi",), ("Baghdad",), ()),
    ("Ireland", ("Irish",), ("Dublin",), ()),
    ("Israel", ("Israeli",), (), ()),
    ("Italy", ("Italian",), ("Rome",), ()),
    ("Japan", ("Japanese",), ("Tokyo",), ()),
    ("Kazakhstan", ("Kazakh",), ("Astana",), ()),
    ("Laos", ("Lao", "Laotian"), ("Vientiane",), ()),
    ("Lebanon", ("Lebanese",), ("Beirut",), ()),
    ("Malaysia", ("Malaysian",), ("Kuala Lumpur",), ()),
    ("Mexico", ("Mexican",), ("Mexico City",), ()),
    ("Mongolia", ("Mongolian",), ("Ulaanbaatar",), ()),
    ("Myanmar", ("Burmese",), ("Naypyidaw",), ("Burma",)),
    ("Netherlands", ("Dutch",), (), ()),
    ("New Zealand", (), ("Wellington",), ()),
    ("Nigeria", ("Nigerian",), ("Abuja",), ()),
    ("North Korea", ("North Korean",), ("Pyongyang",), ("DPRK", "Democratic People's Republic of Korea")),
    ("Norway", ("Norwegian",), ("Oslo",), ()),
    ("Pakistan", ("Pakistani",), ("Islamabad",), ()),
    ("Philippines", ("Philippine", "Filipino"), ("Manila",), ()),
    ("Poland", ("Polish",), ("Warsaw",), ()),
    ("Qatar", ("Qatari",), ("Doha",), ()),
    ("Russia", ("Russian",), ("Moscow",), ("Kremlin", "Russian Federation")),
    ("Saudi Arabia", ("Saudi",), ("Riyadh",), ()),
    ("Singapore", ("Singaporean",), (), ()),
    ("South Africa", ("South African",), ("Pretoria",), ()),
    ("South Korea", ("South Korean",), ("Seoul",), ("Republic of Korea", "ROK")),
    ("Spain", ("Spanish",), ("Madrid",), ()),
    ("Sweden", ("Swedish",), ("Stockholm",), ()),
    ("Switzerland", ("Swiss",), ("Bern",), ()),
    ("Syria", ("Syrian",), ("Damascus",), ()),
    ("Taiwan", ("Taiwanese",), ("Taipei",), ()),
    ("Thailand", ("Thai",), ("Bangkok",), ()),
    ("Turkey", ("Turkish",), ("Ankara",), ("Türkiye",)),
    ("Ukraine", ("Ukrainian",), ("Kyiv", "Kiev"), ()),
    ("United Arab Emirates", ("Emirati",), ("Abu Dhabi",), ("UAE",)),
    ("United Kingdom", ("British",), ("London",), ("Britain", "UK", "U.K.")),
    ("United States", ("American", "U.S.", "US"), ("Washington",), ("U.S.", "US", "USA", "United States of America")),
    ("Venezuela", ("Venezuelan",), ("Caracas",), ()),
    ("Vietnam", ("Vietnamese",), ("Hanoi",), ()),
)

# name, other names
ORGANISATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("United Nations", ("UN", "U.N.")),
    ("UN Security Council", ("United Nations Security Council", "Security Council")),
    ("NATO", ("North Atlantic Treaty Organization",)),
    ("European Union", ("EU",)),
    ("International Atomic Energy Agency", ("IAEA",)),
    ("ASEAN", ("Association of Southeast Asian Nations",)),
    ("World Health Organization", ("WHO",)),
    ("International Monetary Fund", ("IMF",)),
    ("World Bank", ()),
    ("World Trade Organization", ("WTO",)),
    ("Shanghai Cooperation Organisation", ("SCO",)),
    ("African Union", ()),
    ("G7", ("Group of Seven",)),
    ("G20", ("Group of 20",)),
)

# Family names written first (Korean, Chinese): "Park Won-gon" is Professor Park.
EAST_ASIAN_SURNAMES = frozenset(
    """Kim Lee Yi Park Pak Choi Choe Jung Jeong Chung Kang Cho Jo Yoon Yun Jang Chang Lim Im Han Oh Seo Shin
    Kwon Hwang Ahn An Song Ryu Yoo Yu Hong Jeon Chun Ko Go Moon Mun Yang Son Bae Baek Heo Nam Noh Roh Ha Ri Ryu
    Xi Li Wang Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng Liang Xie
    Tang Han Cao Deng Feng Peng Jiang Mao Wen Hua Qin Dong Cai Ding Wei Shen""".split()
)

TITLE_HEADS = (
    "President Presidents Premier Chancellor Minister Ministers Secretary Ambassador General Gen. Admiral Chairman "
    "Chairwoman Leader Professor Prof. Dr. Mr. Mrs. Ms. Senator Sen. Rep. Representative Governor Mayor Spokesperson "
    "Spokesman Spokeswoman King Queen Emperor Pope Marshal Commissioner Envoy Director"
).split()
LOWER_HEADS = (
    "leader president premier minister spokesperson spokesman spokeswoman ambassador envoy chairman secretary "
    "general chief director analyst professor researcher economist commander"
).split()
TITLE_MODIFIERS = (
    "foreign defence defense ministry unification finance trade interior home deputy vice senior former chief "
    "top supreme prime state party military security national first"
).split()
ACADEMIC_TITLES = frozenset({"Professor", "Prof.", "Dr.", "professor", "analyst", "researcher", "economist"})
EXPERT_ROLES = (
    "professor analyst fellow researcher scholar expert economist lecturer director strategist specialist "
    "adviser advisor"
).split()
OFFICIAL_WORDS = frozenset(
    "president presidents premier chancellor minister ministers secretary ambassador general gen. admiral "
    "chairman chairwoman leader senator sen. rep. representative governor mayor spokesperson spokesman "
    "spokeswoman king queen emperor pope marshal commissioner envoy commander".split()
)
COURTESY = frozenset({"Mr.", "Mrs.", "Ms.", "Dr."})
ACADEMIC_HEADS = frozenset(
    "University Institute Center Centre Foundation Academy School College Studies Council Programme Program "
    "Forum Society Association Initiative Fund Group Endowment Corporation".split()
)
ORG_HEADS = frozenset(
    "Team Agency Ministry Council Committee Commission Party Command Forces Army Navy Office Organization "
    "Organisation Alliance Coalition Bank Fund Court Parliament Congress Assembly Authority Administration Service "
    "Department Bureau Union".split()
)
ATTRIBUTION_VERBS = (
    "said says stated states noted notes remarked remarks added adds elaborated elaborates predicted predicts "
    "argued argues warned warns explained explains believes believed suggested suggests told wrote writes "
    "commented comments observed observes cautioned cautions emphasised emphasized stressed stresses "
    "maintained maintains insisted insists concluded concludes claimed claims expects doubts thinks "
    "pointed"
).split()
NOT_NAMES = frozenset(
    """The A An In On At As By For From Of To With And But Or Nor Yet So If When While Since After Before During
    However Further Furthermore Meanwhile Moreover Also Still Instead Simultaneously Although Though Because
    Analysts Experts Officials Some Many Most Several This That These Those It Its He She They We I You His Her
    Their Our There Here What Which Who Why How Where Both Each Every Even Only Just Highlighting Until Despite
    Under Over Among Between Against Without Within Through Across Around Despite Last Next Early Late""".split()
    + MONTHS
    + "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
)
PLACE_WORDS = frozenset(
    "Sea Ocean River Island Islands Strait Peninsula Tower Square Day Hall House Street Road Mountain Mountains Lake Bay "
    "Gulf Coast Valley Province City Park Airport Station Palace Gate Bridge War Summit Games Olympics".split()
)
PLACE_PREPOSITIONS = re.compile(
    r"(?:\b(?:in|to|from|at|into|near|via|toward|towards|outside|inside|across|around|visit|visited|visits|"
    r"visiting|departed|left|leaves|leaving|reach|reached|reaching|arrive|arrived|arrives|arriving|of)\s+)$"
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_RE = "|".join(MONTHS)
NAME_WORD = r"[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Za-z][a-z]*)*"
NAME_RUN = rf"{NAME_WORD}(?: {NAME_WORD}){{0,3}}"
VERB_RE = "|".join(ATTRIBUTION_VERBS)
SENTENCE_STARTERS = frozenset(
    "He She It They The This That These Those But However In On At We I A An Some Analysts Experts Officials "
    "Meanwhile Further Still Yet Its His Her Their".split()
)
ABBREVIATIONS = frozenset("Dr Mr Mrs Ms Prof Gen Lt Col Sgt Capt St Jr Sr Rep Sen Gov No Jan Feb Aug Sept Sep Oct Nov Dec vs etc".split())
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for from with as is are was were be been being has have had do does
    did will would could should may might can must that this these those it its he she they them his her their
    we our you your i me my not no so than then there here which who whom whose what when where while also
    about into over under after before during since such very more most other some any each both all just only
    even further said says stated noted added told according""".split()
)


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """A registry entry the article may name: its id, names, and whether it is an expert."""

    id: str
    name: str
    kind: str  # person | state | organisation | expert
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paragraph:
    text: str
    heading: bool = False


@dataclass(frozen=True)
class Span:
    """A mention: where it is (paragraph, character range), the entity, and where its title starts."""

    paragraph: int
    start: int
    end: int
    key: str
    lead: int  # start of the mention with its title ("Chinese President Xi Jinping")


@dataclass
class Entity:
    """Someone or something the article names, gathered across its forms."""

    key: str
    name: str
    kind: str  # person | state | organisation
    forms: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # "President", "Professor", "leader"
    family: str = ""
    role: str = ""
    role_from: str = ""
    country: str = ""
    affiliation: str = ""
    expert_title: str = ""
    attributes_from: str = ""
    expert_cue: bool = False
    speaks: bool = False
    registry_id: str = ""
    registry_kind: str = ""

    @property
    def expert(self) -> bool:
        if self.registry_kind:
            return self.registry_kind == "expert"
        return self.kind == "person" and self.speaks and self.expert_cue


@dataclass(frozen=True)
class FoundEvent:
    date: PartialDate
    text: str
    phrase: str  # the words the date was read from
    guess: str  # why the date is a guess, or ''
    paragraph: int


@dataclass(frozen=True)
class Extraction:
    """Everything the rules found in one article."""

    headline: str
    paragraphs: tuple[Paragraph, ...]
    entities: tuple[Entity, ...]
    spans: tuple[Span, ...]
    views: tuple[tuple[str, tuple[int, ...]], ...]  # (entity key, paragraph indexes), in article order
    events: tuple[FoundEvent, ...]
    summary: tuple[str, ...]
    key_points: tuple[str, ...]
    tags: tuple[str, ...]  # entity keys, most central first
    gists: dict[str, str]
    undated: tuple[str, ...]  # weekday phrases left out for want of an article date
    article_date: dt.date | None

    def entity(self, key: str) -> Entity:
        return next(e for e in self.entities if e.key == key)


# --- text -------------------------------------------------------------------------------


def split_article(text: str) -> tuple[str, tuple[Paragraph, ...]]:
    """Return the headline (or '') and the paragraphs of a plain-text article."""
    lines = _lines(text)
    groups, has_headline = paragraph_lines(text)
    paragraphs = [" ".join(" ".join(lines[number - 1].split()) for number in group) for group in groups]
    headline = paragraphs.pop(0) if has_headline else ""
    return headline, tuple(Paragraph(p, _heading_like(p)) for p in paragraphs)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")


def paragraph_lines(text: str) -> tuple[list[list[int]], bool]:
    """Return the line numbers (from 1) of each paragraph of a plain-text article, and whether the first is a headline.

    Paragraphs are separated by blank lines; inside a blank-line block, lines that each
    end a sentence (or are short heading lines) are paragraphs of their own, as in
    articles that put one paragraph per line. A first line that reads as a heading is
    the headline. Provenance reads seeds with the same rules, so the two agree.
    """
    lines = _lines(text)
    folded = [" ".join(line.split()) for line in lines]
    width = max((len(line) for line in folded), default=0)
    groups: list[list[int]] = []
    block: list[int] = []
    for number, line in enumerate([*folded, ""], start=1):
        if line:
            block.append(number)
            continue
        if not block:
            continue
        # A short line is a heading only when the next one starts afresh and the line is not
        # as long as the text's wrapped lines; else the text is hard-wrapped.
        pairs = zip(block, block[1:])
        if all(_ends_sentence(folded[a - 1]) or (_heading_line(folded[a - 1], width) and re.match(r"[\"“‘(]?[A-Z0-9]", folded[b - 1])) for a, b in pairs):
            groups.extend([n] for n in block)
        else:
            groups.append(block)
        block = []
    headline = len(groups) > 1 and _heading_like(" ".join(folded[n - 1] for n in groups[0]))
    return groups, headline


def _ends_sentence(line: str) -> bool:
    return bool(re.search(r"[.!?:;][\"”’')]*$|[\"”]$", line))


def _heading_like(line: str) -> bool:
    return not _ends_sentence(line) and len(line.split()) <= 16


def _heading_line(line: str, width: int) -> bool:
    """Return whether a line followed by others in its block reads as a heading, not a wrapped line."""
    if not _heading_like(line) or re.search(r"[,(–—-]$|\s(?:the|a|an|of|at|in|on|to|for|and|or|by|with|from|that|as)$", line):
        return False
    return len(line) < 0.8 * width


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of each sentence in a paragraph."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"[.!?][\"”’')]*\s+(?=[\"“‘(]?[A-Z0-9])", text):
        before = text[start : match.start() + 1]
        word = re.search(r"(\S+)$", before)
        token = word.group(1) if word else ""
        bare = token.rstrip(".")
        nxt = re.match(r"[\"“‘(]?(\w+)", text[match.end() :])
        following = nxt.group(1) if nxt else ""
        if bare in ABBREVIATIONS or re.fullmatch(r"[A-Z]", bare):
            continue
        if re.fullmatch(r"(?:[A-Z]\.){2,}", token) and following not in SENTENCE_STARTERS:
            continue
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def slugify(text: str) -> str:
    """Return an id made of text's letters and digits ("Park Won-gon" -> park-won-gon)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", "")))


def family_name(name: str) -> str:
    """Return the family name of a full name (written first in Korean and Chinese names)."""
    words = name.split()
    if len(words) >= 2 and words[0] in EAST_ASIAN_SURNAMES and len(words) <= 3:
        return words[0]
    return words[-1] if words else ""


# --- entities ---------------------------------------------------------------------------


def _gazetteer(known: tuple[Known, ...]) -> list[tuple[str, str, str, str]]:
    """Return (surface form, canonical name, kind, how) for every fixed name, longest first."""
    entries: list[tuple[str, str, str, str]] = []
    for name, _demonyms, capitals, others in COUNTRIES:
        entries.append((name, name, "state", "name"))
        entries.extend((other, name, "state", "name") for other in others)
        entries.extend((capital, name, "state", "capital") for capital in capitals)
    for name, others in ORGANISATIONS:
        entries.append((name, name, "organisation", "name"))
        entries.extend((other, name, "organisation", "name") for other in others)
    for entry in known:
        for form in (entry.name, *entry.aliases):
            # A one-word alias of a person ("Kim") is a family name: the family-name rules use it.
            if len(form.split()) > 1 or entry.kind in ("state", "organisation"):
                entries.append((form, entry.name, entry.kind if entry.kind != "expert" else "person", "registry"))
    entries.sort(key=lambda e: (-len(e[0]), e[0]))
    return entries


def _demonym_country() -> dict[str, str]:
    table = {}
    for name, demonyms, _capitals, _others in COUNTRIES:
        for demonym in demonyms:
            table.setdefault(demonym, name)
    return table


def _country_names() -> dict[str, str]:
    table = {}
    for name, _demonyms, _capitals, others in COUNTRIES:
        table[name] = name
        for other in others:
            table.setdefault(other, name)
    return table


def _title_pattern() -> re.Pattern[str]:
    demonyms = sorted({d for _, ds, _, _ in COUNTRIES for d in ds} | {"North Korean", "South Korean"}, key=len, reverse=True)
    countries = sorted(_country_names(), key=len, reverse=True)
    heads = "|".join(re.escape(h) for h in sorted(TITLE_HEADS + LOWER_HEADS, key=len, reverse=True))
    mods = "|".join(TITLE_MODIFIERS + [m.capitalize() for m in TITLE_MODIFIERS] + ["Prime", "Vice", "Foreign", "Defence", "Defense", "Unification"])
    return re.compile(
        rf"(?P<lead>(?:(?P<demonym>{'|'.join(map(re.escape, demonyms))})\s+|(?P<poss>{'|'.join(map(re.escape, countries))})[’']s\s+)?"
        rf"(?P<mods>(?:(?:{mods})\s+){{0,3}})(?P<head>{heads}))\s+(?P<name>{NAME_RUN})"
    )


TITLE_PATTERN = _title_pattern()
DEMONYM_COUNTRY = _demonym_country()


def _clean_run(run: str) -> str:
    """Return the longest leading part of a capitalised run that reads as a person's name."""
    words = run.split()
    kept: list[str] = []
    countries = _country_names()
    if any(w in TITLE_HEADS for w in words) or any(f"{a} {b}" in DEMONYM_COUNTRY for a, b in zip(words, words[1:])):
        return ""
    for word in words:
        if word in NOT_NAMES or word in countries or word in ORG_HEADS or word in ACADEMIC_HEADS or word in DEMONYM_COUNTRY:
            break
        kept.append(word)
    return " ".join(kept)


class _Finder:
    """Collect entities and their mentions paragraph by paragraph (state kept for one article only)."""

    def __init__(self, paragraphs: tuple[Paragraph, ...], known: tuple[Known, ...]) -> None:
        self.paragraphs = paragraphs
        self.known = known
        self.entities: dict[str, Entity] = {}
        self.spans: list[Span] = []
        self.gazetteer = _gazetteer(known)

    def entity(self, name: str, kind: str) -> Entity:
        key = name
        if key not in self.entities:
            self.entities[key] = Entity(key=key, name=name, kind=kind, family=family_name(name) if kind == "person" else "")
        entity = self.entities[key]
        return entity

    def add_span(self, paragraph: int, start: int, end: int, key: str, lead: int | None = None) -> bool:
        for span in self.spans:
            if span.paragraph == paragraph and start < span.end and span.start < end:
                return False
        self.spans.append(Span(paragraph, start, end, key, start if lead is None else lead))
        form = self.paragraphs[paragraph].text[start:end]
        entity = self.entities[key]
        if form not in entity.forms:
            entity.forms.append(form)
        return True

    def taken(self, paragraph: int, start: int, end: int) -> bool:
        return any(s.paragraph == paragraph and start < s.end and s.start < end for s in self.spans)

    def run(self) -> None:
        """Find full names first, then resolve the short forms against them."""
        for index, paragraph in enumerate(self.paragraphs):
            self._titled_people(index, paragraph.text)
            self._fixed_names(index, paragraph.text)
            self._attributed_people(index, paragraph.text)
            self._organisations(index, paragraph.text)
        article = "\n".join(p.text for p in self.paragraphs)
        for index, paragraph in enumerate(self.paragraphs):
            if not paragraph.heading:
                self._recurring_names(index, paragraph.text, article)
        for index, paragraph in enumerate(self.paragraphs):
            self._short_forms(index, paragraph.text)

    def _titled_people(self, index: int, text: str) -> None:
        for match in TITLE_PATTERN.finditer(text):
            head = match.group("head")
            name = _clean_run(match.group("name"))
            if not name or (head[0].islower() and head not in LOWER_HEADS):
                continue
            start = match.start("name")
            names = [(name, start)]
            more = re.match(rf",? and ({NAME_RUN})", text[match.end("name") :]) if head.endswith("s") and head != "Ms." else None
            if more and _clean_run(more.group(1)):
                names.append((_clean_run(more.group(1)), match.end("name") + more.start(1)))
            for person, at in names:
                self._person(index, text, person, at, match.start(), match, head)

    def _person(self, index: int, text: str, name: str, at: int, lead: int, match: re.Match[str] | None, head: str) -> None:
        """Record a titled or attributed person mention."""
        title = head.rstrip("s") if head.endswith("s") and head not in ("Ms.",) else head
        if len(name.split()) == 1:
            self.pending.append((index, at, at + len(name), name, title, lead))
            return
        if self.taken(index, at, at + len(name)):
            return
        known = self._known_person(name)
        entity = self.entity(known or name, "person")
        if title and title not in entity.titles:
            entity.titles.append(title)
        if match is not None:
            self._role(entity, match, title)
        self.add_span(index, at, at + len(name), entity.key, lead)
        self._attributes(entity, text, at + len(name))

    pending: list[tuple[int, int, int, str, str, int]]

    def _known_person(self, name: str) -> str:
        for entry in self.known:
            if entry.kind in ("person", "expert") and name in (entry.name, *entry.aliases):
                return entry.name
        return ""

    def _role(self, entity: Entity, match: re.Match[str], title: str) -> None:
        if entity.role or title.lower() not in OFFICIAL_WORDS:
            return
        mods = match.group("mods").strip()
        role = f"{mods} {title}".strip()
        role = role[0].upper() + role[1:]
        country = DEMONYM_COUNTRY.get(match.group("demonym") or "", "") or _country_names().get(match.group("poss") or "", "")
        entity.country = country
        entity.role = f"{role} of {country}" if country and not mods else role
        entity.role_from = match.group(0)

    def _fixed_names(self, index: int, text: str) -> None:
        for form, name, kind, how in self.gazetteer:
            for match in re.finditer(rf"(?<![\w’'.-]){re.escape(form)}(?![\w-]|\.\w)", text):
                start, end = match.span()
                if self.taken(index, start, end):
                    continue
                before = text[:start]
                if re.search(r"[A-Z][\w’'-]* (?:of|for) (?:the )?$", before) and how != "registry":
                    continue  # "Sea of Japan", "University of ..."
                if how == "capital":
                    if PLACE_PREPOSITIONS.search(before) or re.match(r"\s+[A-Z]", text[end:]):
                        continue  # a place ("departed Pyongyang"), not the state acting
                entity = self.entity(self._known_name(name, form), kind)
                self.add_span(index, start, end, entity.key)

    def _known_name(self, name: str, form: str) -> str:
        for entry in self.known:
            if form in (entry.name, *entry.aliases) or name in (entry.name, *entry.aliases):
                return entry.name
        return name

    def _attributed_people(self, index: int, text: str) -> None:
        patterns = (
            rf"(?:\b(?:{VERB_RE})|[Aa]ccording to)\s+(?P<name>{NAME_RUN})",  # ", said Lee Min-jun"
            rf"(?:^|(?<=[.!?]\s)|(?<=[.!?][\"”]\s))(?P<name>{NAME_RUN})(?:,[^,]{{3,120}},)?\s+(?:also\s+|further\s+)?(?:{VERB_RE})\b",
            rf"(?P<name>{NAME_RUN}),\s+(?:a|an|the)\s+(?:[a-z-]+\s+){{0,3}}(?:{'|'.join(EXPERT_ROLES)})\b",
            # "Ray Powell, director of the SeaLight project at Stanford University"
            rf"(?P<name>{NAME_RUN}),\s+(?:[a-z-]+\s+){{0,2}}(?:{'|'.join(EXPERT_ROLES)})\s+(?:of|in|for|on|at)\s+[^,.;]*?\b(?:{'|'.join(ACADEMIC_HEADS)})\b",
            # "The agency's Director General, Rafael Grossi, told reporters"
            rf"(?<=[a-z],\s)(?P<name>{NAME_RUN}),\s+(?:{VERB_RE})\b",
        )
        for pattern in patterns:
            for match in re.finditer(pattern, text):
                name = _clean_run(match.group("name"))
                if len(name.split()) < 2:
                    if name:
                        at = match.start("name") + match.group("name").index(name)
                        self.pending.append((index, at, at + len(name), name, "", at))
                    continue
                at = match.start("name") + match.group("name").index(name)
                self._person(index, text, name, at, at, None, "")

    def _recurring_names(self, index: int, text: str, article: str) -> None:
        """Find untitled full names that the article later calls by family name ("Vladimir Putin" ... "Putin")."""
        for match in re.finditer(rf"(?<![\w’'.-]){NAME_RUN}(?![\w-])", text):
            name = _clean_run(match.group(0))
            words = name.split()
            if not 2 <= len(words) <= 3 or any(w in PLACE_WORDS for w in words):
                continue
            at = match.start() + match.group(0).index(name)
            if self.taken(index, at, at + len(name)) or name in self.entities:
                continue
            family = family_name(name)
            # The family name alone somewhere else, not as part of this full name.
            alone = len(re.findall(rf"(?<![\w’'-]){re.escape(family)}(?![\w-])", article)) - article.count(name)
            if alone < 1:
                continue
            self._person(index, text, name, at, at, None, "")

    def _organisations(self, index: int, text: str) -> None:
        word = r"[A-Z][\w’'-]*"
        heads = "|".join(ORG_HEADS)
        countries = "|".join(map(re.escape, sorted(_country_names(), key=len, reverse=True)))
        named = (
            rf"(?:\b[Tt]he\s+|(?:{countries})[’']s\s+)({word}(?:\s+(?:{word}|of|for|and on))*\s+(?:{heads}))\b(?!\s+of)",  # "Japan's Defense Ministry"
            rf"(?:\b[Tt]he\s+|(?:{countries})[’']s\s+)((?:{heads})\s+(?:of|for)\s+{word}(?:\s+(?:{word}|and))*)",  # "the Department of Foreign Affairs"
        )
        for match in (m for pattern in named for m in re.finditer(pattern, text)):
            name = match.group(1)
            start = match.start(1)
            if self.taken(index, start, match.end(1)) or len(name.split()) < 2:
                continue
            if re.match(r"\s+(?:would|will|has|have|had|is|was|said|says|announced|called|condemned|published|\w+ed)\b", text[match.end(1) :]):
                entity = self.entity(name, "organisation")
                self.add_span(index, start, match.end(1), entity.key)

    def _short_forms(self, index: int, text: str) -> None:
        """Resolve one-word names and title + family name ("Professor Park") to the people they mean."""
        for item in sorted(p for p in self.pending if p[0] == index):
            _, start, end, word, title, lead = item
            if self.taken(index, start, end):
                continue
            person = self._by_family(word, title, index, start)
            if person is None:
                if not title:
                    continue
                # No full name in the article: the name is the title and family name ("Professor Kim").
                name = f"{title} {word}"
                person = self.entity(self._known_person(name) or name, "person")
                person.family = word
                if title not in person.titles:
                    person.titles.append(title)
                self._attributes(person, text, end)
            self.add_span(index, start, end, person.key, lead)
        # Bare family names anywhere ("Kim departed", "Putin’s").
        for match in re.finditer(rf"(?<![\w-])({NAME_WORD})(?![\w-])", text):
            word = match.group(1)
            if self.taken(index, match.start(), match.end()) or word in NOT_NAMES:
                continue
            person = self._by_family(word, "", index, match.start())
            if person is not None:
                self.add_span(index, match.start(), match.end(), person.key)

    def _by_family(self, word: str, title: str, index: int, start: int) -> Entity | None:
        """Return the person a family name refers to, or None.

        With a title, the person must carry a compatible one ("Professor Park" is not
        "leader Park"). Without one, prefer a person introduced with a given name, then
        the one mentioned last before this place.
        """
        candidates = [e for e in self.entities.values() if e.kind == "person" and e.family == word]
        for entry in self.known:
            one_word = [a for a in entry.aliases if a == word]
            if one_word and entry.kind in ("person", "expert"):
                known = self.entity(entry.name, "person")
                if known not in candidates:
                    candidates.append(known)
        if title:
            candidates = [e for e in candidates if _compatible(title, e.titles)]
        else:
            full = [e for e in candidates if e.name != f"{e.titles[0] if e.titles else ''} {e.family}".strip()]
            candidates = full or candidates
        if not candidates:
            return None

        def last_seen(entity: Entity) -> tuple[int, int]:
            seen = [(s.paragraph, s.start) for s in self.spans if s.key == entity.key and (s.paragraph, s.start) < (index, start)]
            return max(seen) if seen else (-1, -1)

        return max(candidates, key=lambda e: (last_seen(e), e.key))

    def _attributes(self, entity: Entity, text: str, at: int) -> None:
        """Read title and affiliation from the words after a person's name."""
        if entity.affiliation or entity.expert_title:
            return
        rest = text[at:]
        word = r"[A-Z][\w-]*"
        org = rf"{word}(?:\s+(?:{word}|of|for|and|on))*"
        title = entity.titles[0] if entity.titles else ""
        # "Professor Kim of North Korean Studies at the University of North Korean Studies"
        match = re.match(rf"\s+(?:of|from|at)\s+(?:the\s+)?(?P<a>{org})(?:\s+(?:at|of|from)\s+(?:the\s+)?(?P<b>{org}))?", rest)
        if match and not (title in ACADEMIC_TITLES or any(w in ACADEMIC_HEADS for w in match.group(0).split())):
            match = None
        if match:
            first, second = match.group("a"), match.group("b")
            department = ""
            dept = re.match(rf"[’']s\s+(?P<d>(?:Department|Faculty|School|Institute|Graduate School|Center|Centre)\s+(?:of|for)\s+{org})", rest[match.end("a") :])
            if second:
                field_, affiliation = first, second
            elif first.split()[-1] in ACADEMIC_HEADS or first.split()[0] in ACADEMIC_HEADS:
                field_, affiliation = "", first
            else:
                field_, affiliation = first, ""
            if dept:
                department = dept.group("d")
            if affiliation and (title in ACADEMIC_TITLES or any(w in ACADEMIC_HEADS for w in affiliation.split())):
                entity.expert_cue = True
            entity.affiliation = _strip_the(affiliation)
            parts = [p for p in (title if title not in COURTESY else "", f"of {field_}" if field_ else "") if p]
            entity.expert_title = " ".join(parts)
            if department:
                entity.expert_title = f"{entity.expert_title}, {department}" if entity.expert_title else department
            entity.attributes_from = _words_around(text, at - 60, at + (match.end() if not dept else match.end("a") + dept.end()))
        # "Lee Min-jun, a senior fellow at the Sejong Institute"
        app = re.match(rf",\s+(?P<article>(?:a|an|the)\s+)?(?P<role>(?:[a-z-]+\s+){{0,3}}(?:{'|'.join(EXPERT_ROLES)})(?:\s+(?:of|in|for|on)\s+[\w\s-]+?)?)\s+(?:at|of|with|from)\s+(?:the\s+)?(?P<org>{org})", rest)
        if app and not app.group("article") and not any(w in ACADEMIC_HEADS for w in app.group("org").split()):
            app = None  # "Rafael Grossi, director general of the IAEA" is an official
        if app and not entity.affiliation:
            role = app.group("role").strip()
            entity.expert_title = role[0].upper() + role[1:]
            entity.affiliation = _strip_the(app.group("org"))
            entity.expert_cue = True
            entity.attributes_from = _words_around(text, at - 40, at + app.end())
        if title in ACADEMIC_TITLES:
            entity.expert_cue = True
            if not entity.expert_title and title not in COURTESY:
                entity.expert_title = title


def _words_around(text: str, start: int, end: int) -> str:
    """Return text[start:end] widened or narrowed to whole words, without a dangling quotation mark."""
    start = max(0, start)
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < end else start
    return text[start:end].strip().lstrip("\"“”,")


def _strip_the(text: str) -> str:
    return re.sub(r"^the\s+", "", text).strip()


def _compatible(title: str, titles: list[str]) -> bool:
    """Return whether a title fits a person already known with titles."""
    if title in COURTESY or not titles:
        return True
    academic = {"Professor", "Prof.", "Dr."}
    for known in titles:
        if known.lower() == title.lower() or known.lower().rstrip("s") == title.lower().rstrip("s"):
            return True
        if title in academic and known in academic:
            return True
    return False


def find_entities(paragraphs: tuple[Paragraph, ...], known: tuple[Known, ...]) -> tuple[list[Entity], list[Span]]:
    """Return the entities the paragraphs name and every mention of them."""
    finder = _Finder(paragraphs, known)
    finder.pending = []
    finder.run()
    used = {s.key for s in finder.spans}
    entities = [e for e in finder.entities.values() if e.key in used]
    for entity in entities:
        for entry in known:
            if entity.name == entry.name or entity.name in entry.aliases:
                entity.registry_id, entity.registry_kind = entry.id, entry.kind
                break
    spans = sorted(finder.spans, key=lambda s: (s.paragraph, s.start))
    return entities, spans


# --- speakers and views -----------------------------------------------------------------


PRONOUN_SPEAKER = re.compile(
    rf"^(?:[\"“][^\"”]*[\"”],?\s+)?(?:(?:However|Further|Furthermore|Moreover|Instead),\s+)?(?:He|She|They)\s+(?:also\s+|further\s+|later\s+)?(?:{VERB_RE})\b"
)
TRAILING_PRONOUN = re.compile(rf"[\"”],?\s+(?:he|she|they)\s+(?:{VERB_RE})\b")


def find_speakers(paragraphs: tuple[Paragraph, ...], spans: list[Span], entities: dict[str, Entity]) -> dict[int, list[str]]:
    """Return, per paragraph, the people its sentences are attributed to, in order; mark them as speaking."""
    speakers: dict[int, list[str]] = {}
    last: str | None = None
    for index, paragraph in enumerate(paragraphs):
        if paragraph.heading:
            continue
        text = paragraph.text
        found: list[str] = []
        for start, end in split_sentences(text):
            sentence = text[start:end]
            speaker = None
            for span in (s for s in spans if s.paragraph == index and start <= s.start < end):
                if entities[span.key].kind != "person":
                    continue
                after = text[span.end : end]
                before = text[start : span.lead]
                chain = re.match(r"(?:\s+(?:of|from|at)\s+(?:the\s+)?[A-Z][\w’'-]*(?:(?:\s+(?:[A-Z][\w’'-]*|of|for|and|the))|[’']s)*)*", after)
                skip = chain.end() if chain else 0
                if re.match(rf"(?:,[^,]{{3,140}},)?\s+(?:also\s+|further\s+|later\s+)?(?:{VERB_RE})\b", after[skip:]) or re.search(
                    rf"(?:\b(?:{VERB_RE})|[Aa]ccording to)\s+$", before
                ):
                    speaker = span.key
                    break
            if speaker is None and last is not None and (PRONOUN_SPEAKER.match(sentence) or TRAILING_PRONOUN.search(sentence)):
                speaker = last
            if speaker is not None:
                entities[speaker].speaks = True
                found.append(speaker)
                last = speaker
        if found:
            speakers[index] = found
    return speakers


def find_views(paragraphs: tuple[Paragraph, ...], speakers: dict[int, list[str]], entities: dict[str, Entity]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Return the view passages: runs of consecutive paragraphs attributed to the same expert."""
    views: list[tuple[str, list[int]]] = []
    for index in range(len(paragraphs)):
        experts = [k for k in speakers.get(index, []) if entities[k].expert]
        if not experts:
            continue
        expert = experts[0]
        if views and views[-1][0] == expert and views[-1][1][-1] == index - 1:
            views[-1][1].append(index)
        else:
            views.append((expert, [index]))
    return tuple((k, tuple(ps)) for k, ps in views)


# --- dates ------------------------------------------------------------------------------

NAME_NOUNS = r"agreement|accord|declaration|pact|treaty|summit|statement|resolution|communiqu[eé]|deal|incident|attacks?|strikes?|bombings?|raids?|uprising|movement|protests?|revolution|crisis|massacre|offensive|war"
FUTURE = re.compile(
    r"\b(?:will|is expected|are expected|is scheduled|are scheduled|is set to|are set to|plans? to|is due|are due|to be held|would|shall"
    r"|expects?|(?:is|are) likely to|planned for|(?:is|are) planned)\b"
)
PAST = re.compile(r"\b(?:\w+ed|was|were|had|did|said|left|went|met|came|began|held|took|made|gave|told|sent|saw|won|lost|flew|spoke)\b")
CLAUSE_BREAK = re.compile(
    r",\s+which\s+|,\s+when\s+|;\s+|,[\"”]?\s+and\s+|,\s+while\s+|\s+after\s+(?=[A-Z])|"
    r"\s+and\s+(?=(?:is|are|was|were|will|has|have|had|[a-z]+ed)\b)"
)
DISCOURSE = re.compile(r"^(?:However|Meanwhile|Simultaneously|Since then|Further|Furthermore|Moreover|Instead|Also),?\s+")


@dataclass(frozen=True)
class _DateMention:
    start: int
    end: int
    phrase: str
    date: PartialDate | None
    kind: str  # full | month-year | year | month-day | month | weekday | relative
    event: bool  # False: a deadline ("by 2027") or a name ("the June 15 Joint Declaration")
    anchor: bool  # sets the year that later bare months are read against
    guess: str = ""


def _month(name: str) -> int:
    return MONTHS.index(name) + 1


def _weekday_date(name: str, clause: str, article: dt.date) -> tuple[dt.date, str]:
    """Return the date a weekday names, read against the article's date and the clause's tense."""
    target = WEEKDAYS.index(name)
    ahead = (target - article.weekday()) % 7
    behind = (article.weekday() - target) % 7
    if FUTURE.search(clause):
        days, why = ahead, "the clause looks ahead"
    elif PAST.search(clause):
        days, why = -behind, "the clause is in the past tense"
    else:
        days, why = (ahead, "the nearest") if ahead <= behind else (-behind, "the nearest")
    day = article + dt.timedelta(days=days)
    if days == 0:
        return day, f"the article's date ({article.isoformat()}) is a {name}"
    side = "after" if days > 0 else "before"
    return day, f"the {name} {side} the article's date {article.isoformat()} ({why})"


def find_dates(text: str, article: dt.date | None, anchor_year: int | None) -> tuple[list[_DateMention], int | None, list[str]]:
    """Return the date mentions of one sentence in order, the anchor year after it, and undated weekdays."""
    found: list[_DateMention] = []
    undated: list[str] = []

    def free(start: int, end: int) -> bool:
        return all(end <= m.start or m.end <= start for m in found)

    def is_name(start: int, end: int) -> bool:
        before, after = text[:start], text[end:]
        return bool(
            re.search(rf"\b(?:{NAME_NOUNS})\s+of\s+$", before)
            or (re.search(r"\b[Tt]he\s+$", before) and re.match(rf"\s+(?:[A-Z][\w-]*|(?:[a-z-]+\s+)?(?:{NAME_NOUNS}))\b", after))
        )

    def deadline(start: int) -> bool:
        return bool(re.search(r"\b(?:by|until|before|after|through|till)\s+(?:the\s+end\s+of\s+)?$", text[:start]))

    patterns = (
        ("full", rf"\b(?P<m>{MONTH_RE})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,\s+(?P<y>\d{{4}})\b"),
        ("full", rf"\b(?P<d>\d{{1,2}})\s+(?P<m>{MONTH_RE})\s+(?P<y>\d{{4}})\b"),
        ("month-year", rf"\b(?P<m>{MONTH_RE})\s+(?P<y>\d{{4}})\b"),
        ("month-day", rf"\b(?P<m>{MONTH_RE})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"),
        ("month-day", rf"\b(?P<d>\d{{1,2}})\s+(?P<m>{MONTH_RE})\b"),
        ("weekday", rf"\b(?:(?:last|next|this)\s+)?(?P<w>{'|'.join(WEEKDAYS)})\b"),
        ("month", rf"\b(?P<m>{MONTH_RE})\b"),
        ("year", r"\b(?P<y>(?:19|20)\d\d)\b(?!\s*(?:percent|%|yen|won|dollars|troops|people|km|kilometres))"),
        ("relative", r"\b(?P<r>last year|this year|next year)\b"),
    )
    for kind, pattern in patterns:
        for match in re.finditer(pattern, text):
            start, end = match.span()
            if not free(start, end):
                continue
            groups = match.groupdict()
            phrase = match.group(0)
            named = is_name(start, end)
            late = deadline(start)
            # "the third of their kind since May 2024" counts from a date: no event (it still sets the year)
            since = bool(re.search(r"\b(?:first|second|third|fourth|fifth|\w+est|most|only)\b[^,;]*\bsince\s+$", text[:start]))
            lead = re.search(r"\b(?:in|In|on|On|since|Since|from|From|of)\s+(?:the\s+(?:morning|afternoon|evening|night|end)\s+of\s+)?$", text[:start])
            if lead is None and kind == "month":
                lead = re.search(r"\b(?:planned|scheduled|set|due)\s+for\s+$", text[:start])  # "the summit planned for November"
            date: PartialDate | None = None
            guess = ""
            anchor = False
            if kind == "full":
                date = PartialDate(int(groups["y"]), _month(groups["m"]), int(groups["d"]))
                anchor = True
            elif kind == "month-year":
                date = PartialDate(int(groups["y"]), _month(groups["m"]))
                anchor = not late
            elif kind == "year":
                date = PartialDate(int(groups["y"]))
                anchor = bool(lead) and not late and lead.group(0).strip().lower() == "in"
                if not lead:
                    named = True  # "the 2018 agreement", "over 2022 levels": not an event by itself
            elif kind == "month-day":
                if named:
                    date = None
                else:
                    year = anchor_year or (article.year if article else None)
                    if year is None:
                        continue
                    date = PartialDate(year, _month(groups["m"]), int(groups["d"]))
                    guess = f"year {year} guessed" + (" from the latest year before it" if anchor_year else " from the article's date")
            elif kind == "month":
                if named or not re.search(r"\b(?:in|In|since|Since|until|by|early|late|mid-?|for)\s+$", text[:start]):
                    continue
                if anchor_year is not None:
                    year, why = anchor_year, "from the latest year before it in the article"
                elif article is not None:
                    year, why = article.year, "from the article's date"
                    if _month(groups["m"]) > article.month and not FUTURE.search(text):
                        year, why = article.year - 1, "the last such month before the article's date"
                else:
                    continue
                if article is not None and FUTURE.search(_clause_of(text, start)) and (year, _month(groups["m"])) < (article.year, article.month):
                    year = article.year if _month(groups["m"]) >= article.month else article.year + 1
                    why = f"the next such month after the article's date {article.isoformat()} (the clause looks ahead)"
                date = PartialDate(year, _month(groups["m"]))
                guess = f"year {year} guessed {why}"
            elif kind == "weekday":
                if article is None:
                    undated.append(phrase)
                    continue
                clause = _clause_of(text, start)
                day, guess = _weekday_date(groups["w"], clause, article)
                date = PartialDate(day.year, day.month, day.day)
            elif kind == "relative":
                if article is None:
                    continue
                if re.search(r"\b(?:every\s+(?:day|week|month)|so\s+far|throughout|earlier|later)\s+$", text[:start]):
                    continue  # a span of time ("every day this year"), not an event
                shift = {"last year": -1, "this year": 0, "next year": 1}[groups["r"]]
                date = PartialDate(article.year + shift)
                guess = f"counted from the article's date {article.isoformat()}"
            full_phrase = text[lead.start() : end] if lead else phrase
            found.append(
                _DateMention(
                    lead.start() if lead else start, end, full_phrase, date, kind,
                    event=date is not None and not named and not late and not since, anchor=anchor, guess=guess,
                )
            )
    found.sort(key=lambda m: m.start)
    for mention in found:
        if mention.anchor and mention.date is not None:
            anchor_year = mention.date.year
    return found, anchor_year, undated


def _clause_of(text: str, at: int) -> str:
    """Return the clause of a sentence that holds position at."""
    start = 0
    for match in CLAUSE_BREAK.finditer(text):
        if match.start() >= at:
            return text[start : match.start()]
        start = match.end()
    return text[start:]


def event_text(sentence: str, mention: _DateMention, others: list[_DateMention], previous: dict[str, str]) -> str:
    """Return what happened, from the clause of a sentence that holds a date, without the date."""
    pieces: list[tuple[int, int, str, int]] = []  # (start, end, connector before it, where the break starts)
    start, connector, brk = 0, "", 0
    for match in CLAUSE_BREAK.finditer(sentence):
        pieces.append((start, match.start(), connector, brk))
        start, connector, brk = match.end(), match.group(0).strip(" ,;\"”"), match.start()
    pieces.append((start, len(sentence), connector, brk))
    c_start, c_end, connector, brk = next(p for p in pieces if p[0] <= mention.start < p[1] or p[1] == len(sentence))
    clause = sentence[c_start:c_end]
    # Take this date (and other dates, names kept) out of the clause.
    for m in sorted({mention, *[o for o in others if o.event]}, key=lambda m: -m.start):
        if c_start <= m.start and m.end <= c_end:
            s, e = m.start - c_start, m.end - c_start
            clause = clause[:s] + clause[e:]
    clause = re.sub(r"^\s*(?:In|On|Since|From|in|on)?\s*,\s*", "", clause)
    clause = re.sub(r"\s+,", ",", clause)
    clause = re.sub(r"\s{2,}", " ", clause).strip(" ,;.")
    clause = DISCOURSE.sub("", clause)
    first = pieces[0]
    subject = _subject(sentence[first[0] : first[1]])
    if connector == "which":
        antecedent = re.search(r".*\b((?:the|a|an|its|their)\s+[^,]+?)$", sentence[:brk])
        thing = antecedent.group(1) if antecedent else ""
        if thing:
            clause = f"{clause} {thing}" if clause[:1].isupper() else f"{thing} {clause}"
    elif connector in ("and", "") and c_start > 0 and re.match(r"(?:is|are|was|were|will|has|have|had|[a-z]+ed)\b", clause) and subject:
        clause = f"{subject} {clause}"
    pronoun = re.match(r"^(it|he|she|they|It|He|She|They)\b", clause)
    if pronoun:
        kind = "person" if pronoun.group(1).lower() in ("he", "she") else "thing"
        if previous.get(kind):
            clause = previous[kind] + clause[pronoun.end() :]
    clause = re.sub(r",\s*(?:[a-z]+ed|due|held|set)\s*,", "", clause)  # ", signed in 2018," without its date
    clause = re.sub(r",?\s+(?:days|weeks|hours|months|shortly|soon|just|only)$", "", clause)  # "..., days" before "after X"
    clause = re.sub(r"\s{2,}", " ", clause).strip(" ,;.")
    if clause.count('"') % 2:
        clause += '"'
    if clause.count("“") > clause.count("”"):
        clause += "”"
    return clause[:1].upper() + clause[1:]


def _subject(clause: str) -> str:
    """Return the words before a clause's first verb ("Kim" in "Kim departed Pyongyang")."""
    clause = DISCOURSE.sub("", re.sub(r"^(?:In|On)\s+[^,]+,\s+", "", clause.strip()))
    match = re.search(r"\s(?:is|are|was|were|will|has|have|had|would|could|may|[a-z]+ed)\b", clause)
    return clause[: match.start()].strip() if match and match.start() < 80 else ""


def find_events(paragraphs: tuple[Paragraph, ...], spans: list[Span], entities: dict[str, Entity], article: dt.date | None) -> tuple[list[FoundEvent], list[str]]:
    """Return the dated events of the article, in article order, and weekdays that could not be dated."""
    events: list[FoundEvent] = []
    undated: list[str] = []
    anchor: int | None = None
    previous: dict[str, str] = {}
    for index, paragraph in enumerate(paragraphs):
        if paragraph.heading:
            continue
        text = paragraph.text
        for start, end in split_sentences(text):
            sentence = text[start:end]
            mentions, anchor, missing = find_dates(sentence, article, anchor)
            undated.extend(missing)
            for mention in mentions:
                if not mention.event or mention.date is None:
                    continue
                what = event_text(sentence, mention, mentions, previous)
                if len(what.split()) < 3:
                    continue
                events.append(FoundEvent(mention.date, what, mention.phrase, mention.guess, index))
            for span in (s for s in spans if s.paragraph == index and start <= s.start < end):
                entity = entities[span.key]
                previous["person" if entity.kind == "person" else "thing"] = entity.name
    unique: dict[tuple[str, str], FoundEvent] = {}
    for event in events:
        unique.setdefault((event.date.iso, event.text), event)
    return list(unique.values()), undated


# --- summary ----------------------------------------------------------------------------


def _words(sentence: str) -> set[str]:
    words = set()
    for word in re.findall(r"[a-z0-9]+(?:[’'-][a-z0-9]+)*", sentence.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        word = re.sub(r"(?:’s|'s)$", "", word)
        for suffix in ("ies", "es", "s", "ed", "ing"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        words.add(word)
    return words


def textrank(sentences: list[str], lead: list[float], damping: float = 0.85, rounds: int = 60) -> list[float]:
    """Return each sentence's TextRank score (PageRank on word-overlap similarity, biased by lead)."""
    n = len(sentences)
    if n == 0:
        return []
    bags = [_words(s) for s in sentences]
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            common = len(bags[i] & bags[j])
            if common and len(bags[i]) > 1 and len(bags[j]) > 1:
                weights[i][j] = weights[j][i] = common / (math.log(len(bags[i])) + math.log(len(bags[j])))
    totals = [sum(row) for row in weights]
    prior_total = sum(lead) or 1.0
    prior = [p / prior_total for p in lead]
    scores = [1.0 / n] * n
    for _ in range(rounds):
        scores = [
            (1 - damping) * prior[i] + damping * sum(scores[j] * weights[j][i] / totals[j] for j in range(n) if totals[j])
            for i in range(n)
        ]
    return [round(s, 12) for s in scores]


PRONOUNS = frozenset("he she it they his her its their him them".split())


def _leans(sentence: str) -> bool:
    """Return whether a sentence needs the one before it: it opens with a connective or a pronoun before any name."""
    if re.match(r"[\"“]?(?:He|She|It|They|This|That|These|Those|However|But|Further|Furthermore|Highlighting|Simultaneously|Meanwhile|Also|Instead|Still|Since then|Then|Thus|Therefore|Yet|And|So)\b", sentence):
        return True
    for word in sentence.split()[1:12]:  # "During his visit, he may ..." leans; "Some analysts say North Korea ..." does not
        if word[:1].isupper():
            return False
        if word.strip(",.;:’'").lower() in PRONOUNS:
            return True
    return False


def summarise(paragraphs: tuple[Paragraph, ...], spans: list[Span]) -> tuple[tuple[str, ...], tuple[str, ...], dict[tuple[int, int], float]]:
    """Return the summary sentences, three to five key points, and each sentence's score."""
    places: list[tuple[int, int]] = []
    sentences: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if paragraph.heading:
            continue
        for start, end in split_sentences(paragraph.text):
            places.append((index, start))
            sentences.append(paragraph.text[start:end])
    lead = [1.0 / (1 + index) for index, _ in places]
    scores = textrank(sentences, lead)
    # A sentence that leans on the one before it ("He added ...") cannot stand alone in a summary.
    standalone = [not _leans(s) for s in sentences]
    order = sorted((i for i in range(len(sentences)) if standalone[i]), key=lambda i: (-scores[i], i))
    # The lede carries a news report's bottom line; the most central sentences fill up to ~60 words.
    summary: list[int] = [0] if sentences and len(sentences[0].split()) <= 60 else []
    words = sum(len(sentences[i].split()) for i in summary)
    for i in order:
        length = len(sentences[i].split())
        if words >= 45:
            break
        if i not in summary and words + length <= 60 and length >= 8:
            summary.append(i)
            words += length
    if not summary and order:
        summary = [order[0]]
    count = max(3, min(5, round(len(sentences) / 6)))
    points = [i for i in order if i not in summary and 8 <= len(sentences[i].split()) <= 40 and not sentences[i].startswith(("\"", "“"))][:count]
    by_place = {places[i]: scores[i] for i in range(len(sentences))}
    return (
        tuple(sentences[i] for i in sorted(summary)),
        tuple(sentences[i] for i in sorted(points)),
        by_place,
    )


def gist(paragraphs: tuple[Paragraph, ...], indexes: list[int], scores: dict[tuple[int, int], float]) -> str:
    """Return an expert's view in one line: their most central sentence, without the attribution."""
    best: tuple[float, int, str] | None = None
    for index in indexes:
        text = paragraphs[index].text
        for start, end in split_sentences(text):
            score = scores.get((index, start), 0.0)
            if best is None or score > best[0]:
                best = (score, -index, text[start:end])
    if best is None:
        return ""
    sentence = best[2]
    quote = re.match(r"^[\"“](.+?)[,.]?[\"”],?\s+(?:said|says|added)\b", sentence)
    if quote:
        line = quote.group(1)
    else:
        line = re.sub(rf"^.*?\b(?:{VERB_RE})\s+(?:that\s+)?(?:,\s*)?", "", sentence, count=1)
        line = re.sub(r"^[Aa]ccording to [^,]+,(?:[^,]+,)?\s+", "", line)
    line = re.sub(r"^instead,?\s+", "", line).strip(" .")
    words = line.split()
    if len(words) > 22:
        cut = " ".join(words[:22])
        comma = cut.rfind(",")
        subordinate = re.match(r"(?:while|although|though|if|as|when|because|since)\b", line, re.IGNORECASE)
        line = cut[:comma] if comma > 40 and not subordinate else cut + " …"
    return line[:1].upper() + line[1:]


def centrality(entities: list[Entity], spans: list[Span], scores: dict[tuple[int, int], float], paragraphs: tuple[Paragraph, ...]) -> list[str]:
    """Return entity keys ordered by the summed scores of the sentences that mention them."""
    total: dict[str, float] = {e.key: 0.0 for e in entities}
    starts: dict[int, list[int]] = {}
    for (index, start) in scores:
        starts.setdefault(index, []).append(start)
    for span in spans:
        sentence_start = max((s for s in starts.get(span.paragraph, []) if s <= span.start), default=None)
        if sentence_start is not None:
            total[span.key] += scores[(span.paragraph, sentence_start)]
    return sorted(total, key=lambda k: (-total[k], k))


# --- all together -----------------------------------------------------------------------


def extract(text: str, article_date: dt.date | None = None, known: tuple[Known, ...] = ()) -> Extraction:
    """Return what the rules find in a raw article; known registry entries are matched first."""
    headline, paragraphs = split_article(text)
    entities, spans = find_entities(paragraphs, known)
    by_key = {e.key: e for e in entities}
    speakers = find_speakers(paragraphs, spans, by_key)
    views = find_views(paragraphs, speakers, by_key)
    events, undated = find_events(paragraphs, spans, by_key, article_date)
    summary, key_points, scores = summarise(paragraphs, spans)
    gists = {}
    for key in dict.fromkeys(k for k, _ in views):
        gists[key] = gist(paragraphs, [p for k, ps in views if k == key for p in ps], scores)
    ranked = centrality(entities, spans, scores, paragraphs)
    tags = tuple(k for k in ranked if not by_key[k].expert)[:4]
    return Extraction(
        headline=headline,
        paragraphs=paragraphs,
        entities=tuple(sorted(entities, key=lambda e: min((s.paragraph, s.start) for s in spans if s.key == e.key))),
        spans=tuple(spans),
        views=views,
        events=tuple(events),
        summary=summary,
        key_points=key_points,
        tags=tags,
        gists=gists,
        undated=tuple(dict.fromkeys(undated)),
        article_date=article_date,
    )
