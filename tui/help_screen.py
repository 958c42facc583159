"""The `?` screen: every key the app understands."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("space", "pause / resume"),
    ("+ / -", "faster / slower (sim backend)"),
    ("s", "step one second while paused"),
    ("tab / shift+tab", "select the next / previous node"),
    ("arrows", "move the selected node"),
    ("click", "select the node under the mouse"),
    ("f", "cycle the highlighted flow"),
    ("k", "kill / revive the selected node"),
    ("p", "switch protocol and restart"),
    ("r", "restart the scenario"),
    ("n", "log: only the selected node / everyone"),
    ("l", "log: cycle kinds (routes, control, links, nodes)"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold yellow")
        table.add_column()
        for key, text in KEYS:
            table.add_row(key, text)
        with Vertical(id="help-box"):
            yield Static("[b]meshnet tui[/b] — keys", id="help-title")
            yield Static(table)
            yield Static("[dim]escape or ? to close[/dim]")
