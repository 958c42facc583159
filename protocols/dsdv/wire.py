"""DSDV update messages: a compact, byte-exact wire format.

DSDV has no RFC, so meshnet defines its own layout (ns-3 sends bare 12-byte records with no
header; this format adds a version and a full/incremental flag and packs each record in 9 bytes).
All fields are big-endian (network byte order)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |   Version=1   |     Flags     |          Entry count          |   header, 4 bytes
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                   Destination IPv4 address                    |   entry, 9 bytes,
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   repeated
    |               Destination sequence number (uint32)            |   "Entry count"
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   times
    |    Metric     |
    +-+-+-+-+-+-+-+-+

- Flags: bit 0 (value 0x01) set = full dump, clear = incremental update; bit 1 (0x02) set = a
  28-byte authentication trailer follows the entries (signer address, counter, truncated
  HMAC-SHA256 over every byte before it: see protocols/auth.py and docs/security.md); it is set
  only when the protocol's ``auth_key`` is, so without a key the bytes are as before. Other bits
  must be 0.
- Metric: the sender's own hop count to the destination (0 for the sender itself); the receiver
  adds one. 255 (``INFINITY``) means unreachable.
- A sequence number is even when originated by the destination and odd when a node that lost the
  route announces the break; odd numbers always carry metric 255 and even ones never do.

The decoder rejects anything else (short or trailing bytes, unknown version or flags, an
odd/even and metric mismatch) with :class:`~meshnet.protocol_api.DecodeError`.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from meshnet.protocol_api import DecodeError
from meshnet.protocol_api import ipv4_bytes as _packed, ipv4_str as _dotted

from ..auth import TRAILER_LEN

VERSION = 1
FLAG_FULL = 0x01
FLAG_AUTH = 0x02
INFINITY = 255
MAX_ENTRIES = 0xFFFF

_HEADER = struct.Struct("!BBH")
_ENTRY = struct.Struct("!4sIB")
HEADER_SIZE = _HEADER.size  # 4
ENTRY_SIZE = _ENTRY.size  # 9


@dataclass(frozen=True, slots=True)
class Entry:
    """One advertised route: destination, its sequence number, the sender's hop count."""

    dst: str
    seqno: int
    metric: int

    @property
    def broken(self) -> bool:
        return self.seqno % 2 == 1


@dataclass(frozen=True, slots=True)
class Update:
    """A DSDV routing update: a full dump of the table or an incremental one."""

    full: bool
    entries: tuple[Entry, ...]
    authenticated: bool = False  # FLAG_AUTH: a trailer follows (appended by the sender's protocol)


def encode(update: Update) -> bytes:
    """Serialise ``update``; raises ValueError for values the format cannot carry. For an
    authenticated update this is the signed part: the sender appends the trailer."""
    if len(update.entries) > MAX_ENTRIES:
        raise ValueError(f"too many entries for one update: {len(update.entries)}")
    flags = (FLAG_FULL if update.full else 0) | (FLAG_AUTH if update.authenticated else 0)
    parts = [_HEADER.pack(VERSION, flags, len(update.entries))]
    for e in update.entries:
        _check_entry(e.seqno, e.metric, ValueError)
        parts.append(_ENTRY.pack(_packed(e.dst), e.seqno, e.metric))
    return b"".join(parts)


def decode(data: bytes) -> Update:
    """Parse one update; malformed input raises DecodeError and nothing else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"DSDV update must be bytes, got {type(data).__name__}")
    return _decode(bytes(data))


@functools.lru_cache(maxsize=256)
def _decode(data: bytes) -> Update:
    """Decoding is pure and an :class:`Update` immutable, so every neighbour that hears one
    broadcast shares a single parse (full dumps are most of DSDV's work)."""
    if len(data) < HEADER_SIZE:
        raise DecodeError(f"DSDV update too short: {len(data)} bytes, header needs {HEADER_SIZE}")
    version, flags, count = _HEADER.unpack_from(data, 0)
    if version != VERSION:
        raise DecodeError(f"unsupported DSDV version {version} (expected {VERSION})")
    if flags & ~(FLAG_FULL | FLAG_AUTH):
        raise DecodeError(f"reserved DSDV flag bits set: 0x{flags:02x}")
    end = HEADER_SIZE + count * ENTRY_SIZE
    expected = end + (TRAILER_LEN if flags & FLAG_AUTH else 0)
    if len(data) != expected:
        trailer = " and the authentication trailer" if flags & FLAG_AUTH else ""
        raise DecodeError(f"DSDV update length {len(data)} does not match {count} entries"
                          f"{trailer} ({expected} bytes)")
    entries = []
    for i, (raw_dst, seqno, metric) in enumerate(_ENTRY.iter_unpack(data[HEADER_SIZE:end])):
        _check_entry(seqno, metric, DecodeError, index=i)
        entries.append(Entry(_dotted(raw_dst), seqno, metric))
    return Update(bool(flags & FLAG_FULL), tuple(entries), bool(flags & FLAG_AUTH))


def split_auth(data: bytes) -> tuple[bytes, bytes | None]:
    """A decodable update as (signed part, trailer); (data, None) when FLAG_AUTH is clear."""
    if len(data) > TRAILER_LEN + 1 and data[1] & FLAG_AUTH:
        return data[:-TRAILER_LEN], data[-TRAILER_LEN:]
    return data, None


def _check_entry(seqno: int, metric: int, exc: type[Exception], index: int | None = None) -> None:
    where = "" if index is None else f"entry {index}: "
    if not 0 <= seqno <= 0xFFFFFFFF:
        raise exc(f"{where}sequence number {seqno} out of uint32 range")
    if not 0 <= metric <= INFINITY:
        raise exc(f"{where}metric {metric} out of range 0..{INFINITY}")
    if (seqno % 2 == 1) != (metric == INFINITY):
        raise exc(f"{where}sequence number {seqno} and metric {metric} disagree "
                  f"(odd sequence numbers, and only they, carry metric {INFINITY})")


__all__ = ["Entry", "Update", "encode", "decode", "split_auth", "INFINITY", "VERSION", "FLAG_FULL",
           "FLAG_AUTH",
           "HEADER_SIZE", "ENTRY_SIZE"]
