"""The map: the area drawn to scale in braille dots, links styled by quality, the selected
flow's route highlighted hop by hop, and every node labelled at its live position."""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from . import palette
from .view import Picture

# Braille dot bits by (column, row) inside one character cell of 2 x 4 dots.
_DOT_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
ROUTE_PRIORITY = 10
LEGEND_MIN_HEIGHT = 8  # map rows needed before one of them goes to the legend
SELECTED_STYLE = f"bold #000000 on {palette.SELECTED}"


@lru_cache(maxsize=64)
def _style(spec: str) -> Style | None:
    return Style.parse(spec) if spec else None


LINK_PRIORITY = {"good": 1, "fair": 2, "poor": 3}  # where lines cross, the worse link shows


def link_style(quality: float) -> tuple[int, str]:
    """(priority, style) of a link by its quality level (:mod:`meshnet.tui.palette`)."""
    level = palette.link_level(quality)
    return LINK_PRIORITY[level], palette.LINK_COLOUR[level]


def legend(width: int) -> Text:
    """The map's legend in at most ``width`` cells: as many entries as fit, in order."""
    out = Text(no_wrap=True, overflow="crop")
    for symbol, style, name, _ in palette.LEGEND:
        need = len(symbol) + len(name) + (1 if out else 0)
        if out.cell_len + need > width:
            break
        if out:
            out.append(" ")
        out.append(symbol, style)
        out.append(name, palette.LOG_TIME)
    return out


