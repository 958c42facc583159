"""The selected node's routing table; rows whose next hop, metric or state changed flash."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from . import palette
from .view import RouteRow

FLASH_PICTURES = 6  # a changed row stays highlighted for this many screen updates
COLUMNS = (("dst", "dst"), ("next", "next_hop"), ("hops", "metric"), ("seq", "seqno"),
           ("exp", "expires"))


class RoutingTable(DataTable):
    """A DataTable kept in step with :class:`RouteRow` tuples, updated cell by cell so that
    scrolling stays put and nothing flickers."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=False, cursor_type="none", show_cursor=False)
        self._owner: str | None = None
        self._keys: list[str] = []
        self._identity: dict[str, tuple] = {}
        self._flash: dict[str, int] = {}
        self._shown: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def show(self, owner: str, rows: tuple[RouteRow, ...]) -> None:
        """Show ``owner``'s table; a new owner starts without flashes."""
        if owner != self._owner:
            self._owner = owner
            self._identity = {r.dst: r.identity for r in rows}
            self._flash.clear()
        for dst in list(self._flash):
            self._flash[dst] -= 1
            if self._flash[dst] <= 0:
                del self._flash[dst]
        for r in rows:
            if self._identity.get(r.dst) != r.identity:
                self._flash[r.dst] = FLASH_PICTURES
            self._identity[r.dst] = r.identity
        cells = {r.dst: self._cells(r) for r in rows}
        keys = [r.dst for r in rows]
        if keys != self._keys:
            self.clear()
            for dst in keys:
                self.add_row(*cells[dst], key=dst)
            self._keys = keys
        else:
            for dst in keys:
                old = self._shown.get(dst)
                for k, (_, column) in enumerate(COLUMNS):
                    if old is None or old[k] != cells[dst][k]:
                        self.update_cell(dst, column, cells[dst][k])
        self._shown = cells

    def flashing(self) -> set[str]:
        return set(self._flash)

    def _cells(self, r: RouteRow) -> tuple[Text, ...]:
        if r.dst in self._flash:
            style = palette.FLASH
        elif r.state not in ("valid", "", "active"):
            style = palette.STALE
        else:
            style = ""
        return tuple(Text(v, style=style) for v in (r.dst, r.next_hop, r.metric, r.seqno,
                                                     r.expires))
