"""The `g` prompt: jump to a time, given as seconds (``42``, ``42.5s``) or minutes and seconds
(``1:30``). A bad entry is said on the prompt, which stays open."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def parse_time(text: str, duration: float) -> float:
    """Seconds for ``text``; raises ValueError with a message a person can act on."""
    s = text.strip().lower().removesuffix("s").strip()
    try:
        if ":" in s:
            minutes, seconds = s.split(":", 1)
            t = int(minutes) * 60 + float(seconds)
        else:
            t = float(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: write seconds (42.5) or m:ss (1:30)") from None
    if not math.isfinite(t) or not 0 <= t <= duration:
        raise ValueError(f"{text.strip()}: expected a time from 0 to {duration:g} s")
    return t


class GotoScreen(ModalScreen[float | None]):
    """Dismissed with the time asked for, or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, now: float, duration: float) -> None:
        super().__init__()
        self.now = now
        self.duration = duration

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            yield Static(f"[b]go to time[/b] (0 … {self.duration:g} s, now {self.now:.2f} s)")
            yield Input(placeholder="seconds or m:ss", id="goto-input")
            yield Static("", id="goto-error")

    def on_mount(self) -> None:
        self.query_one("#goto-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            t = parse_time(event.value, self.duration)
        except ValueError as e:
            self.query_one("#goto-error", Static).update(f"[red]{e}[/red]")
            return
        self.dismiss(t)
