"""The simulator backend: builds nodes, channel, traffic and mobility events from a World and runs
them in virtual time. No wall clock anywhere in the model: the same scenario and seed give the same
events, metrics and trace, byte for byte.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from ..attacks import SecurityCounters, build_attackers
from ..events import EventBus
from ..faults import FaultSchedule, build_faults
from ..metrics import MetricsCollector
from ..protocol_api import Packet, ProtocolConfigError, is_multicast
from ..scenario import Scenario, ScenarioError
from ..world import World, build_world
from ..medium import Channel, Frame, build_medium
from ..scheduler import Scheduler
from .node import SimNode


class Simulation:
    """One simulated run. ``run()`` returns the metrics dict (the ``--json`` keys in README.md).

    Read-only views for the UI and tests: ``nodes``, ``position(i, t)``, ``links``, ``now``,
    ``faults`` (the scenario's fault schedule).
    Interventions: ``move(i, x, y)``, ``kill(i)``, ``revive(i)``, ``cut(i, j)``,
    ``restore(i, j)``, ``drain(i, to_fraction, joules)``.
    """

    def __init__(self, scenario: Scenario | World, bus: EventBus | None = None) -> None:
        world = scenario if isinstance(scenario, World) else build_world(scenario)
        self.world = world
        self.scenario = world.scenario
        self.seed = self.scenario.seed
        self.duration = self.scenario.duration
        self.bus = bus or EventBus()
        self.sched = Scheduler()
        self.n = world.n
        self.trajectories = world.trajectories
        self.max_speed = max((t.max_speed for t in self.trajectories), default=0.0)
        self.index_of = {a: i for i, a in enumerate(world.addresses)}
        self.membership = world.membership
        self.has_multicast = bool(world.membership) or any(f.group for f in world.flows)
        faults = build_faults(self.scenario, world.names)
        self.metrics = MetricsCollector(self.bus, faults=bool(faults))
        self.live: dict[int, int] = {}  # uid -> copies in custody (queues, buffers, the air)
        self._uid = 0
        self.links: set[tuple[int, int]] = set()
        self.nodes = [SimNode(self, i, world.names[i], world.addresses[i],
                              self.scenario.nodes.queue_len, world.tx_power, world.profile)
                      for i in range(self.n)]
        self.channel = self._make_channel()
        for node in self.nodes:
            node.mac = self.channel.make_mac(node)
        self.attackers = build_attackers(world)  # node index -> (protocol class, params)
        self.security = (SecurityCounters(self.bus) if self.attackers
                         or getattr(world.protocol_params, "auth_key", "") else None)
        for node in self.nodes:
            try:
                node.attach(self._new_protocol(node))
            except ProtocolConfigError as e:
                raise ScenarioError(f"{self.scenario.source}: protocol: {e}") from None
        self.faults = FaultSchedule(faults, world.names, self.position, self,
                                    lambda kind, fields: self.bus.emit(self.sched.now, kind,
                                                                       fields),
                                    lambda: self.sched.now, self.duration)
        self.frame_taps: list[Callable[[SimNode, Frame], None]] = []  # e.g. the pcap writer
        self.control_drops = 0
        self.malformed = 0
        self.protocol_errors = 0
        self.tx_count = 0  # frames transmitted (data and control)
        self.wall_s = 0.0
        self._started = False
        self._finished = False

    # --- construction ------------------------------------------------------------------------
    def _new_protocol(self, node: SimNode):
        """The node's protocol instance: the scenario's protocol, or an attacker's subclass of
        it for the nodes of ``[[attackers]]`` (meshnet/attacks.py)."""
        cls, params = self.attackers.get(node.index,
                                         (self.world.protocol_cls, self.world.protocol_params))
        return cls(node, params)

    def _make_channel(self) -> Channel:
        w = self.world
        return build_medium(self, self.scenario, w.profile, w.propagation)

    def _schedule_traffic(self) -> None:
        for flow in self.world.flows:
            if flow.start < flow.stop:
                rng = random.Random(f"{self.seed}:flow:{flow.id}")
                self.sched.call_at(flow.start, self._generate, flow, rng)

    def _generate(self, flow, rng: random.Random) -> None:
        now = self.sched.now
        src = self.nodes[flow.src]
        self._uid += 1
        if flow.group:
            self._generate_multicast(flow, src, now)
            nxt = now + flow.next_gap(rng)
            if nxt < flow.stop:
                self.sched.call_at(nxt, self._generate, flow, rng)
            return
        packet = Packet(self._uid, src.address, self.world.addresses[flow.dst], flow.size, now,
                        ttl=flow.ttl, flow=flow.id)
        bus = self.bus
        bus.emit(now, "data_sent", {"node": src.name, "uid": packet.uid, "src": packet.src,
                                    "dst": packet.dst, "flow": flow.id, "size": flow.size})
        if src.alive:
            src.originate(packet)
        else:
            self.custody(packet.uid, 1)
            self.drop(src, packet, "node_dead")
        nxt = now + flow.next_gap(rng)
        if nxt < flow.stop:
            self.sched.call_at(nxt, self._generate, flow, rng)

    def _generate_multicast(self, flow, src: SimNode, now: float) -> None:
        packet = Packet(self._uid, src.address, flow.group, flow.size, now, ttl=flow.ttl,
                        flow=flow.id)
        names = self.world.names
        receivers = [names[k] for k in sorted(self.membership.members_at(flow.group, now))
                     if k != flow.src]
        self.bus.emit(now, "mcast_sent", {"node": src.name, "uid": packet.uid,
                                          "group": flow.group, "flow": flow.id,
                                          "size": flow.size, "receivers": receivers})
        if src.alive:
            src.originate(packet)
        else:
            self.drop(src, packet, "node_dead")

    def _schedule_membership(self) -> None:
        for at, node, group, join in self.membership.changes():
            if at <= self.duration:
                self.sched.call_at(at, self._membership_changed, node, group, join)

    def _membership_changed(self, i: int, group: str, join: bool) -> None:
        """A node's applications joined or left a group: its protocol hears of it."""
        node = self.nodes[i]
        if node.alive:
            hook = node.protocol.on_join if join else node.protocol.on_leave
            node.call_protocol(hook, group)

    def _schedule_mobility(self) -> None:
        """One pending course change per node, the next one scheduled when it fires, so the
        heap never holds a whole run's legs. Each node keeps one reserved rank: its course
        changes run, among events at the same instant, where scheduling them all now would."""
        first = self.sched.reserve_order(self.n)
        for i, traj in enumerate(self.trajectories):
            seg = traj.segment_at(0.0)  # the first one too: the trace starts with every position
            self.sched.call_at_order(first + i, seg.t0, self._moved, i, seg, first + i)

    def _moved(self, i: int, seg, order: int) -> None:
        traj = self.trajectories[i]
        if traj.segment_at(seg.t0) is not seg:
            return  # superseded by a manual move
        if self.bus.wants("node_moved"):
            self.bus.emit(self.sched.now, "node_moved", {  # full precision: the trace alone
                "node": self.nodes[i].name, "x": seg.x0, "y": seg.y0,  # gives every position
                "vx": seg.vx, "vy": seg.vy})
        nxt = traj.next_segment(seg)
        if nxt is not None and nxt.t0 <= self.duration:
            self.sched.call_at_order(order, nxt.t0, self._moved, i, nxt, order)

    def _sample_links(self) -> None:
        now = self.sched.now
        current = self.channel.neighbour_pairs(now)
        bus = self.bus
        if bus.wants("link_up") or bus.wants("link_down"):
            names = self.world.names
            for a, b in sorted(current - self.links):
                bus.emit(now, "link_up", {"a": names[a], "b": names[b]})
            for a, b in sorted(self.links - current):
                bus.emit(now, "link_down", {"a": names[a], "b": names[b]})
        self.links = current
        self.sched.call_later(float(self.scenario.trace.link_interval), self._sample_links)

    # --- accounting (called by nodes) --------------------------------------------------------
    def deliver_multicast(self, node: SimNode, packet: Packet) -> None:
        now = self.sched.now
        if self.membership.is_member(node.index, packet.dst, now):
            self.bus.emit(now, "mcast_delivered", {
                "node": node.name, "uid": packet.uid, "group": packet.dst, "hops": packet.hops,
                "delay": now - packet.created, "flow": packet.flow})

    def custody(self, uid: int, delta: int) -> None:
        if delta:
            left = self.live.get(uid, 0) + delta
            if left:
                self.live[uid] = left
            else:
                self.live.pop(uid, None)

    def drop(self, node: SimNode, packet: Packet, reason: str) -> None:
        if self.has_multicast and is_multicast(packet.dst):  # no custody: copies are many
            self.bus.emit(self.sched.now, "mcast_dropped",
                          {"node": node.name, "uid": packet.uid, "reason": reason})
            return
        self.custody(packet.uid, -1)
        self.bus.emit(self.sched.now, "data_dropped",
                      {"node": node.name, "uid": packet.uid, "reason": reason})

    def discard(self, node: SimNode, packet: Packet) -> None:
        """A redundant copy vanishes (duplicate suppression); not a drop. But when it is the last
        copy of a packet that never reached its destination (a flood that died out among nodes
        that had all seen it), the packet is lost: a ``duplicate`` drop, or it would end in no
        state at all."""
        uid = packet.uid
        if self.live.get(uid, 0) <= 1 and uid not in self.metrics.delivered:
            self.drop(node, packet, "duplicate")
        else:
            self.custody(uid, -1)

    def deliver(self, node: SimNode, packet: Packet) -> None:
        self.custody(packet.uid, -1)
        now = self.sched.now
        self.bus.emit(now, "data_delivered", {
            "node": node.name, "uid": packet.uid, "hops": packet.hops,
            "delay": now - packet.created, "flow": packet.flow})

    def count_data_tx(self, node: SimNode, frame: Frame) -> None:
        self.tx_count += 1
        for tap in self.frame_taps:
            tap(node, frame)
        packet = frame.packet
        if self.has_multicast and is_multicast(packet.dst):
            self.bus.emit(self.sched.now, "mcast_tx", {"node": node.name, "uid": packet.uid,
                                                       "group": packet.dst})
        if self.bus.wants("data_tx"):
            self.bus.emit(self.sched.now, "data_tx", {
                "node": node.name, "uid": frame.packet.uid, "next_hop": frame.dst})

    def count_control_tx(self, node: SimNode, frame: Frame) -> None:
        self.tx_count += 1
        for tap in self.frame_taps:
            tap(node, frame)
        self.bus.emit(self.sched.now, "ctrl_tx", {
            "node": node.name, "dst": frame.dst, "bytes": frame.size, "port": frame.port})

    def count_control_drop(self, node: SimNode, reason: str) -> None:
        self.control_drops += 1

    def protocol_error(self, node: SimNode, error: str, trace: str) -> None:
        self.protocol_errors += 1
        self.bus.emit(self.sched.now, "protocol_error",
                      {"node": node.name, "error": error, "traceback": trace})

    def count_malformed(self, node: SimNode, src: str, error: Exception) -> None:
        self.malformed += 1
        if self.bus.wants("ctrl_malformed"):
            self.bus.emit(self.sched.now, "ctrl_malformed",
                          {"node": node.name, "src": src, "error": str(error)})

    def route_event(self, kind: str, node: SimNode, dst: str, next_hop: str, metric: int) -> None:
        self.bus.emit(self.sched.now, kind,
                      {"node": node.name, "dst": dst, "next_hop": next_hop, "metric": metric})

    # --- views -------------------------------------------------------------------------------
    def position(self, i: int, t: float) -> tuple[float, float]:
        return self.trajectories[i].position(t)

    @property
    def now(self) -> float:
        return self.sched.now

    def battery_fraction(self, i: int) -> float:
        return self.channel.battery_fraction(i)

    def node(self, ref: int | str) -> SimNode:
        if isinstance(ref, int):
            return self.nodes[ref]
        for n in self.nodes:
            if ref in (n.name, n.address):
                return n
        raise KeyError(f"no node {ref!r}")

    # --- interventions -----------------------------------------------------------------------
    def move(self, ref: int | str, x: float, y: float) -> None:
        """Teleport a node now; it stays there."""
        node = self.node(ref)
        self.trajectories[node.index].set_position(self.sched.now, x, y)
        self.channel.moved()
        if self.bus.wants("node_moved"):
            self.bus.emit(self.sched.now, "node_moved",
                          {"node": node.name, "x": float(x), "y": float(y), "vx": 0.0, "vy": 0.0})

    def kill(self, ref: int | str, reason: str = "killed") -> None:
        node = self.node(ref)
        if node.alive:
            node.die(reason)
            self.bus.emit(self.sched.now, "node_died", {"node": node.name, "reason": reason})

    def revive(self, ref: int | str) -> None:
        node = self.node(ref)
        if not node.alive:
            node.alive = True
            node.attach(self._new_protocol(node))
            node.call_protocol(node.protocol.start)
            self.bus.emit(self.sched.now, "node_revived", {"node": node.name, "reason": "revived"})

    def cut(self, a: int | str, b: int | str) -> None:
        """Silence the link between two nodes both ways, until :meth:`restore`."""
        self.channel.cut(self.node(a).index, self.node(b).index)

    def restore(self, a: int | str, b: int | str) -> None:
        self.channel.restore(self.node(a).index, self.node(b).index)

    def drain(self, ref: int | str, to_fraction: float | None = None,
              joules: float | None = None) -> float:
        """Take energy from a node's battery now (see ``Channel.drain``); an empty battery
        kills it. Returns the joules taken."""
        return self.channel.drain(self.node(ref).index, to_fraction, joules)

    # --- running -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        sc = self.scenario
        self.bus.emit(0.0, "run_started", {
            "scenario": sc.name, "protocol": sc.protocol.name, "seed": self.seed,
            "duration": float(self.duration), "nodes": self.n, "width": float(sc.area.width),
            "height": float(sc.area.height), "radio": sc.radio.profile,
            "propagation": sc.radio.propagation, "backend": "sim"})
        self._schedule_traffic()
        self._schedule_membership()
        self._schedule_mobility()
        self.faults.install(self.sched.call_at)
        self.sched.call_at(0.0, self._sample_links)
        for node in self.nodes:
            self.sched.call_at(0.0, node.call_protocol, node.protocol.start)

    def run_until(self, t: float) -> None:
        self.start()
        wall = time.perf_counter()
        self.sched.run_until(min(t, self.duration))
        self.wall_s += time.perf_counter() - wall

    def run(self, progress: Callable[[float], Any] | None = None, step: float | None = None
            ) -> dict[str, Any]:
        """Run to the end of the scenario and return the metrics."""
        self.start()
        if progress is None:
            self.run_until(self.duration)
        else:
            step = step or max(self.duration / 200.0, 1e-3)
            t = 0.0
            while t < self.duration:
                t = min(t + step, self.duration)
                self.run_until(t)
                progress(t)
        self.finish()
        return self.result()

    def finish(self) -> None:
        """The run is over: every live node's protocol is stopped (once), as on netns."""
        if self._finished:
            return
        self._finished = True
        for node in self.nodes:
            if node.alive:
                node.call_protocol(node.protocol.stop)

    def result(self) -> dict[str, Any]:
        sc = self.scenario
        m = self.metrics.result(set(self.live), self.n, end=self.sched.now)
        out: dict[str, Any] = {
            "scenario": sc.name,
            "protocol": sc.protocol.name,
            "backend": "sim",
            "seed": sc.seed,
            "nodes": self.n,
            "duration_s": self.sched.now,
            "radio": sc.radio.profile,
            "propagation": sc.radio.propagation,
        }
        out.update(m)
        out["energy_j"] = self.channel.total_energy_j()
        out["control_drops"] = self.control_drops
        out["malformed_control"] = self.malformed
        out["protocol_errors"] = self.protocol_errors
        if self.security is not None:  # authentication on, or attackers in the scenario
            out.update(self.security.result())
        out["events"] = self.sched.executed
        out["wall_s"] = round(self.wall_s, 4)
        out["events_per_s"] = round(self.sched.executed / self.wall_s) if self.wall_s > 0 else 0
        return out


def simulate(scenario: Scenario, bus: EventBus | None = None) -> dict[str, Any]:
    return Simulation(scenario, bus).run()


__all__ = ["Simulation", "simulate"]
