"""Authenticated control messages: an HMAC-SHA256 trailer with a per-sender counter.

Shared by AODV and DSDV (each frames the trailer in its own wire format, see docs/security.md).
The trailer is 28 bytes::

    signer   4 bytes   IPv4 address of the node that signed (the one-hop sender)
    counter  8 bytes   uint64, strictly increasing per signer (see below)
    tag     16 bytes   HMAC-SHA256(key, body || signer || counter), truncated to 128 bits

``body`` is every byte of the message before the trailer (for AODV including the two bytes
that open the extension, so the framing is covered too). The counter is the signer's clock in
microseconds, or one more than the last counter it used when that is larger: it grows even
across a restart (the last value lives in ``ctx.persistent``) and it also says when the message
was signed.

A receiver accepts a message only when the tag is right (else ``failed``), the signer is the
neighbour it came from (else ``replayed``: only a key holder could have made the tag, and every
key holder signs what it sends itself, so a valid tag from someone else is a copy), the counter
is above the last one accepted from that signer and no older than ``window`` seconds (else
``replayed``). The window covers receivers that never heard the signer before (a node that just
came up or moved into range) and so have no last counter to compare with; it assumes the nodes'
clocks agree to well within it (exact on the simulator).

Authentication is hop by hop: a forwarder (an AODV node re-broadcasting an RREQ, or passing an
RREP on) verifies the copy it received and signs its own. A node with the key can therefore
still lie in what it signs (an insider black hole), and mutable fields such as the hop count are
vouched for only by the last hop: these are the known limits of hop-by-hop schemes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from dataclasses import dataclass

from meshnet.protocol_api import ipv4_bytes as _packed, ipv4_str as _dotted

TAG_LEN = 16
TRAILER = struct.Struct("!4sQ16s")
TRAILER_LEN = TRAILER.size  # 28
_COUNTER = struct.Struct("!Q")
MAX_COUNTER = 2**64 - 1
MIN_HEX_KEY = 32  # hex digits (128 bits): shorter strings are passphrases


def derive_key(text: str) -> bytes:
    """The HMAC key from the ``auth_key`` parameter: 32 or more hex digits (an even number) are
    the key itself; anything else is a passphrase, and its SHA-256 digest is the key."""
    s = text.strip()
    if len(s) >= MIN_HEX_KEY and len(s) % 2 == 0:
        try:
            return bytes.fromhex(s)
        except ValueError:
            pass
    return hashlib.sha256(s.encode("utf-8")).digest()


@functools.lru_cache(maxsize=4096)
def _tag(key: bytes, body: bytes, signer: bytes, counter: int) -> bytes:
    """Every neighbour of a broadcaster checks the same bytes: compute each tag once."""
    return hmac.new(key, body + signer + _COUNTER.pack(counter), hashlib.sha256).digest()[:TAG_LEN]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a receiver makes of a message: ``status`` is ok, failed or replayed; ``reason`` says
    why (missing, bad_tag; relayed, old_counter, stale); ``signer`` as claimed in the trailer."""

    status: str
    reason: str = ""
    signer: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


OK = Verdict("ok")
MISSING = Verdict("failed", "missing")


class MessageAuth:
    """Signs this node's control messages and checks its neighbours'. ``memory`` is the
    protocol's slot in ``ctx.persistent`` (the last counter used survives a restart)."""

    def __init__(self, key: bytes, address: str, memory: dict, window: float) -> None:
        self._key = key
        self._me = _packed(address)
        self._memory = memory
        self.window = window
        self._last: dict[str, int] = {}  # signer -> last counter accepted from it

    def _next_counter(self, now: float) -> int:
        counter = max(self._memory.get("auth_counter", -1) + 1, int(now * 1_000_000))
        if counter > MAX_COUNTER:
            raise ValueError("authentication counter exhausted")
        self._memory["auth_counter"] = counter
        return counter

    def trailer(self, body: bytes, now: float) -> bytes:
        """The 28-byte trailer for ``body``, with a fresh counter."""
        counter = self._next_counter(now)
        return TRAILER.pack(self._me, counter, _tag(self._key, body, self._me, counter))

    def verify(self, src: str, body: bytes, trailer: bytes | None, now: float) -> Verdict:
        """Check a message that neighbour ``src`` sent; on success its counter is remembered."""
        if trailer is None or len(trailer) != TRAILER_LEN:
            return MISSING
        signer_raw, counter, tag = TRAILER.unpack(trailer)
        if not hmac.compare_digest(_tag(self._key, body, signer_raw, counter), tag):
            return Verdict("failed", "bad_tag", _dotted(signer_raw))
        signer = _dotted(signer_raw)
        if signer != src:
            return Verdict("replayed", "relayed", signer)
        last = self._last.get(signer)
        if last is not None and counter <= last:
            return Verdict("replayed", "old_counter", signer)
        if self.window > 0 and counter < (now - self.window) * 1_000_000:
            return Verdict("replayed", "stale", signer)
        self._last[signer] = counter
        return OK


__all__ = ["MessageAuth", "Verdict", "TRAILER", "TRAILER_LEN", "TAG_LEN", "derive_key"]
