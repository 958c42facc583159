"""The channel: one asyncio task that moves Ethernet frames between node TAPs.

Every node's ``wlan0`` is a TAP whose fd the channel holds. When a node's kernel transmits, the
frame becomes readable here; the channel hands it to the medium (``medium.py``), which decides
who receives it and when, and writes it into those nodes' TAPs. Reads are batched (up to
``BATCH`` frames per wake-up per TAP) and the hot path allocates nothing beyond the frame itself.

Also here, because the channel already touches every frame:

- link-layer feedback: a unicast the medium could not deliver calls ``on_link_failure(i, j, frame)``
  (AODV's link-layer mode, Broch's AODV-LL);
- route use: with ``record_use`` the channel remembers (sender, IPv4 src+dst) of unicast frames
  in a set that the agent runtime drains periodically to tell reactive protocols their routes
  are in use (one set insert per frame; see docs/netns.md for the measured cost);
- positions: polled from the plan's trajectories every ``position_interval`` (10 Hz default);
  the medium recomputes neighbours only when something moved.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from typing import Any, Callable

from .nodes import NodeNet
from .plan import Plan, positions_changed

BATCH = 256
FRAME_MAX = 65536


class Channel:
    def __init__(self, loop: asyncio.AbstractEventLoop, plan: Plan, nodes: list[NodeNet],
                 on_link_failure: Callable[[int, int, bytes], None] | None = None,
                 record_use: bool = False, position_interval: float = 0.1,
                 start_time: float | None = None) -> None:
        self.loop = loop
        self.plan = plan
        self.fds = [n.tap_fd for n in nodes]
        self.mac_index = {n.mac: n.index for n in nodes}
        self.on_link_failure = on_link_failure
        self.record_use = record_use
        self.used: set[tuple[int, bytes]] = set()
        self.position_interval = position_interval
        self.t0 = loop.time() if start_time is None else start_time
        self.counters: Counter[str] = Counter()
        self.rx_frames = 0  # frames read from TAPs
        self.tx_frames = 0  # frames written into TAPs
        self.medium = plan.make_medium(self, self, random.Random(f"{plan.seed}:channel"))
        self.positions = plan.positions(0.0)
        self.medium.update_positions(self.positions)
        self._timer: asyncio.TimerHandle | None = None
        self._running = False

    # -- Scheduler interface for the medium --------------------------------------------------
    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Any:
        return self.loop.call_at(when, fn, *args)

    @property
    def now(self) -> float:
        """Seconds since the emulation started (the clock trajectories are evaluated at)."""
        return self.loop.time() - self.t0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        for i, fd in enumerate(self.fds):
            self.loop.add_reader(fd, self._readable, i)
        self._timer = self.loop.call_later(self.position_interval, self._tick)

    def stop(self) -> None:
        self._running = False
        for fd in self.fds:
            try:
                self.loop.remove_reader(fd)
            except (ValueError, OSError):
                pass
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        if not self._running:
            return
        self.update_positions()
        self._timer = self.loop.call_later(self.position_interval, self._tick)

    def update_positions(self) -> None:
        pos = self.plan.positions(self.now)
        if positions_changed(pos, self.positions):
            self.positions = pos
            self.medium.update_positions(pos)

    def links_changed(self) -> None:
        """Re-evaluate after links were blocked or unblocked by hand."""
        self.medium.refresh()

    # -- hot path ------------------------------------------------------------------------------
    def _readable(self, i: int) -> None:
        fd = self.fds[i]
        read = os.read
        submit = self.medium.submit
        macs = self.mac_index
        used = self.used if self.record_use else None
        n = 0
        for n in range(1, BATCH + 1):
            try:
                frame = read(fd, FRAME_MAX)
            except BlockingIOError:
                n -= 1
                break
            except OSError:
                self.counters["read_error"] += 1
                break
            if frame[0] & 1:
                submit(i, frame, -1)
                continue
            j = macs.get(frame[:6])
            if j is None:
                self.counters["unknown_mac"] += 1
                continue
            if used is not None and frame[12:14] == b"\x08\x00":
                used.add((i, frame[26:34]))
            submit(i, frame, j)
        self.rx_frames += n

    def inject(self, i: int, frame: bytes) -> None:
        """Transmit ``frame`` as if node ``i``'s kernel had (user-space forwarding path)."""
        if frame[0] & 1:
            self.medium.submit(i, frame, -1)
            return
        j = self.mac_index.get(frame[:6])
        if j is None:
            self.counters["unknown_mac"] += 1
            return
        self.medium.submit(i, frame, j)

    # -- Output interface for the medium --------------------------------------------------------
    def deliver(self, j: int, frame: bytes) -> None:
        try:
            os.write(self.fds[j], frame)
            self.tx_frames += 1
        except BlockingIOError:
            self.counters["tap_full"] += 1
        except OSError:
            self.counters["write_error"] += 1

    def link_failed(self, i: int, j: int, frame: bytes) -> None:
        self.counters["link_failure"] += 1
        if self.on_link_failure is not None:
            self.on_link_failure(i, j, frame)

    def dropped(self, i: int, reason: str) -> None:
        self.counters[reason] += 1
