"""The exact unit-disk medium: a frame reaches every live node within ``range_m``; no loss, no
collisions. For teaching and tests; the radio medium (``radio.py``) implements the same
interface with received power, SINR, CSMA and energy.
"""

from __future__ import annotations

from collections import deque

from .base import CTRL, DATA, Channel, Frame, Host, Mac
from .spatial import SpatialGrid


class UnitDiskChannel(Channel):
    """Exact disk model: a frame reaches every live node within ``range_m`` at the end of its
    transmission, after ``delay`` seconds; no loss, no collisions. Transmissions are serialised
    per node at ``bitrate`` so queues still fill under load. A unicast to a node out of range
    fails at once (link-layer feedback)."""

    def __init__(self, host: Host, range_m: float, delay: float, bitrate: float) -> None:
        self.host = host
        self.range = range_m
        self.range2 = range_m * range_m
        self.reach = range_m
        self.delay = delay
        self.bitrate = bitrate
        self.grid = SpatialGrid(range_m, host.max_speed)
        self.blocked: set[tuple[int, int]] = set()

    def make_mac(self, node) -> "UnitDiskMac":
        return UnitDiskMac(self, node, node.queue_len)

    def in_range(self, i: int, t: float) -> list[int]:
        host = self.host
        trajectories = host.trajectories
        x, y = trajectories[i].position(t)
        r2 = self.range2
        nodes = host.nodes
        out = []
        blocked = self.blocked
        for j in self.grid.candidates(x, y, t, host.position, host.n):
            if j == i or not nodes[j].alive or (blocked and (i, j) in blocked):
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
        xi, yi = self.host.position(i, t)
        xj, yj = self.host.position(j, t)
        return ((xi - xj) ** 2 + (yi - yj) ** 2 <= self.range2 and self.host.nodes[j].alive
                and (i, j) not in self.blocked)

    def deliver(self, frame: Frame, receivers: list[int]) -> None:
        nodes = self.host.nodes
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
        ch.host.sched.call_later(frame.size * 8.0 / ch.bitrate, self._end, frame)
        if ch.air_taps:
            ch.on_air(self.node.index, frame)

    def _end(self, frame: Frame) -> None:
        ch = self.channel
        host = ch.host
        node = self.node
        self.busy = False
        if not node.alive:  # died on the air: flush() no longer held this frame
            if frame.kind == DATA:
                host.drop(node, frame.packet, "node_dead")
            return
        t = host.sched.now
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
                host.sched.call_later(ch.delay, ch.deliver, frame, receivers)
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

