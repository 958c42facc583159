"""ODMRP's Join Query and Join Reply, on UDP port 61504 (ODMRP has no IANA port; like GPSR's
61500, it is in the dynamic range above Linux's ephemeral ports). Network byte order; reserved
fields are sent as 0 and ignored. Laid out after draft-ietf-manet-odmrp-04 §5, without the
optional fields (no piggybacked data in Join Queries, no mobility prediction).

Join Query, 20 bytes, broadcast by a source and relayed by every node once:

| offset | size | field |
|---|---|---|
| 0 | 1 | type = 1 |
| 1 | 1 | reserved |
| 2 | 1 | TTL: hops it may still travel |
| 3 | 1 | hop count from the source |
| 4 | 4 | multicast group address |
| 8 | 4 | the source's sequence number |
| 12 | 4 | source address |
| 16 | 4 | previous hop: the node that (re)broadcast this copy |

Join Reply, 12 + 12n bytes, broadcast by a member (and by each forwarder it recruits):

| offset | size | field |
|---|---|---|
| 0 | 1 | type = 2 |
| 1 | 1 | reserved |
| 2 | 1 | n: number of entries, 1..255 |
| 3 | 1 | reserved |
| 4 | 4 | multicast group address |
| 8 | 4 | sender of this reply |
| 12 + 12k | 4 | source address |
| 16 + 12k | 4 | sequence number of the Join Query answered |
| 20 + 12k | 4 | next hop: the sender's upstream node towards that source |
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from meshnet.protocol_api import DecodeError, is_multicast
from meshnet.protocol_api import ipv4_bytes as _packed, ipv4_str as _ip

JOIN_QUERY, JOIN_REPLY = 1, 2
_JQ = struct.Struct("!BBBB4sI4s4s")
_JR = struct.Struct("!BBBB4s4s")
_ENTRY = struct.Struct("!4sI4s")
MAX_ENTRIES = 255


@dataclass(frozen=True)
class JoinQuery:
    group: str
    seq: int
    source: str
    prev_hop: str
    ttl: int
    hops: int


@dataclass(frozen=True)
class ReplyEntry:
    source: str
    seq: int
    next_hop: str


@dataclass(frozen=True)
class JoinReply:
    group: str
    sender: str
    entries: tuple[ReplyEntry, ...]


def encode(msg: JoinQuery | JoinReply) -> bytes:
    if isinstance(msg, JoinQuery):
        return _JQ.pack(JOIN_QUERY, 0, msg.ttl, msg.hops, _packed(msg.group), msg.seq,
                        _packed(msg.source), _packed(msg.prev_hop))
    if not 1 <= len(msg.entries) <= MAX_ENTRIES:
        raise ValueError(f"a Join Reply has 1..{MAX_ENTRIES} entries, not {len(msg.entries)}")
    head = _JR.pack(JOIN_REPLY, 0, len(msg.entries), 0, _packed(msg.group), _packed(msg.sender))
    return head + b"".join(_ENTRY.pack(_packed(e.source), e.seq, _packed(e.next_hop))
                           for e in msg.entries)


def decode(data: bytes) -> JoinQuery | JoinReply:
    if not data:
        raise DecodeError("empty ODMRP message")
    kind = data[0]
    if kind == JOIN_QUERY:
        if len(data) != _JQ.size:
            raise DecodeError(f"ODMRP Join Query of {len(data)} bytes (expected {_JQ.size})")
        _, _, ttl, hops, group, seq, source, prev = _JQ.unpack(data)
        msg: JoinQuery | JoinReply = JoinQuery(_ip(group), seq, _ip(source), _ip(prev), ttl, hops)
    elif kind == JOIN_REPLY:
        if len(data) < _JR.size:
            raise DecodeError(f"ODMRP Join Reply of {len(data)} bytes (at least {_JR.size})")
        _, _, n, _, group, sender = _JR.unpack_from(data)
        if n == 0:
            raise DecodeError("ODMRP Join Reply with no entries")
        if len(data) != _JR.size + n * _ENTRY.size:
            raise DecodeError(f"ODMRP Join Reply of {len(data)} bytes announces {n} entries "
                              f"({_JR.size + n * _ENTRY.size} bytes)")
        entries = tuple(ReplyEntry(_ip(s), seq, _ip(h)) for s, seq, h in
                        (_ENTRY.unpack_from(data, _JR.size + k * _ENTRY.size) for k in range(n)))
        msg = JoinReply(_ip(group), _ip(sender), entries)
    else:
        raise DecodeError(f"ODMRP message type {kind}: expected 1 (Join Query) or 2 (Join Reply)")
    if not is_multicast(msg.group):
        raise DecodeError(f"ODMRP message for {msg.group}, not a multicast group")
    return msg
