"""The simulator behind the :class:`~meshnet.tui.view.EngineView` interface.

Only reads engine state and calls the documented interventions (``move``, ``kill``, ``revive``);
the link meter (:mod:`meshnet.tui.link_meter`) counts the frames the medium reports to each
station and reads the medium's links without touching its grid or random numbers, so watching a
run does not change its outcome (``tests/test_tui.py`` checks it).
"""

from __future__ import annotations

import math
from collections import deque

from ..scenario import Scenario
from ..sim import Simulation
from .link_meter import LinkMeter
from .log_format import EventBuffer, EventFormatter
from .view import (ALL_LOG_KINDS, NodeInfo, Picture, RouteRow, Stats, describe_scenario,
                   metric_text, route_gaps)

HISTORY = 120  # sparkline samples kept (one per simulated second)
PENDING_EVENTS = 1000  # events listed per picture; more are only counted


class SimView:
    backend = "sim"
    controls_time = True
    can_kill = True

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
        self.sim.bus.subscribe(self._on_event, ALL_LOG_KINDS)
        self.meter = LinkMeter(self.sim)
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
        self._pdr.append(len(m.delivered) / m.sent if m.sent else 0.0)
        self._overhead.append(float(m.control_packets - self._last_control))
        self._last_control = m.control_packets

    def _on_event(self, t: float, kind: str, fields: dict) -> None:
        self._pending.add(t, kind, fields)

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
        self.meter.close()

    # --- the picture -------------------------------------------------------------------------
    def picture(self, selected: int, flow: int) -> Picture:
        sim = self.sim
        now = sim.now
        nodes = tuple(NodeInfo(n.name, n.address, *sim.position(n.index, now), n.alive)
                      for n in sim.nodes)
        route, complete = self._route(flow)
        m = sim.metrics
        stats = Stats(m.sent, len(m.delivered), m.control_packets,
                      tuple(self._pdr), tuple(self._overhead))
        events = self._pending.drain()
        links = self.meter.qualities()
        fer = self.meter.fer
        gaps = route_gaps(route, lambda a, b: (a, b) in fer)
        flow_id = self.flows[flow % len(self.flows)].id if self.flows else -1
        return Picture(now, nodes, links, route, complete, selected,
                       self._table(selected, now), stats, events, gaps,
                       m.per_flow_sent[flow_id], m.per_flow_delivered[flow_id])

    def _route(self, flow: int) -> tuple[tuple[int, ...], bool]:
        """Follow next hops from the flow's source; (path, reaches the destination)."""
        if not self.flows or self.per_packet:
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
