"""The engine thread: owns the backend, runs time and takes the pictures the UI draws.

The UI never calls the engine. Every key becomes a command on a queue (select, move, kill,
step, speed, restart ...); the engine thread applies commands between short slices of simulated
time (each about :data:`SLICE_WALL_S` of work), and after each change or every
:data:`UPDATE_INTERVAL` it posts a picture. So a key waits at most one slice plus one picture,
however slowly the simulation runs, and the screen shows the speed actually achieved next to the
one asked for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable

from ..scenario import ScenarioError
from .frame_trail import window_for
from .launch import ViewFactory
from .view import EngineView, FlowInfo, Picture

UPDATE_INTERVAL = 1 / 15  # wall seconds between two pictures while time runs
SLICE_WALL_S = 0.02       # aim for slices of simulated time that take this much wall time
MAX_LAG_WALL_S = 0.25     # a simulation that cannot keep up drops debt older than this
SPEED_WINDOW_S = 2.0      # the achieved speed is measured over this much wall time
MIN_SLICE_S = 1e-4        # simulated seconds
IDLE_WAIT_S = 0.25        # paused: how long the thread sleeps between looks at its queue
UI_WAIT_S = 0.25          # the longest the engine yields to a UI still drawing a picture
UI_SHARE = 0.5            # a run that cannot keep up leaves the UI at most this share of time


@dataclass(frozen=True, slots=True)
class Header:
    """What does not change during a run: the UI reads it instead of the engine."""

    scenario_name: str
    backend: str
    protocol: str
    radio: str
    area: tuple[float, float]
    duration: float
    flows: tuple[FlowInfo, ...]
    node_count: int
    controls_time: bool
    can_kill: bool
    per_packet: bool
    generation: int  # bumped by every restart
    can_move: bool = True   # nodes can be moved by hand (not in a replay)
    can_seek: bool = False  # time can go backwards (a replay)

    @classmethod
    def of(cls, view: EngineView, generation: int) -> "Header":
        return cls(view.scenario_name, view.backend, view.protocol, view.radio, view.area,
                   view.duration, view.flows, view.node_count, view.controls_time,
                   view.can_kill, view.per_packet, generation,
                   getattr(view, "can_move", True), getattr(view, "can_seek", False))


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture with what the engine thread knows about it."""

    picture: Picture
    header: Header
    ack: int                      # every command up to this number is in the picture
    paused: bool
    speed: float                  # asked for
    actual_speed: float | None    # achieved over the last seconds (None: not running)
    finished: bool                # simulated time reached the end of the scenario


@dataclass(frozen=True, slots=True)
class Summary:
    """The run reached its end: `meshnet run`'s metrics."""

    result: dict
    generation: int


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    severity: str = "information"


class FrameReady:
    """Posted when a new frame waits in :meth:`EngineThread.take` (at most one is pending)."""


