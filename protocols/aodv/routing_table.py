"""AODV's own route table (RFC 3561 §6.1, §6.2).

Richer than the node's forwarding table: it keeps invalid entries (their sequence numbers must
survive a link break so later replies are fresher), precursor lists (who to warn with an RERR) and
the valid-sequence-number flag. Only valid entries are mirrored into ``ctx.routes``.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from heapq import heappop, heappush, heapreplace
from typing import Iterator

SEQ_MASK = 0xFFFFFFFF


def seq_diff(a: int, b: int) -> int:
    """``a - b`` as a signed 32-bit number: sequence numbers wrap (RFC 3561 §6.1)."""
    d = (a - b) & SEQ_MASK
    return d - (1 << 32) if d >= 1 << 31 else d


def seq_newer(a: int, b: int) -> bool:
    """``a`` is fresher than ``b``: ``seq_diff(a, b) > 0``, in one expression (hot path)."""
    return 0 < (a - b) & SEQ_MASK < 0x80000000


def seq_next(a: int) -> int:
    """Increment, skipping 0 on wrap-around: 0 means "unknown" on the wire."""
    return (a + 1) & SEQ_MASK or 1


class RouteState(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    REPAIRING = "repairing"


_VALID, _REPAIRING = RouteState.VALID, RouteState.REPAIRING


@dataclass(slots=True)
class RouteEntry:
    dst: str
    next_hop: str
    hops: int
    seq: int
    valid_seq: bool
    expires: float
    state: RouteState = RouteState.VALID
    precursors: set[str] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return self.state is RouteState.VALID


class RoutingTable:
    """Entries by destination, plus a lazy heap of deadlines so that finding what expired does
    not scan the table. Lifetimes may be extended in place (``e.expires = later``): a stale heap
    item is simply pushed again at the new deadline when it comes up."""

    def __init__(self) -> None:
        self._entries: dict[str, RouteEntry] = {}
        self._deadlines: list[tuple[float, int, str]] = []
        self._tiebreak = itertools.count().__next__
        # ``get(dst) -> RouteEntry | None``: the dict's own method, called on every message
        self.get = self._entries.get

    def _schedule(self, e: RouteEntry) -> None:
        heappush(self._deadlines, (e.expires, self._tiebreak(), e.dst))

    def valid(self, dst: str) -> RouteEntry | None:
        e = self._entries.get(dst)
        return e if e is not None and e.state is _VALID else None

    def __iter__(self) -> Iterator[RouteEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def offer(self, dst: str, next_hop: str, hops: int, seq: int, expires: float) -> RouteEntry | None:
        """Apply new routing information with a known sequence number (RFC §6.2, §6.7).

        The entry is replaced when the stored sequence number is not valid, the new one is newer,
        or it is equal and the stored route is not valid or longer. Information about the very same
        route only extends its lifetime. Returns the entry when it was created, replaced or
        confirmed; None when the offer was stale and ignored.

        One exception to the RFC: a live direct route to a neighbour that we only know to be
        reachable (no valid sequence number) is not replaced by a longer one. A direct route
        cannot loop; a longer one offered then may lead back through us.
        """
        e = self._entries.get(dst)
        if e is None:
            e = self._entries[dst] = RouteEntry(dst, next_hop, hops, seq, True, expires)
            self._schedule(e)
            return e
        live = e.state is _VALID
        if hops > 1 and not e.valid_seq and live and e.hops == 1 and e.next_hop == dst:
            return None
        same_seq = seq == e.seq
        if (not e.valid_seq or 0 < (seq - e.seq) & SEQ_MASK < 0x80000000  # seq_newer(seq, e.seq)
                or (same_seq and (not live or hops < e.hops))):
            self._replace(e, next_hop, hops, seq, True, expires)
            return e
        if live and same_seq and e.next_hop == next_hop and e.hops == hops:
            e.expires = max(e.expires, expires)
            return e
        return None

    def force(self, dst: str, next_hop: str, hops: int, seq: int, valid_seq: bool,
              expires: float) -> RouteEntry:
        """Install a route regardless of freshness (routes to neighbours, reverse routes straight
        from the originator)."""
        e = self._entries.get(dst)
        if e is None:
            e = self._entries[dst] = RouteEntry(dst, next_hop, hops, seq, valid_seq, expires)
            self._schedule(e)
        else:
            self._replace(e, next_hop, hops, seq, valid_seq, expires)
        return e

    def _replace(self, e: RouteEntry, next_hop: str, hops: int, seq: int, valid_seq: bool,
                 expires: float) -> None:
        # Upstream nodes still route through us whatever our next hop: forgetting them would
        # leave them a black hole when this route breaks, kept alive by their own data.
        e.precursors.discard(next_hop)
        e.next_hop, e.hops, e.seq, e.valid_seq = next_hop, hops, seq, valid_seq
        e.state = RouteState.VALID
        e.expires = expires
        self._schedule(e)

    def valid_via(self, next_hop: str) -> list[RouteEntry]:
        return [e for e in self._entries.values()
                if e.next_hop == next_hop and e.state is _VALID]

    def invalidate(self, e: RouteEntry, delete_at: float) -> None:
        e.state = RouteState.INVALID
        e.precursors.clear()
        e.expires = delete_at
        self._schedule(e)

    def remove(self, dst: str) -> None:
        self._entries.pop(dst, None)

    def _live_top(self) -> tuple[float, RouteEntry] | None:
        """The earliest heap item that still describes an entry's deadline; stale items are
        dropped or moved to the entry's current (later) deadline."""
        heap, get, tiebreak = self._deadlines, self._entries.get, self._tiebreak
        while heap:
            t, _, dst = heap[0]
            e = get(dst)
            if e is None or e.state is _REPAIRING or e.expires < t:
                heappop(heap)  # gone, parked, or an earlier item covers it
            elif e.expires > t:
                heapreplace(heap, (e.expires, tiebreak(), dst))
            else:
                return t, e
        return None

    def next_expiry(self) -> float | None:
        top = self._live_top()
        return None if top is None else top[0]

    def expired(self, now: float) -> list[RouteEntry]:
        """Entries whose deadline has passed, each once (two stale heap items of one entry can
        both be moved onto its current deadline). The stale items are :meth:`_live_top`'s to
        drop or move: one walk of the heap keeps one set of rules."""
        out: list[RouteEntry] = []
        seen: set[str] = set()
        while (top := self._live_top()) is not None and top[0] <= now:
            heappop(self._deadlines)
            e = top[1]
            if e.dst not in seen:
                seen.add(e.dst)
                out.append(e)
        return out
