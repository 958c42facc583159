"""The meshnet terminal UI.

The engine runs in a thread worker: it advances time at the chosen speed and posts a
:class:`~meshnet.tui.view.Picture` for each screen update. Widgets only draw pictures; every
engine call (advance, picture, move, kill) holds one lock, so the engine is never read while it
runs and the screen never shows a half-updated state.
"""

from __future__ import annotations

import threading
import time
from typing import Sequence

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer
from textual.worker import get_current_worker

from ..scenario import ScenarioError
from .event_log import KIND_FILTERS, EventLog
from .help_screen import HelpScreen
from .launch import ViewFactory
from .map_panel import MapPanel
from .status_bar import StatusBar, format_speed
from .table_panel import RoutingTable
from .view import EngineView, Picture

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
UPDATE_INTERVAL = 1 / 15  # seconds between screen updates
MAX_STEP_WALL = 0.5  # never try to catch up more than this much wall time in one update
MOVE_FRACTION = 1 / 40  # one arrow press moves a node this fraction of the area's longer side


class PictureReady(Message):
    def __init__(self, picture: Picture) -> None:
        self.picture = picture
        super().__init__()


class MeshApp(App[None]):
    """Watch routes form and break while nodes move."""

    CSS_PATH = "meshnet.tcss"
    TITLE = "meshnet"
    ENABLE_COMMAND_PALETTE = False  # every column of the footer is needed for our keys
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("tab", "select_node(1)", "Node", priority=True),
        Binding("shift+tab", "select_node(-1)", "Prev node", show=False, priority=True),
        Binding("up", "move(0, -1)", "Move", show=False),
        Binding("down", "move(0, 1)", "Move", show=False),
        Binding("left", "move(-1, 0)", "Move", show=False),
        Binding("right", "move(1, 0)", "Move", show=False),
        Binding("f", "next_flow", "Flow"),
        Binding("k", "kill", "Kill"),
        Binding("p", "switch_protocol", "Proto"),
        Binding("r", "restart", "Restart"),
        Binding("s", "step", "Step", show=False),
        Binding("n", "filter_node", "Log node", show=False),
        Binding("l", "filter_kind", "Log kind", show=False),
    ]

    paused: reactive[bool] = reactive(False)
    speed: reactive[float] = reactive(1.0)
    selected: reactive[int] = reactive(0)
    flow: reactive[int] = reactive(0)

    def __init__(self, factory: ViewFactory, *, protocols: Sequence[str] = (),
                 paused: bool = False, speed: float = 1.0, start_at: float = 0.0) -> None:
        super().__init__()
        self.factory = factory
        self.protocols = list(protocols)
        self.view: EngineView = factory(None)
        self.engine_lock = threading.Lock()
        self.last_picture: Picture | None = None
        self.updates = 0  # screen updates drawn (the benchmark reads this)
        self._picture_queued = False
        self._start_at = start_at
        # Set before mount so no watcher fires from the engine thread on first read.
        self.set_reactive(MeshApp.paused, paused)
        self.set_reactive(MeshApp.speed, speed)
        self.set_reactive(MeshApp.selected, 0)
        self.set_reactive(MeshApp.flow, 0)

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        with Horizontal(id="main"):
            yield MapPanel(self.view.area, id="map")
            yield RoutingTable(id="table")
        yield EventLog(id="log")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#log", EventLog).border_title = "events"
        self._describe_map()
        if self._start_at > 0:
            with self.engine_lock:
                self.view.advance(self._start_at)
        self.show_now()
        self.drive_engine()

    def _describe_map(self) -> None:
        w, h = self.view.area
        panel = self.query_one("#map", MapPanel)
        panel.area = self.view.area
        panel.border_title = f"{self.view.scenario_name} · {w:g}×{h:g} m · {self.view.backend}"

    # --- the engine worker -----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="engine", name="engine")
    def drive_engine(self) -> None:
        """Advance time at ``speed`` × wall time and post one picture per update interval."""
        worker = get_current_worker()
        view = self.view
        last = deadline = time.monotonic()
        while not worker.is_cancelled:
            # Sleep to the next deadline, not a fixed interval, so engine work and drawing
            # do not slow the update rate down.
            deadline = max(deadline + UPDATE_INTERVAL, time.monotonic())
            time.sleep(max(0.0, deadline - time.monotonic()))
            if self._picture_queued:
                continue  # the screen is behind: let time accumulate and catch up next round
            now = time.monotonic()
            elapsed, last = min(now - last, MAX_STEP_WALL), now
            if self.paused:
                continue
            speed, selected, flow = self.speed, self.selected, self.flow
            with self.engine_lock:
                if worker.is_cancelled:
                    return
                if view.controls_time:
                    view.advance(view.now + elapsed * speed)
                picture = view.picture(selected, flow)
            self._picture_queued = True
            self.post_message(PictureReady(picture))

    def on_picture_ready(self, message: PictureReady) -> None:
        self._picture_queued = False
        self.draw(message.picture)

    def show_now(self) -> None:
        """Take a picture on the UI thread (after a key changed something) and draw it."""
        selected, flow = self.selected, self.flow
        with self.engine_lock:
            picture = self.view.picture(selected, flow)
        self.draw(picture)

    def draw(self, picture: Picture) -> None:
        self.last_picture = picture
        self.updates += 1
        self.query_one("#map", MapPanel).picture = picture
        node = picture.nodes[picture.selected] if picture.nodes else None
        table = self.query_one("#table", RoutingTable)
        if node is not None:
            table.border_title = f"routes of {node.name}" + ("" if node.alive else " (dead)")
            table.border_subtitle = node.address
            table.show(node.name, picture.table)
        self.query_one("#log", EventLog).add(picture.events)
        self._draw_status()

    def _draw_status(self) -> None:
        picture = self.last_picture
        if picture is None:
            return
        view = self.view
        self.query_one("#status-bar", StatusBar).show(
            now=picture.now, duration=view.duration, paused=self.paused,
            speed=format_speed(self.speed) if view.controls_time else "real time",
            protocol=view.protocol, radio=view.radio, stats=picture.stats)
        if view.flows:
            f = view.flows[self.flow % len(view.flows)]
            names = picture.nodes
            state = "" if picture.route_complete else " · no route"
            self.query_one("#map", MapPanel).border_subtitle = (
                f"flow {f.id}: {names[f.src].name} → {names[f.dst].name}{state}")

    # --- reactive watchers -----------------------------------------------------------------
    def watch_paused(self) -> None:
        self._draw_status()

    def watch_speed(self) -> None:
        self._draw_status()

    # --- actions ---------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def action_step(self, seconds: float = 1.0) -> None:
        """Advance a paused simulation by ``seconds`` of simulated time."""
        if not self.view.controls_time:
            return
        with self.engine_lock:
            self.view.advance(self.view.now + seconds)
        self.show_now()

    def action_select_node(self, delta: int) -> None:
        self.selected = (self.selected + delta) % self.view.node_count

    def watch_selected(self) -> None:
        if self.is_mounted:
            log = self.query_one("#log", EventLog)
            if log.node_filter is not None:
                log.set_filter(self._selected_name(), log.kind_filter)
            self.show_now()

    @on(MapPanel.NodeClicked)
    def select_clicked(self, message: MapPanel.NodeClicked) -> None:
        self.selected = message.index

    def action_move(self, dx: int, dy: int) -> None:
        picture = self.last_picture
        if picture is None:
            return
        node = picture.nodes[self.selected]
        step = max(self.view.area) * MOVE_FRACTION
        with self.engine_lock:
            self.view.move(self.selected, node.x + dx * step, node.y + dy * step)
        self.show_now()

    def action_next_flow(self) -> None:
        if self.view.flows:
            self.flow = (self.flow + 1) % len(self.view.flows)
            self.show_now()

    def action_kill(self) -> None:
        if not self.view.can_kill:
            self.notify("kill/revive is not available on this backend", severity="warning")
            return
        with self.engine_lock:
            alive = self.view.toggle_alive(self.selected)
        self.notify(f"{self._selected_name()} {'revived' if alive else 'killed'}")
        self.show_now()

    def action_restart(self) -> None:
        self._restart(None)

    def action_switch_protocol(self) -> None:
        if not self.protocols:
            self.notify("no other protocol registered", severity="warning")
            return
        current = self.view.protocol
        i = self.protocols.index(current) if current in self.protocols else -1
        self._restart(self.protocols[(i + 1) % len(self.protocols)])

    def _restart(self, protocol: str | None) -> None:
        """Rebuild the run from the scenario (optionally with another protocol)."""
        protocol = protocol or self.view.protocol
        self.workers.cancel_group(self, "engine")
        with self.engine_lock:
            try:
                new_view = self.factory(protocol)
            except ScenarioError as e:
                self.notify(str(e), severity="error", timeout=8)
                self.drive_engine()
                return
            self.view.close()
            self.view = new_view
        self.selected = min(self.selected, self.view.node_count - 1)
        self.flow = 0
        log = self.query_one("#log", EventLog)
        log.entries.clear()
        log.clear()
        self.query_one("#table", RoutingTable).show("", ())
        self._describe_map()
        self.notify(f"restarted with {self.view.protocol}")
        self.show_now()
        self.drive_engine()

    def action_filter_node(self) -> None:
        log = self.query_one("#log", EventLog)
        node = None if log.node_filter else self._selected_name()
        log.set_filter(node, log.kind_filter)

    def action_filter_kind(self) -> None:
        log = self.query_one("#log", EventLog)
        i = KIND_FILTERS.index(log.kind_filter)
        log.set_filter(log.node_filter, KIND_FILTERS[(i + 1) % len(KIND_FILTERS)])

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.BINDINGS))

    def _selected_name(self) -> str:
        picture = self.last_picture
        return picture.nodes[self.selected].name if picture else ""

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "engine")
        with self.engine_lock:
            self.view.close()
