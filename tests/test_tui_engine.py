"""The TUI engine thread shares the interpreter with the UI: while a picture is being drawn it
stands aside (a key still wakes it at once), and a run that cannot keep up leaves drawing at
most its share of the time. Without this a busy run made each picture wait for the lock
hundreds of times (0.8 pictures/s and keys answered in 1.5 s at x10 with 100 nodes)."""

from __future__ import annotations

import statistics
import threading
import time

from meshnet.tui.engine import UI_SHARE, UI_WAIT_S, EngineThread, FrameReady
from meshnet.tui.launch import sim_factory

BUSY_100 = ["nodes.count=100", "traffic.0.jitter=0"]  # cannot keep up with x100 here
DRAW_S = 0.1  # how long the pretend UI takes to draw one picture (< UI_WAIT_S)


class PretendUI:
    """Takes each frame the engine posts and 'draws' it for DRAW_S on its own thread, noting
    the simulated time when it took the frame and when it finished."""

    def __init__(self) -> None:
        self.engine: EngineThread | None = None
        self.draws: list[tuple[float, float, float, int]] = []  # (wall, now taken, now drawn, sel)
        self.hold = threading.Event()  # set: busy with the current picture (no new one taken)
        self.drawing = threading.Event()  # a picture was taken and is not drawn yet
        self._lock = threading.Lock()

    def post(self, item) -> None:
        if isinstance(item, FrameReady) and not self.hold.is_set():
            threading.Thread(target=self._draw, daemon=True).start()

    def _draw(self) -> None:
        engine = self.engine
        frame = engine.take()
        if frame is None:
            return
        self.drawing.set()
        taken_at = engine.view.now
        wall = time.monotonic()
        time.sleep(DRAW_S)
        while self.hold.is_set():
            time.sleep(0.005)
        with self._lock:
            self.draws.append((wall, taken_at, engine.view.now, frame.picture.selected))
        self.drawing.clear()
        engine.drawn()


def start(speed: float) -> tuple[EngineThread, PretendUI]:
    factory = sim_factory("broch", BUSY_100)
    ui = PretendUI()
    engine = EngineThread(factory, factory(None), ui.post, paused=False, speed=speed)
    ui.engine = engine
    engine.start()
    return engine, ui


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_time_stands_still_while_a_picture_is_drawn_and_drawing_gets_its_share():
    engine, ui = start(speed=100.0)
    try:
        wait_for(lambda: len(ui.draws) >= 22)
    finally:
        engine.stop()
    draws = ui.draws[10:]  # once the engine has learnt how long drawing takes
    assert all(drawn == taken for _, taken, drawn, _ in draws), draws  # no advance meanwhile
    assert draws[-1][2] > draws[0][1]  # but time runs between pictures
    gaps = [b[0] - a[0] for a, b in zip(draws, draws[1:])]
    assert statistics.median(gaps) >= 0.8 * DRAW_S / UI_SHARE, gaps


def test_a_key_does_not_wait_for_the_picture_being_drawn():
    engine, ui = start(speed=100.0)
    try:
        wait_for(lambda: len(ui.draws) >= 3)
        wait_for(ui.drawing.is_set)
        ui.hold.set()  # the UI keeps drawing its current picture ...
        assert ui.drawing.is_set()
        count = len(ui.draws)
        sent = time.monotonic()
        engine.send("select", 7)  # ... and a key arrives meanwhile
        wait_for(lambda: engine.frame_waiting, timeout=UI_WAIT_S)
        answered = time.monotonic() - sent
        frame = engine.take()
        assert frame.picture.selected == 7
        assert answered < UI_WAIT_S, answered
        assert len(ui.draws) == count  # the picture being drawn was still unfinished
    finally:
        ui.hold.clear()
        engine.stop()
