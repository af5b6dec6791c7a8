"""Draw the timelines and the actor map as static SVG: pure functions from the linked model to markup."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from markupsafe import Markup

from .link import LinkedSite, TimelineItem
from .model import MONTHS, Actor, Briefing, Event, Expert, PartialDate

Link = Callable[[str], str]  # a site path -> the link to it from the page the SVG sits in

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
SVG_NS = "http://www.w3.org/2000/svg"

# Advance widths in em of DejaVu Sans (rounded up): one of the widest UI fonts, so an estimate
# from it leaves room for whichever sans-serif font the reader's browser picks.
_EM = {
    ch: width
    for width, chars in {
        0.28: "'ijl",
        0.32: "IJ ,.’‘·",
        0.36: "/:;\\|f-",
        0.40: "r()[]t!",
        0.52: '"*_`–“”',
        0.56: "szc?çoöL",
        0.58: "eéèFk",
        0.62: "vxyPTYaáàä",
        0.64: "Ehnuüñbdgpq0123456789${}S",
        0.70: "KAVXZBRC",
        0.79: "UNHDG&OQ",
        0.84: "w#+<=>^~M",
        1.0: "%mW@—…",
    }.items()
    for ch in chars
}
BOLD = 1.2  # bold glyphs are at most this much wider

TIMELINE_WIDTH = 700  # natural width in px; the page scrolls it on a narrow screen, print scales it
MAP_WIDTH = 960  # the actors' area fits this; more actors make the map taller, not wider
MAP_LIMIT = 80  # the site map shows the actors in most briefings; every actor page shows its own neighbourhood
EXPERT_GAP = 70  # px between the actors and the experts' column
NEIGHBOURS = 24  # an actor page draws its strongest links; its list names them all
MARGIN = 12
GAP = 10
LABEL_SIZE = 12
LINE = 15
TICK_SIZE = 11
BADGE_R = 9
BAND = 20  # the ruler band's height
LEADER = 22  # room between the band and the labels
BREAK_SHARE = 0.4  # a gap longer than this share of the drawn time is cut short
BREAK_W = 26
SEGMENT_PAD = 10  # px before and after each drawn stretch of time
MIN_STRETCH = 72  # px: room to name where a stretch starts
MAX_LINES = 4
SEED = 20250901


# -- text ---------------------------------------------------------------------------------------


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Return a generous estimate of the width of text set in px at size."""
    return _ems(text) * size * (BOLD if bold else 1.0)


@functools.lru_cache(maxsize=4096)  # tick labels, dates and names recur across a site's drawings
def _ems(text: str) -> float:
    em = 0.0
    for ch in text:
        if ch in _EM:
            em += _EM[ch]
        elif unicodedata.combining(ch):
            continue
        elif unicodedata.east_asian_width(ch) in "WF":
            em += 1.0
        else:
            em += 0.7
    return em


def fit(text: str, width: float, size: float, bold: bool = False) -> str:
    """Return text, or its longest prefix that fits width with an ellipsis."""
    if text_width(text, size, bold) <= width:
        return text
    cut = text
    while cut and text_width(cut.rstrip() + "…", size, bold) > width:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def wrap(text: str, width: float, size: float, lines: int = MAX_LINES) -> list[str]:
    """Return text broken into at most `lines` lines of width; the last one ends in an ellipsis if text goes on."""
    result: list[str] = []
    current = ""
    words = text.split()
    for n, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size) <= width:
            current = trial
            continue
        if current:
            result.append(current)
        current = word
        while text_width(current, size) > width:  # a word longer than the line: break it
            head = fit(current, width, size)[:-1] or current[:1]
            result.append(head)
            current = current[len(head) :]
        if len(result) >= lines:
            rest = " ".join([current, *words[n + 1 :]]).strip()
            result = result[:lines]
            result[-1] = fit(result[-1] + " " + rest, width, size) if rest else result[-1]
            return result
    if current:
        result.append(current)
    if len(result) > lines:
        result = result[: lines - 1] + [fit(" ".join(result[lines - 1 :]), width, size)]
    return result


# -- SVG helpers ----------------------------------------------------------------------------------


def _n(value: float) -> str:
    """Return a coordinate as short, stable text."""
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


