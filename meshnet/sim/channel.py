"""The simulator's channel interface and the exact unit-disk channel.

A channel decides who hears a frame and when. It owns one link layer (``Mac``) per node: the node
hands frames to ``mac.enqueue``; the MAC serialises them, and at the end of each transmission the
channel reports the outcome to the sender (``node.on_tx_end``) and hands the frame to every
receiver (``node.on_frame``) in one event. The radio model (SINR, CSMA-CA, airtime, energy) is
another implementation of the same interface; nodes and protocols do not know which one runs.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .spatial import SpatialGrid

if TYPE_CHECKING:
    from .simulation import Simulation

DATA = 0
CTRL = 1
IP_UDP_HEADER = 28  # IPv4 (20) + UDP (8): frames carry real packet sizes


class Frame:
    """One link-layer transmission: a data packet or a control message."""

    __slots__ = ("kind", "sender", "dst", "dst_index", "packet", "payload", "size", "port")

    def __init__(self, kind: int, sender: int, dst: str, dst_index: int, packet, payload,
                 size: int, port: int) -> None:
        self.kind = kind
        self.sender = sender
        self.dst = dst  # next-hop address, or BROADCAST
        self.dst_index = dst_index  # next-hop node index, -1 for broadcast
        self.packet = packet  # protocol_api.Packet for data frames
        self.payload = payload  # bytes for control frames
        self.size = size  # bytes handed to the link layer (IP packet)
        self.port = port


class Channel:
    """Interface every simulator channel implements."""

    reach: float  # farthest distance a frame can matter; the spatial grid cell

    def make_mac(self, node) -> "Mac":
        raise NotImplementedError

    def neighbours(self, i: int, t: float) -> list[int]:
        """Nodes that node ``i`` can currently reach (a link exists)."""
        raise NotImplementedError

    def link_quality(self, i: int, j: int, t: float) -> float:
        """0..1; 1 for every link of the unit-disk model."""
        return 1.0

    def energy_j(self, i: int) -> float:
        return 0.0


class Mac:
    """Interface of one node's link layer."""

    def enqueue(self, frame: Frame) -> bool:
        raise NotImplementedError

    def queued(self) -> list[Frame]:
        raise NotImplementedError

    def flush(self) -> list[Frame]:
        """Remove and return every queued frame (the node died)."""
        raise NotImplementedError


class UnitDiskChannel(Channel):
    """Exact disk model: a frame reaches every live node within ``range_m`` at the end of its
    transmission, after ``delay`` seconds; no loss, no collisions. Transmissions are serialised
    per node at ``bitrate`` so queues still fill under load. A unicast to a node out of range
    fails at once (link-layer feedback)."""

    def __init__(self, sim: "Simulation", range_m: float, delay: float, bitrate: float) -> None:
        self.sim = sim
        self.range = range_m
        self.range2 = range_m * range_m
        self.reach = range_m
        self.delay = delay
        self.bitrate = bitrate
        self.grid = SpatialGrid(range_m, sim.max_speed)

    def make_mac(self, node) -> "UnitDiskMac":
        return UnitDiskMac(self, node, node.queue_len)

    def in_range(self, i: int, t: float) -> list[int]:
        sim = self.sim
        trajectories = sim.trajectories
        x, y = trajectories[i].position(t)
        r2 = self.range2
        nodes = sim.nodes
        out = []
        for j in self.grid.candidates(x, y, t, sim.position, sim.n):
            if j == i or not nodes[j].alive:
                continue
            xj, yj = trajectories[j].position(t)
            dx = xj - x
            dy = yj - y
            if dx * dx + dy * dy <= r2:
                out.append(j)
        return out

    def neighbours(self, i: int, t: float) -> list[int]:
        return self.in_range(i, t)

    def reaches(self, i: int, j: int, t: float) -> bool:
        xi, yi = self.sim.position(i, t)
        xj, yj = self.sim.position(j, t)
        return (xi - xj) ** 2 + (yi - yj) ** 2 <= self.range2 and self.sim.nodes[j].alive

    def deliver(self, frame: Frame, receivers: list[int]) -> None:
        nodes = self.sim.nodes
        for j in receivers:
            nodes[j].on_frame(frame)


class UnitDiskMac(Mac):
    __slots__ = ("channel", "node", "limit", "ctrl", "data", "busy")

    def __init__(self, channel: UnitDiskChannel, node, limit: int) -> None:
        self.channel = channel
        self.node = node
        self.limit = limit
        self.ctrl: deque[Frame] = deque()  # control frames go first, as in ns-2's PriQueue
        self.data: deque[Frame] = deque()
        self.busy = False

    def enqueue(self, frame: Frame) -> bool:
        if len(self.ctrl) + len(self.data) >= self.limit:
            return False
        (self.ctrl if frame.kind == CTRL else self.data).append(frame)
        if not self.busy:
            self._start()
        return True

    def _start(self) -> None:
        frame = self.ctrl.popleft() if self.ctrl else self.data.popleft()
        self.busy = True
        ch = self.channel
        ch.sim.sched.call_later(frame.size * 8.0 / ch.bitrate, self._end, frame)

    def _end(self, frame: Frame) -> None:
        ch = self.channel
        sim = ch.sim
        node = self.node
        self.busy = False
        if not node.alive:  # died on the air: flush() no longer held this frame
            if frame.kind == DATA:
                sim.drop(node, frame.packet, "node_dead")
            return
        t = sim.sched.now
        if frame.dst_index < 0:
            receivers = ch.in_range(node.index, t)
            node.on_tx_end(frame, receivers, True, "")
        elif ch.reaches(node.index, frame.dst_index, t):
            receivers = [frame.dst_index]
            node.on_tx_end(frame, receivers, True, "")
        else:
            receivers = []
            node.on_tx_end(frame, receivers, False, "out_of_range")
        if receivers:
            if ch.delay > 0:
                sim.sched.call_later(ch.delay, ch.deliver, frame, receivers)
            else:
                ch.deliver(frame, receivers)
        if (self.ctrl or self.data) and not self.busy and node.alive:
            self._start()

    def queued(self) -> list[Frame]:
        return [*self.ctrl, *self.data]

    def flush(self) -> list[Frame]:
        out = self.queued()
        self.ctrl.clear()
        self.data.clear()
        return out

