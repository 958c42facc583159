"""AODV message formats, byte-exact to RFC 3561 §5 (network byte order, IPv4).

::

    RREQ (type 1, 24 bytes)             RREP (type 2, 20 bytes)
    0      type | J R G D U res | res   0      type | R A res | res pfx | hops
           | hop count                         dest IP
    4      RREQ ID                             dest seq
    8      dest IP                             orig IP
    12     dest seq                            lifetime (ms)
    16     orig IP
    20     orig seq

    RERR (type 3, 4 + 8n bytes)         RREP-ACK (type 4, 2 bytes)
    0      type | N res | res | count   0      type | reserved
    4..    (unreachable IP, seq) * n

A hello is an RREP whose destination and originator are the sender (RFC §6.9).

After the fixed part a message may carry extensions (RFC 3561 §9: one-byte type, one-byte length,
value; Wireshark shows them). meshnet uses two: :data:`EXT_TTL` carries the RREQ's remaining IP TTL, because the
node context delivers control payloads without the IP header that would hold it, and
:data:`EXT_AUTH`, last in the message, carries the authentication trailer when the protocol's
``auth_key`` is set (docs/security.md). Their types are ones RFC 3561 leaves unassigned, so other
implementations skip them as unknown extensions.

Reserved bits are sent as zero and, as RFC 3561 says, ignored on reception; ``strict=True`` makes
the decoders reject them instead (for conformance checks).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Union

from meshnet.protocol_api import DecodeError
from meshnet.protocol_api import ipv4_bytes as _ip

from ..auth import TRAILER_LEN

RREQ_TYPE = 1
RREP_TYPE = 2
RERR_TYPE = 3
RREP_ACK_TYPE = 4

EXT_HELLO_INTERVAL = 1  # RFC 3561 §9.1, value: 4-byte interval in ms
EXT_TTL = 200  # meshnet: remaining TTL of a flooded RREQ, value: 1 byte
EXT_AUTH = 201  # meshnet: authentication trailer (protocols/auth.py), value: 28 bytes, always last
AUTH_OPENING = bytes([EXT_AUTH, TRAILER_LEN])  # the extension's type and length bytes

_RREQ = struct.Struct("!BBBBI4sI4sI")
_RREP = struct.Struct("!BBBB4sI4sI")
_RERR_HEAD = struct.Struct("!BBBB")
_RERR_ITEM = struct.Struct("!4sI")
_ACK = struct.Struct("!BB")

_RREQ_FLAGS = {"join": 0x80, "repair": 0x40, "gratuitous": 0x20, "dest_only": 0x10,
               "unknown_seq": 0x08}
_RREP_REPAIR, _RREP_ACK_REQ = 0x80, 0x40
_RERR_NO_DELETE = 0x80

Extensions = tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class RREQ:
    rreq_id: int
    dst: str
    dst_seq: int
    orig: str
    orig_seq: int
    hop_count: int = 0
    join: bool = False
    repair: bool = False
    gratuitous: bool = False
    dest_only: bool = False
    unknown_seq: bool = False
    extensions: Extensions = ()

    @property
    def ttl(self) -> int | None:
        """Remaining TTL carried in the meshnet TTL extension, if present."""
        for kind, value in self.extensions:
            if kind == EXT_TTL and len(value) == 1:
                return value[0]
        return None


@dataclass(frozen=True, slots=True)
class RREP:
    dst: str
    dst_seq: int
    orig: str
    lifetime_ms: int
    hop_count: int = 0
    prefix_size: int = 0
    repair: bool = False
    ack_required: bool = False
    extensions: Extensions = ()

    @property
    def is_hello(self) -> bool:
        return self.dst == self.orig


@dataclass(frozen=True, slots=True)
class RERR:
    unreachable: tuple[tuple[str, int], ...]  # (destination, sequence number)
    no_delete: bool = False
    extensions: Extensions = ()


@dataclass(frozen=True, slots=True)
class RREPAck:
    pass


Message = Union[RREQ, RREP, RERR, RREPAck]


def ttl_extension(ttl: int) -> tuple[int, bytes]:
    return (EXT_TTL, bytes([max(0, min(255, ttl))]))


# --- encoding --------------------------------------------------------------------------------

def encode(msg: Message) -> bytes:
    """Serialise a message; raises ValueError for values that do not fit their fields."""
    if isinstance(msg, RREQ):
        flags = ((0x80 if msg.join else 0) | (0x40 if msg.repair else 0)  # _RREQ_FLAGS
                 | (0x20 if msg.gratuitous else 0) | (0x10 if msg.dest_only else 0)
                 | (0x08 if msg.unknown_seq else 0))
        head = _RREQ.pack(RREQ_TYPE, flags, 0, _u8(msg.hop_count, "hop count"),
                          _u32(msg.rreq_id, "RREQ ID"), _ip(msg.dst), _u32(msg.dst_seq, "dest seq"),
                          _ip(msg.orig), _u32(msg.orig_seq, "orig seq"))
    elif isinstance(msg, RREP):
        if not 0 <= msg.prefix_size <= 31:
            raise ValueError(f"prefix size {msg.prefix_size} does not fit 5 bits")
        flags = (_RREP_REPAIR if msg.repair else 0) | (_RREP_ACK_REQ if msg.ack_required else 0)
        head = _RREP.pack(RREP_TYPE, flags, msg.prefix_size, _u8(msg.hop_count, "hop count"),
                          _ip(msg.dst), _u32(msg.dst_seq, "dest seq"), _ip(msg.orig),
                          _u32(msg.lifetime_ms, "lifetime"))
    elif isinstance(msg, RERR):
        if not 1 <= len(msg.unreachable) <= 255:
            raise ValueError(f"RERR needs 1..255 unreachable destinations, got {len(msg.unreachable)}")
        head = _RERR_HEAD.pack(RERR_TYPE, _RERR_NO_DELETE if msg.no_delete else 0, 0,
                               len(msg.unreachable))
        head += b"".join(_RERR_ITEM.pack(_ip(d), _u32(s, "dest seq")) for d, s in msg.unreachable)
    elif isinstance(msg, RREPAck):
        return _ACK.pack(RREP_ACK_TYPE, 0)
    else:
        raise TypeError(f"not an AODV message: {msg!r}")
    return head + _encode_extensions(msg.extensions)


def _encode_extensions(extensions: Extensions) -> bytes:
    out = bytearray()
    for kind, value in extensions:
        out += bytes([_u8(kind, "extension type"), _u8(len(value), "extension length")]) + value
    return bytes(out)


def _u8(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what} {value} does not fit 8 bits")
    return value


def _u32(value: int, what: str) -> int:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{what} {value} does not fit 32 bits")
    return value


def split_auth(msg: Message, data: bytes) -> tuple[bytes, bytes | None]:
    """``data`` (whose decoding is ``msg``) as (signed part, trailer): the signed part is
    everything before the trailer, the opening bytes of the extension included; the message
    itself is the signed part less those two bytes. Without an authentication extension last:
    (data, None)."""
    extensions = getattr(msg, "extensions", ())
    if extensions and extensions[-1][0] == EXT_AUTH and len(extensions[-1][1]) == TRAILER_LEN:
        return data[:-TRAILER_LEN], extensions[-1][1]
    return data, None


# --- decoding --------------------------------------------------------------------------------

def decode(data: bytes, *, strict: bool = False) -> Message:
    """Parse one AODV message. Raises DecodeError (and nothing else) for malformed input."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"AODV message must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise DecodeError("empty AODV message")
    kind = data[0]
    if kind == RREQ_TYPE:
        return _decode_rreq(data, strict)
    if kind == RREP_TYPE:
        return _decode_rrep(data, strict)
    if kind == RERR_TYPE:
        return _decode_rerr(data, strict)
    if kind == RREP_ACK_TYPE:
        return _decode_ack(data, strict)
    raise DecodeError(f"unknown AODV message type {kind} (expected 1 RREQ, 2 RREP, 3 RERR, 4 RREP-ACK)")


