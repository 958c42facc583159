"""The `?` screen: every key the app binds, generated from its bindings so none is left out."""

from __future__ import annotations

from typing import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from . import palette

# What each action does, in words; a bound action missing here shows its binding's description.
ACTION_HELP = {
    "toggle_pause": "pause / resume",
    "faster": "faster (simulator and replay)",
    "slower": "slower (simulator and replay)",
    "step": "step 1 s while paused; b back, [ ] ±10 s (back: replay only)",
    "goto": "replay: go to a time (asks for it)",
    "inspect": "inspector: the selected node's figures and links (instead of its routes)",
    "next_link": "inspector: pick the selected node's next / previous link",
    "animate": "packet animation: frames travelling their links (slow speeds, small runs)",
    "link_mode": "map links: all / the selected node's / the route only",
    "zoom": "zoom the map in / out (in: around the selected node)",
    "fit": "zoom: the whole area again",
    "pan": "pan the zoomed map",
    "select_node": "select the next / previous node",
    "move": "move the selected node",
    "next_flow": "cycle the flow whose route is highlighted",
    "kill": "kill / revive the selected node (not in a replay)",
    "switch_protocol": "switch to the next protocol and restart",
    "restart": "restart the scenario (replay: back to its start)",
    "filter_node": "log: only events of the selected node / everyone",
    "filter_kind": "log: cycle kinds (all, routes, control, links, nodes)",
    "help": "this help",
    "quit": "quit",
}
# How keys are written on this screen.
KEY_NAMES = {"question_mark": "?", "plus": "+", "equals_sign": "+", "minus": "-",
             "up": "arrows", "down": "arrows", "left": "arrows", "right": "arrows",
             "left_square_bracket": "[", "right_square_bracket": "]",
             "shift+up": "shift+arrows", "shift+down": "shift+arrows",
             "shift+left": "shift+arrows", "shift+right": "shift+arrows"}
KEY_WIDTH = 20  # the key column; longer key lists wrap
PAN_LETTERS = ("H", "J", "K", "L")  # written as one key group, "HJKL"
EXTRA_ROWS = (("click", "select the node under the mouse pointer; replay: seek on the slider"),)


def key_rows(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """One row per action: the keys bound to it and what it does, in binding order."""
    keys: dict[str, list[str]] = {}
    text: dict[str, str] = {}
    for b in bindings:
        action = b.action.split("(", 1)[0]
        names = keys.setdefault(action, [])
        text.setdefault(action, ACTION_HELP.get(action, b.description))
        for key in b.key.split(","):
            name = KEY_NAMES.get(key.strip(), key.strip())
            if name not in names:
                names.append(name)
    for names in keys.values():
        if all(k in names for k in PAN_LETTERS):
            names[:] = [k for k in names if k not in PAN_LETTERS] + ["".join(PAN_LETTERS)]
    rows = [(" / ".join(names), text[action]) for action, names in keys.items()]
    return rows + list(EXTRA_ROWS)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.rows = key_rows(bindings)

    def help_text(self) -> str:
        return "\n".join(f"{key}  {text}" for key, text in self.rows)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", max_width=KEY_WIDTH)
        table.add_column()
        for key, text in self.rows:
            table.add_row(key, text)
        colours = Table.grid(padding=(0, 2))
        colours.add_column(no_wrap=True)
        colours.add_column()
        for symbol, style, name, meaning in palette.LEGEND:
            colours.add_row(Text(symbol * (2 if symbol == "━" else 1), style=style),
                            Text.assemble((name, "bold"), f": {meaning}"))
        with VerticalScroll(id="help-box"):
            yield Static("[b]meshnet tui[/b] — keys  [dim](↑ ↓ PgUp PgDn scroll · escape "
                         "or ? closes)[/dim]", id="help-title")
            yield Static(table, id="help-keys")
            yield Static("[b]colours[/b]", id="help-colours-title")
            yield Static(colours, id="help-colours")
            yield Static("[dim]escape or ? to close[/dim]", id="help-close")
