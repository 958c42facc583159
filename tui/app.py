"""The meshnet terminal UI.

The engine runs on its own thread (:mod:`meshnet.tui.engine`): it advances time at the chosen
speed and posts a :class:`~meshnet.tui.engine.Frame` (a :class:`~meshnet.tui.view.Picture` and
what the status bar needs) for each screen update. The UI thread never touches the engine: keys
become commands on the engine thread's queue, and widgets only draw frames. So the screen stays
responsive however busy the simulation is.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from dataclasses import replace
from typing import Sequence

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.reactive import reactive

from .engine import EngineThread, Frame, FrameReady, Header, Notice, Summary
from .event_log import KIND_FILTERS, EventLog
from .goto_screen import GotoScreen
from .help_screen import HelpScreen
from .inspector_panel import InspectorPanel
from .key_bar import KEYS, REPLAY_KEYS, KeyBar
from .launch import ViewFactory
from .map_panel import ZOOM_STEP, MapPanel
from .status_bar import StatusBar, format_speed
from .summary_screen import SummaryScreen
from .table_panel import RoutingTable
from .time_slider import TimeSlider
from .flow_text import flow_text
from .view import Picture

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
MOVE_FRACTION = 1 / 40  # one arrow press moves a node this fraction of the area's longer side
SEEK_S = 10.0  # `[` / `]` jump this many seconds in a replay
SUBTITLE_FRAME = 6  # cells of the map's bottom edge that its subtitle cannot use
# The UI thread gives up the interpreter lock at every turn of its event loop and must then wait
# for the engine thread to hand it back; a shorter switch interval makes that wait short.
SWITCH_INTERVAL_S = 0.001


class EngineFrame(Message):
    """A new frame waits in the engine's slot."""


class EngineNotice(Message):
    def __init__(self, notice: Notice | Summary) -> None:
        self.notice = notice
        super().__init__()


