"""The simulator behind the :class:`~meshnet.tui.view.EngineView` interface.

Only reads engine state and calls the documented interventions (``move``, ``kill``, ``revive``);
the link meter (:mod:`meshnet.tui.link_meter`) counts the frames the medium reports to each
station and reads the medium's links without touching its grid or random numbers, so watching a
run does not change its outcome (``tests/test_tui.py`` checks it).
"""

from __future__ import annotations

import math
from collections import deque

from ..event_schema import EVENTS
from ..medium import DATA, Channel
from ..scenario import Scenario
from ..sim import Simulation
from .faults_in_force import FaultsInForce
from .frame_trail import FrameTrail
from .link_details import measured_links, radio_notes
from .link_meter import LinkMeter
from .log_format import EventBuffer, EventFormatter
from .multicast_tally import KINDS as MCAST_KINDS, MulticastTally
from .route_age import ROUTE_EVENTS, EntryClock, route_since
from .view import (ALL_LOG_KINDS, NodeDetail, NodeInfo, Picture, RouteRow, Stats,
                   describe_scenario, heading, metric_text, route_gaps)

HISTORY = 120  # sparkline samples kept (one per simulated second)
PENDING_EVENTS = 1000  # events listed per picture; more are only counted
TRACED = 4  # packets of the selected flow followed at once (the newest ones)


class PacketTrace:
    """One data packet of the selected flow, followed through the bus (per-packet protocols)."""

    __slots__ = ("uid", "src", "hops", "txs", "perimeter", "state", "path", "modes")

    def __init__(self, uid: int, src: int) -> None:
        self.uid = uid
        self.src = src
        self.hops: list[list] = []  # unicast: [from, to, mode], the last attempt of each node
        self.txs: list[tuple[float, int]] = []  # broadcasts: (time, node), in order
        self.perimeter = False  # GPSR: the packet is in perimeter mode now
        self.state = ""  # "delivered" or "lost" once it is over
        self.path: tuple[int, ...] = ()
        self.modes: tuple[str, ...] = ()


class NodeCounters:
    """Per-node data-plane counters, counted the way a replay counts them from a trace: packets
    originated (``data_sent``), delivered (``data_delivered``), dropped (``data_dropped``) and
    data frames transmitted for another source (what ``data_tx`` reports)."""

    def __init__(self, sim: Simulation, meter: LinkMeter) -> None:
        n = sim.n
        self.sent = [0] * n
        self.received = [0] * n
        self.dropped = [0] * n
        self.forwarded = [0] * n
        self._index = {node.name: node.index for node in sim.nodes}
        self._address = [node.address for node in sim.nodes]
        sim.bus.subscribe(self._count, ("data_sent", "data_delivered", "data_dropped"))
        meter.listeners.append(self._frame)

    def _count(self, t: float, kind: str, fields: dict) -> None:
        i = self._index[fields["node"]]
        if kind == "data_sent":
            self.sent[i] += 1
        elif kind == "data_delivered":
            self.received[i] += 1
        else:
            self.dropped[i] += 1

    def _frame(self, t: float, i: int, frame, receivers: list, ok: bool) -> None:
        if frame.kind == DATA and frame.packet.src != self._address[i]:
            self.forwarded[i] += 1


