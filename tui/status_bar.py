"""The status bar: time, speed, protocol, radio, delivery and overhead, with sparklines."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline, Static

from .palette import FAULT
from .view import Stats


def format_speed(speed: float) -> str:
    return f"×{speed:g}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def delivery_markup(stats: Stats) -> str:
    """Unicast PDR (delivered/sent) and, when the run has multicast traffic, the multicast
    delivery ratio (member deliveries made/due), each as `meshnet run` reports it."""
    unicast = f"PDR [b]{_ratio(stats.pdr)}[/b] {stats.delivered}/{stats.sent}"
    if not stats.mcast_expected:
        return unicast
    mcast = (f"mcast [b]{_ratio(stats.mcast_pdr)}[/b] "
             f"{stats.mcast_delivered}/{stats.mcast_expected}")
    return mcast if not stats.sent else f"{unicast}  {mcast}"


class StatusBar(Horizontal):
    """Two lines: the figures, then the PDR and control-overhead sparklines."""

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")
        yield Label("PDR", classes="spark-label")
        yield Sparkline([], id="pdr-spark")
        yield Label("ctl/s", classes="spark-label")
        yield Sparkline([], id="overhead-spark")

    def on_mount(self) -> None:
        self.text = self.query_one("#status-text", Static)
        self.pdr_spark = self.query_one("#pdr-spark", Sparkline)
        self.overhead_spark = self.query_one("#overhead-spark", Sparkline)

    def show(self, *, now: float, duration: float, paused: bool, speed: str, protocol: str,
             radio: str, stats: Stats) -> None:
        state = "⏸" if paused else "▶"
        text = Text.from_markup(
            f"{state} [b]{now:7.1f}[/b]/{duration:g}s {speed}  [b]{protocol}[/b] {radio}\n"
            f"{delivery_markup(stats)}  ctl {stats.control_packets}")
        if stats.delivered:
            text.append(f" ({stats.control_packets / stats.delivered:.1f}/pkt)")
        if stats.faults:
            text.append("  fault: " + ", ".join(stats.faults), style=f"bold {FAULT}")
        text.no_wrap = True  # a narrow terminal crops the line rather than pushing one out
        text.overflow = "ellipsis"
        self.text.update(text, layout=False)  # its size is fixed: no layout pass per picture
        self.pdr_spark.data = list(stats.pdr_history[-40:]) or [0.0]
        self.overhead_spark.data = (
            list(stats.overhead_history[-40:]) or [0.0])
