"""What the UI needs from a backend: a small read-and-poke interface and the immutable picture
it draws from.

The app never touches engine objects directly. A :class:`EngineView` owns the backend; the app
asks it to advance, to apply an intervention, or to take a :class:`Picture` (a snapshot of
everything on screen). This keeps the UI the same on the simulator and on the namespace
emulation, and keeps the engine free of UI imports (docs/architecture.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

# Bus kinds the event log shows, by filter category. Data-plane events are left out on purpose:
# they are far too many to read and cost time on big runs.
LOG_KINDS: dict[str, tuple[str, ...]] = {
    "routes": ("route_found", "route_broken", "route_added", "route_changed", "route_removed", "route_expired",
               "route_discovery_started", "route_discovery_failed", "local_repair_started"),
    "control": ("rreq_sent", "rrep_sent", "rerr_sent", "ctrl_malformed"),
    "links": ("link_up", "link_down", "hello_link_lost"),
    "nodes": ("node_died", "node_revived", "fault_started", "fault_ended"),
}
ALL_LOG_KINDS = tuple(k for kinds in LOG_KINDS.values() for k in kinds)
CATEGORY_OF = {k: cat for cat, kinds in LOG_KINDS.items() for k in kinds}


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    address: str
    x: float
    y: float
    alive: bool


@dataclass(frozen=True, slots=True)
class RouteRow:
    """One routing-table row, with addresses already turned into node names."""

    dst: str
    next_hop: str
    metric: str
    seqno: str
    expires: str
    state: str

    @property
    def identity(self) -> tuple[str, str, str]:
        """What counts as a change worth flashing (sequence numbers and timers tick constantly)."""
        return (self.next_hop, self.metric, self.state)


@dataclass(frozen=True, slots=True)
class FlowInfo:
    id: int
    src: int
    dst: int
    start: float = 0.0  # simulated seconds: the first packet
    stop: float = float("inf")  # no packet from then on
    group: str = ""  # a multicast flow: its group's name (``dst`` is then -1)
    group_address: str = ""


FOLDED = "folded"  # the kind of a log entry that only counts events (too many to list)


@dataclass(frozen=True, slots=True)
class LogEntry:
    t: float
    kind: str
    nodes: tuple[str, ...]
    text: str
    counts: tuple[tuple[str, int], ...] = ()  # FOLDED entries: events by kind, none listed
    t_end: float | None = None  # FOLDED entries: the last event counted

    @property
    def category(self) -> str:
        return CATEGORY_OF.get(self.kind, "routes")


@dataclass(frozen=True, slots=True)
class Stats:
    sent: int = 0
    delivered: int = 0
    control_packets: int = 0
    pdr_history: tuple[float, ...] = ()
    overhead_history: tuple[float, ...] = ()
    faults: tuple[str, ...] = ()  # scenario faults in force now, e.g. "partition x=750 @120s"
    mcast_expected: int = 0   # multicast: member deliveries due (as `meshnet run` counts them)
    mcast_delivered: int = 0  # ... and made

    @property
    def pdr(self) -> float | None:
        return self.delivered / self.sent if self.sent else None

    @property
    def mcast_pdr(self) -> float | None:
        return self.mcast_delivered / self.mcast_expected if self.mcast_expected else None


@dataclass(frozen=True, slots=True)
class LinkDetail:
    """One link of the inspected node, as far as the source knows it (None: not known)."""

    peer: int
    name: str
    distance_m: float
    up_since: float | None = None      # the last sampled link_up before now
    rssi_dbm: float | None = None      # median received power from the peer
    snr_db: float | None = None        # ... above the profile's noise floor
    fer_out: float | None = None       # the medium's frame error rate, node -> peer
    fer_in: float | None = None        # ... peer -> node
    delivery_out: float | None = None  # share of frames delivered lately, node -> peer
    delivery_in: float | None = None   # ... peer -> node
    frames_out: tuple[int, int] | None = None  # (attempted, delivered) in the meter's window
    frames_in: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class NodeDetail:
    """The inspector's figures for the selected node; None means the source does not know it,
    and ``unknown`` says why (e.g. "not in trace")."""

    index: int
    name: str
    address: str
    x: float
    y: float
    alive: bool
    unknown: str
    speed: float | None = None         # m/s on its current leg
    heading_deg: float | None = None   # compass-free: degrees from +x towards +y (screen down)
    battery: float | None = None       # remaining fraction (None: not modelled / not known)
    energy_j: float | None = None      # spent so far
    queue: int | None = None           # frames waiting in its MAC queue
    held: int | None = None            # packets its protocol holds (waiting for a route)
    sent: int | None = None            # data packets it originated
    received: int | None = None        # data packets delivered to it
    forwarded: int | None = None       # data frames it transmitted for other sources
    dropped: int | None = None         # data copies it gave up
    links: tuple[LinkDetail, ...] = ()
    link: int | None = None            # index into ``links`` of the selected link
    notes: tuple[str, ...] = ()        # what the figures mean here (e.g. median power)


@dataclass(frozen=True, slots=True)
class FrameMark:
    """A frame drawn on its way along a link (packet animation): ``progress`` 0 at the sender,
    1 at the receiver."""

    sender: int
    receiver: int
    progress: float
    data: bool


@dataclass(frozen=True, slots=True)
class Picture:
    """Everything the screen shows at one instant; built by the view, drawn by the widgets."""

    now: float
    nodes: tuple[NodeInfo, ...]
    links: tuple[tuple[int, int, float], ...]
    route: tuple[int, ...]
    route_complete: bool  # the next hops lead from the source to the (live) destination
    selected: int
    table: tuple[RouteRow, ...]
    stats: Stats
    events: tuple[LogEntry, ...] = field(default=())
    route_gaps: tuple[int, ...] = ()  # hops k (route[k] -> route[k + 1]) with no link now
    flow_sent: int = 0  # packets of the selected flow generated so far
    flow_delivered: int = 0  # ... and delivered
    # Per-packet protocols (no table to follow): ``route`` is the path of the flow's most recent
    # finished packet, ``route_complete`` whether it arrived, and for GPSR each hop's mode.
    packet_state: str = ""  # "" (no packet followed yet), "delivered" or "lost"
    hop_modes: tuple[str, ...] = ()  # "greedy" / "perimeter", one per hop of ``route``
    detail: NodeDetail | None = None  # the inspector's figures (only while it is open)
    frames: tuple[FrameMark, ...] = ()  # packet animation (only while it is on)
    rewound: bool = False  # time jumped (a replay seek): the log starts over with ``events``
    route_since: float | None = None  # when the route took its present form (None: not known)
    members: tuple[int, ...] = ()  # a multicast flow: its group's members now


class EngineView(Protocol):
    """A backend as the UI sees it. Implementations: :mod:`meshnet.tui.sim_view` and
    :mod:`meshnet.tui.netns_view`."""

    backend: str
    protocol: str
    radio: str
    scenario_name: str
    area: tuple[float, float]
    duration: float
    flows: tuple[FlowInfo, ...]
    controls_time: bool  # True: the UI decides how fast time runs (sim); False: real time
    can_kill: bool
    per_packet: bool  # the protocol decides each packet's next hop: no route table to follow

    @property
    def now(self) -> float: ...
    @property
    def node_count(self) -> int: ...
    def advance(self, until: float) -> None: ...
    def position(self, i: int) -> tuple[float, float]: ...
    def node_name(self, i: int) -> str: ...
    def picture(self, selected: int, flow: int) -> Picture: ...
    def move(self, i: int, x: float, y: float) -> None: ...
    def toggle_alive(self, i: int) -> bool: ...
    def summary(self) -> dict | None:
        """At the end of the run: the metrics `meshnet run` reports (None: not available)."""
    def close(self) -> None: ...
    def detail(self, i: int, link: int | None) -> NodeDetail:
        """The inspector's figures for node ``i`` (``link``: which of its links is selected)."""
    def set_animation(self, window_s: float | None) -> None:
        """Collect frames for the packet animation over the last ``window_s`` simulated seconds
        (None: off, and no cost)."""


