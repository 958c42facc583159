"""A simulated node: the protocol's context, its forwarding table and its data plane.

The node is the :class:`~meshnet.protocol_api.NodeContext` of its protocol instance. Data packets
follow the route table hop by hop (or ``protocol.forward`` for per-packet protocols), with TTL,
an interface queue and drops counted by reason. Custody of every packet copy is tracked so that
at the end of a run each generated packet is delivered, dropped with a reason, or still queued.
"""

from __future__ import annotations

import random
import traceback
from typing import Any, Callable

from ..medium import CTRL, DATA, IP_UDP_HEADER, Frame
from ..protocol_api import (BROADCAST, DecodeError, Packet, Protocol, Route, is_link_local_group,
                            is_multicast)


class SimRouteTable:
    """Host routes of one node; every change is published on the bus."""

    __slots__ = ("_node", "_routes")

    def __init__(self, node: "SimNode") -> None:
        self._node = node
        self._routes: dict[str, Route] = {}

    def add(self, dst: str, next_hop: str, metric: int = 1, seqno: int | None = None,
            expires: float | None = None) -> None:
        old = self._routes.get(dst)
        if old is not None and old.next_hop == next_hop and old.metric == metric:
            old.seqno = seqno
            old.expires = expires
            return
        self._routes[dst] = Route(dst, next_hop, metric, seqno, expires)
        self._node.sim.route_event("route_added" if old is None else "route_changed",
                                   self._node, dst, next_hop, metric)

    def remove(self, dst: str) -> None:
        old = self._routes.pop(dst, None)
        if old is not None:
            self._node.sim.route_event("route_removed", self._node, dst, old.next_hop, old.metric)

    def lookup(self, dst: str) -> Route | None:
        return self._routes.get(dst)

    def clear(self) -> None:
        for dst in list(self._routes):
            self.remove(dst)

    def __iter__(self):
        return iter(list(self._routes.values()))

    def __len__(self) -> int:
        return len(self._routes)

    def __contains__(self, dst: str) -> bool:
        return dst in self._routes