def _need(data: bytes, size: int, name: str) -> None:
    if len(data) < size:
        raise DecodeError(f"{name} too short: {len(data)} bytes, need {size}")


def _reserved(strict: bool, bits: int, name: str) -> None:
    if strict and bits:
        raise DecodeError(f"{name}: reserved bits set (0x{bits:x}); they must be zero")


def _decode_rreq(data: bytes, strict: bool) -> RREQ:
    _need(data, _RREQ.size, "RREQ")
    _, flags, res, hops, rreq_id, dst, dst_seq, orig, orig_seq = _RREQ.unpack_from(data)
    _reserved(strict, (flags & 0x07) << 8 | res, "RREQ")
    return RREQ(rreq_id, _addr(dst), dst_seq, _addr(orig), orig_seq, hops,
                bool(flags & 0x80), bool(flags & 0x40), bool(flags & 0x20), bool(flags & 0x10),
                bool(flags & 0x08), _decode_extensions(data[_RREQ.size:], "RREQ"))


def _decode_rrep(data: bytes, strict: bool) -> RREP:
    _need(data, _RREP.size, "RREP")
    _, flags, pfx, hops, dst, dst_seq, orig, lifetime = _RREP.unpack_from(data)
    _reserved(strict, (flags & 0x3F) << 3 | pfx >> 5, "RREP")
    return RREP(dst=_addr(dst), dst_seq=dst_seq, orig=_addr(orig), lifetime_ms=lifetime,
                hop_count=hops, prefix_size=pfx & 0x1F, repair=bool(flags & _RREP_REPAIR),
                ack_required=bool(flags & _RREP_ACK_REQ),
                extensions=_decode_extensions(data[_RREP.size:], "RREP"))