class SimView:
    backend = "sim"
    controls_time = True
    can_kill = True
    can_move = True
    can_seek = False

    def __init__(self, scenario: Scenario) -> None:
        self.sim = Simulation(scenario)
        world = self.sim.world
        describe_scenario(self, scenario, world)
        self._index_of = dict(self.sim.index_of)
        self._order = {name: i for i, name in enumerate(world.names)}
        self._formatter = EventFormatter({a: n for a, n in zip(world.addresses, world.names)})
        self._pending = EventBuffer(self._formatter, PENDING_EVENTS)
        self._pdr: deque[float] = deque(maxlen=HISTORY)
        self._overhead: deque[float] = deque(maxlen=HISTORY)
        self._last_control = 0
        self._next_sample = 1.0
        self._node_of = {n.name: n.index for n in self.sim.nodes}
        self.sim.bus.subscribe(self._on_event, ALL_LOG_KINDS)
        self.sim.bus.subscribe(self._on_link_up, ("link_up",))
        self._entries = EntryClock(self._node_of)
        self.sim.bus.subscribe(self._on_route, ROUTE_EVENTS)
        self._mcast = MulticastTally()
        if any(f.group for f in self.flows):
            self.sim.bus.subscribe(self._mcast.record, MCAST_KINDS)
        self._faults = FaultsInForce()
        self.sim.bus.subscribe(self._faults.record, ("fault_started", "fault_ended"))
        self.meter = LinkMeter(self.sim)
        self.counters = NodeCounters(self.sim, self.meter)
        self._trail: FrameTrail | None = None
        self._link_since: dict[tuple[int, int], float] = {}  # sampled link_up times
        # Per-packet protocols: follow the selected flow's newest packets hop by hop.
        self._flow_id = self.flows[0].id if self.flows else -1
        self._tracing: dict[int, PacketTrace] = {}  # uid -> trace, the newest TRACED packets
        self._shown: PacketTrace | None = None  # the newest packet that is over
        self._modes = self.protocol in EVENTS["gpsr_perimeter"].emitted_by
        if self.per_packet:
            bus = self.sim.bus
            bus.subscribe(self._on_sent, ("data_sent",))
            bus.subscribe(self._on_tx, ("data_tx",))
            bus.subscribe(self._on_delivered, ("data_delivered",))
            bus.subscribe(self._on_dropped, ("data_dropped",))
            bus.subscribe(self._on_perimeter, ("gpsr_perimeter",))
        self.sim.run_until(0.0)

    # --- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def node_count(self) -> int:
        return self.sim.n

    def advance(self, until: float) -> None:
        """Run the engine to ``until`` (capped at the scenario's end), sampling the sparklines at
        every whole simulated second so they do not depend on the screen's refresh rate."""
        until = min(until, self.duration)
        while self._next_sample <= until:
            self.sim.run_until(self._next_sample)
            self._sample()
            self._next_sample += 1.0
        if until > self.sim.now:
            self.sim.run_until(until)

    def _sample(self) -> None:
        m = self.sim.metrics
        mc = m.multicast
        if not m.sent and mc.expected:  # only multicast traffic: its delivery ratio
            self._pdr.append(mc.counted / mc.expected)
        else:
            self._pdr.append(len(m.delivered) / m.sent if m.sent else 0.0)
        self._overhead.append(float(m.control_packets - self._last_control))
        self._last_control = m.control_packets

    def _on_event(self, t: float, kind: str, fields: dict) -> None:
        self._pending.add(t, kind, fields)

    def _on_route(self, t: float, kind: str, fields: dict) -> None:
        self._entries.record(t, fields)

    def _on_link_up(self, t: float, kind: str, fields: dict) -> None:
        a, b = self._node_of[fields["a"]], self._node_of[fields["b"]]
        self._link_since[(a, b) if a < b else (b, a)] = t

    # --- the selected flow's packets (per-packet protocols) --------------------------------
    def _on_sent(self, t: float, kind: str, fields: dict) -> None:
        if fields["flow"] == self._flow_id:
            tracing = self._tracing
            tracing[fields["uid"]] = PacketTrace(fields["uid"], self._node_of[fields["node"]])
            if len(tracing) > TRACED:
                del tracing[next(iter(tracing))]

    def _on_tx(self, t: float, kind: str, fields: dict) -> None:
        trace = self._tracing.get(fields["uid"])
        if trace is None:
            return
        i = self._node_of[fields["node"]]
        j = self._index_of.get(fields["next_hop"])
        if j is None:  # a broadcast (flooding)
            trace.txs.append((t, i))
            return
        mode = "perimeter" if trace.perimeter else "greedy"
        hops = trace.hops
        if hops and hops[-1][0] == i:  # the same node again (a failed hop): its last try counts
            hops[-1] = [i, j, mode]
        else:
            hops.append([i, j, mode])

    def _on_perimeter(self, t: float, kind: str, fields: dict) -> None:
        trace = self._tracing.get(fields["uid"])
        if trace is not None:
            trace.perimeter = fields["entered"]

    def _on_delivered(self, t: float, kind: str, fields: dict) -> None:
        trace = self._tracing.get(fields["uid"])
        if trace is not None:
            self._finish(trace, "delivered", t, self._node_of[fields["node"]])

    def _on_dropped(self, t: float, kind: str, fields: dict) -> None:
        trace = self._tracing.get(fields["uid"])
        if trace is not None and fields["uid"] not in self.sim.live:  # its last copy is gone
            self._finish(trace, "lost", t, self._node_of[fields["node"]])

    def _finish(self, trace: PacketTrace, state: str, t: float, at: int) -> None:
        del self._tracing[trace.uid]
        trace.state = state
        if trace.hops:  # unicast: the hops as they were made
            trace.path = (trace.hops[0][0], *(h[1] for h in trace.hops))
            trace.modes = tuple(h[2] for h in trace.hops) if self._modes else ()
        elif state == "delivered":
            trace.path = self._copy_chain(trace, t, at)
        if self._shown is None or trace.uid > self._shown.uid:
            self._shown = trace

    def _copy_chain(self, trace: PacketTrace, t: float, at: int) -> tuple[int, ...]:
        """The chain of broadcast copies that reached ``at`` at ``t``: walk back from it, each
        node having heard the earliest copy sent by a node in reach (the last copy sent before
        ``t``, for ``at`` itself)."""
        linked = self.meter.fer
        path = [at]
        before = t
        first = False  # the delivering node takes the newest copy, the others the earliest
        while path[-1] != trace.src:
            here = path[-1]
            heard = [(s, i) for s, i in trace.txs if s <= before and i not in path]
            near = [(s, i) for s, i in heard if (i, here) in linked] or heard
            if not near:
                break
            s, i = min(near) if first else max(near)
            path.append(i)
            before, first = s, True
            before -= 1e-12  # strictly earlier than this node's own copy
        return tuple(reversed(path))

    def position(self, i: int) -> tuple[float, float]:
        return self.sim.position(i, self.sim.now)

    def node_name(self, i: int) -> str:
        return self.sim.nodes[i].name

    # --- interventions -----------------------------------------------------------------------
    def move(self, i: int, x: float, y: float) -> None:
        self.sim.move(i, x, y)
        self.meter.refresh(force=True)  # its links change now, not at the next refresh

    def toggle_alive(self, i: int) -> bool:
        """Kill a live node or revive a dead one; returns whether it is alive afterwards."""
        if self.sim.nodes[i].alive:
            self.sim.kill(i)
        else:
            self.sim.revive(i)
        self.meter.refresh(force=True)
        return self.sim.nodes[i].alive

    def summary(self) -> dict:
        """The run is over: stop the protocols and return `meshnet run`'s metrics."""
        self.sim.finish()
        return self.sim.result()

    def close(self) -> None:
        self.sim.bus.unsubscribe(self._on_event)
        self.sim.bus.unsubscribe(self._on_link_up)
        self.sim.bus.unsubscribe(self._on_route)
        self.meter.close()

    # --- packet animation ----------------------------------------------------------------------
    def set_animation(self, window_s: float | None) -> None:
        """Follow finished frames for the animation (None: stop; no cost when off)."""
        if window_s is None:
            if self._trail is not None:
                self.meter.listeners.remove(self._trail_frame)
            self._trail = None
            return
        if self._trail is None:
            self._trail = FrameTrail(window_s)
            self.meter.listeners.append(self._trail_frame)
        self._trail.window = window_s

    def _trail_frame(self, t: float, i: int, frame, receivers: list, ok: bool) -> None:
        dst = frame.dst_index
        self._trail.add(t, i, receivers if dst < 0 else (dst,), frame.kind == DATA)

    # --- the inspector ------------------------------------------------------------------------
    def detail(self, i: int, link: int | None) -> NodeDetail:
        """Node ``i`` as the simulator knows it, with every link the medium applies now."""
        sim = self.sim
        node = sim.nodes[i]
        now = sim.now
        x, y = sim.position(i, now)
        seg = sim.trajectories[i].segment_at(now)
        channel = sim.channel
        batteries = getattr(channel, "batteries", None)
        battery = (sim.battery_fraction(i)
                   if batteries is not None and batteries[i] is not None else None)
        energy = channel.energy_j(i) if type(channel).energy_j is not Channel.energy_j else None
        links = measured_links(self.meter, channel, i, now,
                               lambda k: sim.position(k, now), self.sim.world.names,
                               self._link_since)
        notes = radio_notes(channel)
        if batteries is None or batteries[i] is None:
            notes.append("battery: not limited in this scenario")
        c = self.counters
        return NodeDetail(
            i, node.name, node.address, x, y, node.alive, "n/a", seg.speed,
            heading(seg.vx, seg.vy), battery, energy, len(node.mac.queued()), len(node.held),
            c.sent[i], c.received[i], c.forwarded[i], c.dropped[i], links,
            None if link is None or not links else link % len(links), tuple(notes))

    # --- the picture -------------------------------------------------------------------------
    def picture(self, selected: int, flow: int) -> Picture:
        sim = self.sim
        now = sim.now
        nodes = tuple(NodeInfo(n.name, n.address, *sim.position(n.index, now), n.alive)
                      for n in sim.nodes)
        m = sim.metrics
        flow_id = self.flows[flow % len(self.flows)].id if self.flows else -1
        packet_state, modes = "", ()
        if self.per_packet:
            if flow_id != self._flow_id:  # another flow: follow its packets from now on
                self._flow_id = flow_id
                self._tracing.clear()
                self._shown = None
            shown = self._shown
            route, complete = (shown.path, shown.state == "delivered") if shown else ((), False)
            if shown is not None:
                packet_state, modes = shown.state, shown.modes
        else:
            route, complete = self._route(flow)
        stats = Stats(m.sent, len(m.delivered), m.control_packets,
                      tuple(self._pdr), tuple(self._overhead), self._faults.labels(),
                      m.multicast.expected, m.multicast.counted)
        events = self._pending.drain()
        links = self.meter.qualities()
        fer = self.meter.fer
        # a packet's path is history: its hops are not checked against the links of now
        gaps = () if self.per_packet else route_gaps(route, lambda a, b: (a, b) in fer)
        frames = self._trail.marks(now) if self._trail is not None else ()
        since = (route_since(route, nodes[route[-1]].address, self._entries.changed_at)
                 if complete and not self.per_packet else None)
        members: tuple[int, ...] = ()
        sent, delivered = m.per_flow_sent[flow_id], m.per_flow_delivered[flow_id]
        f = self.flows[flow % len(self.flows)] if self.flows else None
        if f is not None and f.group:  # sent: member deliveries due
            members = tuple(sorted(self.sim.world.membership.members_at(f.group_address, now)))
            sent, delivered = self._mcast.expected[f.id], self._mcast.delivered[f.id]
        return Picture(now, nodes, links, route, complete, selected,
                       self._table(selected, now), stats, events, gaps, sent, delivered,
                       packet_state, modes, frames=frames, route_since=since, members=members)

    def _route(self, flow: int) -> tuple[tuple[int, ...], bool]:
        """Follow next hops from the flow's source; (path, reaches the destination)."""
        if not self.flows or self.per_packet or self.flows[flow % len(self.flows)].group:
            return (), False
        f = self.flows[flow % len(self.flows)]
        dst_address = self.sim.nodes[f.dst].address
        path = [f.src]
        here = f.src
        while here != f.dst:
            node = self.sim.nodes[here]
            route = node.routes.lookup(dst_address) if node.alive else None
            nxt = self._index_of.get(route.next_hop) if route else None
            if nxt is None or nxt in path:
                return tuple(path), False
            path.append(nxt)
            here = nxt
        return tuple(path), self.sim.nodes[f.dst].alive

    def _table(self, i: int, now: float) -> tuple[RouteRow, ...]:
        node = self.sim.nodes[i]
        if node.protocol is None:
            return ()
        rows = []
        name = self._formatter.n
        for r in node.protocol.table_rows():
            expires = r.get("expires")
            left = "-" if expires is None or not math.isfinite(expires) else f"{expires - now:.1f}"
            seqno = r.get("seqno")
            rows.append(RouteRow(name(r["dst"]), name(r.get("next_hop")),
                                 metric_text(r.get("metric")),
                                 "-" if seqno is None else str(seqno), left,
                                 str(r.get("state", ""))))
        order = self._order
        rows.sort(key=lambda row: order.get(row.dst, 1 << 30))
        return tuple(rows)
