"""The namespace emulation behind the :class:`~meshnet.tui.view.EngineView` interface.

Time is real: the UI only pauses its own updates. The routing table shows the node's live
kernel routes (dst, gateway), completed with the protocol's own metric, sequence number and
expiry when the node runs a meshnet protocol. Arrow keys move nodes in the radio model.
"""

from __future__ import annotations

import math
import os
import shutil

from ..scenario import Scenario, ScenarioError
from ..world import build_world
from .log_format import EventBuffer, EventFormatter
from .view import (ALL_LOG_KINDS, NodeInfo, Picture, RouteRow, Stats, describe_scenario,
                   metric_text, route_gaps)

RUN_NAME = "tui"
PENDING_EVENTS = 1000  # events listed per picture; more are only counted


class NetnsView:
    backend = "netns"
    controls_time = False
    can_kill = False

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
        # replace: a restart stops the previous view's run before this one takes the name
        self.emu = Emulation(scenario, name=run_name, handle_signals=False,
                             on_event=self._on_event, replace=True)
        self.emu.start()

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
            self._pending.add(t, kind, {**fields, "node": node})

    def position(self, i: int) -> tuple[float, float]:
        return tuple(self.emu.nodes()[i]["position"])

    def node_name(self, i: int) -> str:
        return self._names[i]

    def move(self, i: int, x: float, y: float) -> None:
        self.emu.move(self._names[i], x, y)

    def toggle_alive(self, i: int) -> bool:
        return True

    def summary(self) -> None:
        return None  # real time: the emulation runs until the UI stops it

    def close(self) -> None:
        self.emu.stop()

    # --- the picture -------------------------------------------------------------------------
    def picture(self, selected: int, flow: int) -> Picture:
        emu = self.emu
        now = self.now
        nodes = tuple(NodeInfo(n["name"], n["address"], *n["position"], True)
                      for n in emu.nodes())
        nbrs = emu.neighbours()
        links = tuple((i, j, 1.0) for i, row in enumerate(nbrs) for j in sorted(row) if i < j)
        route, complete = self._route(flow)
        counters = emu.counters()
        stats = Stats(0, 0, int(counters.get("frames_out", 0)))
        events = self._pending.drain()
        linked = {(i, j) for i, j, _ in links} | {(j, i) for i, j, _ in links}
        gaps = route_gaps(route, lambda a, b: (a, b) in linked)
        return Picture(now, nodes, links, route, complete, selected,
                       self._table(selected, now), stats, events, gaps)

    def _next_hop(self, i: int, dst: str) -> int | None:
        for prefix, plen, gateway in self.emu.node(self._names[i]).routes():
            if prefix == dst and plen == 32:
                return self._index_of.get(gateway or dst)
        return None

    def _route(self, flow: int) -> tuple[tuple[int, ...], bool]:
        if not self.flows:
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