def _decode_rerr(data: bytes, strict: bool) -> RERR:
    _need(data, _RERR_HEAD.size, "RERR")
    _, flags, res, count = _RERR_HEAD.unpack_from(data)
    _reserved(strict, (flags & 0x7F) << 8 | res, "RERR")
    if count == 0:
        raise DecodeError("RERR with DestCount 0: it must list at least one unreachable destination")
    end = _RERR_HEAD.size + count * _RERR_ITEM.size
    if len(data) < end:
        raise DecodeError(f"RERR truncated: DestCount {count} needs {end} bytes, got {len(data)}")
    items = tuple((_addr(ip), seq) for ip, seq in
                  (_RERR_ITEM.unpack_from(data, _RERR_HEAD.size + i * _RERR_ITEM.size)
                   for i in range(count)))
    return RERR(unreachable=items, no_delete=bool(flags & _RERR_NO_DELETE),
                extensions=_decode_extensions(data[end:], "RERR"))


def _decode_ack(data: bytes, strict: bool) -> RREPAck:
    _need(data, _ACK.size, "RREP-ACK")
    if len(data) != _ACK.size:
        raise DecodeError(f"RREP-ACK must be exactly 2 bytes, got {len(data)}")
    _reserved(strict, data[1], "RREP-ACK")
    return RREPAck()


def _decode_extensions(rest: bytes, name: str) -> Extensions:
    out = []
    i = 0
    while i < len(rest):
        if i + 2 > len(rest):
            raise DecodeError(f"{name}: {len(rest) - i} trailing byte(s) are not a valid extension")
        kind, length = rest[i], rest[i + 1]
        if i + 2 + length > len(rest):
            raise DecodeError(f"{name}: extension type {kind} claims {length} bytes, "
                              f"only {len(rest) - i - 2} left")
        out.append((kind, rest[i + 2:i + 2 + length]))
        i += 2 + length
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _addr(raw: bytes) -> str:
    """4 bytes -> dotted quad. Cached: every message carries two, from few distinct nodes."""
    return "%d.%d.%d.%d" % tuple(raw)
