"""The sans-I/O contract between routing protocols and the backends that host them.

A protocol instance lives on one node. It never touches sockets, clocks or asyncio: the backend
calls its hooks with time already advanced, and the protocol acts only through the
:class:`NodeContext` it was given. That is what lets one AODV implementation run in virtual time
(sim backend), in real time over Linux namespaces (netns backend) and inside a unit test that feeds
it bytes.

Addresses are dotted-quad IPv4 strings on every backend. ``BROADCAST`` is the limited broadcast
address; a protocol passes it as a next hop to reach every one-hop neighbour.

Multicast: a data packet whose ``dst`` is an IPv4 multicast group (224.0.0.0/4) goes to the
protocol's ``on_multicast`` hook at every node that originates or receives a copy; the protocol
hands it to local applications (``ctx.deliver``) and/or sends one copy on to all one-hop
neighbours (``ctx.relay``). ``ctx.groups()`` and the ``on_join`` / ``on_leave`` hooks tell it
which groups the node's applications are members of.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator, Protocol as _TypingProtocol

BROADCAST = "255.255.255.255"
_MULTICAST_PREFIXES = frozenset(f"{i}." for i in range(224, 240))


def is_multicast(address: str) -> bool:
    """True for an IPv4 multicast group (224.0.0.0/4); cheap, it is in the data path."""
    return address[:4] in _MULTICAST_PREFIXES


def is_link_local_group(address: str) -> bool:
    """224.0.0.0/24 (RFC 5771: link-local scope, e.g. mDNS's 224.0.0.251). A mesh relaying such
    a group across hops extends the link; it keeps the packet as sent (TTL included), since
    receivers such as mDNS check for TTL 255."""
    return address.startswith("224.0.0.")


class DecodeError(ValueError):
    """A control message could not be parsed. Backends drop the message and count it; the node
    keeps running."""


class ProtocolConfigError(ValueError):
    """A protocol parameter from the scenario is unknown or has a bad value."""


@dataclass(slots=True)
class Packet:
    """A data packet as the routing layer sees it.

    ``uid`` identifies the application packet end to end (copies made by flooding share it).
    ``meta`` is scratch space for per-packet protocols (e.g. GPSR mode and perimeter state); it
    travels with the packet hop by hop.
    """

    uid: int
    src: str
    dst: str
    size: int
    created: float
    ttl: int = 64
    hops: int = 0
    flow: int = -1
    payload: bytes | None = None
    meta: dict[str, Any] | None = None

    def copy(self) -> "Packet":
        """An independent copy (broadcast receivers each get one); cheap, it is in a hot path."""
        return Packet(self.uid, self.src, self.dst, self.size, self.created, self.ttl, self.hops,
                      self.flow, self.payload, None if self.meta is None else dict(self.meta))


@dataclass(slots=True)
class Route:
    """One entry of a node's forwarding table (host routes: one destination address each)."""

    dst: str
    next_hop: str
    metric: int = 1
    seqno: int | None = None
    expires: float | None = None
    valid: bool = True


class TimerHandle(_TypingProtocol):
    """A pending ``call_later``. ``call_later`` raises ValueError for a negative (or NaN)
    delay; a timer never fires after ``cancel()``, after its node died, or after the protocol
    instance that set it was stopped."""

    def cancel(self) -> None: ...


class Timers:
    """The timers of one protocol instance: each is forgotten once it fired, ``cancel_all``
    (from ``stop()``) cancels the rest, and a callback never runs while ``running`` is False.
    Delays below zero (a deadline just passed) fire at once."""

    def __init__(self, ctx: "NodeContext") -> None:
        self.ctx = ctx
        self.running = False
        self._pending: set[Any] = set()

    def later(self, delay: float, fn: Callable[..., Any], *args: Any) -> "TimerHandle":
        box: list[Any] = []

        def fire() -> None:
            self._pending.discard(box.pop())  # the handle refers back to fire: break the cycle
            if self.running:
                fn(*args)

        handle = self.ctx.call_later(max(0.0, delay), fire)
        box.append(handle)
        self._pending.add(handle)
        return handle

    def cancel(self, handle: "TimerHandle") -> None:
        handle.cancel()
        self._pending.discard(handle)

    def cancel_all(self) -> None:
        self.running = False
        for handle in list(self._pending):
            handle.cancel()
        self._pending.clear()


class RequestQueue:
    """Data packets waiting for a route discovery (RFC 3561 §6.3; ns-3 RequestQueue), for any
    reactive protocol: bounded in length and in waiting time. When it is full the oldest packet
    makes room, as in ns-3: the newest packet is the one most likely still useful."""

    def __init__(self, max_len: int, timeout: float) -> None:
        self.max_len = max_len
        self.timeout = timeout
        self._items: deque[tuple[float, Packet]] = deque()  # (deadline, packet), oldest first

    def __len__(self) -> int:
        return len(self._items)

    def enqueue(self, packet: Packet, now: float) -> list[Packet]:
        """Queue ``packet``; return the packets pushed out to make room (possibly ``packet``
        itself when the queue holds nothing)."""
        if self.max_len <= 0:
            return [packet]
        evicted = []
        while len(self._items) >= self.max_len:
            evicted.append(self._items.popleft()[1])
        self._items.append((now + self.timeout, packet))
        return evicted

    def has(self, dst: str) -> bool:
        return any(p.dst == dst for _, p in self._items)

    def take(self, dst: str) -> list[Packet]:
        """Remove and return every packet for ``dst``, oldest first."""
        out = [p for _, p in self._items if p.dst == dst]
        if out:
            self._items = deque(item for item in self._items if item[1].dst != dst)
        return out

    def expire(self, now: float) -> list[Packet]:
        out = []
        while self._items and self._items[0][0] <= now:
            out.append(self._items.popleft()[1])
        return out

    def next_expiry(self) -> float | None:
        return self._items[0][0] if self._items else None

    def destinations(self) -> set[str]:
        return {p.dst for _, p in self._items}


class DuplicateCache:
    """Keys seen within a lifetime: flooded messages (AODV RREQs, RFC 3561 §6.5; Z-Wave explorer
    frames), multicast packets (RFC 6621 duplicate detection), ODMRP Join Queries. Every key
    lives equally long, so entries expire in insertion order and a deque suffices."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._seen: set[Any] = set()
        self._order: deque[tuple[float, Any]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, key: Any, now: float) -> bool:
        """True if ``key`` was recorded within the lifetime; otherwise record it and say False."""
        while self._order and self._order[0][0] <= now:
            self._seen.discard(self._order.popleft()[1])
        if key in self._seen:
            return True
        self._seen.add(key)
        self._order.append((now + self.lifetime, key))
        return False


class RouteTable(_TypingProtocol):
    """The node's forwarding table. The backend mirrors it where it must (kernel table on netns)
    and publishes route_added / route_changed / route_removed events on the bus."""

    def add(self, dst: str, next_hop: str, metric: int = 1, seqno: int | None = None,
            expires: float | None = None) -> None: ...
    def remove(self, dst: str) -> None: ...
    def lookup(self, dst: str) -> Route | None: ...
    def __iter__(self) -> Iterator[Route]: ...
    def __len__(self) -> int: ...


class NodeContext(_TypingProtocol):
    """What a protocol may use. Implemented by each backend (and by test fakes)."""

    node_id: int
    address: str
    routes: RouteTable
    random: Any  # random.Random seeded per node from the scenario seed
    tx_power: float  # dBm: the node's default transmit power (the scenario's radio.tx_power)
    power_levels: tuple[float, ...]  # dBm the radio can be set to, highest first
    persistent: dict[str, Any]
    """State that survives a kill and revive of this node, as a device's non-volatile memory
    does (AODV keeps its sequence number here). Empty at first boot; a revived node gets a new
    protocol instance and the same dict."""

    @property
    def now(self) -> float: ...
    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle: ...
    def broadcast(self, payload: bytes, tx_power_dbm: float | None = None) -> None:
        """Send ``payload`` to every one-hop neighbour; ``tx_power_dbm`` (one of
        ``power_levels``, default ``tx_power``) sets the power of this frame: it decides range,
        interference and the energy the frame costs."""
    def send(self, next_hop: str, payload: bytes, tx_power_dbm: float | None = None) -> None:
        """Unicast to a one-hop neighbour, at ``tx_power_dbm`` as for :meth:`broadcast`."""
    def set_link_power(self, next_hop: str, tx_power_dbm: float | None) -> None:
        """Send every later frame to neighbour ``next_hop`` (data frames too) at
        ``tx_power_dbm``; None returns to ``tx_power``. Per-hop power control (MTPR)."""
    def send_packet(self, packet: Packet) -> None:
        """Hand a data packet (e.g. one buffered during discovery) back to the data plane, which
        looks up the route again and forwards it."""
    def drop(self, packet: Packet, reason: str) -> None:
        """Give up on a data packet the protocol holds; counted under ``reason``."""
    def hold(self, packet: Packet) -> None:
        """Tell the backend the protocol keeps this packet (buffered for discovery); it is
        counted as queued until sent on or dropped."""
    @property
    def rx_power_dbm(self) -> float | None:
        """While ``on_control`` runs: the received power (dBm) of the frame being handled, as
        the radio reports it (RSSI, shadowing included); None where the medium models no power
        (unit disk). Power-aware protocols derive the power a hop needs from it."""
    def position(self) -> tuple[float, float]: ...
    def location_of(self, address: str) -> tuple[float, float] | None:
        """Location service (oracle) for geographic protocols."""
    def battery(self) -> float:
        """Remaining energy as a fraction in [0, 1] (1.0 where energy is not modelled)."""
    def emit(self, kind: str, **fields: Any) -> None:
        """Publish a protocol event (``rreq_sent``, ``route_discovery_failed`` …) on the bus."""
    def groups(self) -> frozenset[str]:
        """The multicast groups (addresses) this node's applications are members of now."""
    def deliver(self, packet: Packet) -> None:
        """Hand a multicast packet to this node's applications: a member of ``packet.dst``
        receives it, a non-member ignores it (as a kernel does); the source's own packets are
        not looped back. Call it once per packet (duplicate detection is the protocol's)."""
    def relay(self, packet: Packet) -> None:
        """Transmit a multicast packet to every one-hop neighbour (one link-layer broadcast).
        At its source the packet leaves as the application sent it; a relayed copy has its TTL
        decremented (except for link-local groups, see :func:`is_link_local_group`) and is
        dropped as ``ttl`` when the TTL runs out."""


class Protocol:
    """Base class of every routing protocol plug-in.

    Subclasses set ``name``, ``port`` (UDP port of their control traffic on netns, also used in
    pcaps) and ``Params`` (a dataclass of named tunables with documented defaults; the scenario's
    ``[protocol]`` table fills it). Hooks a subclass does not override cost nothing: backends check
    the class attributes ``reactive`` and ``per_packet`` and whether ``on_data`` is overridden.
    """

    name: ClassVar[str] = "base"
    port: ClassVar[int] = 0
    reactive: ClassVar[bool] = False  # True: on_no_route buffers and discovers
    per_packet: ClassVar[bool] = False  # True: forward() decides every hop (flooding, GPSR)
    multicast: ClassVar[bool] = False  # True: on_multicast routes multicast (SMF, ODMRP)
    description: ClassVar[str] = ""

    @dataclass
    class Params:
        pass

    def __init__(self, ctx: NodeContext, params: Any = None) -> None:
        self.ctx = ctx
        self.params = params if params is not None else self.Params()

    # lifecycle
    def start(self) -> None:
        """Called once when the node comes up (or is revived)."""

    def stop(self) -> None:
        """Called when the node dies or the run ends; cancel timers here."""

    # control plane
    def on_control(self, src: str, payload: bytes) -> None:
        """A control message from one-hop neighbour ``src`` arrived. May raise DecodeError."""

    # data plane hooks
    def on_no_route(self, packet: Packet) -> None:
        """No route for ``packet``. Default: drop it. Reactive protocols buffer and discover."""
        self.ctx.drop(packet, "no_route")

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        """Link-layer feedback: a unicast to ``next_hop`` failed after MAC retries. ``packet`` is
        the data packet that failed (None for a control frame); the backend drops it afterwards
        unless the protocol takes it with ``ctx.hold`` / ``ctx.send_packet``."""

    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        """A data packet used a route: originated (prev_hop None), forwarded, or delivered here
        (next_hop None). Lets AODV keep active routes alive."""

    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        """Per-packet protocols only: return the next hop (or BROADCAST), or None after calling
        ``ctx.drop`` / ``ctx.hold``, or None silently to discard a redundant copy."""
        return None

    # multicast
    def on_multicast(self, packet: Packet, prev_hop: str | None) -> None:
        """A multicast data packet was originated here (``prev_hop`` None) or a copy arrived
        from neighbour ``prev_hop``. Act with ``ctx.deliver`` and ``ctx.relay``; a copy that
        gets neither ends here. The default is a host without multicast routing, what a kernel
        does on its own: the source transmits once, receivers deliver and relay nothing, so
        only one-hop neighbours are reached. Multicast protocols set ``multicast = True``."""
        if prev_hop is None:
            self.ctx.relay(packet)
        else:
            self.ctx.deliver(packet)

    def on_join(self, group: str) -> None:
        """This node's applications joined multicast group ``group`` (after ``start``; the
        groups at start are in ``ctx.groups()``)."""

    def on_leave(self, group: str) -> None:
        """This node's applications left multicast group ``group``."""

    # introspection for the TUI and tests
    def table_rows(self) -> list[dict[str, Any]]:
        """Rows of the routing table for display: dst, next_hop, metric, seqno, expires, state."""
        return [
            {"dst": r.dst, "next_hop": r.next_hop, "metric": r.metric, "seqno": r.seqno,
             "expires": r.expires, "state": "valid" if r.valid else "invalid"}
            for r in self.ctx.routes
        ]


def multicast_id(packet: Packet, mode: str = "hash") -> bytes:
    """The duplicate-detection key of a multicast data packet, as RFC 6621 §6 defines them for
    IPv4. ``"id"`` (I-DPD): source, destination, protocol and IPv4 Identification. ``"hash"``
    (H-DPD): an MD5 digest, truncated to 8 bytes, of the packet's invariant bytes (the IPv4
    header without TOS, TTL and checksum, then everything after it), prefixed with the source
    address so that two sources never collide.

    On the netns backend ``packet.payload`` is the real IP packet. The simulator carries no
    packet bytes; its packet ``uid`` (unique per generated packet) stands in for the IPv4
    Identification, and the hash covers source, destination, uid and size."""
    raw = packet.payload
    if raw is not None and len(raw) >= 20 and raw[0] >> 4 == 4:
        if mode == "id":
            return bytes(raw[12:20]) + bytes(raw[9:10]) + bytes(raw[4:6])
        invariant = bytes(raw[0:1]) + bytes(raw[2:8]) + bytes(raw[9:10]) + bytes(raw[12:])
        return bytes(raw[12:16]) + hashlib.md5(invariant, usedforsecurity=False).digest()[:8]
    src, dst = _packed(packet.src), _packed(packet.dst)
    uid = (packet.uid & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    if mode == "id":
        return src + dst + b"\x11" + uid
    digest = hashlib.md5(src + dst + uid + packet.size.to_bytes(4, "big"),
                         usedforsecurity=False).digest()[:8]
    return src + digest


@functools.lru_cache(maxsize=4096)
def ipv4_bytes(address: str) -> bytes:
    """Dotted quad -> its 4 bytes, for wire formats; ValueError for anything else ("10.1",
    "010.0.0.1", an int). Cached: messages repeat the same few addresses."""
    if not isinstance(address, str):  # IPv4Address would take an int or 4 bytes too
        raise ValueError(f"not an IPv4 address: {address!r}")
    return ipaddress.IPv4Address(address).packed


@functools.lru_cache(maxsize=4096)
def ipv4_str(raw: bytes) -> str:
    """4 bytes -> dotted quad (the inverse of :func:`ipv4_bytes`)."""
    return "%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


_packed = ipv4_bytes


def build_params(protocol_cls: type[Protocol], values: dict[str, Any]) -> Any:
    """Fill ``protocol_cls.Params`` from a scenario table, with clear errors for unknown keys and
    wrong types (ints are accepted where floats are expected)."""
    fields_ = {f.name: f for f in dataclasses.fields(protocol_cls.Params)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            continue
        f = fields_.get(key)
        if f is None:
            allowed = ", ".join(sorted(fields_)) or "(none)"
            raise ProtocolConfigError(
                f"unknown parameter {key!r} for protocol {protocol_cls.name!r}; allowed: {allowed}")
        default = getattr(protocol_cls.Params(), key)
        kwargs[key] = _coerce(protocol_cls.name, key, value, default)
    return protocol_cls.Params(**kwargs)


def _coerce(proto: str, key: str, value: Any, default: Any) -> Any:
    expected = type(default)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # NaN passes every "< 0" test and then stalls timers (a NaN delay never comes)
            number = float(value) if isinstance(value, float) or abs(value) < 2**1023 else math.inf
            if not math.isfinite(number):
                raise ProtocolConfigError(f"protocol.{key} = {value!r}: must be a finite number")
            if number < 0 <= default:  # a negative default (a level in dBm) allows negatives
                raise ProtocolConfigError(f"protocol.{key} = {value!r}: must be >= 0")
            return number
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise ProtocolConfigError(f"protocol.{key} = {value!r}: must be >= 0")
            return value
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    else:
        return value
    raise ProtocolConfigError(
        f"protocol.{key} = {value!r}: expected {expected.__name__} for protocol {proto!r}")


__all__ = [
    "BROADCAST", "DecodeError", "is_link_local_group", "is_multicast", "multicast_id", "Packet", "Protocol", "ProtocolConfigError", "Route",
    "NodeContext", "RequestQueue", "RouteTable", "TimerHandle", "Timers", "build_params", "field",
]