class _Element:
    """An SVG element being drawn: what ElementTree would hold for it, and nothing more.

    Attribute values are escaped as they are set, so writing the drawing joins strings."""

    __slots__ = ("tag", "attrs", "text", "children")

    def __init__(self, tag: str, attrs: dict[str, str], text: str | None = None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = text
        self.children: list[_Element] = []

    def set(self, name: str, value: str) -> None:
        self.attrs[name] = value.translate(_ATTR)


_NAMES: dict[str, str] = {}  # a keyword of _el -> its attribute name


def _el(parent: _Element, tag: str, text: str | None = None, **attrs: object) -> _Element:
    """Return a new child element; `class_` becomes class, `_` in names becomes `-`, floats are rounded."""
    values = {}
    for key, value in attrs.items():
        if value is None:
            continue
        name = _NAMES.get(key)
        if name is None:
            name = _NAMES[key] = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            values[name] = _n(value)
        elif isinstance(value, int):
            values[name] = str(value)
        else:
            values[name] = str(value).translate(_ATTR)
    element = _Element(tag, values, text)
    parent.children.append(element)
    return element


def _svg(width: float, height: float, ident: str, title: str, kind: str, links: bool = False) -> _Element:
    """Return an SVG root named by its title: one image, or (when it holds links) a group whose links a keyboard reaches.

    An image's content is presentational, so it may hold nothing focusable; a drawing with links is
    a group instead, its links named for a screen reader and its decoration hidden from one."""
    attrs = {
        "xmlns": SVG_NS,
        "class": f"graphic-svg {kind}",
        "width": _n(width),
        "height": _n(height),
        "viewBox": f"0 0 {_n(width)} {_n(height)}",
        "role": "group" if links else "img",
        "aria-labelledby": f"{ident}-title",
        "font-family": FONT,
        "font-size": str(LABEL_SIZE),
    }
    root = _Element("svg", {name: value.translate(_ATTR) for name, value in attrs.items()})
    _el(root, "title", title, id=f"{ident}-title")
    return root


def _markup(root: _Element) -> Markup:
    """Return the SVG as markup to place inline in a page, written as ET.tostring would write the same tree."""
    out: list[str] = []
    _write(root, out)
    return Markup("".join(out))


_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"})


def _write(element: _Element, out: list[str]) -> None:
    out.append("<" + element.tag + "".join([f' {k}="{v}"' for k, v in element.attrs.items()]))
    if element.text or element.children:
        out.append(">")
        if element.text:
            out.append(element.text.translate(_TEXT))
        for child in element.children:
            _write(child, out)
        out.append(f"</{element.tag}>")
    else:
        out.append(" />")


def _badge(parent: _Element, cx: float, cy: float, number: int) -> None:
    """Draw a numbered disc: the number the list beside the graphic gives the same event."""
    _el(parent, "circle", class_="badge", cx=float(cx), cy=float(cy), r=BADGE_R, fill="currentColor")
    size = 10 if number < 100 else 8
    _el(parent, "text", str(number), class_="badge-number", x=float(cx), y=float(cy + size * 0.36), text_anchor="middle", font_size=size, font_weight="bold", fill="#fff")


def _anchor(parent: _Element, href: str | None, tooltip: str) -> _Element:
    """Return a link named by its tooltip, in the tab order like any link, or a group when there is nowhere to go."""
    if href is None:
        group = _el(parent, "g")
    else:
        group = _el(parent, "a", href=href, aria_label=tooltip)
    _el(group, "title", tooltip)
    return group


def _decoration(parent: _Element, class_: str) -> _Element:
    """Return a group for what only the eye needs (rulers, grid lines, edges): the list after the graphic says it in words."""
    return _el(parent, "g", class_=class_, aria_hidden="true")


# -- time scale -----------------------------------------------------------------------------------


def date_span(date: PartialDate) -> tuple[int, int]:
    """Return the days a date covers as ordinals [start, end): one day, its month or its year."""
    start = date.earliest.toordinal()
    if date.precision == "day":
        return start, start + 1
    if date.precision == "month":
        return start, start + calendar.monthrange(date.year, date.month or 1)[1]
    return start, dt.date(date.year + 1, 1, 1).toordinal() if date.year < dt.MAXYEAR else start + 365


@dataclass(frozen=True)
class Segment:
    """A stretch of time drawn at the common scale from x + pad; a short one gets a wider pad, never a larger scale."""

    start: int
    end: int
    x: float
    pad: float = SEGMENT_PAD


@dataclass(frozen=True)
class Scale:
    """A true time scale, cut where long gaps would waste the width."""

    segments: tuple[Segment, ...]
    px_per_day: float

    def x(self, day: float) -> float:
        """Return where a day (an ordinal) is drawn."""
        for seg in self.segments:
            if day <= seg.end:
                return seg.x + seg.pad + (max(day, seg.start) - seg.start) * self.px_per_day
        last = self.segments[-1]
        return last.x + last.pad + (last.end - last.start) * self.px_per_day

    def right(self, seg: Segment) -> float:
        """Return where a segment's drawing ends."""
        return seg.x + 2 * seg.pad + (seg.end - seg.start) * self.px_per_day


def time_scale(spans: Sequence[tuple[int, int]], left: float, width: float) -> Scale:
    """Return the scale that draws spans across width, cutting a gap longer than BREAK_SHARE of the time drawn."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
    broken: set[int] = set()
    while True:
        kept = merged[-1][1] - merged[0][0] - sum(gaps[i] for i in broken)
        open_gaps = [(gaps[i], i) for i in range(len(gaps)) if i not in broken]
        if not open_gaps:
            break
        longest, index = max(open_gaps)
        if longest <= BREAK_SHARE * kept:
            break
        broken.add(index)
    stretches: list[list[int]] = [list(merged[0])]
    for i, (start, end) in enumerate(merged[1:]):
        if i in broken:
            stretches.append([start, end])
        else:
            stretches[-1][1] = end
    room = width - len(broken) * BREAK_W
    short: set[int] = set()  # stretches drawn MIN_STRETCH wide, their time centred at the common scale
    while True:
        days = sum(end - start for n, (start, end) in enumerate(stretches) if n not in short)
        px = (room - len(short) * MIN_STRETCH - (len(stretches) - len(short)) * 2 * SEGMENT_PAD) / max(days, 1)
        now_short = {n for n, (start, end) in enumerate(stretches) if (end - start) * px + 2 * SEGMENT_PAD < MIN_STRETCH}
        if now_short <= short or len(now_short) == len(stretches):
            break
        short |= now_short
    segments = []
    x = left
    for start, end in stretches:
        drawn = (end - start) * px
        pad = max(SEGMENT_PAD, (MIN_STRETCH - drawn) / 2) if len(stretches) > 1 else SEGMENT_PAD
        segments.append(Segment(start, end, x, pad))
        x += 2 * pad + drawn + BREAK_W
    return Scale(tuple(segments), px)


TICK_UNITS = (("day", 1), ("month", 1), ("month", 3), ("year", 1), ("year", 5), ("year", 10), ("year", 50), ("year", 100))


def _ticks(start: int, end: int, unit: str, step: int) -> list[dt.date]:
    """Return the unit boundaries in [start, end]."""
    first = dt.date.fromordinal(start)
    result = []
    if unit == "day":
        return [dt.date.fromordinal(d) for d in range(start, end + 1, step)]
    if unit == "month":
        year, month = first.year, first.month
        month -= (month - 1) % step
        while True:
            day = dt.date(year, month, 1)
            if day.toordinal() > end:
                return result
            if day.toordinal() >= start:
                result.append(day)
            month += step
            if month > 12:
                year, month = year + 1, month - 12
            if year > dt.MAXYEAR:
                return result
    year = first.year - first.year % step
    while year <= dt.MAXYEAR:
        if year >= 1:
            day = dt.date(year, 1, 1)
            if day.toordinal() > end:
                return result
            if day.toordinal() >= start:
                result.append(day)
        year += step
    return result


def _tick_label(day: dt.date, unit: str, first: bool) -> str:
    """Return a tick's text: the year spelled out at the start of a stretch and in January."""
    month = MONTHS[day.month - 1][:3]
    if unit == "day":
        return f"{day.day} {month} {day.year}" if first or (day.month == 1 and day.day == 1) else f"{day.day} {month}"
    if unit == "month":
        return f"{month} {day.year}" if first or day.month == 1 else month
    return str(day.year)


def _draw_ruler(parent: _Element, scale: Scale, top: float) -> None:
    """Draw the ruler band: one bar per stretch of time, break marks between, ticks labelled where they fit."""
    svg = _decoration(parent, "axis")
    for n, seg in enumerate(scale.segments):
        _el(svg, "rect", class_="ruler", x=seg.x, y=float(top), width=scale.right(seg) - seg.x, height=BAND, rx=3, fill="none", stroke="currentColor")
        if n:
            mid = seg.x - BREAK_W / 2
            for dx in (-4, 4):
                _el(svg, "line", class_="break", x1=mid + dx - 4, y1=top + BAND + 4, x2=mid + dx + 4, y2=top - 4, stroke="currentColor", stroke_width=2)
    unit, step = TICK_UNITS[-1]
    for unit, step in TICK_UNITS:  # the finest unit whose ticks leave room for their labels
        days = {"day": 1, "month": 28, "year": 365}[unit] * step
        if days * scale.px_per_day >= text_width({"day": "28 Sep", "month": "Sep", "year": "2025"}[unit], TICK_SIZE) + 10:
            break
    placed_right = -math.inf
    for seg in scale.segments:
        ticks = _ticks(seg.start, seg.end, unit, step)
        labels = [_tick_label(day, unit, n == 0) for n, day in enumerate(ticks)]
        if not ticks or ticks[0].toordinal() > seg.start:  # name where the stretch starts
            ticks.insert(0, dt.date.fromordinal(seg.start))
            labels.insert(0, _start_label(ticks[0], unit))
            if len(labels) > 1:
                labels[1] = _tick_label(ticks[1], unit, False)
        room_right = scale.right(seg) - 2
        for n, (day, label) in enumerate(zip(ticks, labels)):
            x = scale.x(day.toordinal())
            if seg.x + seg.pad + 0.5 < x < scale.right(seg) - seg.pad - 0.5:
                _el(svg, "line", class_="tick", x1=x, y1=float(top), x2=x, y2=float(top + 5), stroke="currentColor")
            width = text_width(label, TICK_SIZE)
            left = x + 3
            if n == 0:  # the stretch's name may move left within its bar (a short stretch is padded wide) or shorten, so no stretch goes unnamed
                for shorter in (label, f"{MONTHS[day.month - 1][:3]} {day.year}", str(day.year)):
                    label, width = shorter, text_width(shorter, TICK_SIZE)
                    left = max(seg.x + 3, min(x + 3, room_right - width))
                    if left + width <= room_right:
                        break
            if left >= placed_right + 6 and left + width <= room_right:
                _el(svg, "text", label, class_="tick-label", x=left, y=top + BAND / 2 + TICK_SIZE * 0.36, font_size=TICK_SIZE, fill="currentColor")
                placed_right = left + width


def _start_label(day: dt.date, unit: str) -> str:
    """Return the label of a stretch that starts between ticks: as precise as its first day needs."""
    if unit == "day" or day.day != 1:
        return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"
    if unit == "month" or day.month != 1:
        return f"{MONTHS[day.month - 1][:3]} {day.year}"
    return str(day.year)


# -- placing labels -------------------------------------------------------------------------------


def dodge(centres: Sequence[float], widths: Sequence[float], lo: float, hi: float, gap: float = GAP) -> list[float] | None:
    """Return left edges, in the given order, as near their centres as they can be without overlapping; None if they cannot fit."""
    if sum(widths) + gap * max(len(widths) - 1, 0) > hi - lo + 1e-6:
        return None
    clusters: list[tuple[int, int, float]] = []  # (first index, last index, left edge)

    def extent(first: int, last: int) -> float:
        return sum(widths[first : last + 1]) + gap * (last - first)

    def best_left(first: int, last: int) -> float:
        total, offset, lefts = 0.0, 0.0, []
        for i in range(first, last + 1):
            lefts.append(centres[i] - offset - widths[i] / 2)
            offset += widths[i] + gap
        total = extent(first, last)
        return min(max(sum(lefts) / len(lefts), lo), hi - total)

    for i in range(len(centres)):
        first, last = i, i
        left = best_left(first, last)
        while clusters and clusters[-1][2] + extent(clusters[-1][0], clusters[-1][1]) + gap > left:
            first = clusters.pop()[0]
            left = best_left(first, last)
        clusters.append((first, last, left))
    result = []
    for first, last, left in clusters:
        for i in range(first, last + 1):
            result.append(left)
            left += widths[i] + gap
    return result


@dataclass(frozen=True)
class Label:
    """An event's label: its number, and its date and text when there is room."""

    number: int
    date: str
    lines: tuple[str, ...]  # empty: the number alone
    width: float

    @property
    def height(self) -> float:
        return 2 * BADGE_R + (len(self.lines) * LINE + 2 if self.lines else 0)


def _labels(events: Sequence[Event], width: float, full: bool) -> list[Label]:
    """Return the labels of events: number, date and wrapped text at width, or the number alone."""
    if not full:
        return [Label(n + 1, "", (), 2 * BADGE_R) for n in range(len(events))]
    return [
        Label(n + 1, fit(e.date.display, width - 2 * BADGE_R - 4, LABEL_SIZE, bold=True), tuple(wrap(e.event, width, LABEL_SIZE)), width)
        for n, e in enumerate(events)
    ]


def _draw_label(parent: _Element, label: Label, left: float, top: float) -> None:
    """Draw a label with its top-left corner at (left, top)."""
    _badge(parent, left + BADGE_R, top + BADGE_R, label.number)
    if not label.lines:
        return
    _el(parent, "text", label.date, class_="event-date", x=left + 2 * BADGE_R + 4, y=top + BADGE_R + LABEL_SIZE * 0.36, font_weight="bold", fill="currentColor")
    text = _el(parent, "text", class_="event-text", fill="currentColor")
    for n, line in enumerate(label.lines):
        _el(text, "tspan", line, x=float(left), y=top + 2 * BADGE_R + 2 + LINE * n + LABEL_SIZE * 0.9)


# -- timelines ------------------------------------------------------------------------------------


def _pin(scale: Scale, start: int, end: int) -> float:
    """Return where an event's leader meets the ruler: a day's middle, or just inside a span's start.

    Pinning spans at their start keeps the pins in the events' order, so leaders never cross."""
    x0, x1 = scale.x(start), scale.x(end)
    return (x0 + x1) / 2 if end - start == 1 else x0 + min(3.0, (x1 - x0) / 2)


def briefing_timeline(events: Sequence[Event], ident: str = "timeline-graphic") -> Markup:
    """Return a briefing's events on a true time scale: labels above and below a ruler, each numbered as the list beside it."""
    events = sorted(events, key=lambda e: e.date.sort_key)
    if not events:
        return Markup("")
    spans = [date_span(e.date) for e in events]
    per_side = math.ceil(len(events) / 2)
    width = max(TIMELINE_WIDTH, 2 * MARGIN + per_side * (2 * BADGE_R + GAP))
    label_width = min(190.0, (width - 2 * MARGIN + GAP) / per_side - GAP)
    labels = _labels(events, label_width, full=label_width >= 120)
    scale = time_scale(spans, MARGIN, width - 2 * MARGIN)
    centres = [_pin(scale, a, b) for a, b in spans]
    sides = (list(range(0, len(events), 2)), list(range(1, len(events), 2)))  # above the ruler, below it
    lefts: dict[int, float] = {}
    for side in sides:
        placed = dodge([centres[i] for i in side], [labels[i].width for i in side], MARGIN, width - MARGIN)
        assert placed is not None, "the width was chosen so that the labels fit"
        lefts.update(zip(side, placed))
    above = max((labels[i].height for i in sides[0]), default=0)
    below = max((labels[i].height for i in sides[1]), default=0)
    band_top = MARGIN + above + LEADER
    height = band_top + BAND + (LEADER + below if below else 0) + MARGIN
    first, last = events[0].date, events[-1].date
    span_text = first.display if first == last else f"from {first.display} to {last.display}"
    title = f"Timeline of {len(events)} event{'s' if len(events) != 1 else ''}, {span_text}. The numbered list that follows gives each event."
    svg = _svg(width, height, ident, title, "timeline-graphic")
    _draw_ruler(svg, scale, band_top)
    for n, label in enumerate(labels):
        is_above = n % 2 == 0
        edge = band_top if is_above else band_top + BAND
        start, end = spans[n]
        group = _el(svg, "g", class_=f"event event-{events[n].date.precision}")
        if events[n].date.precision == "day":
            _el(group, "circle", class_="mark", cx=centres[n], cy=float(edge), r=3, fill="currentColor")
        else:
            x0, x1 = scale.x(start), scale.x(end)
            _el(group, "rect", class_="span", x=x0, y=edge - 5.0 if is_above else float(edge), width=max(x1 - x0, 2.0), height=5, fill="currentColor")
        left = lefts[n]
        top = band_top - LEADER - label.height if is_above else band_top + BAND + LEADER
        if label.lines:
            anchor_x = min(max(centres[n], left + 4), left + label.width - 4)
            anchor_y = top + label.height + 2 if is_above else top - 2
        else:
            anchor_x = left + BADGE_R
            anchor_y = top + 2 * BADGE_R if is_above else top
        _el(group, "line", class_="leader", x1=centres[n], y1=edge - 6.0 if is_above else edge + 6.0, x2=anchor_x, y2=float(anchor_y), stroke="currentColor")
        _draw_label(group, label, left, top)
    return _markup(svg)


LANE_TITLE = 18
LANE_BADGES = 2 * BADGE_R
LANE_LEADER = 12
LANE_RULE = 8
LANE_H = LANE_TITLE + LANE_BADGES + LANE_LEADER + LANE_RULE + 14


def year_timeline(year: int, items: Sequence[TimelineItem], link: Link, ident: str = "timeline-graphic") -> Markup:
    """Return a year's events with one lane per briefing, each event numbered as the list beside it and linking to its briefing."""
    if not items:
        return Markup("")
    lanes: dict[str, list[int]] = {}
    for n, item in enumerate(items):
        lanes.setdefault(item.briefing.slug, []).append(n)
    order = sorted(lanes, key=lambda slug: (min(lanes[slug]), slug))  # by each briefing's first event
    busiest = max(len(v) for v in lanes.values())
    width = max(TIMELINE_WIDTH, 2 * MARGIN + busiest * (2 * BADGE_R + GAP))
    start, end = dt.date(year, 1, 1).toordinal(), (dt.date(year + 1, 1, 1).toordinal() if year < dt.MAXYEAR else dt.date(year, 12, 31).toordinal() + 1)
    scale = Scale((Segment(start, end, float(MARGIN)),), (width - 2 * MARGIN - 2 * SEGMENT_PAD) / (end - start))
    top = MARGIN
    height = top + BAND + 8 + len(order) * LANE_H + MARGIN
    briefings = len(order)
    title = (
        f"Timeline of {year}: {len(items)} event{'s' if len(items) != 1 else ''} from {briefings} briefing{'s' if briefings != 1 else ''}, "
        "one row per briefing. The numbered list that follows gives each event."
    )
    svg = _svg(width, height, ident, title, "timeline-graphic year-timeline", links=True)
    grid = _decoration(svg, "grid-lines")
    for month in range(1, 13):  # month lines behind the lanes
        x = scale.x(dt.date(year, month, 1).toordinal())
        _el(grid, "line", class_="grid", x1=x, y1=float(top + BAND), x2=x, y2=float(height - MARGIN), stroke="currentColor", stroke_opacity="0.25")
    _draw_ruler(svg, scale, top)
    y = top + BAND + 8
    for slug in order:
        numbers = lanes[slug]
        briefing = items[numbers[0]].briefing
        lane = _el(svg, "g", class_="lane")
        head = _anchor(lane, link(briefing.url), briefing.title)
        _el(head, "text", fit(briefing.title, width - 2 * MARGIN, LABEL_SIZE, bold=True), class_="lane-title", x=float(MARGIN), y=y + LABEL_SIZE, font_weight="bold", fill="currentColor")
        rule_y = y + LANE_TITLE + LANE_BADGES + LANE_LEADER
        _el(lane, "line", class_="lane-rule", aria_hidden="true", x1=float(MARGIN), y1=float(rule_y), x2=float(width - MARGIN), y2=float(rule_y), stroke="currentColor", stroke_opacity="0.5")
        spans = [date_span(items[n].event.date) for n in numbers]
        centres = [_pin(scale, a, b) for a, b in spans]
        lefts = dodge(centres, [2 * BADGE_R] * len(numbers), MARGIN, width - MARGIN)
        assert lefts is not None, "the width was chosen so that the badges fit"
        for n, (a, b), centre, left in zip(numbers, spans, centres, lefts):
            item = items[n]
            event = _anchor(lane, link(item.briefing.url + "#timeline"), f"{item.event.date.display}: {item.event.event}")
            if item.event.date.precision == "day":
                _el(event, "circle", class_="mark", cx=centre, cy=float(rule_y), r=4, fill="currentColor")
            else:
                _el(event, "rect", class_="span", x=scale.x(a), y=rule_y - 3.0, width=max(scale.x(b) - scale.x(a), 2.0), height=6, fill="currentColor")
            badge_y = y + LANE_TITLE + BADGE_R
            _el(event, "line", class_="leader", x1=centre, y1=rule_y - 4.0, x2=left + BADGE_R, y2=badge_y + BADGE_R, stroke="currentColor")
            _badge(event, left + BADGE_R, badge_y, n + 1)
        y += LANE_H
    return _markup(svg)


# -- the actor map --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorGraph:
    """Who appears with whom: actors with their briefing counts, co-appearances, and the experts who discussed them."""

    actors: tuple[tuple[Actor, int], ...]  # most briefings first
    edges: tuple[tuple[str, str, int], ...]  # (actor id, actor id, briefings together), ids in order
    experts: tuple[tuple[Expert, int], ...]
    expert_edges: tuple[tuple[str, str, int], ...]  # (expert id, actor id, briefings)
    left_out: int = 0  # actors with briefings that the graph leaves out

    def with_actor(self, ident: str) -> tuple[tuple[Actor, int], ...]:
        """Return the actors joined to an actor, most briefings together first."""
        actors = {a.id: a for a, _ in self.actors}
        joined = [(actors[b if a == ident else a], n) for a, b, n in self.edges if ident in (a, b)]
        return tuple(sorted(joined, key=lambda an: (-an[1], an[0].name, an[0].id)))

    def experts_of(self, ident: str) -> tuple[tuple[Expert, int], ...]:
        """Return the experts joined to an actor, most briefings first."""
        experts = {e.id: e for e, _ in self.experts}
        joined = [(experts[e], n) for e, a, n in self.expert_edges if a == ident]
        return tuple(sorted(joined, key=lambda en: (-en[1], en[0].name, en[0].id)))


def actor_graph(linked: LinkedSite, limit: int = MAP_LIMIT) -> ActorGraph:
    """Return the graph of the `limit` actors in most briefings, in one pass over the briefings."""
    counts = {ident: len(cards) for ident, cards in linked.actor_cards.items()}
    chosen = sorted(counts, key=lambda i: (-counts[i], linked.site.actors[i].name, i))[:limit]
    keep = set(chosen)
    together: Counter[tuple[str, str]] = Counter()
    discussed: Counter[tuple[str, str]] = Counter()
    for entry in linked.entries:
        ids = sorted({c.actor.id for c in entry.actors} & keep)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                together[(a, b)] += 1
        for section in entry.experts:
            for a in ids:
                discussed[(section.expert.id, a)] += 1
    expert_counts = Counter(e for e, _ in discussed)
    experts = sorted(expert_counts, key=lambda e: (linked.site.experts[e].name, e))
    return ActorGraph(
        actors=tuple((linked.site.actors[i], counts[i]) for i in chosen),
        edges=tuple((a, b, n) for (a, b), n in sorted(together.items())),
        experts=tuple((linked.site.experts[e], len(linked.expert_sections.get(e, ()))) for e in experts),
        expert_edges=tuple((e, a, n) for (e, a), n in sorted(discussed.items())),
        left_out=len(counts) - len(chosen),
    )


def neighbourhood_graph(linked: LinkedSite, actor_id: str, limit: int = NEIGHBOURS) -> ActorGraph:
    """Return an actor with the actors it appears with most and the experts who discussed it."""
    cards = linked.actor_cards.get(actor_id, ())
    co = linked.co_actors.get(actor_id, ())[:limit]
    actors = ((linked.site.actors[actor_id], len(cards)),) + tuple((a, len(linked.actor_cards.get(a.id, ()))) for a, _ in co)
    discussed: Counter[str] = Counter()
    for card in cards:
        entry = linked.by_slug.get(card.briefing.slug)
        if entry:
            discussed.update(s.expert.id for s in entry.experts)
    experts = sorted(discussed, key=lambda e: (linked.site.experts[e].name, e))
    return ActorGraph(
        actors=actors,
        edges=tuple(sorted((min(actor_id, a.id), max(actor_id, a.id), n) for a, n in co)),
        experts=tuple((linked.site.experts[e], len(linked.expert_sections.get(e, ()))) for e in experts),
        expert_edges=tuple((e, actor_id, discussed[e]) for e in experts),
        left_out=len(linked.co_actors.get(actor_id, ())) - len(co),
    )


@dataclass
class _Node:
    """A node while it is being placed: centre, radius and the box its label needs."""

    ident: str
    name: str
    url: str
    r: float
    x: float = 0.0
    y: float = 0.0
    expert: bool = False
    label: str = ""
    label_w: float = 0.0

    def box(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        half = max(self.r, self.label_w / 2)
        return (self.x - half - pad, self.y - self.r - pad, self.x + half + pad, self.y + self.r + 4 + LABEL_SIZE + pad)


@dataclass(frozen=True)
class MapLayout:
    """Where each node sits, and the drawing's size."""

    nodes: tuple[_Node, ...] = field(default=())
    width: float = 0.0
    height: float = 0.0


def _radius(count: int) -> float:
    return min(5.0 + 2.5 * math.sqrt(max(count, 1)), 16.0)


def _separate(nodes: list[_Node], right: float, pad: float = 3.0, rounds: int = 400) -> None:
    """Push overlapping label boxes apart, along the axis where they overlap least, keeping every box within [0, right]."""
    order = sorted(range(len(nodes)), key=lambda i: nodes[i].ident)

    def clamp(node: _Node) -> None:
        half = max(node.r, node.label_w / 2) + pad / 2
        node.x = min(max(node.x, half), max(right - half, half))

    for node in nodes:
        clamp(node)
    for _ in range(rounds):
        moved = False
        boxes = [nodes[i].box(pad / 2) for i in range(len(nodes))]
        by_left = sorted(order, key=lambda i: (boxes[i][0], nodes[i].ident))
        for k, i in enumerate(by_left):  # sweep: only boxes that start before i's right edge can overlap it
            for j in by_left[k + 1 :]:
                if boxes[j][0] >= boxes[i][2]:
                    break
                a, b = boxes[i], boxes[j]
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                if dx <= 0 or dy <= 0:
                    continue
                moved = True
                ni, nj = nodes[i], nodes[j]
                if dx < dy:
                    sign = -1.0 if (ni.x, ni.ident) < (nj.x, nj.ident) else 1.0
                    ni.x += sign * (dx / 2 + 0.5)
                    nj.x -= sign * (dx / 2 + 0.5)
                    clamp(ni)
                    clamp(nj)
                    if min(ni.box(pad / 2)[2], nj.box(pad / 2)[2]) - max(ni.box(pad / 2)[0], nj.box(pad / 2)[0]) <= 0:
                        boxes[i], boxes[j] = ni.box(pad / 2), nj.box(pad / 2)
                        continue
                    dy = min(ni.box(pad / 2)[3], nj.box(pad / 2)[3]) - max(ni.box(pad / 2)[1], nj.box(pad / 2)[1])  # the edge stopped it: go round
                sign = -1.0 if (ni.y, ni.ident) < (nj.y, nj.ident) else 1.0
                ni.y += sign * (dy / 2 + 0.5)
                nj.y -= sign * (dy / 2 + 0.5)
                boxes[i], boxes[j] = ni.box(pad / 2), nj.box(pad / 2)
        if not moved:
            return


def _rings(rings: list[list[str]]) -> dict[str, tuple[float, float]]:
    """Return places on concentric circles: the first ring's one node at the centre, each next ring one step out and turned by a step (networkx's shell layout)."""
    step, turn = 1.0 / len(rings), math.pi / len(rings)
    radius, first = (0.0 if len(rings[0]) == 1 else step), turn
    pos: dict[str, tuple[float, float]] = {}
    for ring in rings:
        for k, node in enumerate(ring):
            theta = 2 * math.pi * k / len(ring) + first
            pos[node] = (radius * math.cos(theta), radius * math.sin(theta))
        radius += step
        first += turn
    return pos


def layout(graph: ActorGraph, centre: str | None = None, width: float = MAP_WIDTH) -> MapLayout:
    """Return positions for the graph: a force layout of the actors (or rings around `centre`), experts in a column apart."""
    actors = [
        _Node(a.id, a.name, a.url, _radius(n), label=fit(a.name, 200, LABEL_SIZE), label_w=text_width(fit(a.name, 200, LABEL_SIZE), LABEL_SIZE))
        for a, n in graph.actors
    ]
    if not actors:
        return MapLayout()
    area = sum((n.box(6)[2] - n.box(6)[0]) * (n.box(6)[3] - n.box(6)[1]) for n in actors) * 2.2
    expert_room = (EXPERT_GAP + 12 + MARGIN + max((text_width(fit(e.name, 180, LABEL_SIZE), LABEL_SIZE) for e, _ in graph.experts), default=0)) if graph.experts else 0
    wide = min(width - expert_room - 2 * MARGIN, max(math.sqrt(area * 1.5), 240.0))  # actors' room: the map's width less the experts' column
    tall = max(area / wide, 160.0)
    if centre is not None:
        rest = [n.ident for n in actors if n.ident != centre]
        pos = _rings([[centre]] + [rest[i : i + 12] for i in range(0, len(rest), 12)])
    else:
        import networkx as nx  # (with numpy: ~0.3 s to import, so only for the one drawing that needs a force layout)

        g = nx.Graph()
        g.add_nodes_from(sorted(n.ident for n in actors))
        g.add_weighted_edges_from(sorted(graph.edges))
        pos = nx.spring_layout(g, seed=SEED, iterations=200, weight="weight", k=1.6 / math.sqrt(len(actors)))
    xs = [float(pos[n.ident][0]) for n in actors]
    ys = [float(pos[n.ident][1]) for n in actors]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    for node, x, y in zip(actors, xs, ys):
        half = max(node.r, node.label_w / 2)
        node.x = round(half + (x - min(xs)) / span_x * (wide - 2 * half), 1)
        node.y = round((y - min(ys)) / span_y * tall, 1)
    _separate(actors, wide)
    left = min(n.box()[0] for n in actors)
    top = min(n.box()[1] for n in actors)
    for node in actors:
        node.x += MARGIN - left
        node.y += MARGIN - top
    width = max(n.box()[2] for n in actors) + MARGIN
    height = max(n.box()[3] for n in actors) + MARGIN
    experts: list[_Node] = []
    if graph.experts:
        ys_of: dict[str, list[float]] = {}
        place = {n.ident: n for n in actors}
        for e, a, _ in graph.expert_edges:
            if a in place:
                ys_of.setdefault(e, []).append(place[a].y)
        ranked = sorted(graph.experts, key=lambda en: (sum(ys_of.get(en[0].id, [0.0])) / len(ys_of.get(en[0].id, [0.0])), en[0].name, en[0].id))
        column = width + EXPERT_GAP
        step = max(2 * BADGE_R + 16.0, (height - 2 * MARGIN) / max(len(ranked), 1))
        label_w = 0.0
        for k, (expert, n) in enumerate(ranked):
            name = fit(expert.name, 180, LABEL_SIZE)
            node = _Node(expert.id, expert.name, expert.url, 7.0, expert=True, label=name, label_w=text_width(name, LABEL_SIZE))
            node.x, node.y = column, MARGIN + 10 + k * step
            label_w = max(label_w, node.label_w)
            experts.append(node)
        width = column + 12 + label_w + MARGIN
        height = max(height, experts[-1].y + 7 + MARGIN + 4)
    return MapLayout(tuple(actors + experts), round(width, 1), round(height, 1))


def actor_map(graph: ActorGraph, link: Link, ident: str = "actor-map", centre: str | None = None, width: float = MAP_WIDTH) -> Markup:
    """Return the actor map: co-appearances as lines (thicker for more briefings), experts apart, every node a link."""
    placed = layout(graph, centre, width)
    if not placed.nodes:
        return Markup("")
    at = {n.ident: n for n in placed.nodes}
    names = {n.ident: n.name for n in placed.nodes}
    actors = sum(1 for n in placed.nodes if not n.expert)
    experts = len(placed.nodes) - actors
    if centre is not None:
        title = f"{names[centre]} and the {actors - 1} actor{'s' if actors != 2 else ''} it appears with most"
    else:
        title = f"Map of {actors} actor{'s' if actors != 1 else ''}, joined when they appear in the same briefing"
    title += f"; {experts} expert{'s' if experts != 1 else ''} apart, joined to the actors they discussed. The list that follows says who appears with whom."
    svg = _svg(placed.width, placed.height, ident, title, "actor-map" + (" neighbourhood" if centre else ""), links=True)
    lines = _decoration(svg, "edges")
    for a, b, n in graph.edges:
        if a in at and b in at:
            edge = _el(lines, "line", class_="edge", x1=at[a].x, y1=at[a].y, x2=at[b].x, y2=at[b].y, stroke="currentColor", stroke_width=_n(min(1.0 + 1.5 * (n - 1), 8.0)))
            _el(edge, "title", f"{names[a]} and {names[b]}: {n} briefing{'s' if n != 1 else ''} together")
    for e, a, n in graph.expert_edges:
        if e in at and a in at:
            edge = _el(lines, "line", class_="expert-edge", x1=at[e].x - 7, y1=at[e].y, x2=at[a].x, y2=at[a].y, stroke="currentColor", stroke_dasharray="4 3")
            _el(edge, "title", f"{names[e]} discussed {names[a]} in {n} briefing{'s' if n != 1 else ''}")
    nodes = _el(svg, "g", class_="nodes")
    for node in placed.nodes:
        group = _anchor(nodes, link(node.url), node.name)
        if node.expert:
            group.set("class", "node expert")
            _el(group, "rect", class_="expert-mark", x=node.x - 7, y=node.y - 7, width=14, height=14, fill="currentColor")
            _el(group, "text", node.label, class_="node-label", x=node.x + 12, y=node.y + LABEL_SIZE * 0.36, fill="currentColor")
        else:
            group.set("class", "node actor" + (" centre" if node.ident == centre else ""))
            _el(group, "circle", class_="actor-mark", cx=node.x, cy=node.y, r=node.r, fill="currentColor")
            _el(group, "text", node.label, class_="node-label", x=node.x, y=node.y + node.r + 2 + LABEL_SIZE * 0.9, text_anchor="middle", fill="currentColor")
    return _markup(svg)


# -- for templates --------------------------------------------------------------------------------


class Graphics:
    """The graphics of one render, each drawn on first use and kept for the pages that show it again."""

    READS = frozenset({"timeline", "title", "date", "actors", "experts", "name"})  # events, titles (and links), who appears with whom, by name

    def __init__(self, linked: LinkedSite) -> None:
        self._linked = linked
        self._timelines: dict[str, Markup] = {}
        self._graph: ActorGraph | None = None
        self._neighbourhoods: dict[tuple[str, str], Markup] = {}

    def briefing_timeline(self, briefing: Briefing) -> Markup:
        """Return the briefing's timeline graphic."""
        if briefing.slug not in self._timelines:
            self._timelines[briefing.slug] = briefing_timeline(briefing.timeline)
        return self._timelines[briefing.slug]

    def year_timeline(self, year: int, link: Link) -> Markup:
        """Return the year's timeline graphic, linked from the page `link` belongs to."""
        return year_timeline(year, self._linked.events.get(year, ()), link)

    def graph(self) -> ActorGraph:
        """Return the site's actor graph."""
        if self._graph is None:
            self._graph = actor_graph(self._linked)
        return self._graph

    def actor_map(self, link: Link) -> Markup:
        """Return the site's actor map."""
        return actor_map(self.graph(), link)

    def neighbourhood(self, actor_id: str, link: Link) -> Markup:
        """Return an actor's neighbourhood map (empty when it appears with no one)."""
        key = (actor_id, link("index.html"))
        if key not in self._neighbourhoods:
            graph = neighbourhood_graph(self._linked, actor_id)
            drawn = len(graph.actors) > 1 or graph.experts
            self._neighbourhoods[key] = actor_map(graph, link, ident=f"neighbourhood-{actor_id}", centre=actor_id, width=TIMELINE_WIDTH) if drawn else Markup("")
        return self._neighbourhoods[key]