class Canvas:
    """Character cells with braille line drawing underneath text markers."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.bits = [[0] * width for _ in range(height)]
        self.line_style: list[list[tuple[int, str]]] = [[(0, "")] * width for _ in range(height)]
        self.text: dict[tuple[int, int], tuple[str, str]] = {}

    def dot(self, dx: int, dy: int, priority: int, style: str) -> None:
        cx, cy = dx >> 1, dy >> 2
        if 0 <= cx < self.width and 0 <= cy < self.height and dx >= 0 and dy >= 0:
            self.bits[cy][cx] |= _DOT_BITS[dx & 1][dy & 3]
            if priority >= self.line_style[cy][cx][0]:
                self.line_style[cy][cx] = (priority, style)

    def line(self, a: tuple[int, int], b: tuple[int, int], priority: int, style: str) -> None:
        """Bresenham between two dot positions."""
        x0, y0 = a
        x1, y1 = b
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, priority, style)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def free(self, cx: int, cy: int, length: int) -> bool:
        return (0 <= cy < self.height and 0 <= cx and cx + length <= self.width
                and all((cx + k, cy) not in self.text for k in range(length)))

    def put(self, cx: int, cy: int, chars: str, style: str) -> None:
        for k, ch in enumerate(chars):
            if 0 <= cx + k < self.width and 0 <= cy < self.height:
                self.text[(cx + k, cy)] = (ch, style)

    def put_text(self, cx: int, cy: int, text: Text) -> None:
        """Write styled text (one line) at a cell."""
        for k, ch in enumerate(text.plain):
            style = " ".join(str(span.style) for span in text.spans
                             if span.start <= k < span.end)
            self.put(cx + k, cy, ch, style)

    def to_text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for cy in range(self.height):
            run, run_style = [], None
            for cx in range(self.width):
                marker = self.text.get((cx, cy))
                if marker is not None:
                    ch, style = marker
                else:
                    bits = self.bits[cy][cx]
                    ch = chr(0x2800 + bits) if bits else " "
                    style = self.line_style[cy][cx][1] if bits else ""
                if style != run_style and run:
                    out.append("".join(run), _style(run_style))
                    run = []
                run_style = style
                run.append(ch)
            if run:
                out.append("".join(run), _style(run_style))
            if cy < self.height - 1:
                out.append("\n")
        return out


class MapPanel(Widget):
    """Draws a :class:`Picture`; a click selects the nearest node."""

    class NodeClicked(Message):
        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    picture: reactive[Picture | None] = reactive(None, always_update=True)

    def __init__(self, area: tuple[float, float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.area = area
        self._cells: list[tuple[int, int]] = []
        self.metres_per_cell = 1.0

    def _bounds(self, picture: Picture) -> tuple[float, float, float, float]:
        """The area, grown to include nodes moved outside it."""
        x0, y0, x1, y1 = 0.0, 0.0, self.area[0], self.area[1]
        for n in picture.nodes:
            x0, y0, x1, y1 = min(x0, n.x), min(y0, n.y), max(x1, n.x), max(y1, n.y)
        return x0, y0, max(x1, x0 + 1.0), max(y1, y0 + 1.0)

    def render(self) -> Text:
        picture = self.picture
        width, height = self.size.width, self.size.height
        if picture is None or width < 4 or height < 2:
            return Text("")
        canvas = Canvas(width, height)
        key = legend(width - 2) if height >= LEGEND_MIN_HEIGHT else Text("")
        map_rows = height - 1 if key else height  # the legend has the bottom row to itself
        x0, y0, x1, y1 = self._bounds(picture)
        # Braille dots are about square: 2 per cell across, 4 per cell down. Leave one cell of
        # margin on the left and a label's width on the right so edge nodes keep their labels.
        usable_w, usable_h = max(2 * (width - 5), 2), max(4 * map_rows - 2, 2)
        scale = min(usable_w / (x1 - x0), usable_h / (y1 - y0))
        off_x = 2 + (usable_w - (x1 - x0) * scale) / 2
        off_y = 1 + (usable_h - (y1 - y0) * scale) / 2
        self.metres_per_cell = 2.0 / scale
        dots = [(int(off_x + (n.x - x0) * scale), int(off_y + (n.y - y0) * scale))
                for n in picture.nodes]
        for i, j, quality in picture.links:
            priority, style = link_style(quality)
            canvas.line(dots[i], dots[j], priority, style)
        route_style = "bold " + (palette.ROUTE if picture.route_complete else palette.ROUTE_BROKEN)
        for a, b in zip(picture.route, picture.route[1:]):
            canvas.line(dots[a], dots[b], ROUTE_PRIORITY, route_style)
        self._cells = [(dx >> 1, dy >> 2) for dx, dy in dots]
        self._draw_nodes(canvas, picture)
        if key:
            canvas.put_text(width - 1 - key.cell_len, height - 1, key)
        return canvas.to_text()

    def _draw_nodes(self, canvas: Canvas, picture: Picture) -> None:
        on_route = set(picture.route)
        for i, n in enumerate(picture.nodes):
            cx, cy = self._cells[i]
            if not n.alive:
                mark, style = "✕", f"bold {palette.DEAD}"
            elif i == picture.selected:
                mark, style = "◉", SELECTED_STYLE
            elif i in on_route:
                mark, style = "●", "bold " + (palette.ROUTE if picture.route_complete
                                              else palette.ROUTE_BROKEN)
            else:
                mark, style = "●", "bold"
            canvas.put(cx, cy, mark, style)
        # Labels: the selected node first, then route nodes, then the rest, where room is left.
        order = sorted(range(len(picture.nodes)),
                       key=lambda i: (i != picture.selected, i not in on_route, i))
        for i in order:
            n = picture.nodes[i]
            cx, cy = self._cells[i]
            style = (SELECTED_STYLE if i == picture.selected
                     else (palette.DEAD if not n.alive else ""))
            label = n.name
            if canvas.free(cx + 1, cy, len(label)):
                canvas.put(cx + 1, cy, label, style)
            elif canvas.free(cx - len(label), cy, len(label)):
                canvas.put(cx - len(label), cy, label, style)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._cells:
            return
        best = min(range(len(self._cells)),
                   key=lambda i: (self._cells[i][0] - offset.x) ** 2
                   + (2 * (self._cells[i][1] - offset.y)) ** 2)
        cx, cy = self._cells[best]
        if abs(cx - offset.x) <= 4 and abs(cy - offset.y) <= 2:
            self.post_message(self.NodeClicked(best))
