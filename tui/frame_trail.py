"""Packet animation: the frames sent over the last moments, as marks travelling their links.

A frame takes well under a millisecond of air time, far too short to see, so each frame is drawn
moving from its sender to its receiver over a *window* of simulated time after it was sent (the
engine sizes the window to the playback speed, so a frame crosses in about half a second of
real time). Only the newest :data:`MAX_MARKS` marks are drawn: a busy run sends thousands of
frames per second.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable

from .view import FrameMark

MAX_MARKS = 400  # frames drawn at once at most (the newest)
WALL_S = 0.5     # real seconds a frame takes to cross its link on screen
MIN_WINDOW_S = 1e-3


def window_for(speed: float) -> float:
    """Simulated seconds a frame stays on screen at playback ``speed``."""
    return max(MIN_WINDOW_S, WALL_S * speed)


def frame_marks(frames: Iterable[tuple[float, int, int, bool]], now: float,
                window: float) -> tuple[FrameMark, ...]:
    """Marks for ``(time sent, sender, receiver, is data)`` frames still within ``window`` of
    ``now`` (the newest :data:`MAX_MARKS`)."""
    out = []
    for t, i, j, data in frames:
        age = now - t
        if 0.0 <= age <= window:
            out.append(FrameMark(i, j, age / window, data))
    return tuple(out[-MAX_MARKS:])


class FrameTrail:
    """Frames as a live backend reports them; the oldest fall out of a bounded deque."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._frames: deque[tuple[float, int, int, bool]] = deque(maxlen=4 * MAX_MARKS)

    def add(self, t: float, sender: int, receivers: Iterable[int], data: bool) -> None:
        for j in receivers:
            self._frames.append((t, sender, j, data))

    def marks(self, now: float) -> tuple[FrameMark, ...]:
        frames = self._frames
        while frames and now - frames[0][0] > self.window:
            frames.popleft()
        return frame_marks(list(frames), now, self.window)
