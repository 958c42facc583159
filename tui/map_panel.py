"""The map: the area drawn to scale in braille dots, links styled by quality, the selected
flow's route highlighted hop by hop, and every node labelled at its live position.

Zoom and pan are the panel's own state (no engine round trip): the view is a window of the
area, ``zoom`` times smaller, centred where the user panned it (on the selected node when
zooming in from the whole area). With the packet animation on, frames on their way are drawn
as dots travelling their links."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from . import palette
from .view import Picture

# Braille dots inside one character cell of 2 x 4 dots: the bit of dot (column, row) is
# _BIT_WEIGHTS[_BIT_INDEX[column, row]].
_BIT_INDEX = np.array(((0, 1, 2, 6), (3, 4, 5, 7)))
_BIT_WEIGHTS = np.array((0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80), dtype=np.int64)
ROUTE_PRIORITY = 10
LEGEND_MIN_HEIGHT = 8  # map rows needed before one of them goes to the legend
SELECTED_STYLE = f"bold #000000 on {palette.SELECTED}"
ZOOM_STEP = 1.5
MAX_ZOOM = 16.0
PAN_FRACTION = 0.25  # one pan key moves the view by this share of its width or height
FRAME_STYLE = {True: f"bold {palette.DATA_FRAME}", False: f"bold {palette.CTRL_FRAME}"}
# Which links the map draws (`m` cycles): every link, the selected node's, or none but the
# selected flow's route (a 100-node map is mostly links otherwise).
LINK_MODES = ("all", "node", "route")
LINK_MODE_TITLE = {"all": "", "node": "links of the selected node", "route": "route only"}


@lru_cache(maxsize=64)
def _style(spec: str) -> Style | None:
    return Style.parse(spec) if spec else None


LINK_PRIORITY = {"plain": 1, "good": 1, "fair": 2, "poor": 3}  # the worse link shows on top
# Legend entries shown only when what they name is on the map.
OPTIONAL = frozenset({"perimeter", "link", "picked", "data", "ctrl", "member"})


def legend(width: int, modes: bool = False, show: frozenset[str] = frozenset(),
           hide: frozenset[str] = frozenset()) -> Text:
    """The map's legend in at most ``width`` cells: as many entries as fit, in order. Optional
    entries (GPSR's perimeter hops with ``modes``, the others when in ``show``) are left out
    unless wanted, and ``hide`` leaves out others (link ratings a replay does not have)."""
    out = Text(no_wrap=True, overflow="crop")
    wanted = show | ({"perimeter"} if modes else set())
    for symbol, style, name, _ in palette.LEGEND:
        if (name in OPTIONAL and name not in wanted) or name in hide:
            continue
        need = len(symbol) + len(name) + (1 if out else 0)
        if out.cell_len + need > width:
            break
        if out:
            out.append(" ")
        out.append(symbol, style)
        out.append(name, palette.LOG_TIME)
    return out


class Canvas:
    """Character cells with braille line drawing underneath text markers.

    Lines are rasterised all at once with numpy (a 100-node map has thousands of links): each
    dot sets one of the 8 braille bits of its cell, and a cell takes the style of the highest
    *level* drawn through it (so where lines cross, the route shows over a poor link, a poor
    link over a good one).
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._dots = np.zeros((height * width, 8), dtype=bool)  # braille dots set, per cell
        self._level = np.zeros(height * width, dtype=np.uint8)  # highest level per cell
        self.level_style: dict[int, str] = {0: ""}
        self.text: dict[tuple[int, int], tuple[str, str]] = {}

    def lines(self, a: np.ndarray, b: np.ndarray, level: int, style: str) -> None:
        """Draw segments from dot positions ``a[k]`` to ``b[k]`` (integer arrays of shape
        (k, 2)) at ``level`` (1..255) in ``style``."""
        if len(a) == 0:
            return
        self.level_style[level] = style
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        d = b - a
        steps = np.maximum(np.abs(d[:, 0]), np.abs(d[:, 1]))
        count = steps + 1
        seg = np.repeat(np.arange(len(a)), count)
        first = np.cumsum(count) - count
        k = np.arange(int(count.sum())) - np.repeat(first, count)
        frac = k / np.maximum(steps, 1)[seg]
        x = np.rint(a[seg, 0] + d[seg, 0] * frac).astype(np.int64)
        y = np.rint(a[seg, 1] + d[seg, 1] * frac).astype(np.int64)
        keep = (x >= 0) & (y >= 0) & (x < 2 * self.width) & (y < 4 * self.height)
        x, y = x[keep], y[keep]
        cell = (y >> 2) * self.width + (x >> 1)
        self._dots[cell, _BIT_INDEX[x & 1, y & 3]] = True
        self._level[cell] = np.maximum(self._level[cell], level)

    def free(self, cx: int, cy: int, length: int) -> bool:
        if not (0 <= cy < self.height and 0 <= cx and cx + length <= self.width):
            return False
        text = self.text
        for k in range(cx, cx + length):
            if (k, cy) in text:
                return False
        return True

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

    def rows(self) -> list[list[tuple[str, Style | None]]]:
        """Each row as runs of (characters, style)."""
        width, height = self.width, self.height
        bits = self._dots @ _BIT_WEIGHTS
        codes = np.where(bits > 0, 0x2800 + bits, 32)
        styles = [""]
        ids: dict[str, int] = {"": 0}
        level_id = np.zeros(256, dtype=np.int64)
        for level, spec in self.level_style.items():
            level_id[level] = ids.setdefault(spec, len(ids))
            if level_id[level] == len(styles):
                styles.append(spec)
        style_ids = np.where(bits > 0, level_id[self._level], 0)
        for (cx, cy), (ch, spec) in self.text.items():
            k = cy * width + cx
            codes[k] = ord(ch)
            sid = ids.get(spec)
            if sid is None:
                sid = ids[spec] = len(styles)
                styles.append(spec)
            style_ids[k] = sid
        parsed = [_style(spec) for spec in styles]
        codes = codes.reshape(height, width)
        style_ids = style_ids.reshape(height, width)
        out = []
        for cy in range(height):
            row = "".join(map(chr, codes[cy].tolist()))
            row_ids = style_ids[cy]
            runs = []
            start = 0
            for end in [*(np.flatnonzero(np.diff(row_ids)) + 1).tolist(), width]:
                runs.append((row[start:end], parsed[row_ids[start]]))
                start = end
            out.append(runs)
        return out

    def to_text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for cy, runs in enumerate(self.rows()):
            if cy:
                out.append("\n")
            for chars, style in runs:
                out.append(chars, style)
        return out

    def to_strips(self) -> list[Strip]:
        return [Strip([Segment(chars, style) for chars, style in runs], self.width)
                for runs in self.rows()]


class MapPanel(Widget):
    """Draws a :class:`Picture`; a click selects the nearest node."""

    class NodeClicked(Message):
        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    class Resized(Message):
        """The panel has a new size: text fitted to its edges is to be fitted again."""

    picture: reactive[Picture | None] = reactive(None, always_update=True)

    def __init__(self, area: tuple[float, float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.area = area
        self._cells: list[tuple[int, int]] = []
        self._strips: list[Strip] = []
        self._strips_key: object = None
        self.metres_per_cell = 1.0
        self.zoom = 1.0
        self.centre: tuple[float, float] | None = None  # metres; None: the area's centre
        self.animating = False  # the packet animation is on (its legend entries show)
        self.link_mode = LINK_MODES[0]
        self.base_title = ""
        self._view: tuple[float, float, float, float] | None = None  # metres shown

    # --- zoom and pan -------------------------------------------------------------------------
    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out; zooming in from the whole area centres on the selected
        node."""
        zoom = min(MAX_ZOOM, max(1.0, self.zoom * factor))
        if zoom == 1.0:
            self.centre = None
        elif self.centre is None:
            picture = self.picture
            if picture is not None and picture.nodes:
                n = picture.nodes[picture.selected % len(picture.nodes)]
                self.centre = (n.x, n.y)
        self.zoom = zoom
        self._changed()

    def pan(self, dx: int, dy: int) -> None:
        """Move the view by a quarter of its size (dx, dy in -1, 0, 1)."""
        if self._view is None:
            return
        x0, y0, x1, y1 = self._view
        cx, cy = self.centre or ((x0 + x1) / 2, (y0 + y1) / 2)
        self.centre = (cx + dx * PAN_FRACTION * (x1 - x0), cy + dy * PAN_FRACTION * (y1 - y0))
        self._changed()

    def fit(self) -> None:
        """Back to the whole area."""
        self.zoom, self.centre = 1.0, None
        self._changed()

    def cycle_links(self) -> str:
        """Draw the next set of links (all, the selected node's, the route only)."""
        self.link_mode = LINK_MODES[(LINK_MODES.index(self.link_mode) + 1) % len(LINK_MODES)]
        self._changed()
        return self.link_mode

    def _shown_links(self, picture: Picture) -> tuple[tuple[int, int, float], ...]:
        """The picture's links that the link mode draws."""
        if self.link_mode == "all":
            return picture.links
        if self.link_mode == "node":
            i = picture.selected
            return tuple(link for link in picture.links if i in link[:2])
        return ()

    def _changed(self) -> None:
        self._strips_key = None
        self._retitle()
        self.refresh()

    def _retitle(self) -> None:
        zoomed = self.zoom > 1.0 or self.centre is not None
        mode = LINK_MODE_TITLE[self.link_mode]
        self.border_title = (self.base_title + (f" · zoom ×{self.zoom:g}" if zoomed else "")
                             + (f" · {mode}" if mode else ""))

    def set_title(self, title: str) -> None:
        self.base_title = title
        self._retitle()

    def _bounds(self, picture: Picture) -> tuple[float, float, float, float]:
        """The area, grown to include nodes moved outside it."""
        x0, y0, x1, y1 = 0.0, 0.0, self.area[0], self.area[1]
        for n in picture.nodes:
            x0, y0, x1, y1 = min(x0, n.x), min(y0, n.y), max(x1, n.x), max(y1, n.y)
        x1, y1 = max(x1, x0 + 1.0), max(y1, y0 + 1.0)
        if self.zoom == 1.0 and self.centre is None:
            return x0, y0, x1, y1
        cx, cy = self.centre or ((x0 + x1) / 2, (y0 + y1) / 2)
        hw, hh = (x1 - x0) / self.zoom / 2, (y1 - y0) / self.zoom / 2
        return cx - hw, cy - hh, cx + hw, cy + hh

    def render(self) -> Text:
        """The map as text (what is on screen; tests read it)."""
        canvas = self._canvas()
        return Text("") if canvas is None else canvas.to_text()

    def render_line(self, y: int) -> Strip:
        """Drawn line by line from strips made once per picture: no text layout on the way."""
        key = (id(self.picture), self.size)
        if key != self._strips_key:
            canvas = self._canvas()
            base = self.rich_style
            self._strips = ([] if canvas is None
                            else [strip.apply_style(base) for strip in canvas.to_strips()])
            self._strips_key = key
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def watch_picture(self) -> None:
        self._strips_key = None

    def _canvas(self) -> Canvas | None:
        picture = self.picture
        width, height = self.size.width, self.size.height
        if picture is None or width < 4 or height < 2:
            return None
        canvas = Canvas(width, height)
        key = (legend(width - 2, bool(picture.hop_modes), *self._legend_sets(picture))
               if height >= LEGEND_MIN_HEIGHT else Text(""))
        map_rows = height - 1 if key else height  # the legend has the bottom row to itself
        x0, y0, x1, y1 = self._view = self._bounds(picture)
        # Braille dots are about square: 2 per cell across, 4 per cell down. Leave one cell of
        # margin on the left and a label's width on the right so edge nodes keep their labels.
        usable_w, usable_h = max(2 * (width - 5), 2), max(4 * map_rows - 2, 2)
        scale = min(usable_w / (x1 - x0), usable_h / (y1 - y0))
        off_x = 2 + (usable_w - (x1 - x0) * scale) / 2
        off_y = 1 + (usable_h - (y1 - y0) * scale) / 2
        self.metres_per_cell = 2.0 / scale
        dots = [(int(off_x + (n.x - x0) * scale), int(off_y + (n.y - y0) * scale))
                for n in picture.nodes]
        xy = np.array(dots, dtype=np.int64).reshape(-1, 2)
        by_level: dict[str, list[tuple[int, int]]] = {}
        for i, j, quality in self._shown_links(picture):
            by_level.setdefault(palette.link_level(quality), []).append((i, j))
        inside = ((xy[:, 0] >= 0) & (xy[:, 0] < 2 * width)
                  & (xy[:, 1] >= 0) & (xy[:, 1] < 4 * map_rows))
        for level, pairs in by_level.items():
            ends = np.array(pairs, dtype=np.int64)
            if not inside.all():  # zoomed in: lines with both ends off the view are skipped
                ends = ends[inside[ends[:, 0]] | inside[ends[:, 1]]]
            canvas.lines(xy[ends[:, 0]], xy[ends[:, 1]], LINK_PRIORITY[level],
                         palette.LINK_COLOUR[level])
        route_style = "bold " + (palette.ROUTE if picture.route_complete else palette.ROUTE_BROKEN)
        if len(picture.route) > 1:
            hops = np.array(picture.route, dtype=np.int64)
            gap = np.zeros(len(hops) - 1, dtype=bool)
            gap[list(picture.route_gaps)] = True
            canvas.lines(xy[hops[:-1][~gap]], xy[hops[1:][~gap]], ROUTE_PRIORITY, route_style)
            # a hop whose link is gone (a node moved, shadowing, a death): broken, on top
            canvas.lines(xy[hops[:-1][gap]], xy[hops[1:][gap]], ROUTE_PRIORITY + 1,
                         f"bold {palette.ROUTE_BROKEN}")
            # GPSR: hops of the last packet in perimeter mode
            peri = np.array([m == "perimeter" for m in picture.hop_modes], dtype=bool)
            if peri.any() and len(peri) == len(hops) - 1:
                canvas.lines(xy[hops[:-1][peri]], xy[hops[1:][peri]], ROUTE_PRIORITY + 2,
                             f"bold {palette.PERIMETER}")
        detail = picture.detail
        if detail is not None and detail.link is not None and detail.index < len(xy):
            peer = detail.links[detail.link].peer
            canvas.lines(xy[[detail.index]], xy[[peer]], ROUTE_PRIORITY + 3,
                         f"bold {palette.LINK_SELECTED}")
        self._cells = [(dx >> 1, dy >> 2) if ok else None
                       for (dx, dy), ok in zip(dots, inside.tolist())]
        self._draw_nodes(canvas, picture)
        if picture.frames:
            self._draw_frames(canvas, picture, xy, map_rows)
        if key:
            canvas.put_text(width - 1 - key.cell_len, height - 1, key)
        return canvas

    def _legend_sets(self, picture: Picture) -> tuple[frozenset[str], frozenset[str]]:
        """(optional entries to show, entries to hide) for what this picture draws."""
        show, hide = set(), set()
        rated = [q == q for _, _, q in picture.links]
        # no link has a measured delivery (a replay), or no link is drawn but the route
        if (rated and not any(rated)) or self.link_mode == "route":
            hide |= {"good", "fair", "poor"}
        if self.link_mode != "route" and not all(rated):
            show.add("link")
        detail = picture.detail
        if detail is not None and detail.link is not None:
            show.add("picked")
        if self.animating:
            show |= {"data", "ctrl"}
        if picture.members:
            show.add("member")
        return frozenset(show), frozenset(hide)

    def _draw_frames(self, canvas: Canvas, picture: Picture, xy: np.ndarray,
                     map_rows: int) -> None:
        """Each frame a dot between its sender and receiver, where no node or label is."""
        marks = picture.frames
        n = len(xy)
        for m in marks:
            if m.sender >= n or m.receiver >= n:
                continue
            (ax, ay), (bx, by) = xy[m.sender], xy[m.receiver]
            x = int(round(ax + (bx - ax) * m.progress))
            y = int(round(ay + (by - ay) * m.progress))
            cx, cy = x >> 1, y >> 2
            if 0 <= cy < map_rows and canvas.free(cx, cy, 1):
                canvas.put(cx, cy, "•", FRAME_STYLE[m.data])

    def _draw_nodes(self, canvas: Canvas, picture: Picture) -> None:
        members = set(picture.members)
        on_route = set(picture.route) | members
        for i, n in enumerate(picture.nodes):
            if self._cells[i] is None:
                continue
            cx, cy = self._cells[i]
            if not n.alive:
                mark, style = "✕", f"bold {palette.DEAD}"
            elif i == picture.selected:
                mark, style = "◉", SELECTED_STYLE
            elif i in members:
                mark, style = "◆", f"bold {palette.ROUTE}"
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
            if self._cells[i] is None:
                continue
            cx, cy = self._cells[i]
            style = (SELECTED_STYLE if i == picture.selected
                     else (palette.DEAD if not n.alive else ""))
            label = n.name
            if canvas.free(cx + 1, cy, len(label)):
                canvas.put(cx + 1, cy, label, style)
            elif canvas.free(cx - len(label), cy, len(label)):
                canvas.put(cx - len(label), cy, label, style)

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        shown = [i for i, cell in enumerate(self._cells) if cell is not None]
        if offset is None or not shown:
            return
        best = min(shown, key=lambda i: (self._cells[i][0] - offset.x) ** 2
                   + (2 * (self._cells[i][1] - offset.y)) ** 2)
        cx, cy = self._cells[best]
        if abs(cx - offset.x) <= 4 and abs(cy - offset.y) <= 2:
            self.post_message(self.NodeClicked(best))
