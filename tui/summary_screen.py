"""The end of a run: the same summary `meshnet run` prints, over the last picture."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..report import print_summary

WIDTH = 80  # the summary tables fit without wrapping their rows


def summary_text(result: dict[str, Any], width: int = WIDTH - 6) -> Text:
    """`meshnet run`'s summary tables as styled text."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system="truecolor",
                      legacy_windows=False)
    print_summary(result, console)
    return Text.from_ansi(out.getvalue().rstrip("\n"))


class SummaryScreen(ModalScreen[str | None]):
    """Dismissed with escape (look at the final state), ``r`` (run again) or ``q`` (quit)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "dismiss('restart')", "Run again"),
        Binding("q", "dismiss('quit')", "Quit"),
    ]

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        self.result = result
        self._text = summary_text(result)

    def summary_text(self) -> str:
        return self._text.plain

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-box"):
            yield Static("[b]run finished[/b]", id="summary-title")
            yield Static(self._text, id="summary-tables")
            yield Static("[dim]escape: look at the final state · r: run again · q: quit[/dim]",
                         id="summary-close")
