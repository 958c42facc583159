"""Message formats of the power-aware protocols (network byte order, IPv4 addresses).

Every message starts with its type and says the power it was sent at, so that a receiver can
turn the RSSI of the frame into the path loss of the link (``tx_power - rssi``) and from there
into the lowest power level that reaches across it. Powers are signed centi-dBm (0.01 dB),
batteries unsigned fractions of 65535 (65535 = full, or no relay yet), costs unsigned integers in
micro-units of the hop cost (µA for ``hop_cost = "supply"``, nW for ``"radiated"``), saturating
at 2^32 - 1.

::

    RREQ (type 1, 28 bytes)                 RREP (type 2, 32 bytes)
    0   type | flags | ttl | hop count      0   type | flags | hop count | reserved
    4   tx power (i16) | min battery (u16)  4   tx power (i16) | min battery (u16)
    8   RREQ ID                             8   RREQ ID (of the request answered)
    12  originator IP                       12  originator IP
    16  originator sequence number          16  destination IP
    20  destination IP                      20  destination sequence number
    24  route cost so far                   24  route cost (originator to destination)
                                            28  lifetime (ms)

    RERR (type 3, 8 + 8n bytes, 1 <= n <= 255)
    0   type | flags | count n | reserved
    4   tx power (i16) | reserved (u16)
    8.. (unreachable destination IP, its sequence number) * n

In an RREQ, ``hop count`` and ``cost`` cover the hops from the originator to the sender and
``min battery`` the lowest battery among the relays so far (the originator excluded). In an RREP,
``hop count`` is the number of hops from the sender to the destination, and ``cost`` and
``min battery`` describe the route the destination chose. Flags and reserved fields are sent as
zero and ignored on reception. A message of the wrong length for its type is malformed.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Union

from meshnet.protocol_api import DecodeError
from meshnet.protocol_api import ipv4_bytes as _ip

RREQ_TYPE = 1
RREP_TYPE = 2
RERR_TYPE = 3

BATTERY_FULL = 0xFFFF
COST_MAX = 0xFFFFFFFF

_RREQ = struct.Struct("!BBBBhHI4sI4sI")
_RREP = struct.Struct("!BBBBhHI4s4sIII")
_RERR_HEAD = struct.Struct("!BBBBhH")
_RERR_ITEM = struct.Struct("!4sI")


@dataclass(frozen=True, slots=True)
class RREQ:
    rreq_id: int
    orig: str
    orig_seq: int
    dst: str
    ttl: int
    hop_count: int = 0
    cost: int = 0
    min_battery: int = BATTERY_FULL
    tx_cdbm: int = 0  # the power this frame goes at, 0.01 dBm


@dataclass(frozen=True, slots=True)
class RREP:
    rreq_id: int
    orig: str
    dst: str
    dst_seq: int
    lifetime_ms: int
    hop_count: int = 0
    cost: int = 0
    min_battery: int = BATTERY_FULL
    tx_cdbm: int = 0


@dataclass(frozen=True, slots=True)
class RERR:
    unreachable: tuple[tuple[str, int], ...]  # (destination, sequence number)
    tx_cdbm: int = 0


Message = Union[RREQ, RREP, RERR]


def cdbm(dbm: float) -> int:
    """dBm -> centi-dBm on the wire."""
    return int(round(dbm * 100))


# --- encoding --------------------------------------------------------------------------------

def encode(msg: Message) -> bytes:
    """Serialise a message; raises ValueError for values that do not fit their fields."""
    if isinstance(msg, RREQ):
        return _RREQ.pack(RREQ_TYPE, 0, _u(msg.ttl, 8, "TTL"), _u(msg.hop_count, 8, "hop count"),
                          _i16(msg.tx_cdbm), _u(msg.min_battery, 16, "min battery"),
                          _u(msg.rreq_id, 32, "RREQ ID"), _ip(msg.orig),
                          _u(msg.orig_seq, 32, "orig seq"), _ip(msg.dst),
                          _u(msg.cost, 32, "cost"))
    if isinstance(msg, RREP):
        return _RREP.pack(RREP_TYPE, 0, _u(msg.hop_count, 8, "hop count"), 0,
                          _i16(msg.tx_cdbm), _u(msg.min_battery, 16, "min battery"),
                          _u(msg.rreq_id, 32, "RREQ ID"), _ip(msg.orig), _ip(msg.dst),
                          _u(msg.dst_seq, 32, "dest seq"), _u(msg.cost, 32, "cost"),
                          _u(msg.lifetime_ms, 32, "lifetime"))
    if isinstance(msg, RERR):
        if not 1 <= len(msg.unreachable) <= 255:
            raise ValueError(f"RERR needs 1..255 destinations, got {len(msg.unreachable)}")
        head = _RERR_HEAD.pack(RERR_TYPE, 0, len(msg.unreachable), 0, _i16(msg.tx_cdbm), 0)
        return head + b"".join(_RERR_ITEM.pack(_ip(d), _u(s, 32, "dest seq"))
                               for d, s in msg.unreachable)
    raise TypeError(f"not a power-routing message: {msg!r}")


def _u(value: int, bits: int, what: str) -> int:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{what} {value} does not fit {bits} bits")
    return value


def _i16(value: int) -> int:
    if not -0x8000 <= value <= 0x7FFF:
        raise ValueError(f"tx power {value} cdBm does not fit 16 bits")
    return value


# --- decoding --------------------------------------------------------------------------------

def decode(data: bytes) -> Message:
    """Parse one message. Raises DecodeError (and nothing else) for malformed input."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"message must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise DecodeError("empty message")
    kind = data[0]
    if kind == RREQ_TYPE:
        _exact(data, _RREQ.size, "RREQ")
        _, _, ttl, hops, tx, batt, rreq_id, orig, orig_seq, dst, cost = _RREQ.unpack(data)
        return RREQ(rreq_id, _addr(orig), orig_seq, _addr(dst), ttl, hops, cost, batt, tx)
    if kind == RREP_TYPE:
        _exact(data, _RREP.size, "RREP")
        _, _, hops, _, tx, batt, rreq_id, orig, dst, dst_seq, cost, life = _RREP.unpack(data)
        return RREP(rreq_id, _addr(orig), _addr(dst), dst_seq, life, hops, cost, batt, tx)
    if kind == RERR_TYPE:
        if len(data) < _RERR_HEAD.size:
            raise DecodeError(f"RERR too short: {len(data)} bytes, need {_RERR_HEAD.size}")
        _, _, count, _, tx, _ = _RERR_HEAD.unpack_from(data)
        if count == 0:
            raise DecodeError("RERR with count 0: it must list at least one destination")
        _exact(data, _RERR_HEAD.size + count * _RERR_ITEM.size, f"RERR with count {count}")
        items = tuple((_addr(ip), seq) for ip, seq in
                      (_RERR_ITEM.unpack_from(data, _RERR_HEAD.size + i * _RERR_ITEM.size)
                       for i in range(count)))
        return RERR(items, tx)
    raise DecodeError(f"unknown message type {kind} (expected 1 RREQ, 2 RREP, 3 RERR)")


def _exact(data: bytes, size: int, name: str) -> None:
    if len(data) != size:
        raise DecodeError(f"{name} must be {size} bytes, got {len(data)}")


@functools.lru_cache(maxsize=4096)
def _addr(raw: bytes) -> str:
    return "%d.%d.%d.%d" % tuple(raw)
