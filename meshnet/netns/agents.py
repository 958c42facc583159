"""The agent runtime: every node's protocol instance in one asyncio loop, on real sockets.

Each node gets a :class:`NodeAgent`, the netns implementation of ``NodeContext``:

- control traffic on a UDP socket created inside the node's namespace, bound to ``wlan0`` and
  the protocol's port, ``SO_BROADCAST`` for 255.255.255.255, IP TTL 1 (one-hop messages); the
  node's own broadcast echoes are ignored;
- ``ctx.routes`` writes the node's kernel table (``routes.KernelRoutes``);
- timers are ``loop.call_later``; ``ctx.now`` is monotonic time since the emulation started;
- packets without a route: the mesh prefix 10.99.0.0/16 is routed to the TUN ``mesh0`` at low
  priority, so the kernel hands the agent every packet no host route covers. Reactive protocols
  get ``on_no_route``; per-packet protocols get ``forward``. A packet handed back with
  ``send_packet`` (or a next hop chosen by ``forward``) is transmitted from user space: the agent
  frames it for the next hop's MAC (derived from its address, no ARP) and gives it to the
  channel as if the node's kernel had sent it. The IP header is untouched, so TTL and ``ping``
  hop counts are what the kernel path would give;
- per-packet headers: a per-packet protocol with an ``ip_option`` class attribute (GPSR) keeps
  its header in ``packet.meta[name]``; it travels between nodes as that IPv4 option
  (``ipopt``): read out of each packet from the TUN, written back when the packet is sent on;
- route use (``on_data``, AODV's active routes): the channel keeps the last unicast IPv4 packet
  per (node, src, dst); every ``use_interval`` the runtime reports each once, as the real packet;
- link-layer feedback: the channel reports unicasts it could not deliver (``on_link_failure``);
- transmit power: ``send``/``broadcast`` with ``tx_power_dbm`` leave a hint the channel matches
  to the frame the kernel emits (by UDP payload); ``set_link_power`` sets the power of every
  frame to one neighbour (data frames too);
- multicast (``Protocol.multicast``): the agent is the node's multicast router. The channel
  hands it every IPv4 multicast frame the node's kernel sends and every one the medium delivers
  to the node (``multicast.py``); the protocol's ``on_multicast`` decides, ``ctx.deliver``
  writes the frame into the node's TAP (the kernel gives it to the sockets that joined the
  group) and ``ctx.relay`` injects the IP packet again with its TTL decremented (link-local
  groups keep theirs). ``ctx.groups()`` and ``on_join`` / ``on_leave`` follow the scenario's
  membership schedule, the one the traffic's receiving sockets join and leave by;
- failures are isolated: a protocol hook that raises is counted as ``protocol_error`` and
  published (with its traceback) as a ``protocol_error`` event; the node and the run go on, as
  in the simulator. Timers of a dead node, or of an instance that was stopped, never fire.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import traceback
from collections import Counter
from typing import Any, Callable

from meshnet.groups import Membership
from meshnet.protocol_api import BROADCAST, DecodeError, Packet, Protocol, is_link_local_group

from . import multicast as mc

from . import ipopt, linux
from .channel import Channel
from .nodes import WLAN, NodeNet, mac_of
from .plan import Plan
from .readbuf import ReadBuffer
from .routes import KernelRoutes

log = logging.getLogger(__name__)
ETH_IPV4 = b"\x08\x00"
BROADCAST_MAC = b"\xff" * 6
IDENTITY_UID = 1 << 104  # packets that are not scenario flows: above every flow uid


def packet_identity(raw: bytes) -> int:
    """The uid of an IPv4 packet that is not a scenario flow's: its source, destination,
    protocol, identification and fragment field, the same in every copy of it (RFC 6621's
    I-DPD names packets so), so duplicate detection (a flood's) recognises copies of a ping
    or an iperf3 datagram as it does a flow's."""
    return (IDENTITY_UID | int.from_bytes(raw[12:20], "big") << 40 | raw[9] << 32
            | int.from_bytes(raw[4:8], "big"))


def parse_ipv4(raw: bytes, now: float, uid: int | None = None) -> Packet | None:
    """The routing layer's view of a raw IPv4 packet; ``uid`` defaults to the packet's
    identity (:func:`packet_identity`)."""
    if len(raw) < 20 or raw[0] >> 4 != 4:
        return None
    return Packet(packet_identity(raw) if uid is None else uid, socket.inet_ntoa(raw[12:16]),
                  socket.inet_ntoa(raw[16:20]), len(raw), now, ttl=raw[8], payload=raw)


def _reraise() -> None:
    """Re-raise the exception being handled (so ``guarded`` records it like any other)."""
    raise  # noqa: PLE0704


class NodeAgent:
    """One node's protocol instance and its NodeContext."""

    def __init__(self, runtime: "AgentRuntime", node: NodeNet, protocol_cls: type[Protocol],
                 params: Any, seed: int) -> None:
        self.runtime = runtime
        self.node = node
        self.node_id = node.index
        self.address = node.address
        self.address_bytes = socket.inet_aton(node.address)
        self.random = random.Random(f"{seed}:node:{node.index}")
        plan = runtime.plan
        self.tx_power = plan.tx_power
        self.power_levels = plan.power_levels
        self.persistent: dict[str, Any] = {}  # survives kill/revive (NodeContext.persistent)
        self.routes = KernelRoutes(node.rt, node.tap_index, runtime.loop, self._route_event)
        self.counters: Counter[str] = Counter()
        self.port = protocol_cls.port
        self.sock: socket.socket | None = None
        self.alive = True
        self.rx_power_dbm: float | None = None  # RSSI of the control frame being handled
        self._generation = 0
        self._handled = False
        self._held: set[int] = set()
        self.protocol = protocol_cls(self, params)
        cls = type(self.protocol)
        self.wants_data = cls.on_data is not Protocol.on_data
        self.per_packet = bool(cls.per_packet)
        self.header_option = int(getattr(cls, "ip_option", 0) or 0) if self.per_packet else 0

    # -- NodeContext ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.runtime.now

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        if not delay >= 0:
            raise ValueError(f"negative delay {delay}")
        return self.runtime.loop.call_later(delay, self._timer, self._generation, fn, args)

    def _timer(self, generation: int, fn: Callable[..., Any], args: tuple) -> None:
        if self.alive and generation == self._generation:
            self.guarded(fn, *args)

    def broadcast(self, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self._sendto(payload, BROADCAST, tx_power_dbm)

    def send(self, next_hop: str, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self._sendto(payload, next_hop, tx_power_dbm)

    def set_link_power(self, next_hop: str, tx_power_dbm: float | None) -> None:
        """Every frame to ``next_hop`` (data too) goes at ``tx_power_dbm``; None: default."""
        j = self.runtime.index_of.get(next_hop)
        if j is None:
            raise ValueError(f"{self.node.name}: unknown neighbour {next_hop!r}")
        powers = self.runtime.channel.nodes[self.node.index].link_power
        if tx_power_dbm is None:
            powers.pop(j, None)
        else:
            powers[j] = self.runtime.plan.check_tx_power(tx_power_dbm)

    def send_packet(self, packet: Packet) -> None:
        self._held.discard(packet.uid)
        self._handled = True
        if self.per_packet:
            next_hop = self.protocol.forward(packet, None)
            if next_hop is not None:
                self.transmit(packet, next_hop, None)
            return
        route = self.routes.lookup(packet.dst)
        if route is None:
            self.protocol.on_no_route(packet)
            return
        self.transmit(packet, route.next_hop, None)

    def drop(self, packet: Packet, reason: str) -> None:
        self._held.discard(packet.uid)
        self._handled = True
        self.counters[f"drop_{reason}"] += 1
        self.runtime.packet_dropped(self, packet, reason)

    def hold(self, packet: Packet) -> None:
        self._held.add(packet.uid)
        self._handled = True

    def position(self) -> tuple[float, float]:
        return self.runtime.channel.position(self.node.index, self.now)

    def location_of(self, address: str) -> tuple[float, float] | None:
        j = self.runtime.index_of.get(address)
        return None if j is None else self.runtime.channel.position(j, self.now)

    def battery(self) -> float:
        return self.runtime.channel.medium.battery_fraction(self.node.index)

    def emit(self, kind: str, **fields: Any) -> None:
        self.runtime.emit(self.node.name, kind, fields)

    def groups(self) -> frozenset[str]:
        return self.runtime.membership.groups_of(self.node.index, self.now)

    def deliver(self, packet: Packet) -> None:
        """The frame goes into this node's TAP: its kernel hands it to the sockets that joined
        the group (and drops it if none did). The source's own packets are not looped back."""
        if packet.hops == 0 or packet.payload is None or not self.alive:
            return
        l2src = (packet.meta or {}).get("l2src", self.node.mac)
        self.runtime.channel.write_tap(self.node.index, mc.group_mac(packet.payload) + l2src
                                       + ETH_IPV4 + packet.payload)
        self.counters["mcast_delivered_local"] += 1

    def relay(self, packet: Packet) -> None:
        """One broadcast of the IP packet; a received copy loses one TTL (not a link-local
        group's), and is dropped as ``ttl`` when none is left."""
        raw = packet.payload
        if raw is None or not self.alive:
            return
        if packet.hops > 0 and not is_link_local_group(packet.dst):
            raw = mc.decrement_ttl(raw)
            if raw is None:
                self.counters["drop_ttl"] += 1
                self.runtime.packet_dropped(self, packet, "ttl")
                return
        self.runtime.channel.inject(self.node.index, mc.group_mac(raw) + self.node.mac
                                    + ETH_IPV4 + raw)
        self.counters["mcast_relayed"] += 1

    def multicast_frame(self, sender: int, frame: bytes) -> bool:
        """A multicast frame from this node's kernel (``sender`` -1) or from neighbour
        ``sender`` on the air: the protocol routes it. Always taken."""
        if not self.alive:
            return True
        packet = self.runtime.parse_packet(frame[14:])
        if packet is None:
            return True
        if sender >= 0:
            packet.hops = 1
            packet.meta = {"l2src": frame[6:12]}
            prev_hop: str | None = self.runtime.addresses[sender]
        else:
            prev_hop = None
        self.counters["mcast_in" if sender >= 0 else "mcast_originated"] += 1
        self.guarded(self.protocol.on_multicast, packet, prev_hop)
        return True

    def broadcast_data(self, sender: int, frame: bytes) -> bool:
        """A data frame neighbour ``sender`` broadcast on the air (a flood): the kernel would
        drop an IP packet that came as a link-layer broadcast and is for another host (Linux
        forwards only what was sent to its own MAC), so a relay takes it here, as the
        simulator's node does: one TTL less, then the protocol's ``forward``. A packet for
        this node, or any broadcast or multicast address, goes to the kernel (False)."""
        raw = frame[14:]
        if frame[12:14] != ETH_IPV4 or len(raw) < 20 or mc.is_multicast_packet(raw):
            return False
        if raw[16:20] == self.address_bytes or raw[16:20] == b"\xff\xff\xff\xff":
            return False
        if self.alive:
            self.guarded(self._relay_broadcast, sender, raw)
        return True

    def _relay_broadcast(self, sender: int, raw: bytes) -> None:
        out = mc.decrement_ttl(raw)
        if out is None:  # its last hop was to us, and it is not for us
            packet = self.runtime.parse_packet(raw)
            if packet is not None:
                self.drop(packet, "ttl")
            return
        packet = self.runtime.parse_packet(out)
        if packet is None:
            return
        if self.header_option:
            self._read_header(packet)
        self.counters["broadcast_relayed_in"] += 1
        prev_hop = self.runtime.addresses[sender]
        next_hop = self.protocol.forward(packet, prev_hop)
        if next_hop is not None:  # None without a drop: a redundant copy, discarded
            self.transmit(packet, next_hop, prev_hop)

    # -- plumbing ------------------------------------------------------------------------------
    def _route_event(self, kind: str, fields: dict[str, Any]) -> None:
        self.runtime.emit(self.node.name, kind, fields)

    def guarded(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a protocol hook, or an agent callback that handles what the kernel handed in;
        an exception is this node's problem, not the run's (nor the loop's: a callback that
        raised would leave its batch half read or its periodic timer unarmed)."""
        try:
            return fn(*args)
        except Exception as exc:
            self.counters["protocol_error"] += 1
            log.debug("%s: protocol hook failed", self.node.name, exc_info=True)
            try:
                self.runtime.emit(self.node.name, "protocol_error", {
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc()})
            except Exception:  # an event consumer failed too: the node still goes on
                log.debug("%s: protocol_error event not delivered", self.node.name,
                          exc_info=True)
            return None

    def die(self) -> None:
        """The node's battery ran out: the protocol stops, its timers never fire again."""
        if not self.alive:
            return
        self.alive = False
        self._generation += 1
        self.guarded(self.protocol.stop)
        self._held.clear()

    def revive(self) -> None:
        """The node boots again: a fresh protocol instance (``persistent`` kept, as on the
        simulator) on an empty forwarding table; timers of the old instance never fire."""
        if self.alive:
            return
        for route in list(self.routes):
            self.routes.remove(route.dst)
        self._generation += 1
        self.alive = True
        plan = self.runtime.plan
        self.protocol = plan.protocol_cls(self, plan.protocol_params)
        self.guarded(self.protocol.start)

    def open(self) -> None:
        if self.port:
            with linux.in_netns(self.node.ns_fd):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, WLAN.encode())
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
            s.bind(("0.0.0.0", self.port))
            s.setblocking(False)
            self.sock = s
            self.runtime.loop.add_reader(s.fileno(), self._on_udp)
        if self.node.tun_fd >= 0:
            self.runtime.loop.add_reader(self.node.tun_fd, self._on_tun)

    def close(self) -> None:
        loop = self.runtime.loop
        self.routes.cancel()
        if self.sock is not None:
            loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.node.tun_fd >= 0:
            loop.remove_reader(self.node.tun_fd)

    def _sendto(self, payload: bytes, next_hop: str, tx_power_dbm: float | None) -> None:
        if self.sock is None or not self.alive:
            return
        station = self.runtime.channel.nodes[self.node.index]
        if tx_power_dbm is not None:
            station.power_hints.put(payload, self.runtime.plan.check_tx_power(tx_power_dbm))
        elif station.link_power and next_hop != BROADCAST:
            j = self.runtime.index_of.get(next_hop, -1)  # the power in force now, not at read
            station.power_hints.put(payload, station.link_power.get(j, station.tx_power))
        try:
            self.sock.sendto(payload, (next_hop, self.port))
            self.counters["control_sent"] += 1
        except OSError:
            self.counters["control_send_error"] += 1
            station.power_hints.pop(payload)  # no frame will come for it

    def _on_udp(self) -> None:
        sock = self.sock
        for _ in range(64):
            try:
                payload, (src, _port) = self.runtime.reader.recvfrom(sock)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if src == self.address or not self.alive:
                continue  # our own broadcast, looped back by the kernel
            self.counters["control_received"] += 1
            self.rx_power_dbm = self.runtime.channel.nodes[self.node.index].rx_power.take(
                payload)
            try:
                self.protocol.on_control(src, payload)
            except DecodeError as exc:
                self.counters["decode_error"] += 1
                self.runtime.emit(self.node.name, "ctrl_malformed",
                                  {"src": src, "error": str(exc)})
            except Exception:
                self.guarded(_reraise)

    def _on_tun(self) -> None:
        fd = self.node.tun_fd
        for _ in range(64):
            try:
                raw = self.runtime.reader.read(fd)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.guarded(self._no_route_packet, raw)

    def _no_route_packet(self, raw: bytes) -> None:
        """A packet the kernel had no host route for (read from the TUN)."""
        packet = self.runtime.parse_packet(raw)
        if packet is None or not self.alive:
            return
        if self.header_option:
            self._read_header(packet)
        self.counters["no_route_packets"] += 1
        self._handled = False
        if self.per_packet:  # None without a drop: a redundant copy, discarded
            next_hop = self.guarded(self.protocol.forward, packet, None)
            if next_hop is not None:
                self.transmit(packet, next_hop, None)
            return
        self.guarded(self.protocol.on_no_route, packet)
        if not self._handled:
            self.drop(packet, "no_route")

    def transmit(self, packet: Packet, next_hop: str, prev_hop: str | None) -> None:
        """Send a data packet to ``next_hop`` from user space (see module docstring)."""
        if packet.payload is None:
            self.counters["drop_no_payload"] += 1
            return
        payload = packet.payload
        if self.header_option:
            header = packet.meta.get(self.protocol.name) if packet.meta else None
            payload = ipopt.rewrite(payload, self.header_option, header)
            if payload is None:  # no room for the option (or not IPv4)
                self.drop(packet, "ip_options_full")
                return
            packet.payload = payload
        if self.wants_data:
            self.guarded(self.protocol.on_data, packet, prev_hop, next_hop)
        dst_mac = BROADCAST_MAC if next_hop == BROADCAST else mac_of(next_hop)
        self.runtime.channel.inject(self.node.index, dst_mac + self.node.mac + ETH_IPV4
                                    + payload)
        self.counters["data_injected"] += 1

    def _read_header(self, packet: Packet) -> None:
        """Put the protocol's header option of a packet into ``packet.meta[name]``."""
        header = ipopt.extract(packet.payload, self.header_option)
        if header is not None:
            packet.meta = {self.protocol.name: header}

    def link_failure(self, j: int, frame: bytes) -> bool:
        """A unicast to node ``j`` failed after MAC retries. True if the protocol took the
        data packet it carried (``hold`` / ``send_packet`` / ``drop``)."""
        return bool(self.guarded(self._link_failure, j, frame))

    def _link_failure(self, j: int, frame: bytes) -> bool:
        packet = None
        if frame[12:14] == ETH_IPV4:
            raw = frame[14:]
            is_control = (len(raw) >= 28 and raw[9] == 17 and self.port
                          and int.from_bytes(raw[22:24], "big") == self.port)
            if not is_control:
                packet = self.runtime.parse_packet(raw)
                if packet is not None and self.header_option:
                    self._read_header(packet)
        self._handled = False
        self.guarded(self.protocol.on_link_failure, self.runtime.addresses[j], packet)
        return packet is not None and self._handled


class AgentRuntime:
    """Hosts the agents of every node and the channel in one asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, plan: Plan, nodes: list[NodeNet],
                 use_interval: float = 0.5,
                 on_event: Callable[[float, str, str, dict], None] | None = None,
                 flow_uid: Callable[[bytes], int | None] | None = None) -> None:
        self.loop = loop
        self.plan = plan
        self.nodes = nodes
        self.t0 = loop.time()
        self.addresses = [n.address for n in nodes]
        self.names = [n.name for n in nodes]
        self.index_of = {a: i for i, a in enumerate(self.addresses)}
        self.use_interval = use_interval
        self.on_event = on_event
        self.flow_uid = flow_uid
        world = getattr(plan, "world", None)
        self.membership: Membership = getattr(world, "membership", None) or Membership([])
        self.reader = ReadBuffer()  # the agents' socket and TUN reads (all on this loop)
        self.agents: list[NodeAgent] = []
        if plan.protocol_cls is not None:
            self.agents = [NodeAgent(self, n, plan.protocol_cls, plan.protocol_params, plan.seed)
                           for n in nodes]
        wants_use = any(a.wants_data for a in self.agents)
        self.channel = Channel(loop, plan, nodes, on_link_failure=self._link_failure,
                               record_use=wants_use, start_time=self.t0,
                               on_event=self._channel_event, on_death=self._death,
                               flow_uid=flow_uid)
        self._use_timer: asyncio.TimerHandle | None = None
        self._membership_timers: list[asyncio.TimerHandle] = []
        if any(getattr(type(a.protocol), "multicast", False) for a in self.agents):
            self.channel.on_multicast = self._multicast
        if self.agents and self.agents[0].per_packet:
            self.channel.on_broadcast_data = self._broadcast_data

    @property
    def now(self) -> float:
        return self.loop.time() - self.t0

    def emit(self, node: str, kind: str, fields: dict) -> None:
        if self.on_event is not None:
            self.on_event(self.now, node, kind, fields)

    def _channel_event(self, i: int, kind: str, fields: dict) -> None:
        self.emit(self.names[i], kind, fields)

    def parse_packet(self, raw: bytes) -> Packet | None:
        """A raw IPv4 packet as the routing layer sees it; a scenario flow's packet keeps its
        flow uid, so drops and deliveries refer to the same packet as the traffic source."""
        uid = self.flow_uid(raw) if self.flow_uid is not None else None
        return parse_ipv4(raw, self.now, uid)

    def packet_dropped(self, agent: NodeAgent, packet: Packet, reason: str) -> None:
        if packet.payload is not None and self.flow_uid is not None:
            uid = self.flow_uid(packet.payload)
            if uid is not None:
                kind = ("mcast_dropped" if mc.is_multicast_packet(packet.payload)
                        else "data_dropped")
                self.emit(agent.node.name, kind, {"uid": uid, "reason": reason})

    def _multicast(self, i: int, sender: int, frame: bytes) -> bool:
        return self.agents[i].multicast_frame(sender, frame)

    def _broadcast_data(self, i: int, sender: int, frame: bytes) -> bool:
        return self.agents[i].broadcast_data(sender, frame)

    def _membership_changed(self, i: int, group: str, join: bool) -> None:
        agent = self.agents[i]
        if agent.alive:
            agent.guarded(agent.protocol.on_join if join else agent.protocol.on_leave, group)

    # -- fault actions (meshnet.faults.FaultActions), on the loop thread -----------------------
    def kill(self, i: int, reason: str = "killed") -> None:
        """Node ``i`` crashes: radio silent, queued frames lost, protocol stopped."""
        self.channel.kill(i, reason)

    def revive(self, i: int) -> None:
        """A dead node comes back (its radio and a fresh protocol instance)."""
        if self.channel.nodes[i].alive:
            return
        self.channel.revive(i)
        if self.agents:
            self.agents[i].revive()
        self.emit(self.names[i], "node_revived", {"reason": "revived"})

    def cut(self, i: int, j: int) -> None:
        self.channel.cut(i, j)

    def restore(self, i: int, j: int) -> None:
        self.channel.restore(i, j)

    def drain(self, i: int, to_fraction: float | None, joules: float | None) -> None:
        self.channel.medium.drain(i, to_fraction, joules)

    def _death(self, i: int, reason: str) -> None:
        if self.agents:
            self.agents[i].die()
        self.emit(self.names[i], "node_died", {"reason": reason})

    def start(self) -> None:
        self.channel.start()
        for agent in self.agents:
            agent.open()
        for agent in self.agents:
            agent.guarded(agent.protocol.start)
        if self.agents:
            for at, i, group, join in self.membership.changes():
                self._membership_timers.append(self.loop.call_at(
                    self.t0 + at, self._membership_changed, i, group, join))
        if self.channel.record_use:
            self._use_timer = self.loop.call_later(self.use_interval, self._report_use)

    def stop(self) -> None:
        if self._use_timer is not None:
            self._use_timer.cancel()
        for handle in self._membership_timers:
            handle.cancel()
        for agent in self.agents:
            if agent.alive:
                agent.alive = False
                agent.guarded(agent.protocol.stop)
            agent.close()
        self.channel.stop()

    def _link_failure(self, i: int, j: int, frame: bytes) -> bool:
        return bool(self.agents) and self.agents[i].link_failure(j, frame)

    def _report_use(self) -> None:
        """Tell reactive protocols which routes carried data (the real packets, once each).
        The next report is armed first, and each frame is handled under its node's guard, so
        no frame and no failure can end the reports (routes in use would then expire)."""
        self._use_timer = self.loop.call_later(self.use_interval, self._report_use)
        used, self.channel.used = self.channel.used, {}
        for (i, _srcdst), frame in used.items():
            agent = self.agents[i]
            if agent.wants_data and agent.alive:
                agent.guarded(self._report_one, agent, frame)

    def _report_one(self, agent: NodeAgent, frame: bytes) -> None:
        packet = self.parse_packet(frame[14:])
        if packet is None:
            return
        dst, src = packet.dst, packet.src
        route = agent.routes.lookup(dst)
        next_hop = route.next_hop if route else dst
        prev = None
        if src != agent.address:
            back = agent.routes.lookup(src)
            prev = back.next_hop if back else None
        agent.guarded(agent.protocol.on_data, packet, prev, next_hop)
        j = self.index_of.get(next_hop)
        if next_hop == dst and j is not None and self.agents[j].wants_data \
                and self.agents[j].alive:
            self.agents[j].guarded(self.agents[j].protocol.on_data, packet, agent.address,
                                   None)
