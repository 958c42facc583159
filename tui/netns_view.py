"""The namespace emulation behind the :class:`~meshnet.tui.view.EngineView` interface.

Time is real: the UI only pauses its own updates. The routing table shows the node's live
kernel routes (dst, gateway), completed with the protocol's own metric, sequence number and
expiry when the node runs a meshnet protocol. Arrow keys move nodes in the radio model.

Links are coloured by the share of frames each delivered, as on the simulator: the same
:class:`~meshnet.tui.link_meter.LinkMeter` counts what the channel process reports at the end
of every frame (it wraps the channel's ``tx_end``). The meter lives on the emulation's loop
thread; the view reads it there (``Emulation._call``), so counting never races with reading.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import deque

from ..medium import DATA

from ..scenario import Scenario, ScenarioError
from ..world import build_world
from .faults_in_force import FaultsInForce
from .frame_trail import FrameTrail
from .link_details import measured_links, radio_notes
from .link_meter import LinkMeter
from .log_format import EventBuffer, EventFormatter
from .multicast_tally import KINDS as MCAST_KINDS, MulticastTally
from .route_age import ROUTE_EVENTS, EntryClock, route_since
from .view import (ALL_LOG_KINDS, NodeDetail, NodeInfo, Picture, RouteRow, Stats,
                   describe_scenario, metric_text, route_gaps)

RUN_NAME = "tui"
PENDING_EVENTS = 1000  # events listed per picture; more are only counted
HISTORY = 120  # sparkline samples kept (one per second), as on the simulator


class WallClock:
    """The channel's clock read at this instant (its ``now`` moves only with its events)."""

    def __init__(self, sched) -> None:
        self._sched = sched

    @property
    def now(self) -> float:
        return self._sched.wall()


class ChannelHost:
    """The channel process as the link meter's host: its stations, clock and medium."""

    def __init__(self, channel) -> None:
        self.ch = channel
        self.n = channel.n
        self.nodes = channel.nodes
        self.sched = WallClock(channel.sched)
        self.channel = channel.medium

    @property
    def links(self) -> set[tuple[int, int]]:
        """The unit-disk medium's links now (the radio medium answers ``links()`` itself)."""
        rows = self.ch.neighbours()
        return {(i, j) for i, row in enumerate(rows) for j in row if i < j}


