"""The selected node's routing table; rows whose next hop, metric or state changed flash.

Drawn line by line (Textual's line API): only the rows on screen are rendered, and a new table
costs one list of rows, however many destinations a 100-node network gives a node.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from . import palette
from .view import RouteRow

FLASH_PICTURES = 6  # a changed row stays highlighted for this many screen updates
COLUMNS = (("dst", "dst", 5), ("next", "next_hop", 5), ("hops", "metric", 4), ("seq", "seqno", 5),
           ("exp", "expires", 5))  # (header, RouteRow field, minimum width)
GAP = 2


class RoutingTable(ScrollView):
    """A table of :class:`RouteRow` with a fixed header line; scrolls when it is long."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._owner: str | None = None
        self._rows: tuple[RouteRow, ...] = ()
        self._identity: dict[str, tuple] = {}
        self._flash: dict[str, int] = {}
        self._widths = [w for _, _, w in COLUMNS]
        self._header_style = Style(bold=True)

    # --- what the app and the tests use -----------------------------------------------------------
    def show(self, owner: str, rows: tuple[RouteRow, ...]) -> None:
        """Show ``owner``'s table; a new owner starts without flashes."""
        if owner != self._owner:
            self._owner = owner
            self._identity = {r.dst: r.identity for r in rows}
            self._flash.clear()
            self.scroll_to(y=0, animate=False)
        flashing = bool(self._flash)
        for dst in list(self._flash):
            self._flash[dst] -= 1
            if self._flash[dst] <= 0:
                del self._flash[dst]
        for r in rows:
            if self._identity.get(r.dst) != r.identity:
                self._flash[r.dst] = FLASH_PICTURES
            self._identity[r.dst] = r.identity
        if rows == self._rows and not flashing and not self._flash:
            return  # nothing to draw again: the table is most of the time the same
        self._rows = rows
        widths = [max([w, *(len(getattr(r, field)) for r in rows)])
                  for _, field, w in COLUMNS]
        self._widths = widths
        self.virtual_size = Size(sum(widths) + GAP * (len(widths) - 1), len(rows) + 1)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, i: int) -> tuple[Text, ...]:
        r = self._rows[i]
        style = self._row_style(r)
        return tuple(Text(getattr(r, field), style=style) for _, field, _ in COLUMNS)

    def flashing(self) -> set[str]:
        return set(self._flash)

    # --- drawing -------------------------------------------------------------------------------------
    def _row_style(self, r: RouteRow) -> str:
        if r.dst in self._flash:
            return palette.FLASH
        if r.state not in ("valid", "", "active"):
            return palette.STALE
        return ""

    def _line(self, cells: list[str], style: Style | None) -> list[Segment]:
        gap = " " * GAP
        return [Segment(gap.join(text.ljust(width) for text, width in zip(cells, self._widths)),
                        style)]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            segments = self._line([h for h, _, _ in COLUMNS], self._header_style)
        else:
            i = scroll_y + y - 1
            if i >= len(self._rows):
                return Strip.blank(width, self.rich_style)
            r = self._rows[i]
            spec = self._row_style(r)
            segments = self._line([getattr(r, field) for _, field, _ in COLUMNS],
                                  _style(spec))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width).apply_style(self.rich_style)


_STYLES: dict[str, Style | None] = {}


def _style(spec: str) -> Style | None:
    style = _STYLES.get(spec)
    if style is None and spec:
        style = _STYLES[spec] = Style.parse(spec)
    return style
