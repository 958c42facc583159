"""The replay's time slider: where the replay is in the trace, drawn as a bar with a knob; a
click seeks to the time under the pointer."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from . import palette

KNOB = "●"
PLAYED = "━"
AHEAD = "─"


def slider_line(now: float, duration: float, width: int) -> tuple[Text, int, int]:
    """The slider in ``width`` cells, with the cells where its bar starts and ends."""
    left = f"{now:8.2f} s "
    right = f" {duration:.2f} s"
    bar = max(width - len(left) - len(right), 4)
    frac = 0.0 if duration <= 0 else min(max(now / duration, 0.0), 1.0)
    k = min(int(round(frac * (bar - 1))), bar - 1)
    out = Text(no_wrap=True, overflow="crop")
    out.append(left, "bold")
    out.append(PLAYED * k, palette.ROUTE)
    out.append(KNOB, f"bold {palette.ROUTE}")
    out.append(AHEAD * (bar - k - 1), palette.LOG_TIME)
    out.append(right, palette.LOG_TIME)
    return out, len(left), len(left) + bar


class TimeSlider(Widget):
    """One line; posts :class:`TimeSlider.Seek` when clicked."""

    class Seek(Message):
        def __init__(self, t: float) -> None:
            self.t = t
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = 0.0
        self.duration = 0.0

    def show(self, now: float, duration: float) -> None:
        if (now, duration) != (self.now, self.duration):
            self.now, self.duration = now, duration
            self.refresh()

    def render(self) -> Text:
        return slider_line(self.now, self.duration, self.content_region.width)[0]

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        _, start, end = slider_line(self.now, self.duration, self.content_region.width)
        if start <= offset.x < end and end - start > 1:
            frac = (offset.x - start) / (end - start - 1)
            self.post_message(self.Seek(min(max(frac, 0.0), 1.0) * self.duration))
