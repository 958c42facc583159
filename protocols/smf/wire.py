"""SMF's neighbourhood HELLO, a simplified NHDP HELLO (RFC 6130), on UDP port 61503 (NHDP's
own port 269 is DSDV's here, and this is not RFC 5444; 61500 is GPSR's, 61501 Z-Wave's).

NHDP's HELLO is an RFC 5444 packet with address blocks and TLVs; SMF needs only what it
carries: the sender's links and their status, which neighbours the sender selected as MPR
(S-MPR, as OLSRv2's MPR TLV) and router priorities (E-CDS's RtrPri, RFC 6621 App. B). This
fixed layout carries exactly that. Network byte order.

Header, 8 bytes:

| offset | size | field |
|---|---|---|
| 0 | 1 | type = 1 (HELLO) |
| 1 | 1 | version = 1 |
| 2 | 1 | sender's router priority (0..255) |
| 3 | 1 | flags: bit 0 = the sender is an E-CDS relay (informational); others 0, ignored |
| 4 | 2 | validity: how long the receiver keeps this information, in units of 10 ms (> 0) |
| 6 | 2 | n: number of link entries |

Then n link entries of 8 bytes:

| offset | size | field |
|---|---|---|
| 0 | 4 | neighbour's IPv4 address |
| 4 | 1 | link status: 1 HEARD, 2 SYMMETRIC; bit 7 (0x80) = selected as MPR by the sender |
| 5 | 1 | the neighbour's router priority, as the sender last heard it |
| 6 | 2 | reserved, sent as 0, ignored |
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from meshnet.protocol_api import DecodeError
from meshnet.protocol_api import ipv4_bytes as _packed, ipv4_str as _ip

TYPE_HELLO = 1
VERSION = 1
HEARD, SYMMETRIC = 1, 2
MPR_BIT = 0x80
FLAG_RELAY = 0x01
_HEADER = struct.Struct("!BBBBHH")
_ENTRY = struct.Struct("!4sBBH")
MAX_ENTRIES = 0xFFFF


@dataclass(frozen=True)
class Link:
    address: str
    status: int  # HEARD or SYMMETRIC
    mpr: bool
    priority: int


@dataclass(frozen=True)
class Hello:
    priority: int
    validity: float  # seconds
    links: tuple[Link, ...]
    relay: bool = False


def encode_hello(hello: Hello) -> bytes:
    units = round(hello.validity * 100)
    if not 1 <= units <= 0xFFFF:
        raise ValueError(f"validity {hello.validity} s does not fit (0.01 .. 655.35 s)")
    if len(hello.links) > MAX_ENTRIES:
        raise ValueError("too many links for one HELLO")
    out = [_HEADER.pack(TYPE_HELLO, VERSION, hello.priority, FLAG_RELAY if hello.relay else 0,
                        units, len(hello.links))]
    for link in hello.links:
        out.append(_ENTRY.pack(_packed(link.address), link.status | (MPR_BIT if link.mpr else 0),
                               link.priority, 0))
    return b"".join(out)


def decode_hello(data: bytes) -> Hello:
    if len(data) < _HEADER.size:
        raise DecodeError(f"SMF HELLO too short: {len(data)} bytes, at least {_HEADER.size}")
    kind, version, priority, flags, units, n = _HEADER.unpack_from(data)
    if kind != TYPE_HELLO:
        raise DecodeError(f"SMF message type {kind}: only 1 (HELLO) exists")
    if version != VERSION:
        raise DecodeError(f"SMF HELLO version {version}: only {VERSION} is understood")
    if units == 0:
        raise DecodeError("SMF HELLO validity 0")
    if len(data) != _HEADER.size + n * _ENTRY.size:
        raise DecodeError(f"SMF HELLO of {len(data)} bytes announces {n} links "
                          f"({_HEADER.size + n * _ENTRY.size} bytes)")
    links = []
    for k in range(n):
        raw, status, prio, _ = _ENTRY.unpack_from(data, _HEADER.size + k * _ENTRY.size)
        kind_ = status & ~MPR_BIT
        if kind_ not in (HEARD, SYMMETRIC):
            raise DecodeError(f"SMF HELLO link {k}: status {status:#x} (1 heard, 2 symmetric, "
                              f"bit 7 MPR)")
        links.append(Link(_ip(raw), kind_, bool(status & MPR_BIT), prio))
    return Hello(priority, units / 100.0, tuple(links), bool(flags & FLAG_RELAY))
