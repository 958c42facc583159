"""The bottom line: the most useful keys, as many as fit the terminal's width (`?` lists all).
A replay has keys of its own (seeking) instead of those that change a run."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

# (key, what it does), most useful first; `? help` always comes first so it is never cut off.
KEYS = (
    ("?", "help"),
    ("q", "quit"),
    ("space", "pause"),
    ("tab", "node"),
    ("+/-", "speed"),
    ("f", "flow"),
    ("arrows", "move"),
    ("k", "kill"),
    ("s", "step"),
    ("r", "restart"),
    ("p", "protocol"),
    ("n/l", "log filter"),
    ("i", "inspect"),
    ("m", "links"),
    ("a", "animate"),
    ("z/Z", "zoom"),
)
REPLAY_KEYS = (
    ("?", "help"),
    ("q", "quit"),
    ("space", "pause"),
    ("b/s", "step"),
    ("[/]", "±10 s"),
    ("g", "go to"),
    ("+/-", "speed"),
    ("tab", "node"),
    ("i", "inspect"),
    ("f", "flow"),
    ("m", "links"),
    ("a", "animate"),
    ("z/Z", "zoom"),
    ("r", "rewind"),
    ("n/l", "log filter"),
)
KEY_STYLE = "bold #ffaf00"


def key_line(width: int, keys=KEYS) -> Text:
    """As many ``key what`` pairs as fit in ``width`` cells, two spaces apart."""
    out = Text(no_wrap=True, overflow="crop")
    for key, what in keys:
        need = len(key) + 1 + len(what) + (2 if out else 0)
        if out.cell_len + need > width:
            break
        if out:
            out.append("  ")
        out.append(key, KEY_STYLE)
        out.append(" " + what)
    return out


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    keys = KEYS

    def render(self) -> Text:
        return key_line(self.content_region.width, self.keys)