class NetnsView:
    backend = "netns"
    controls_time = False
    can_kill = True
    can_move = True
    can_seek = False

    @staticmethod
    def check_available() -> None:
        """Raise ScenarioError (exit status 2) when this machine cannot run the emulation."""
        try:
            from ..netns.emulation import Emulation  # noqa: F401
        except ImportError as e:
            raise ScenarioError(f"netns backend not available: {e}") from None
        if os.geteuid() != 0:
            raise ScenarioError("netns backend not available: it needs root (run with sudo)")
        if not os.path.exists("/dev/net/tun") or shutil.which("ip") is None:
            raise ScenarioError("netns backend not available: needs /dev/net/tun and iproute2")

    def __init__(self, scenario: Scenario, run_name: str = RUN_NAME) -> None:
        from ..netns.emulation import Emulation

        world = build_world(scenario)
        describe_scenario(self, scenario, world)
        self._names = list(world.names)
        self._index_of = {a: i for i, a in enumerate(world.addresses)}
        self._formatter = EventFormatter(dict(zip(world.addresses, world.names)))
        self._pending = EventBuffer(self._formatter, PENDING_EVENTS)
        self._wanted = set(ALL_LOG_KINDS)
        self._entries = EntryClock({name: i for i, name in enumerate(world.names)})
        self._membership = world.membership
        self._mcast = MulticastTally()
        self._faults = FaultsInForce()
        self._pdr: deque[float] = deque(maxlen=HISTORY)
        self._overhead: deque[float] = deque(maxlen=HISTORY)
        self._next_sample = 1.0
        self._last_control = 0
        n = len(world.names)
        self._data = {"data_sent": [0] * n, "data_delivered": [0] * n, "data_dropped": [0] * n}
        self._index_of_name = {name: i for i, name in enumerate(world.names)}
        # replace: a restart stops the previous view's run before this one takes the name
        self.emu = Emulation(scenario, name=run_name, handle_signals=False,
                             on_event=self._on_event, replace=True)
        self.emu.start()
        self._trail: FrameTrail | None = None
        self.meter = self.emu._call(self._start_meter)

    def _start_meter(self) -> LinkMeter:
        """On the loop thread: count every frame the channel finishes."""
        channel = self.emu.runtime.channel
        meter = LinkMeter(ChannelHost(channel), macs=channel.macs, tap=False)
        report = channel.tx_end

        def tx_end(st, frame, receivers, ok, reason):
            meter.record(st.index, frame, receivers, ok)
            report(st, frame, receivers, ok, reason)

        channel.tx_end = tx_end
        return meter

    @property
    def now(self) -> float:
        return self.emu.runtime.now

    @property
    def node_count(self) -> int:
        return len(self._names)

    def advance(self, until: float) -> None:
        """Real time runs on its own."""

    def _on_event(self, t: float, node: str, kind: str, fields: dict) -> None:
        if kind in self._wanted:  # called on the emulation's loop thread
            fields = {**fields, "node": node}
            self._pending.add(t, kind, fields)
            if kind in ROUTE_EVENTS:
                self._entries.record(t, fields)
            elif kind in ("fault_started", "fault_ended"):
                self._faults.record(t, kind, fields)
        if kind in MCAST_KINDS:
            self._mcast.record(t, kind, {**fields, "node": node})
        elif kind in self._data:  # the inspector's per-node counters
            i = self._index_of_name.get(node)
            if i is not None:
                self._data[kind][i] += 1

    def position(self, i: int) -> tuple[float, float]:
        return tuple(self.emu.nodes()[i]["position"])

    def node_name(self, i: int) -> str:
        return self._names[i]

    def move(self, i: int, x: float, y: float) -> None:
        self.emu.move(self._names[i], x, y)

    def toggle_alive(self, i: int) -> bool:
        """Kill a live node (its radio goes silent, its protocol stops) or revive a dead one
        under a fresh protocol instance; returns whether it is alive afterwards."""
        name = self._names[i]
        if self._alive()[i]:
            self.emu.kill(name)
        else:
            self.emu.revive(name)
        return self._alive()[i]

    def _alive(self) -> list[bool]:
        return self.emu._call(lambda: [st.alive for st in self.emu.runtime.channel.nodes])

    def summary(self) -> dict | None:
        """At the scenario's duration: its traffic stops and the run's metrics are those of
        `meshnet emulate` (the namespaces stay up until the UI quits or restarts)."""
        if self.now < self.duration:
            return None
        return self.emu.finish(at=self.duration)

    def close(self) -> None:
        self.emu.stop()

    def set_animation(self, window_s: float | None) -> None:
        self.emu._call(self._set_trail, window_s)

    def _set_trail(self, window_s: float | None) -> None:
        if window_s is None:
            if self._trail is not None:
                self.meter.listeners.remove(self._trail_frame)
            self._trail = None
        elif self._trail is None:
            self._trail = FrameTrail(window_s)
            self.meter.listeners.append(self._trail_frame)
        else:
            self._trail.window = window_s

    def _trail_frame(self, t: float, i: int, frame, receivers: list, ok: bool) -> None:
        dst = frame.dst_index
        self._trail.add(t, i, receivers if dst < 0 else (dst,), frame.kind == DATA)

    def detail(self, i: int, link: int | None) -> NodeDetail:
        """Position and links as the channel process knows them (a kernel's own counters and
        queues are not read)."""
        positions = [tuple(n["position"]) for n in self.emu.nodes()]
        x, y = positions[i]
        links = self.emu._call(lambda: measured_links(
            self.meter, self.meter.sim.channel, i, self.meter.sim.sched.now,
            lambda k: positions[k], self._names, {}))
        notes = radio_notes(self.meter.sim.channel)
        notes.append("kernel nodes: queues and forwarded frames are not read")
        d = self._data
        return NodeDetail(i, self._names[i], self._addresses()[i], x, y, self._alive()[i], "n/a",
                          sent=d["data_sent"][i], received=d["data_delivered"][i],
                          dropped=d["data_dropped"][i], links=links,
                          link=None if link is None or not links else link % len(links),
                          notes=tuple(notes))

    # --- the picture -------------------------------------------------------------------------
    def picture(self, selected: int, flow: int) -> Picture:
        emu = self.emu
        now = self.now
        alive = self._alive()
        nodes = tuple(NodeInfo(n["name"], n["address"], *n["position"], alive[k])
                      for k, n in enumerate(emu.nodes()))
        links, frames = emu._call(self._measured, now)
        route, complete = self._route(flow)
        f = self.flows[flow % len(self.flows)] if self.flows else None
        stats, sent, delivered = emu._call(self._counted, now, f.id if f else -1)
        members: tuple[int, ...] = ()
        if f is not None and f.group:  # sent: member deliveries due
            members = tuple(sorted(self._membership.members_at(f.group_address, now)))
            sent, delivered = self._mcast.expected[f.id], self._mcast.delivered[f.id]
        events = self._pending.drain()
        linked = {(i, j) for i, j, _ in links} | {(j, i) for i, j, _ in links}
        gaps = route_gaps(route, lambda a, b: (a, b) in linked)
        since = (route_since(route, nodes[route[-1]].address, self._entries.changed_at)
                 if complete else None)
        return Picture(min(now, self.duration), nodes, links, route, complete, selected,
                       self._table(selected, now), stats, events, gaps, sent, delivered,
                       frames=frames, route_since=since, members=members)

    def _counted(self, now: float, flow_id: int) -> tuple[Stats, int, int]:
        """On the loop thread: the run's metrics so far (the same collector `meshnet emulate`
        reports from), sampled for the sparklines once a second."""
        m = self.emu.metrics
        mc = m.multicast
        while self._next_sample <= min(now, self.duration):
            if not m.sent and mc.expected:
                self._pdr.append(mc.counted / mc.expected)
            else:
                self._pdr.append(len(m.delivered) / m.sent if m.sent else 0.0)
            self._overhead.append(float(m.control_packets - self._last_control))
            self._last_control = m.control_packets
            self._next_sample += 1.0
        stats = Stats(m.sent, len(m.delivered), m.control_packets, tuple(self._pdr),
                      tuple(self._overhead), self._faults.labels(), mc.expected,
                      mc.counted)
        return stats, m.per_flow_sent[flow_id], m.per_flow_delivered[flow_id]

    def _measured(self, now: float):
        """On the loop thread: links with their delivery ratio, and the animation's frames."""
        frames = self._trail.marks(self.meter.sim.sched.now) if self._trail is not None else ()
        return self.meter.qualities(), frames

    def _next_hop(self, i: int, dst: str) -> int | None:
        for prefix, plen, gateway in self.emu.node(self._names[i]).routes():
            if prefix == dst and plen == 32:
                return self._index_of.get(gateway or dst)
        return None

    def _route(self, flow: int) -> tuple[tuple[int, ...], bool]:
        if not self.flows or self.flows[flow % len(self.flows)].group:
            return (), False
        f = self.flows[flow % len(self.flows)]
        dst = self._addresses()[f.dst]
        path = [f.src]
        while path[-1] != f.dst:
            nxt = self._next_hop(path[-1], dst)
            if nxt is None or nxt in path:
                return tuple(path), False
            path.append(nxt)
        return tuple(path), True

    def _addresses(self) -> list[str]:
        return [a for a, _ in sorted(self._index_of.items(), key=lambda kv: kv[1])]

    def _protocol_rows(self, i: int) -> dict[str, dict]:
        agents = self.emu.runtime.agents if self.emu.runtime else []
        if not agents:
            return {}
        rows = self.emu._call(agents[i].protocol.table_rows)
        return {r["dst"]: r for r in rows}

    def _table(self, i: int, now: float) -> tuple[RouteRow, ...]:
        name = self._formatter.n
        extra = self._protocol_rows(i)
        rows = []
        for prefix, plen, gateway in self.emu.node(self._names[i]).routes():
            if plen != 32 or prefix not in self._index_of:
                continue
            r = extra.get(prefix, {})
            expires = r.get("expires")
            left = ("-" if expires is None or not math.isfinite(expires)
                    else f"{expires - now:.1f}")
            seqno = r.get("seqno")
            rows.append(RouteRow(name(prefix), name(gateway or prefix),
                                 metric_text(r.get("metric", "-")),
                                 "-" if seqno is None else str(seqno),
                                 left, str(r.get("state", "kernel"))))
        rows.sort(key=lambda row: self._names.index(row.dst) if row.dst in self._names else 1 << 30)
        return tuple(rows)
