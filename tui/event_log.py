"""The event log: routing, control, link and node events with timestamps, filterable by node
and by kind.

Drawn line by line (Textual's line API) from segments made once per entry, so a busy run's
hundreds of lines per second cost little; it follows the newest line unless scrolled back.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from . import palette
from .view import LOG_KINDS, LogEntry

KEEP = 2000  # entries kept for re-filtering
MAX_LINES = 500  # lines the log can scroll back through
WRITE_PER_UPDATE = 60  # at most this many new lines per screen update (busy runs flood)
KIND_FILTERS: tuple[str | None, ...] = (None, *LOG_KINDS)

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
        self.entries: deque[LogEntry] = deque(maxlen=KEEP)
        self.lines: deque[list[Segment]] = deque(maxlen=MAX_LINES)
        self.max_lines = MAX_LINES
        self.node_filter: str | None = None
        self.kind_filter: str | None = None
        self._widest = 0
        self._follow = True  # show the newest lines (until scrolled back)

    # --- content ---------------------------------------------------------------------------------
    def add(self, entries: Iterable[LogEntry]) -> None:
        entries = list(entries)
        self.entries.extend(entries)
        shown = [e for e in entries if self._matches(e)][-WRITE_PER_UPDATE:]
        self._write(self._line(e) for e in shown)

    def clear(self) -> None:
        self.lines.clear()
        self._widest = 0
        self._changed(follow=True)

    def set_filter(self, node: str | None, kind: str | None) -> None:
        """Change the filter and redraw what is kept."""
        self.node_filter, self.kind_filter = node, kind
        self.lines.clear()
        self._widest = 0
        self._write(self._line(e) for e in
                    [e for e in self.entries if self._matches(e)][-self.max_lines:])
        self._update_title()

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