class EngineThread:
    """Runs an :class:`EngineView` on its own thread; ``post`` receives :class:`FrameReady` and
    :class:`Notice` objects (from that thread: it must be thread-safe).

    Frames do not queue up: the newest one waits in a slot that the UI empties with
    :meth:`take`. A newer frame replaces one the UI has not taken yet, so the UI always draws the
    latest state and never works through stale ones; while a frame waits, the engine takes no
    new periodic picture (only commands make one), so it does no work the UI cannot show.

    Both threads share one interpreter lock. A simulation running flat out would hold it almost
    all the time, and the UI, which gives it up at every turn of its event loop, would need
    seconds to draw one picture (a lock convoy). So the engine stands aside while a picture it
    posted is being drawn: :meth:`drawn` (called by the UI after the screen is refreshed) lets
    it go on, or :data:`UI_WAIT_S` passes. When the run cannot keep up with the speed asked for,
    pictures come less often, so that drawing takes at most :data:`UI_SHARE` of the time; the
    status bar shows the speed actually achieved."""

    def __init__(self, factory: ViewFactory, view: EngineView, post: Callable[[Any], Any], *,
                 paused: bool, speed: float, start_at: float = 0.0) -> None:
        self.factory = factory
        self.view = view
        self.post = post
        self.header = Header.of(view, 0)
        self.paused = paused
        self.speed = speed
        self.selected = 0
        self.flow = 0
        self.inspecting = False
        self.link: int | None = None  # the inspector's picked link (None: none)
        self.animating = False
        self._start_at = start_at
        self._commands: queue.SimpleQueue[tuple[int, str, tuple]] = queue.SimpleQueue()
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._ack = 0
        self._stop = threading.Event()
        self._slot_lock = threading.Lock()
        self._latest: Frame | None = None  # the newest frame the UI has not taken yet
        self._want_picture = True
        self._ui_idle = threading.Event()  # clear while the UI draws a picture
        self._ui_idle.set()
        self._posted_at = 0.0
        self._draw_wall = 0.0  # running estimate of the wall time the UI takes per picture
        self._summarised = False
        self._wall_per_sim = 0.01  # running estimate of wall seconds per simulated second
        self._progress: deque[tuple[float, float]] = deque()  # (wall, simulated) samples
        self._thread = threading.Thread(target=self._main, name="meshnet-engine", daemon=True)

    # --- the UI's side (any thread) ---------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def send(self, command: str, *args: Any) -> int:
        """Queue a command; returns its number (pictures carry the last number applied)."""
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        self._commands.put((seq, command, args))
        self._ui_idle.set()  # a command does not wait for the picture being drawn
        return seq

    def take(self) -> Frame | None:
        """The newest frame not taken yet (None: there is none)."""
        with self._slot_lock:
            frame, self._latest = self._latest, None
        return frame

    def drawn(self) -> None:
        """The UI has drawn the pictures it took: the engine may use the interpreter again."""
        if not self._ui_idle.is_set():
            took = time.monotonic() - self._posted_at
            self._draw_wall += 0.3 * (min(took, UI_WAIT_S) - self._draw_wall)
        self._ui_idle.set()

    @property
    def frame_waiting(self) -> bool:
        return self._latest is not None

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._commands.put((0, "wake", ()))
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # --- the engine thread --------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._loop()
        except Exception as e:  # the UI stays up and says why the engine stopped
            self.post(Notice(f"engine stopped: {type(e).__name__}: {e}", "error"))
            raise
        finally:
            try:
                self.view.close()
            except Exception:
                pass

    def _loop(self) -> None:
        view = self.view
        if self._start_at > 0 and view.controls_time:
            view.advance(self._start_at)
        last = time.monotonic()
        target = self.view.now
        next_picture = last
        while not self._stop.is_set():
            self._apply_commands(block_for=0.0)
            if self._stop.is_set():
                return
            view = self.view
            now = time.monotonic()
            # live: pictures keep coming; running: the engine also advances time
            live = not self.paused and (not view.controls_time
                                        or view.now < self.header.duration)
            running = live and view.controls_time
            if running:
                target = max(target, view.now) + self.speed * min(now - last, MAX_LAG_WALL_S)
                target = min(target, view.now + self.speed * MAX_LAG_WALL_S, self.header.duration)
                behind = not self._run_to(target, next_picture)
            else:
                target = view.now
                behind = False
                self._progress.clear()
            last = now
            if view.now >= self.header.duration and not self._summarised:
                self._summarise()
            now = time.monotonic()
            if self._want_picture or (live and now >= next_picture and not self.frame_waiting):
                self._post_picture()
                interval = UPDATE_INTERVAL
                if behind:  # time is short: drawing gets at most its share
                    interval = max(interval, self._draw_wall / UI_SHARE)
                next_picture = max(next_picture + interval, now)
            # Sleep until the next picture is due (or, idle, until a command comes).
            if running and self.view.now < target:
                wait = 0.0
            elif live:
                wait = max(0.0, next_picture - time.monotonic())
            else:
                wait = IDLE_WAIT_S
            if wait > 0:
                self._apply_commands(block_for=wait)

    def _run_to(self, target: float, deadline: float) -> bool:
        """Advance towards ``target`` in slices until it is reached, the next picture is due,
        or a command waits; says whether it was reached."""
        view = self.view
        while view.now < target and not self._stop.is_set():
            if not self._ui_idle.is_set():
                self._ui_idle.wait(UI_WAIT_S)
                self._ui_idle.set()  # a UI that never answers slows the run, never stops it
                if not self._commands.empty():
                    return False
            step = max(MIN_SLICE_S, SLICE_WALL_S / max(self._wall_per_sim, 1e-6))
            until = min(target, view.now + step)
            t0 = time.perf_counter()
            before = view.now
            view.advance(until)
            spent = time.perf_counter() - t0
            advanced = view.now - before
            if advanced > 0:
                rate = spent / advanced
                self._wall_per_sim += 0.3 * (rate - self._wall_per_sim)
            else:
                return True  # the view cannot go further (end of the scenario)
            wall = time.monotonic()
            self._progress.append((wall, view.now))
            while self._progress and wall - self._progress[0][0] > SPEED_WINDOW_S:
                self._progress.popleft()
            if not self._commands.empty() or wall >= deadline:
                return view.now >= target
        return True

    def _summarise(self) -> None:
        self._summarised = True
        self._post_picture()  # the state at the end, before the protocols are stopped
        result = self.view.summary()
        if result is not None:
            self.post(Summary(result, self.header.generation))

    def _actual_speed(self) -> float | None:
        if self.paused or len(self._progress) < 2:
            return None
        (w0, s0), (_, s1) = self._progress[0], self._progress[-1]
        wall = time.monotonic() - w0
        return (s1 - s0) / wall if wall > 0.2 else None

    def _post_picture(self) -> None:
        view = self.view
        picture = view.picture(self.selected, self.flow)
        if self.inspecting:
            picture = replace(picture, detail=view.detail(self.selected, self.link))
        finished = view.now >= self.header.duration
        self._want_picture = False
        frame = Frame(picture, self.header, self._ack, self.paused, self.speed,
                      self._actual_speed(), finished)
        with self._slot_lock:
            pending = self._latest
            if (pending is not None and pending.picture.events
                    and not picture.rewound):  # the log loses nothing (unless it starts over)
                frame = replace(frame, picture=replace(
                    picture, events=pending.picture.events + picture.events,
                    rewound=pending.picture.rewound))
            self._latest = frame
        if pending is None:
            self._posted_at = time.monotonic()
            self._ui_idle.clear()
            self.post(FrameReady())

    # --- commands -------------------------------------------------------------------------------
    def _apply_commands(self, block_for: float) -> None:
        try:
            item = (self._commands.get(timeout=block_for) if block_for > 0
                    else self._commands.get_nowait())
        except queue.Empty:
            return
        while True:
            seq, command, args = item
            if command != "wake":
                getattr(self, f"_do_{command}")(*args)
                self._ack = max(self._ack, seq)
                self._want_picture = True
            try:
                item = self._commands.get_nowait()
            except queue.Empty:
                return

    def _do_select(self, i: int) -> None:
        i %= max(self.header.node_count, 1)
        if i != self.selected:
            self.link = None  # a link belongs to the node it was picked on
        self.selected = i

    def _do_inspect(self, on: bool) -> None:
        self.inspecting = on

    def _do_link(self, step: int) -> None:
        """Pick the selected node's next (step 1) or previous link, or none (step 0)."""
        if step == 0:
            self.link = None
            return
        count = len(self.view.detail(self.selected, None).links)
        if count == 0:
            self.link = None
        elif self.link is None:
            self.link = 0 if step > 0 else count - 1
        else:
            self.link = (self.link + step) % count

    def _do_animate(self, on: bool) -> None:
        self.animating = on
        self.view.set_animation(window_for(self.speed) if on else None)

    def _do_seek(self, t: float) -> None:
        view = self.view
        if getattr(view, "can_seek", False):
            view.seek(t)
            self._progress.clear()
            if view.now < self.header.duration:
                self._summarised = False

    def _do_flow(self, k: int) -> None:
        self.flow = k

    def _do_pause(self, paused: bool) -> None:
        self.paused = paused
        self._progress.clear()

    def _do_speed(self, speed: float) -> None:
        self.speed = speed
        self._progress.clear()
        if self.animating:
            self.view.set_animation(window_for(speed))

    def _do_step(self, seconds: float) -> None:
        view = self.view
        if seconds < 0 or getattr(view, "can_seek", False):
            self._do_seek(view.now + seconds)
        elif view.controls_time:
            view.advance(view.now + seconds)

    def _do_move(self, i: int, dx: float, dy: float) -> None:
        if not getattr(self.view, "can_move", True):
            self.post(Notice("a recorded run cannot be changed: nodes stay where they were",
                             "warning"))
            return
        x, y = self.view.position(i)
        self.view.move(i, x + dx, y + dy)

    def _do_kill(self, i: int) -> None:
        if not self.view.can_kill:
            self.post(Notice(f"kill/revive is not available on {self.view.backend}", "warning"))
            return
        alive = self.view.toggle_alive(i)
        name = self.view.node_name(i)
        self.post(Notice(f"{name} {'revived' if alive else 'killed'}"))

    def _do_restart(self, protocol: str | None) -> None:
        try:
            new_view = self.factory(protocol or self.view.protocol)
        except ScenarioError as e:
            self.post(Notice(str(e), "error"))
            return
        self.view.close()
        self.view = new_view
        self.header = Header.of(new_view, self.header.generation + 1)
        self.selected = min(self.selected, new_view.node_count - 1)
        self.flow = 0
        self.link = None
        self._summarised = False
        self._progress.clear()
        if self.animating:
            new_view.set_animation(window_for(self.speed))
        self.post(Notice(f"restarted with {new_view.protocol}"))