class SimNode:
    """One node. Implements NodeContext for its protocol."""

    def __init__(self, sim: Any, index: int, name: str, address: str,
                 queue_len: int, tx_power: float, profile: Any) -> None:
        self.sim = sim
        self.index = index
        self.node_id = index
        self.name = name
        self.address = address
        self.queue_len = queue_len
        self.tx_power = tx_power
        self.profile = profile
        self.power_levels = profile.levels_with(tx_power)
        self.random = random.Random(f"{sim.seed}:node:{index}")
        self.routes = SimRouteTable(self)
        self.persistent: dict[str, Any] = {}  # survives kill/revive (NodeContext.persistent)
        self.link_power: dict[str, float] = {}  # next hop -> dBm (set_link_power)
        self.alive = True
        self.protocol: Protocol | None = None
        self.mac = None
        self.held: dict[int, Packet] = {}  # id(packet) -> packet the protocol buffers
        self._handled = False
        self._per_packet = False
        self._ip_option = 0  # the protocol's per-packet header travels as this IPv4 option
        self._on_data: Callable | None = None
        self._generation = 0  # bumped per protocol instance: timers of a dead instance never fire
        self._mcast = sim.has_multicast  # multicast packets may exist in this run

    # --- lifecycle ---------------------------------------------------------------------------
    def attach(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self._generation += 1
        cls = type(protocol)
        self._per_packet = cls.per_packet
        self._ip_option = getattr(cls, "ip_option", 0)
        self._on_data = protocol.on_data if cls.on_data is not Protocol.on_data else None

    # --- NodeContext -------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.sched.now

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any):
        return self.sim.sched.call_later(delay, self._guarded, self._generation, fn, args)

    def _guarded(self, generation: int, fn, args) -> None:
        if self.alive and generation == self._generation:
            try:
                fn(*args)
            except Exception as exc:
                self.protocol_failed(exc)

    def protocol_failed(self, exc: Exception) -> None:
        """A protocol hook raised: counted and traced; this node and the run go on."""
        self.sim.protocol_error(self, f"{type(exc).__name__}: {exc}", traceback.format_exc())

    def call_protocol(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a protocol hook outside the hot path (start, stop), isolating its failure."""
        try:
            return fn(*args)
        except Exception as exc:
            self.protocol_failed(exc)
            return None

    def set_link_power(self, next_hop: str, tx_power_dbm: float | None) -> None:
        """Every frame to ``next_hop`` (data too) goes at ``tx_power_dbm``; None: default."""
        if next_hop not in self.sim.index_of:
            raise ValueError(f"{self.name}: unknown neighbour {next_hop!r}")
        if tx_power_dbm is None:
            self.link_power.pop(next_hop, None)
        else:
            self.link_power[next_hop] = self.profile.check_tx_power(tx_power_dbm)

    def broadcast(self, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self._send_control(BROADCAST, -1, payload, tx_power_dbm)

    def send(self, next_hop: str, payload: bytes, tx_power_dbm: float | None = None) -> None:
        if next_hop == BROADCAST:
            self._send_control(BROADCAST, -1, payload, tx_power_dbm)
            return
        j = self.sim.index_of.get(next_hop)
        if j is None:
            raise ValueError(f"{self.name}: send to unknown address {next_hop!r}")
        self._send_control(next_hop, j, payload, tx_power_dbm)

    def _send_control(self, dst: str, dst_index: int, payload: bytes,
                      tx_power_dbm: float | None) -> None:
        if not self.alive:
            return
        if tx_power_dbm is not None:
            tx_power_dbm = self.profile.check_tx_power(tx_power_dbm)
        elif self.link_power:
            tx_power_dbm = self.link_power.get(dst)
        port = self.protocol.port if self.protocol else 0
        frame = Frame(CTRL, self.index, dst, dst_index, None, payload,
                      len(payload) + IP_UDP_HEADER, port, tx_power_dbm)
        if not self.mac.enqueue(frame):
            self.sim.count_control_drop(self, "queue_full")

    def send_packet(self, packet: Packet) -> None:
        self.held.pop(id(packet), None)
        self._route(packet, None)
        self._handled = True  # after routing: a per-packet protocol's forward() resets it

    def drop(self, packet: Packet, reason: str) -> None:
        self.held.pop(id(packet), None)
        self._handled = True
        self.sim.drop(self, packet, reason)

    def hold(self, packet: Packet) -> None:
        self.held[id(packet)] = packet
        self._handled = True

    @property
    def rx_power_dbm(self) -> float | None:
        return self.sim.channel.rx_power_dbm(self.index)

    def position(self) -> tuple[float, float]:
        return self.sim.position(self.index, self.sim.sched.now)

    def location_of(self, address: str) -> tuple[float, float] | None:
        j = self.sim.index_of.get(address)
        return None if j is None else self.sim.position(j, self.sim.sched.now)

    def battery(self) -> float:
        return self.sim.battery_fraction(self.index)

    def emit(self, kind: str, **fields: Any) -> None:
        bus = self.sim.bus
        if bus.wants(kind):
            fields["node"] = self.name
            bus.emit(self.sim.sched.now, kind, fields)

    def groups(self) -> frozenset[str]:
        return self.sim.membership.groups_of(self.index, self.sim.sched.now)

    def deliver(self, packet: Packet) -> None:
        """To this node's applications: counted when the node is a member now; the source's
        own packets are not looped back."""
        if packet.hops > 0 and self.alive:
            self.sim.deliver_multicast(self, packet)

    def relay(self, packet: Packet) -> None:
        """One link-layer broadcast of a multicast packet; a received copy loses one TTL."""
        if not self.alive:
            return
        packet = packet.copy()
        if packet.hops > 0 and not is_link_local_group(packet.dst):
            if packet.ttl <= 1:
                self.sim.drop(self, packet, "ttl")
                return
            packet.ttl -= 1
        frame = Frame(DATA, self.index, BROADCAST, -1, packet, None, packet.size + IP_UDP_HEADER,
                      0, None)
        if not self.mac.enqueue(frame):
            self.sim.drop(self, packet, "queue_full")

    # --- data plane --------------------------------------------------------------------------
    def originate(self, packet: Packet) -> None:
        if not (self._mcast and is_multicast(packet.dst)):
            self.sim.custody(packet.uid, 1)
        self._route(packet, None)

    def _route(self, packet: Packet, prev_hop: str | None) -> None:
        sim = self.sim
        if not self.alive:
            sim.drop(self, packet, "node_dead")
            return
        if packet.dst == self.address:
            self._deliver(packet, prev_hop)
            return
        proto = self.protocol
        if self._mcast and is_multicast(packet.dst):
            try:
                proto.on_multicast(packet, prev_hop)
            except Exception as exc:
                self.protocol_failed(exc)
            return
        if self._per_packet:
            self._handled = False
            try:
                next_hop = proto.forward(packet, prev_hop)
            except Exception as exc:
                self.protocol_failed(exc)
                next_hop = None
                if not self._handled:
                    sim.drop(self, packet, "protocol_error")
                    return
            if next_hop is None:
                if not self._handled:
                    sim.discard(self, packet)  # a redundant copy (e.g. duplicate flood)
                return
        else:
            route = self.routes.lookup(packet.dst)
            if route is None:
                self._handled = False
                try:
                    proto.on_no_route(packet)
                except Exception as exc:
                    self.protocol_failed(exc)
                if not self._handled:
                    sim.drop(self, packet, "no_route")
                return
            next_hop = route.next_hop
        if self._on_data is not None:
            try:
                self._on_data(packet, prev_hop, next_hop)
            except Exception as exc:
                self.protocol_failed(exc)
        if next_hop == BROADCAST:
            j = -1
        else:
            j = sim.index_of.get(next_hop, -2)
            if j == -2:
                sim.drop(self, packet, "no_route")
                return
        size = packet.size + IP_UDP_HEADER
        if self._ip_option and packet.meta:
            header = packet.meta.get(proto.name)
            if header:  # on the air as an IPv4 option: type, length, header, padded to 4 bytes
                size += (len(header) + 5) & ~3
        frame = Frame(DATA, self.index, next_hop, j, packet, None, size, 0,
                      self.link_power.get(next_hop) if self.link_power else None)
        if not self.mac.enqueue(frame):
            sim.drop(self, packet, "queue_full")

    def _deliver(self, packet: Packet, prev_hop: str | None) -> None:
        self.sim.deliver(self, packet)
        if self._on_data is not None:
            try:
                self._on_data(packet, prev_hop, None)
            except Exception as exc:
                self.protocol_failed(exc)

    # --- link layer callbacks ----------------------------------------------------------------
    def on_tx_end(self, frame: Frame, receivers: list[int], ok: bool, reason: str) -> None:
        """The MAC finished a transmission: count it and move custody of data copies."""
        sim = self.sim
        if frame.kind == CTRL:
            sim.count_control_tx(self, frame)
            if not ok and self.alive:
                self.call_protocol(self.protocol.on_link_failure, frame.dst, None)
            return
        packet = frame.packet
        sim.count_data_tx(self, frame)
        if self._mcast and is_multicast(packet.dst):
            return  # a broadcast: no custody, and a copy nobody heard is no loss by itself
        if ok:
            if receivers:
                sim.custody(packet.uid, len(receivers) - 1)
            else:  # a broadcast nobody heard (the radio channel says why)
                sim.drop(self, packet, reason or "out_of_range")
            return
        # unicast failed after retries: the copy is still ours; the protocol may salvage it
        self._handled = False
        self.call_protocol(self.protocol.on_link_failure, frame.dst, packet)
        if not self._handled:
            sim.drop(self, packet, reason or "mac_retries")

    def on_frame(self, frame: Frame) -> None:
        """A frame arrived intact from ``frame.sender``."""
        sim = self.sim
        sender = sim.nodes[frame.sender].address
        if frame.kind == CTRL:
            if not self.alive:
                return
            try:
                self.protocol.on_control(sender, frame.payload)
            except DecodeError as e:
                sim.count_malformed(self, sender, e)
            except Exception as exc:
                self.protocol_failed(exc)
            return
        packet = frame.packet.copy()  # each hop owns its packet: the sender's stays as it sent it
        if not self.alive:
            sim.drop(self, packet, "node_dead")
            return
        packet.hops += 1
        if packet.dst != self.address and not (self._mcast and is_multicast(packet.dst)):
            packet.ttl -= 1  # (a multicast relay decrements it when it sends a copy on)
            if packet.ttl <= 0:
                sim.drop(self, packet, "ttl")
                return
        self._route(packet, sender)

    # --- death -------------------------------------------------------------------------------
    def die(self, reason: str) -> None:
        if not self.alive:
            return
        self.alive = False
        if self.protocol is not None:
            self.call_protocol(self.protocol.stop)
        for frame in self.mac.flush():
            if frame.kind == DATA:
                self.sim.drop(self, frame.packet, "node_dead")
        for packet in list(self.held.values()):
            self.sim.drop(self, packet, "node_dead")
        self.held.clear()
        self.routes.clear()
