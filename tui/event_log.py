"""The event log: routing, control, link and node events with timestamps, filterable by node
and by kind."""

from __future__ import annotations

from collections import deque
from typing import Iterable

from rich.text import Text
from textual.widgets import RichLog

from . import palette
from .view import LOG_KINDS, LogEntry

KEEP = 2000  # entries kept for re-filtering
WRITE_PER_UPDATE = 60  # at most this many new lines per screen update (busy runs flood)
KIND_FILTERS: tuple[str | None, ...] = (None, *LOG_KINDS)


class EventLog(RichLog):
    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=500, wrap=False, markup=False, highlight=False)
        self.entries: deque[LogEntry] = deque(maxlen=KEEP)
        self.node_filter: str | None = None
        self.kind_filter: str | None = None

    def add(self, entries: Iterable[LogEntry]) -> None:
        entries = list(entries)
        self.entries.extend(entries)
        shown = [e for e in entries if self._matches(e)][-WRITE_PER_UPDATE:]
        for e in shown:
            self.write(self._line(e))

    def set_filter(self, node: str | None, kind: str | None) -> None:
        """Change the filter and redraw what is kept."""
        self.node_filter, self.kind_filter = node, kind
        self.clear()
        for e in [e for e in self.entries if self._matches(e)][-self.max_lines:]:
            self.write(self._line(e))
        self._update_title()

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
    def _line(e: LogEntry) -> Text:
        line = Text(f"{e.t:8.2f} ", style=palette.LOG_TIME, no_wrap=True)
        line.append(e.text, style=palette.LOG_BAD.get(e.kind)
                    or palette.LOG_STYLE.get(e.category, ""))
        return line
