"""IPv4 options for per-packet protocol headers on the netns backend.

A per-packet protocol that keeps a header in ``packet.meta[name]`` and declares an ``ip_option``
class attribute (GPSR: type 158, the RFC 4727 experimental option with the copy bit) has that
header carried inside the IP packet as that option, so it survives the trip through the next
node's kernel and TUN: the agent reads it out of every packet it gets from the TUN
(:func:`extract`) and writes the protocol's updated header back before injecting the packet
(:func:`rewrite`). Linux forwards and delivers IPv4 packets with options it does not know, and
does not echo them back (ICMP echo replies carry none of them).

At most 40 bytes of options fit in an IPv4 header, so the option body is at most 38 bytes.
"""

from __future__ import annotations

EOL, NOP = 0, 1
MAX_OPTIONS = 40


def _options(raw: bytes) -> tuple[int, list[tuple[int, bytes]]] | None:
    """(header length, [(type, whole option bytes)]) of an IPv4 packet; None if malformed."""
    if len(raw) < 20 or raw[0] >> 4 != 4:
        return None
    ihl = (raw[0] & 15) * 4
    if ihl < 20 or len(raw) < ihl:
        return None
    out = []
    i = 20
    while i < ihl:
        kind = raw[i]
        if kind == EOL:
            break
        if kind == NOP:
            i += 1
            continue
        if i + 1 >= ihl:
            return None
        length = raw[i + 1]
        if length < 2 or i + length > ihl:
            return None
        out.append((kind, bytes(raw[i:i + length])))
        i += length
    return ihl, out


def extract(raw: bytes, kind: int) -> bytes | None:
    """The body of the first option of type ``kind`` in IPv4 packet ``raw``, or None."""
    if len(raw) < 21 or raw[0] == 0x45:  # the common case: no options at all
        return None
    parsed = _options(raw)
    if parsed is None:
        return None
    for k, option in parsed[1]:
        if k == kind:
            return option[2:]
    return None


def checksum(header: bytes) -> int:
    total = 0
    for i in range(0, len(header), 2):
        total += header[i] << 8 | header[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rewrite(raw: bytes, kind: int, body: bytes | None) -> bytes | None:
    """``raw`` with every option of type ``kind`` removed and, if ``body`` is given, one such
    option carrying ``body`` appended; other options are kept. Total length and header checksum
    are recomputed. None when the packet is malformed or the options would not fit in 40 bytes."""
    parsed = _options(raw)
    if parsed is None:
        return None
    ihl, options = parsed
    kept = [o for k, o in options if k != kind]
    if body is None and len(kept) == len(options):
        return raw  # nothing to remove, nothing to add
    if body is not None:
        if len(body) > MAX_OPTIONS - 2:
            return None
        kept.append(bytes((kind, len(body) + 2)) + body)
    opts = b"".join(kept)
    if len(opts) > MAX_OPTIONS:
        return None
    opts += bytes(-len(opts) % 4)  # pad with EOL
    new_ihl = 20 + len(opts)
    total = len(raw) - ihl + new_ihl
    if total > 0xFFFF:
        return None
    header = bytearray(raw[:20])
    header[0] = 0x40 | new_ihl // 4
    header[2:4] = total.to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header += opts
    header[10:12] = checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + bytes(raw[ihl:])
