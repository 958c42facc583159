"""GPSR message formats: the position beacon (UDP) and the per-packet GPSR header.

All fields are in network byte order. Positions are signed 32-bit integers in millimetres
(±2147 km around the scenario origin): exact, comparable as integers, and free of NaN. Every node
rounds its own position to the millimetre too, so two nodes that compute the same thing from the
same beacons get the same answer (planarization, "closer than Lp").

Beacon, UDP port :data:`PORT` (broadcast, IP TTL 1), 12 bytes::

    offset  size  field
    0       1     type = 1 (beacon)
    1       1     version = 1
    2       2     reserved, sent as 0, ignored
    4       4     x of the sender (int32, mm)
    8       4     y of the sender (int32, mm)

The sender's address is the beacon's IP source address.

GPSR header, carried by every data packet GPSR forwards: 14 bytes in greedy mode, 38 in perimeter
mode (Karp & Kung 2000, Table 1: D, Lp, Lf, e0, M; plus the transmitting node and a perimeter hop
counter)::

    offset  size  field
    0       1     version (high 4 bits) = 1 | mode M (low 4 bits): 0 greedy, 1 perimeter
    1       1     perimeter hops made so far (0..255)
    2       4     sender: IPv4 address of the node that transmitted this hop
    6       4     D.x, destination location (int32, mm)
    10      4     D.y
    -- perimeter mode only --
    14      4     Lp.x, where the packet entered perimeter mode (int32, mm)
    18      4     Lp.y
    22      4     Lf.x, where the packet entered the current face, on segment Lp-D (int32, mm)
    26      4     Lf.y
    30      4     e0 tail: IPv4 address of the first node of the current face's first edge
    34      4     e0 head: IPv4 address of the second node of that edge

On the simulator the header travels as bytes in ``packet.meta["gpsr"]``; on the wire (netns, and
in pcaps) it is the body of IPv4 option :data:`IP_OPTION` (type 158 = copied, class 0, number 30,
the RFC 4727 experimental option): ``0x9E, 2 + len(header), header`` — 16 or 40 bytes, no padding
needed (the IPv4 header grows from 20 to 36 or 60 bytes).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from meshnet.protocol_api import DecodeError

PORT = 61500
IP_OPTION = 0x9E
VERSION = 1
BEACON = 1
GREEDY = 0
PERIMETER = 1

_BEACON = struct.Struct("!BBHii")
_GREEDY = struct.Struct("!BB4sii")
_PERIMETER = struct.Struct("!BB4siiiiii4s4s")
BEACON_LEN = _BEACON.size  # 12
GREEDY_LEN = _GREEDY.size  # 14
PERIMETER_LEN = _PERIMETER.size  # 38
INT32 = (-(1 << 31), (1 << 31) - 1)

Point = tuple[int, int]  # millimetres


def to_mm(position: tuple[float, float]) -> Point:
    """A position in metres as the wire carries it; out-of-range values are clamped."""
    lo, hi = INT32
    return (min(hi, max(lo, round(position[0] * 1000))),
            min(hi, max(lo, round(position[1] * 1000))))


def _addr(raw: bytes) -> str:
    return "%d.%d.%d.%d" % (raw[0], raw[1], raw[2], raw[3])


def _raw(address: str) -> bytes:
    return ipaddress.IPv4Address(address).packed  # ValueError for anything else


@dataclass(frozen=True, slots=True)
class Beacon:
    x: int  # mm
    y: int  # mm


def encode_beacon(beacon: Beacon) -> bytes:
    return _BEACON.pack(BEACON, VERSION, 0, beacon.x, beacon.y)


def decode_beacon(data: bytes) -> Beacon:
    if len(data) != BEACON_LEN:
        raise DecodeError(f"GPSR beacon: {len(data)} bytes, expected {BEACON_LEN}")
    kind, version, _reserved, x, y = _BEACON.unpack(data)
    if kind != BEACON:
        raise DecodeError(f"GPSR: unknown message type {kind}")
    if version != VERSION:
        raise DecodeError(f"GPSR beacon: version {version}, expected {VERSION}")
    return Beacon(x, y)


@dataclass(frozen=True, slots=True)
class Header:
    """The per-packet GPSR state. ``lp``, ``lf`` and ``e0`` are None in greedy mode."""

    mode: int
    dst: Point  # D
    sender: str = "0.0.0.0"
    perimeter_hops: int = 0
    lp: Point | None = None
    lf: Point | None = None
    e0: tuple[str, str] | None = None

    @property
    def perimeter(self) -> bool:
        return self.mode == PERIMETER


def encode_header(h: Header) -> bytes:
    first = VERSION << 4 | h.mode
    hops = min(255, max(0, h.perimeter_hops))
    if h.mode == GREEDY:
        return _GREEDY.pack(first, hops, _raw(h.sender), *h.dst)
    if h.mode != PERIMETER or h.lp is None or h.lf is None or h.e0 is None:
        raise ValueError(f"GPSR header: mode {h.mode} needs Lp, Lf and e0")
    return _PERIMETER.pack(first, hops, _raw(h.sender), *h.dst, *h.lp, *h.lf,
                           _raw(h.e0[0]), _raw(h.e0[1]))


def decode_header(data: bytes) -> Header:
    if not data:
        raise DecodeError("GPSR header: empty")
    version, mode = data[0] >> 4, data[0] & 15
    if version != VERSION:
        raise DecodeError(f"GPSR header: version {version}, expected {VERSION}")
    if mode == GREEDY:
        if len(data) != GREEDY_LEN:
            raise DecodeError(f"GPSR header: greedy mode needs {GREEDY_LEN} bytes, got {len(data)}")
        _first, hops, sender, dx, dy = _GREEDY.unpack(data)
        return Header(GREEDY, (dx, dy), _addr(sender), hops)
    if mode == PERIMETER:
        if len(data) != PERIMETER_LEN:
            raise DecodeError(
                f"GPSR header: perimeter mode needs {PERIMETER_LEN} bytes, got {len(data)}")
        (_first, hops, sender, dx, dy, px, py, fx, fy, tail,
         head) = _PERIMETER.unpack(data)
        return Header(PERIMETER, (dx, dy), _addr(sender), hops, (px, py), (fx, fy),
                      (_addr(tail), _addr(head)))
    raise DecodeError(f"GPSR header: unknown mode {mode}")