def link_order(links, i: int) -> list[int]:
    """The peers of node ``i`` in ``links`` ((a, b, ...) tuples), in index order: the order the
    inspector lists and cycles them."""
    return sorted({b if a == i else a for a, b, *_ in links if i in (a, b)})


def heading(vx: float, vy: float) -> float | None:
    """Direction of motion in degrees (0 = +x, 90 = +y), None when not moving."""
    if vx == 0.0 and vy == 0.0:
        return None
    return math.degrees(math.atan2(vy, vx)) % 360.0


UNREACHABLE = 255  # a route metric this large means unreachable (DSDV's infinity)


def metric_text(metric: object) -> str:
    """A route metric as shown: infinite ones (unreachable destinations) as ∞."""
    if metric is None:
        return ""
    if isinstance(metric, (int, float)) and not isinstance(metric, bool):
        if metric >= UNREACHABLE or not math.isfinite(metric):
            return "∞"
    return str(metric)


def packet_text(picture: Picture) -> str:
    """Per-packet protocols: the path of the flow's last packet, as ``, last packet: n3 → n7 →
    n12 (greedy 2, perimeter 1)`` (or `` forwards packet by packet`` before one is over)."""
    if not picture.packet_state:
        return " forwards packet by packet"
    names = picture.nodes
    path = " → ".join(names[i].name for i in picture.route)
    if picture.packet_state == "lost":
        return f", last packet: {path} lost" if path else ", last packet lost"
    modes = picture.hop_modes
    counts = (f" (greedy {modes.count('greedy')}, perimeter {modes.count('perimeter')})"
              if modes else "")
    return f", last packet: {path}{counts}"


def route_gaps(route: tuple[int, ...], linked) -> tuple[int, ...]:
    """The hops of ``route`` whose two nodes have no link now (``linked(a, b)`` says)."""
    return tuple(k for k, (a, b) in enumerate(zip(route, route[1:])) if not linked(a, b))


def describe_scenario(view: object, scenario, world) -> None:
    """Set the header attributes every view shows (name, protocol, radio, area, duration, flows)
    from the scenario and its built world."""
    view.scenario_name = scenario.name
    view.protocol = scenario.protocol.name
    view.radio = f"{scenario.radio.profile}/{scenario.radio.propagation}"
    view.area = (float(scenario.area.width), float(scenario.area.height))
    view.duration = float(scenario.duration)
    groups = world.membership.by_address
    view.flows = tuple(FlowInfo(f.id, f.src, f.dst, float(f.start), float(f.stop),
                                groups[f.group].name if f.group else "", f.group)
                       for f in world.flows)
    view.per_packet = bool(getattr(world.protocol_cls, "per_packet", False))
