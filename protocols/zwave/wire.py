"""Z-Wave routing frames, byte-exact (network byte order).

Z-Wave addresses nodes by one-byte node IDs (1..232), and a routed frame carries its whole route:
the list of repeaters and a hop index that each repeater advances (the routing header of the
Z-Wave network layer). meshnet keeps that shape. Positions along a route are numbered 0 (the
originator), 1..k (the k <= 4 repeaters) and k + 1 (the target); the hop index is the position
of the node transmitting the frame, so a receiver knows it must be at position hop + 1
(outbound) or hop - 1 (inbound: routed ACKs and routed errors walk the route back).

Data header (on data packets; the IPv4 option 158 on netns, ``packet.meta["zwave"]`` in the
simulator), 5 + k bytes::

    0  version (high 4 bits) = 1 | reserved (low 4 bits, sent as 0)
    1  source node ID
    2  destination node ID
    3  sequence number (the source's frame counter; the routed ACK names it)
    4  repeater count k (high 4 bits, 0..4) | hop index (low 4 bits, 0..k + 1)
    5  k repeater node IDs, in outbound order

Control frames (UDP port 61501 on netns)::

    find nodes in range (1)   type, sender ID                                       2 bytes
    node in range (2)         type, sender ID                                       2 bytes
    routed (3)                type, originator ID, target ID, sequence number,
                              flags (bit 0: inbound), count | hop index, k IDs, body
    explorer (4)              type, originator ID, target ID, sequence number,
                              max repeaters | count, k IDs collected so far, body

Bodies (first byte: kind)::

    range info (1)        the reporter's IPv4 address, 29-byte bitmask of its neighbours
                          (node ID i is bit (i - 1) % 8 of byte (i - 1) // 8, Z-Wave's node
                          mask layout), then each listed neighbour's IPv4 address in ID order
                          (meshnet: nodes have IP addresses, which Z-Wave IDs do not give)
    assign routes (2)     destination ID, its IPv4 address, n routes, n x (count, IDs)
    route request (3)     IPv4 address of the destination the node needs routes for
    unreachable (4)       IPv4 address, reason (1: more than the repeater limit away,
                          2: no route known), hops the shortest known route needs (0: none)
    ack (5)               (nothing): the routed ACK of the frame with this sequence number
    error (6)             the node ID that could not deliver, the node ID it could not reach
    nop (7)               (nothing): Z-Wave's no-operation command, the payload of an explorer
                          frame that only searches a route
    neighbor update (8)   (nothing): the controller asks the node to discover its neighbours
                          and send its range info (Z-Wave's Request Node Neighbor Update)

Decoders raise :class:`~meshnet.protocol_api.DecodeError` for anything malformed and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from meshnet.protocol_api import DecodeError
from meshnet.protocol_api import ipv4_bytes as _ip

from .params import MAX_NODE_ID, MAX_REPEATERS

PORT = 61501  # no IANA port; dynamic range (RFC 6335), next to GPSR's 61500
IP_OPTION = 0x9E  # RFC 4727 experimental IPv4 option (copied, class 0, number 30), as GPSR
VERSION = 1
BITMASK_BYTES = 29  # 232 bits

FIND_NODES, NODE_IN_RANGE, ROUTED, EXPLORER = 1, 2, 3, 4
RANGE_INFO, ASSIGN_ROUTES, ROUTE_REQUEST, UNREACHABLE, ACK, ERROR, NOP, NEIGHBOR_UPDATE = range(1, 9)
TOO_FAR, NO_ROUTE = 1, 2

Route = tuple[int, ...]  # repeater node IDs, outbound order


# --- data header -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DataHeader:
    src: int
    dst: int
    seq: int
    repeaters: Route
    hop: int = 0

    @property
    def path(self) -> tuple[int, ...]:
        """Node IDs by position: source, repeaters, destination."""
        return (self.src, *self.repeaters, self.dst)


def encode_header(h: DataHeader) -> bytes:
    _check_ends(h.src, h.dst)
    _check_route(h.repeaters, (h.src, h.dst), "data header")
    _check_hop(h.hop, len(h.repeaters))
    return bytes([VERSION << 4, h.src, h.dst, _u8(h.seq, "sequence number"),
                  len(h.repeaters) << 4 | h.hop, *h.repeaters])


def decode_header(data: bytes) -> DataHeader:
    data = _bytes(data, "data header")
    if len(data) < 5:
        raise DecodeError(f"Z-Wave data header too short: {len(data)} bytes, need 5")
    if data[0] != VERSION << 4:
        raise DecodeError(f"Z-Wave data header: version/flags byte 0x{data[0]:02x}, "
                          f"expected 0x{VERSION << 4:02x}")
    count, hop = data[4] >> 4, data[4] & 0x0F
    if len(data) != 5 + count:
        raise DecodeError(f"Z-Wave data header: {count} repeaters need {5 + count} bytes, "
                          f"got {len(data)}")
    src, dst = _read_ends(data[1], data[2])
    route = _read_route(data[5:], (src, dst))
    _read_hop(hop, count)
    return DataHeader(src, dst, data[3], route, hop)


# --- control frames --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FindNodes:
    """Find nodes in range: every node that hears it answers with :class:`NodeInRange`."""
    src: int


@dataclass(frozen=True, slots=True)
class NodeInRange:
    src: int


@dataclass(frozen=True, slots=True)
class RangeInfo:
    address: str
    neighbors: tuple[tuple[int, str], ...]  # (node ID, IPv4 address), in ID order

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(node for node, _ in self.neighbors)


@dataclass(frozen=True, slots=True)
class AssignRoutes:
    dst: int
    address: str
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class RouteRequest:
    address: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    address: str
    too_far: bool
    hops: int = 0


@dataclass(frozen=True, slots=True)
class Ack:
    pass


@dataclass(frozen=True, slots=True)
class Error:
    failed_from: int
    failed_to: int


@dataclass(frozen=True, slots=True)
class Nop:
    pass


@dataclass(frozen=True, slots=True)
class NeighborUpdate:
    pass


Body = Union[RangeInfo, AssignRoutes, RouteRequest, Unreachable, Ack, Error, Nop, NeighborUpdate]


@dataclass(frozen=True, slots=True)
class Routed:
    orig: int
    target: int
    seq: int
    repeaters: Route
    body: Body
    hop: int = 0
    inbound: bool = False

    @property
    def path(self) -> tuple[int, ...]:
        """Node IDs by position: originator, repeaters, target."""
        return (self.orig, *self.repeaters, self.target)


@dataclass(frozen=True, slots=True)
class Explorer:
    orig: int
    target: int
    seq: int
    max_repeaters: int
    repeaters: Route  # collected so far
    body: Body


Message = Union[FindNodes, NodeInRange, Routed, Explorer]


def encode(msg: Message) -> bytes:
    """Serialise a control frame; raises ValueError for values that do not fit their fields."""
    if isinstance(msg, FindNodes):
        return bytes([FIND_NODES, _id(msg.src)])
    if isinstance(msg, NodeInRange):
        return bytes([NODE_IN_RANGE, _id(msg.src)])
    if isinstance(msg, Routed):
        _check_ends(msg.orig, msg.target)
        _check_route(msg.repeaters, (msg.orig, msg.target), "routed frame")
        _check_hop(msg.hop, len(msg.repeaters))
        return bytes([ROUTED, msg.orig, msg.target, _u8(msg.seq, "sequence number"),
                      1 if msg.inbound else 0, len(msg.repeaters) << 4 | msg.hop,
                      *msg.repeaters]) + encode_body(msg.body)
    if isinstance(msg, Explorer):
        _check_ends(msg.orig, msg.target)
        if not 0 <= msg.max_repeaters <= MAX_REPEATERS:
            raise ValueError(f"explorer max repeaters {msg.max_repeaters} not in 0..{MAX_REPEATERS}")
        _check_route(msg.repeaters, (msg.orig, msg.target), "explorer frame")
        if len(msg.repeaters) > msg.max_repeaters:
            raise ValueError(f"explorer frame carries {len(msg.repeaters)} repeaters, "
                             f"more than its limit {msg.max_repeaters}")
        return bytes([EXPLORER, msg.orig, msg.target, _u8(msg.seq, "sequence number"),
                      msg.max_repeaters << 4 | len(msg.repeaters), *msg.repeaters]
                     ) + encode_body(msg.body)
    raise TypeError(f"not a Z-Wave frame: {msg!r}")


def encode_body(body: Body) -> bytes:
    if isinstance(body, RangeInfo):
        mask = bytearray(BITMASK_BYTES)
        listed = sorted(body.neighbors)
        for i, (node, _) in enumerate(listed):
            _id(node)
            if i and listed[i - 1][0] == node:
                raise ValueError(f"range info lists node {node} twice")
            mask[(node - 1) // 8] |= 1 << ((node - 1) % 8)
        return (bytes([RANGE_INFO]) + _ip(body.address) + bytes(mask)
                + b"".join(_ip(address) for _, address in listed))
    if isinstance(body, AssignRoutes):
        if len(body.routes) > 255:
            raise ValueError(f"{len(body.routes)} routes do not fit one frame")
        out = bytearray([ASSIGN_ROUTES, _id(body.dst)]) + _ip(body.address)
        out.append(len(body.routes))
        for route in body.routes:
            _check_route(route, (body.dst,), "assigned route")
            out += bytes([len(route), *route])
        return bytes(out)
    if isinstance(body, RouteRequest):
        return bytes([ROUTE_REQUEST]) + _ip(body.address)
    if isinstance(body, Unreachable):
        return bytes([UNREACHABLE]) + _ip(body.address) + bytes(
            [TOO_FAR if body.too_far else NO_ROUTE, _u8(body.hops, "hops")])
    if isinstance(body, Ack):
        return bytes([ACK])
    if isinstance(body, Error):
        return bytes([ERROR, _id(body.failed_from), _id(body.failed_to)])
    if isinstance(body, Nop):
        return bytes([NOP])
    if isinstance(body, NeighborUpdate):
        return bytes([NEIGHBOR_UPDATE])
    raise TypeError(f"not a Z-Wave frame body: {body!r}")


def decode(data: bytes) -> Message:
    """Parse one control frame. Raises DecodeError (and nothing else) for malformed input."""
    data = _bytes(data, "frame")
    if not data:
        raise DecodeError("empty Z-Wave frame")
    kind = data[0]
    if kind in (FIND_NODES, NODE_IN_RANGE):
        if len(data) != 2:
            raise DecodeError(f"Z-Wave {'find nodes' if kind == FIND_NODES else 'node in range'}"
                              f" frame must be 2 bytes, got {len(data)}")
        src = _read_id(data[1], "sender")
        return FindNodes(src) if kind == FIND_NODES else NodeInRange(src)
    if kind == ROUTED:
        if len(data) < 7:
            raise DecodeError(f"Z-Wave routed frame too short: {len(data)} bytes, need 7")
        orig, target = _read_ends(data[1], data[2])
        if data[4] & 0xFE:
            raise DecodeError(f"Z-Wave routed frame: reserved flag bits set (0x{data[4]:02x})")
        count, hop = data[5] >> 4, data[5] & 0x0F
        if len(data) < 7 + count:
            raise DecodeError(f"Z-Wave routed frame: {count} repeaters and a body need at least "
                              f"{7 + count} bytes, got {len(data)}")
        route = _read_route(data[6:6 + count], (orig, target))
        _read_hop(hop, count)
        return Routed(orig, target, data[3], route, decode_body(data[6 + count:]), hop,
                      bool(data[4] & 1))
    if kind == EXPLORER:
        if len(data) < 6:
            raise DecodeError(f"Z-Wave explorer frame too short: {len(data)} bytes, need 6")
        orig, target = _read_ends(data[1], data[2])
        limit, count = data[4] >> 4, data[4] & 0x0F
        if limit > MAX_REPEATERS or count > limit:
            raise DecodeError(f"Z-Wave explorer frame: {count} repeaters collected, limit {limit}"
                              f" (at most {MAX_REPEATERS})")
        if len(data) < 6 + count:
            raise DecodeError(f"Z-Wave explorer frame: {count} repeaters and a body need at "
                              f"least {6 + count} bytes, got {len(data)}")
        route = _read_route(data[5:5 + count], (orig, target))
        return Explorer(orig, target, data[3], limit, route, decode_body(data[5 + count:]))
    raise DecodeError(f"unknown Z-Wave frame type {kind} (expected 1 find nodes, 2 node in "
                      f"range, 3 routed, 4 explorer)")


def decode_body(data: bytes) -> Body:
    if not data:
        raise DecodeError("Z-Wave frame without a body")
    kind, rest = data[0], data[1:]
    if kind == RANGE_INFO:
        if len(rest) < 4 + BITMASK_BYTES:
            raise DecodeError(f"Z-Wave range info too short: {len(rest) + 1} bytes, need "
                              f"{5 + BITMASK_BYTES}")
        mask = rest[4:4 + BITMASK_BYTES]
        if mask[-1] >> (MAX_NODE_ID - 8 * (BITMASK_BYTES - 1)):
            raise DecodeError("Z-Wave range info: bits set beyond node ID 232")
        nodes = [8 * i + b + 1 for i, byte in enumerate(mask) for b in range(8) if byte >> b & 1]
        _length(rest, 4 + BITMASK_BYTES + 4 * len(nodes),
                f"range info with {len(nodes)} neighbours")
        at = 4 + BITMASK_BYTES
        return RangeInfo(_addr(rest[:4]), tuple(
            (node, _addr(rest[at + 4 * i:at + 4 * i + 4])) for i, node in enumerate(nodes)))
    if kind == ASSIGN_ROUTES:
        if len(rest) < 6:
            raise DecodeError(f"Z-Wave assign routes too short: {len(rest) + 1} bytes, need 7")
        dst = _read_id(rest[0], "destination")
        n, i, routes = rest[5], 6, []
        for _ in range(n):
            if i >= len(rest) or i + 1 + rest[i] > len(rest):
                raise DecodeError(f"Z-Wave assign routes: truncated after {len(routes)} of "
                                  f"{n} routes")
            count = rest[i]
            if count > MAX_REPEATERS:
                raise DecodeError(f"Z-Wave assign routes: a route with {count} repeaters "
                                  f"(at most {MAX_REPEATERS})")
            routes.append(_read_route(rest[i + 1:i + 1 + count], (dst,)))
            i += 1 + count
        if i != len(rest):
            raise DecodeError(f"Z-Wave assign routes: {len(rest) - i} trailing bytes")
        return AssignRoutes(dst, _addr(rest[1:5]), tuple(routes))
    if kind == ROUTE_REQUEST:
        _length(rest, 4, "route request")
        return RouteRequest(_addr(rest))
    if kind == UNREACHABLE:
        _length(rest, 6, "unreachable")
        if rest[4] not in (TOO_FAR, NO_ROUTE):
            raise DecodeError(f"Z-Wave unreachable: reason {rest[4]} (expected 1 or 2)")
        return Unreachable(_addr(rest[:4]), rest[4] == TOO_FAR, rest[5])
    if kind == ACK:
        _length(rest, 0, "ack")
        return Ack()
    if kind == ERROR:
        _length(rest, 2, "error")
        return Error(_read_id(rest[0], "failed hop"), _read_id(rest[1], "unreachable hop"))
    if kind == NOP:
        _length(rest, 0, "nop")
        return Nop()
    if kind == NEIGHBOR_UPDATE:
        _length(rest, 0, "neighbor update")
        return NeighborUpdate()
    raise DecodeError(f"unknown Z-Wave body kind {kind} (expected 1..8)")


# --- helpers ---------------------------------------------------------------------------------
def _bytes(data: object, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"Z-Wave {what} must be bytes, got {type(data).__name__}")
    return bytes(data)


def _length(rest: bytes, size: int, what: str) -> None:
    if len(rest) != size:
        raise DecodeError(f"Z-Wave {what} body must be {size + 1} bytes, got {len(rest) + 1}")


def _id(node: int) -> int:
    if not (isinstance(node, int) and 1 <= node <= MAX_NODE_ID):
        raise ValueError(f"Z-Wave node ID {node!r} not in 1..{MAX_NODE_ID}")
    return node


def _u8(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what} {value} does not fit 8 bits")
    return value


def _check_ends(orig: int, target: int) -> None:
    _id(orig), _id(target)
    if orig == target:
        raise ValueError(f"routed frame from node {orig} to itself")


def _check_route(route: Route, ends: tuple[int, ...], what: str) -> None:
    if len(route) > MAX_REPEATERS:
        raise ValueError(f"{what}: {len(route)} repeaters, Z-Wave allows {MAX_REPEATERS}")
    for node in route:
        _id(node)
    if len(set(route)) != len(route) or set(route) & set(ends):
        raise ValueError(f"{what}: route {route} repeats a node")


def _check_hop(hop: int, count: int) -> None:
    if not 0 <= hop <= count + 1:
        raise ValueError(f"hop index {hop} not in 0..{count + 1}")


def _read_id(raw: int, what: str) -> int:
    if not 1 <= raw <= MAX_NODE_ID:
        raise DecodeError(f"Z-Wave {what} node ID {raw} not in 1..{MAX_NODE_ID}")
    return raw


def _read_ends(orig: int, target: int) -> tuple[int, int]:
    orig, target = _read_id(orig, "originator"), _read_id(target, "target")
    if orig == target:
        raise DecodeError(f"Z-Wave routed frame from node {orig} to itself")
    return orig, target


def _read_route(raw: bytes, ends: tuple[int, ...]) -> Route:
    if len(raw) > MAX_REPEATERS:
        raise DecodeError(f"Z-Wave route with {len(raw)} repeaters (at most {MAX_REPEATERS})")
    route = tuple(_read_id(b, "repeater") for b in raw)
    if len(set(route)) != len(route) or set(route) & set(ends):
        raise DecodeError(f"Z-Wave route {route} repeats a node")
    return route


def _read_hop(hop: int, count: int) -> None:
    if hop > count + 1:
        raise DecodeError(f"Z-Wave hop index {hop} beyond the route (0..{count + 1})")


def _addr(raw: bytes) -> str:
    return "%d.%d.%d.%d" % tuple(raw)
