"""The event log: routing, control, link and node events with timestamps, filterable by node
and by kind.

A busy run produces far more events than anyone can read (a 100-node run about 1,200 per
simulated second). Each screen update lists at most :data:`WRITE_PER_UPDATE` of them, the most
telling first (nodes, then routes, links, control), and sums up the rest in one line ("+ 37 link
changes · 120 RREQs ..."): nothing disappears without being counted.

Drawn line by line (Textual's line API) from segments made once per entry, so a busy run's
lines cost little; it follows the newest line unless scrolled back.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from . import palette
from .view import CATEGORY_OF, FOLDED, LOG_KINDS, LogEntry

KEEP = 20000  # entries kept for re-filtering
MAX_LINES = 1000  # lines the log can scroll back through
WRITE_PER_UPDATE = 20  # events listed per screen update; the rest are summed up in one line
KIND_FILTERS: tuple[str | None, ...] = (None, *LOG_KINDS)
# Which events are listed first when there are too many: lower is listed first.
PRIORITY = {"nodes": 0, "routes": 1, "links": 2, "control": 3}
LISTED_FIRST = {"route_found": 0, "route_broken": 0, "route_discovery_failed": 0}
# How a summary line names events of each kind (plural).
NOUNS = {
    "link_up": "link changes", "link_down": "link changes", "hello_link_lost": "hello losses",
    "rreq_sent": "RREQs", "rrep_sent": "RREPs", "rerr_sent": "RERRs",
    "ctrl_malformed": "malformed messages",
    "route_added": "route changes", "route_changed": "route changes",
    "route_removed": "route changes", "route_expired": "route expiries",
    "route_found": "routes found", "route_broken": "routes broken",
    "route_discovery_started": "discoveries", "route_discovery_failed": "failed discoveries",
    "local_repair_started": "local repairs",
    "node_died": "deaths", "node_revived": "revivals",
    "fault_started": "faults started", "fault_ended": "faults ended",
}


def rank(e: LogEntry) -> tuple[int, int]:
    return (PRIORITY.get(e.category, 4), LISTED_FIRST.get(e.kind, 1))


def summary_text(counts: Counter[str]) -> str:
    """``37 link changes · 120 RREQs``, the most numerous first."""
    by_noun: Counter[str] = Counter()
    for kind, n in counts.items():
        by_noun[NOUNS.get(kind, kind.replace("_", " "))] += n
    return " · ".join(f"{n} {noun}" for noun, n in by_noun.most_common())

_STYLES: dict[str, Style] = {}


def _style(spec: str) -> Style:
    style = _STYLES.get(spec)
    if style is None:
        style = _STYLES[spec] = Style.parse(spec) if spec else Style()
    return style


class EventLog(ScrollView):
    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.batches: deque[tuple[LogEntry, ...]] = deque()  # as they came, for re-filtering
        self._kept = 0
        self.lines: deque[list[Segment]] = deque(maxlen=MAX_LINES)
        self.accounted = 0  # events listed or counted in a summary line since the last clear
        self.max_lines = MAX_LINES
        self.node_filter: str | None = None
        self.kind_filter: str | None = None
        self._widest = 0
        self._follow = True  # show the newest lines (until scrolled back)

    # --- content ---------------------------------------------------------------------------------
    @property
    def entries(self) -> list[LogEntry]:
        """Every event entry kept (summary-only entries left out)."""
        return [e for batch in self.batches for e in batch if e.kind != FOLDED]

    def add(self, entries: Iterable[LogEntry]) -> None:
        """One screen update's events."""
        batch = tuple(entries)
        if not batch:
            return
        self.batches.append(batch)
        self._kept += len(batch)
        while self._kept > KEEP and len(self.batches) > 1:
            self._kept -= len(self.batches.popleft())
        self._write(self._render(batch))

    def forget(self) -> None:
        """Drop every entry kept (a new run starts)."""
        self.batches.clear()
        self._kept = 0
        self.clear()

    def clear(self) -> None:
        self.lines.clear()
        self._widest = 0
        self.accounted = 0
        self._changed(follow=True)

    def set_filter(self, node: str | None, kind: str | None) -> None:
        """Change the filter and redraw what is kept."""
        self.node_filter, self.kind_filter = node, kind
        self.lines.clear()
        self._widest = 0
        self.accounted = 0
        self._write(line for batch in self.batches for line in self._render(batch))
        self._update_title()

    def _render(self, batch: tuple[LogEntry, ...]) -> list[list[Segment]]:
        """The lines for one update: up to WRITE_PER_UPDATE events listed (most telling first,
        shown in time order), and one line counting every other matching event."""
        listed: list[LogEntry] = []
        folded: Counter[str] = Counter()
        span: list[float] = []
        for e in batch:
            if e.kind == FOLDED:
                for kind, n in e.counts:
                    if self._matches_kind(kind):
                        folded[kind] += n
                        span += [e.t, e.t_end if e.t_end is not None else e.t]
            elif self._matches(e):
                listed.append(e)
        if len(listed) > WRITE_PER_UPDATE:  # the most telling; of equals, the latest
            chosen = set(sorted(range(len(listed)), key=lambda k: (rank(listed[k]), -k))
                         [:WRITE_PER_UPDATE])
            for k, e in enumerate(listed):
                if k not in chosen:
                    folded[e.kind] += 1
                    span += [e.t]
            listed = [e for k, e in enumerate(listed) if k in chosen]
        lines = [self._line(e) for e in listed]
        if folded:
            lines.append(self._summary_line(min(span), max(span), folded))
        self.accounted += len(listed) + sum(folded.values())
        return lines

    def text(self) -> str:
        """The lines kept, as plain text."""
        return "\n".join("".join(seg.text for seg in line) for line in self.lines)

    def _write(self, lines: Iterable[list[Segment]]) -> None:
        n = 0
        for line in lines:
            self.lines.append(line)
            self._widest = max(self._widest, sum(len(seg.text) for seg in line))
            n += 1
        if n:
            self._changed(self._follow)

    def _changed(self, follow: bool) -> None:
        self.virtual_size = Size(self._widest, len(self.lines))
        self._follow = follow
        if follow:
            self.scroll_end(animate=False)  # after the refresh, when the new size is laid out
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._follow = new >= self.max_scroll_y

    def _update_title(self) -> None:
        parts = [f"node {self.node_filter}" if self.node_filter else "",
                 f"{self.kind_filter}" if self.kind_filter else ""]
        shown = ", ".join(p for p in parts if p)
        self.border_subtitle = f"filter: {shown}" if shown else ""

    def _matches(self, e: LogEntry) -> bool:
        if self.kind_filter is not None and e.category != self.kind_filter:
            return False
        return self.node_filter is None or self.node_filter in e.nodes

    def _matches_kind(self, kind: str) -> bool:
        """For events only counted: their nodes are unknown, so only the kind filter applies."""
        return self.kind_filter is None or CATEGORY_OF.get(kind, "routes") == self.kind_filter

    @staticmethod
    def _summary_line(t0: float, t1: float, counts: Counter[str]) -> list[Segment]:
        start, end = f"{t0:8.2f}", f"{t1:.2f}"
        when = f"{start} " if start.strip() == end else f"{start}–{end} "
        # the total first: a narrow log cuts the line's end, never the count of what it sums up
        total = sum(counts.values())
        return [Segment(when, _style(palette.LOG_TIME)),
                Segment(f"+ {total:,} not listed: {summary_text(counts)}",
                        _style(palette.LOG_FOLDED))]

    @staticmethod
    def _line(e: LogEntry) -> list[Segment]:
        spec = palette.LOG_BAD.get(e.kind) or palette.LOG_STYLE.get(e.category, "")
        return [Segment(f"{e.t:8.2f} ", _style(palette.LOG_TIME)), Segment(e.text, _style(spec))]

    # --- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if self._follow:  # the newest lines, whether or not the offset caught up yet
            scroll_y = max(0, len(self.lines) - self.scrollable_content_region.height)
        i = scroll_y + y
        if i >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        strip = Strip(self.lines[i]).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width).apply_style(self.rich_style)
