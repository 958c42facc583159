"""IP multicast across the emulated mesh: the frame-level pieces the channel and the agents use.

A kernel sends an IPv4 multicast packet once, on ``wlan0``, to the group's Ethernet address
(01:00:5e + the group's low 23 bits); without a multicast router it reaches one-hop neighbours
only. With a multicast protocol (``Protocol.multicast``), the node's agent is that router, in
user space:

- a multicast frame a node's kernel transmits is handed to the agent instead of the air; the
  protocol sees it as originated (``on_multicast(packet, None)``) and sends it with
  ``ctx.relay``;
- a multicast frame the medium delivers to a node is handed to the agent instead of the node's
  TAP; the protocol passes it up (``ctx.deliver``: the frame is written into the TAP, the kernel
  gives it to the sockets that joined the group) and/or sends it on (``ctx.relay``: the same IP
  packet, TTL decremented and checksum updated, except for link-local groups such as mDNS's
  224.0.0.251, which keep TTL 255 as RFC 6762 receivers expect).

IGMP (protocol 2) stays link-local: its reports go on the air as the kernel sent them.
"""

from __future__ import annotations

ETH_IPV4 = b"\x08\x00"
IPPROTO_IGMP = 2


def is_multicast_frame(frame: bytes) -> bool:
    """An Ethernet frame carrying an IPv4 multicast packet other than IGMP."""
    return (len(frame) >= 34 and frame[0] & 1 and frame[12:14] == ETH_IPV4
            and frame[14] >> 4 == 4 and 224 <= frame[30] <= 239 and frame[23] != IPPROTO_IGMP)


def is_multicast_packet(raw: bytes) -> bool:
    """An IPv4 packet to a multicast group (first octet 224..239)."""
    return len(raw) >= 20 and raw[0] >> 4 == 4 and 224 <= raw[16] <= 239


def group_mac(raw: bytes) -> bytes:
    """The Ethernet address of IPv4 packet ``raw``'s group (RFC 1112 §6.4)."""
    return bytes((0x01, 0x00, 0x5E, raw[17] & 0x7F, raw[18], raw[19]))


def decrement_ttl(raw: bytes) -> bytes | None:
    """``raw`` with its TTL one lower and the header checksum updated incrementally (RFC 1624);
    None when the TTL would reach 0."""
    ttl = raw[8]
    if ttl <= 1:
        return None
    out = bytearray(raw)
    out[8] = ttl - 1
    # HC' = ~(~HC + ~m + m') with m the 16-bit word holding TTL and protocol (RFC 1624, eq. 3)
    old = (ttl << 8) | raw[9]
    new = ((ttl - 1) << 8) | raw[9]
    total = (~int.from_bytes(raw[10:12], "big") & 0xFFFF) + (~old & 0xFFFF) + new
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    out[10:12] = (~total & 0xFFFF).to_bytes(2, "big")
    return bytes(out)


__all__ = ["decrement_ttl", "group_mac", "is_multicast_frame", "is_multicast_packet"]