class MeshApp(App[None]):
    """Watch routes form and break while nodes move."""

    CSS_PATH = "meshnet.tcss"
    TITLE = "meshnet"
    ENABLE_COMMAND_PALETTE = False
    # The layout follows the terminal (meshnet.tcss): map beside the table from 100 columns,
    # above table and log from 60, alone with the table below that; below 18 rows the map only.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (60, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (18, "-tall")]
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
        Binding("b", "step(-1)", "Back", show=False),
        Binding("left_square_bracket", f"step({-SEEK_S})", "Seek back", show=False),
        Binding("right_square_bracket", f"step({SEEK_S})", "Seek on", show=False),
        Binding("n", "filter_node", "Log node", show=False),
        Binding("l", "filter_kind", "Log kind", show=False),
        Binding("g", "goto", "Go to", show=False),
        Binding("i", "inspect", "Inspect", show=False),
        Binding("e", "next_link(1)", "Link", show=False),
        Binding("E", "next_link(-1)", "Prev link", show=False),
        Binding("a", "animate", "Animate", show=False),
        Binding("m", "link_mode", "Links", show=False),
        Binding("z", "zoom(1)", "Zoom in", show=False),
        Binding("Z", "zoom(-1)", "Zoom out", show=False),
        Binding("0", "fit", "Fit", show=False),
        Binding("shift+up,K", "pan(0, -1)", "Pan", show=False),
        Binding("shift+down,J", "pan(0, 1)", "Pan", show=False),
        Binding("shift+left,H", "pan(-1, 0)", "Pan", show=False),
        Binding("shift+right,L", "pan(1, 0)", "Pan", show=False),
    ]

    paused: reactive[bool] = reactive(False)
    speed: reactive[float] = reactive(1.0)
    selected: reactive[int] = reactive(0)
    flow: reactive[int] = reactive(0)
    inspecting: reactive[bool] = reactive(False)
    animating: reactive[bool] = reactive(False)

    def __init__(self, factory: ViewFactory, *, protocols: Sequence[str] = (),
                 paused: bool = False, speed: float = 1.0, start_at: float = 0.0,
                 warning: str = "") -> None:
        super().__init__()
        self.protocols = list(protocols)
        self.start_at = start_at
        self.warning = warning  # said once the screen is up (e.g. a truncated trace)
        self.engine = EngineThread(factory, factory(None), self._from_engine, paused=paused,
                                   speed=speed, start_at=start_at)
        self.header: Header = self.engine.header
        self.last_frame: Frame | None = None
        self.last_picture: Picture | None = None
        self.updates = 0  # screen updates drawn (the benchmark reads this)
        self.drawn_frame: Frame | None = None  # the last frame known to be on the screen
        self.latencies: deque[float] = deque(maxlen=500)  # key -> picture showing it, seconds
        self._sent: dict[int, float] = {}  # command number -> when it was sent
        self._last_sent = 0
        # Set before mount so no watcher sends a command for the initial values.
        self.set_reactive(MeshApp.paused, paused)
        self.set_reactive(MeshApp.speed, speed)
        self.set_reactive(MeshApp.selected, 0)
        self.set_reactive(MeshApp.flow, 0)
        self.set_reactive(MeshApp.inspecting, False)
        self.set_reactive(MeshApp.animating, False)

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        with Container(id="body"):
            yield MapPanel(self.header.area, id="map")
            yield RoutingTable(id="table")
            yield InspectorPanel(id="inspector")
            yield EventLog(id="log")
        yield TimeSlider(id="slider")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        # Kept, not queried: queries look at the active screen, which may be the help screen.
        self.map_panel = self.query_one("#map", MapPanel)
        self.table = self.query_one("#table", RoutingTable)
        self.log_panel = self.query_one("#log", EventLog)
        self.status_bar = self.query_one("#status-bar", StatusBar)
        self.inspector = self.query_one("#inspector", InspectorPanel)
        self.slider = self.query_one("#slider", TimeSlider)
        self.body = self.query_one("#body", Container)
        self.log_panel.border_title = "events"
        self._describe_map()
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL_S))
        self.engine.start()
        if self.warning:
            self.notify(self.warning, severity="warning", timeout=10)
        if self.start_at > 0 and self.header.controls_time and not self.header.can_seek:
            self.notify(f"running to {self.start_at:g} s …", timeout=3)

    def _describe_map(self) -> None:
        h = self.header
        w, ht = h.area
        panel = self.map_panel
        panel.area = h.area
        panel.set_title(f"{h.scenario_name} · {w:g}×{ht:g} m · {h.backend}")
        self.slider.display = h.can_seek
        self.query_one("#keys", KeyBar).keys = REPLAY_KEYS if h.can_seek else KEYS
        self.inspector.border_title = "inspector"

    # --- talking to the engine thread --------------------------------------------------------
    def _from_engine(self, item: FrameReady | Notice) -> None:
        """Runs on the engine thread: hand the item to the UI thread."""
        self.post_message(EngineFrame() if isinstance(item, FrameReady) else EngineNotice(item))

    def send(self, command: str, *args) -> int:
        seq = self.engine.send(command, *args)
        self._sent[seq] = time.monotonic()
        self._last_sent = seq
        return seq

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until a picture that includes every command sent so far is on screen."""
        deadline = time.monotonic() + timeout
        while (self.last_frame is None or self.last_frame.ack < self._last_sent
               or self.drawn_frame is not self.last_frame):
            if time.monotonic() > deadline:
                raise TimeoutError("the engine did not answer")
            await asyncio.sleep(0.005)

    def on_engine_frame(self, message: EngineFrame) -> None:
        frame = self.engine.take()
        if frame is not None:
            self.draw(frame)
        self.call_after_refresh(self._drawn, self.last_frame)

    def _drawn(self, frame: Frame | None) -> None:
        """The screen shows ``frame``: the engine may go on."""
        self.drawn_frame = frame
        self.engine.drawn()

    def on_engine_notice(self, message: EngineNotice) -> None:
        n = message.notice
        if isinstance(n, Summary):
            if n.generation == self.engine.header.generation:
                self.push_screen(SummaryScreen(n.result), self._after_summary)
            return
        self.notify(n.text, severity=n.severity, timeout=8 if n.severity == "error" else 3)

    def _after_summary(self, choice: str | None) -> None:
        if choice == "restart":
            self.action_restart()
        elif choice == "quit":
            self.exit()

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, frame: Frame) -> None:
        if not self.is_mounted:
            return
        if frame.header.generation != self.header.generation:
            self._restarted(frame)
        picture = frame.picture
        self.last_frame = frame
        self.last_picture = picture
        self.updates += 1
        now = time.monotonic()
        for seq in [s for s in self._sent if s <= frame.ack]:
            self.latencies.append(now - self._sent.pop(seq))
        shown = picture if picture.selected == self.selected else replace(
            picture, selected=self.selected % max(len(picture.nodes), 1))
        self.map_panel.picture = shown
        node = picture.nodes[picture.selected] if picture.nodes else None
        table = self.table
        if node is not None:
            table.border_title = f"routes of {node.name}" + ("" if node.alive else " (dead)")
            table.border_subtitle = node.address
            table.show(node.name, picture.table)
        if picture.detail is not None:
            self.inspector.border_title = f"inspector · {picture.detail.name}"
            self.inspector.show(picture.detail)
        if picture.rewound:
            self.log_panel.forget()
        self.log_panel.add(picture.events)
        self._draw_status()

    def _restarted(self, frame: Frame) -> None:
        """The engine runs a new view: start the screen over with its header."""
        self.header = frame.header
        self.set_reactive(MeshApp.selected, frame.picture.selected)
        self.set_reactive(MeshApp.flow, 0)
        self.log_panel.forget()
        self.table.show("", ())
        self._describe_map()

    def _draw_status(self) -> None:
        frame = self.last_frame
        if frame is None:
            return
        picture, h = frame.picture, self.header
        if h.controls_time:
            speed = format_speed(self.speed)
            if frame.actual_speed is not None and not self.paused:
                speed += f" · actual {format_speed(round(frame.actual_speed, 1))}"
        else:
            speed = "real time"
        self.status_bar.show(
            now=picture.now, duration=h.duration, paused=self.paused, speed=speed,
            protocol=h.protocol, radio=h.radio, stats=picture.stats)
        if h.can_seek:
            self.slider.show(picture.now, h.duration)
        if h.flows:
            self.map_panel.border_subtitle = self._flow_text(picture)

    def _flow_text(self, picture: Picture) -> str:
        """The selected flow under the map, fitted to the map's bottom edge."""
        h = self.header
        return flow_text(h.flows[self.flow % len(h.flows)], picture, h.protocol, h.per_packet,
                         self.map_panel.size.width - SUBTITLE_FRAME)

    # --- reactive watchers: each change is a command to the engine ------------------------------
    def watch_paused(self, paused: bool) -> None:
        self.send("pause", paused)
        self._draw_status()

    def watch_speed(self, speed: float) -> None:
        self.send("speed", speed)
        self._draw_status()

    def watch_selected(self, selected: int) -> None:
        self.send("select", selected)
        panel = self.map_panel
        if panel.picture is not None:  # highlight at once; the table follows with the engine
            panel.picture = replace(panel.picture, selected=selected)
        log = self.log_panel
        if log.node_filter is not None:
            log.set_filter(self._selected_name(), log.kind_filter)

    def watch_flow(self, flow: int) -> None:
        self.send("flow", flow)

    def watch_inspecting(self, on: bool) -> None:
        self.body.set_class(on, "-inspecting")
        if not on:
            self.send("link", 0)
        self.send("inspect", on)

    def watch_animating(self, on: bool) -> None:
        self.map_panel.animating = on
        self.send("animate", on)

    # --- actions ---------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def action_step(self, seconds: float = 1.0) -> None:
        """Move time by ``seconds`` (meant for while paused); backwards only in a replay."""
        if seconds < 0 and not self.header.can_seek:
            self.notify("time goes back only in a replay (meshnet tui --replay TRACE)",
                        severity="warning")
        elif self.header.controls_time:
            self.send("step", seconds)

    def action_goto(self) -> None:
        """Ask for a time and jump there (replay)."""
        if not self.header.can_seek:
            self.notify("jumping in time needs a replay (meshnet tui --replay TRACE)",
                        severity="warning")
            return
        now = self.last_picture.now if self.last_picture else 0.0
        self.push_screen(GotoScreen(now, self.header.duration), self._goto)

    def _goto(self, t: float | None) -> None:
        if t is not None:
            self.send("seek", t)

    @on(TimeSlider.Seek)
    def seek_clicked(self, message: TimeSlider.Seek) -> None:
        self.send("seek", message.t)

    def action_inspect(self) -> None:
        self.inspecting = not self.inspecting

    def action_next_link(self, step: int) -> None:
        if not self.inspecting:
            self.inspecting = True
        self.send("link", step)

    def action_animate(self) -> None:
        self.animating = not self.animating

    def action_link_mode(self) -> None:
        """The map draws all links, the selected node's, or only the route (no engine trip)."""
        self.map_panel.cycle_links()

    def action_zoom(self, direction: int) -> None:
        self.map_panel.zoom_by(ZOOM_STEP if direction > 0 else 1 / ZOOM_STEP)

    def action_fit(self) -> None:
        self.map_panel.fit()

    def action_pan(self, dx: int, dy: int) -> None:
        self.map_panel.pan(dx, dy)

    def action_select_node(self, delta: int) -> None:
        self.selected = (self.selected + delta) % self.header.node_count

    @on(MapPanel.Resized)
    def map_resized(self) -> None:
        self._draw_status()  # the flow's line is fitted to the map's bottom edge

    @on(MapPanel.NodeClicked)
    def select_clicked(self, message: MapPanel.NodeClicked) -> None:
        self.selected = message.index

    def action_move(self, dx: int, dy: int) -> None:
        step = max(self.header.area) * MOVE_FRACTION
        self.send("move", self.selected, dx * step, dy * step)

    def action_next_flow(self) -> None:
        if self.header.flows:
            self.flow = (self.flow + 1) % len(self.header.flows)
            self._draw_status()

    def action_kill(self) -> None:
        self.send("kill", self.selected)

    def action_restart(self) -> None:
        if self.header.can_seek:  # a replay starts over from its first event
            self.send("seek", 0.0)
        else:
            self.send("restart", None)

    def action_switch_protocol(self) -> None:
        if self.header.can_seek:
            self.notify("a replay shows the protocol it recorded", severity="warning")
            return
        if not self.protocols:
            self.notify("no other protocol registered", severity="warning")
            return
        current = self.header.protocol
        i = self.protocols.index(current) if current in self.protocols else -1
        self.send("restart", self.protocols[(i + 1) % len(self.protocols)])

    def action_filter_node(self) -> None:
        log = self.log_panel
        node = None if log.node_filter else self._selected_name()
        log.set_filter(node, log.kind_filter)

    def action_filter_kind(self) -> None:
        log = self.log_panel
        i = KIND_FILTERS.index(log.kind_filter)
        log.set_filter(log.node_filter, KIND_FILTERS[(i + 1) % len(KIND_FILTERS)])

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.BINDINGS))

    def _selected_name(self) -> str:
        picture = self.last_picture
        return picture.nodes[self.selected].name if picture else ""

    def on_unmount(self) -> None:
        self.engine.stop()
        sys.setswitchinterval(getattr(self, "_switch_interval", sys.getswitchinterval()))
