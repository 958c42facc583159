"""The medium's interfaces: frames, the host that drives a medium, the stations on it, and
the channel / MAC pair every medium implements.

One medium, two clocks: the simulator and the netns channel process are both *hosts*. A host
owns a scheduler (virtual time in the simulator, a real-time loop on netns), the node positions
and one *station* per node; the medium (unit disk in ``unit_disk.py``, radio in ``radio.py``)
decides who hears a frame, when, and at what cost, and reports back through the stations. So the
links, error rates, MAC timing and energy of a scenario are the same code on both backends.

A channel owns one link layer (``Mac``) per station: the station hands frames to
``mac.enqueue``; the MAC serialises them, and at the end of each transmission the channel
reports the outcome to the sender (``station.on_tx_end``) and hands the frame to every receiver
(``station.on_frame``).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence


class Handle(Protocol):
    """A scheduled call (``Scheduler.call_at`` returns one)."""

    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def when(self) -> float: ...


class Clock(Protocol):
    """The scheduler interface a medium needs (``meshnet/scheduler.py`` implements it; the netns
    channel process runs the same scheduler against the wall clock)."""

    now: float

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Handle: ...
    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Handle: ...


class Station(Protocol):
    """One node as the medium sees it."""

    index: int
    alive: bool
    tx_power: float      # dBm, the default for frames that do not set their own
    queue_len: int       # interface queue limit (frames)

    def on_tx_end(self, frame: "Frame", receivers: list[int], ok: bool, reason: str) -> None:
        """The MAC is done with ``frame``: sent to ``receivers`` (``ok``), or failed for
        ``reason`` (``mac_retries``, ``out_of_range`` …)."""
    def on_frame(self, frame: "Frame") -> None:
        """``frame`` arrived intact at this station."""


class Host(Protocol):
    """What a medium may use of the backend that drives it."""

    sched: Clock
    seed: int
    n: int
    nodes: Sequence[Station]
    trajectories: Sequence[Any]   # .position(t) of each node (meshnet.mobility)
    max_speed: float

    def position(self, i: int, t: float) -> tuple[float, float]: ...
    def drop(self, node: Station, packet: Any, reason: str) -> None:
        """A data frame's packet is lost in the medium (``channel_busy``, ``node_dead``)."""
    def count_control_drop(self, node: Station, reason: str) -> None: ...
    def kill(self, i: int, reason: str) -> None:
        """The medium ran node ``i``'s battery empty."""


DATA = 0
CTRL = 1
IP_UDP_HEADER = 28  # IPv4 (20) + UDP (8): frames carry real packet sizes


class Frame:
    """One link-layer transmission: a data packet or a control message."""

    __slots__ = ("kind", "sender", "dst", "dst_index", "packet", "payload", "size", "port",
                 "tx_power")

    def __init__(self, kind: int, sender: int, dst: str, dst_index: int, packet, payload,
                 size: int, port: int, tx_power: float | None = None) -> None:
        self.kind = kind
        self.sender = sender
        self.dst = dst  # next-hop address, or BROADCAST
        self.dst_index = dst_index  # next-hop node index, -1 for broadcast
        self.packet = packet  # the host's data packet (opaque to the medium)
        self.payload = payload  # control message bytes (sim) / the Ethernet frame (netns)
        self.size = size  # bytes handed to the link layer (IP packet)
        self.port = port
        self.tx_power = tx_power  # dBm for this frame; None: the node's default


class Channel:
    """Interface every medium implements."""

    reach: float  # farthest distance a frame can matter; the spatial grid cell
    blocked: set[tuple[int, int]]  # directed (sender, receiver) pairs cut by hand
    power_levels: tuple[float, ...] = ()  # dBm a frame may be sent at, highest first

    air_taps: tuple = ()  # sniffers: called with (node index, frame) as it goes on the air

    def add_air_tap(self, tap) -> None:
        """Call ``tap(i, frame)`` whenever node ``i`` puts ``frame`` on the air: every
        transmission attempt, retries included, at the instant it starts (as a sniffer sees it)."""
        self.air_taps = (*self.air_taps, tap)

    def on_air(self, i: int, frame: "Frame") -> None:
        for tap in self.air_taps:
            tap(i, frame)

    def moved(self) -> None:
        """A node was moved by hand (its trajectory changed): forget cached positions."""
        self.grid.invalidate()

    def cut(self, i: int, j: int) -> None:
        """Silence the link between ``i`` and ``j`` both ways (a wall, an unplugged antenna)."""
        self.blocked |= {(i, j), (j, i)}

    def restore(self, i: int, j: int) -> None:
        self.blocked -= {(i, j), (j, i)}

    def make_mac(self, node) -> "Mac":
        raise NotImplementedError

    def neighbours(self, i: int, t: float) -> list[int]:
        """Nodes that node ``i`` can currently reach (a link exists)."""
        raise NotImplementedError

    def neighbour_pairs(self, t: float) -> set[tuple[int, int]]:
        """Every link ``(i, j)`` with ``i < j`` of a live node ``i`` that reaches ``j``: the
        :meth:`neighbours` of all nodes at once (media override it with faster arithmetic)."""
        nodes = self.host.nodes
        return {(i, j) for i in range(len(nodes)) if nodes[i].alive
                for j in self.neighbours(i, t) if i < j}

    def link_quality(self, i: int, j: int, t: float) -> float:
        """0..1; 1 for every link of the unit-disk model."""
        return 1.0

    def energy_j(self, i: int) -> float:
        return 0.0

    def total_energy_j(self) -> float:
        return 0.0

    def rx_power_dbm(self, j: int) -> float | None:
        """Received power of the last frame node ``j`` decoded (None: not modelled)."""
        return None

    def battery_fraction(self, i: int) -> float:
        """Remaining battery of node ``i`` in [0, 1]; 1.0 where energy is not modelled."""
        return 1.0

    def drain(self, i: int, to_fraction: float | None = None, joules: float | None = None
              ) -> float:
        """Take energy from node ``i``'s battery (see the radio medium); a medium without
        batteries has nothing to take."""
        raise ValueError(f"node {i} has no battery (energy is not modelled by this medium)")

    def stats(self) -> dict[str, int]:
        return {}


class Mac:
    """Interface of one node's link layer."""

    def enqueue(self, frame: Frame) -> bool:
        raise NotImplementedError

    def queued(self) -> list[Frame]:
        raise NotImplementedError

    def flush(self) -> list[Frame]:
        """Remove and return every queued frame (the node died)."""
        raise NotImplementedError
