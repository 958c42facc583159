"""The DSDV route table: what a node uses, what it advertises, and the settling state between.

Each destination keeps two views (Perkins & Bhagwat keep two tables for the same reason):

- the *used* route (``seqno``, ``metric``, ``next_hop``) is installed in the forwarding table as
  soon as it is accepted, so data takes the freshest route at once;
- the *advertised* pair (``adv_seqno``, ``adv_metric``) is what this node tells its neighbours. A
  changed metric reaches it only after the settling delay, which keeps a burst of gradually
  improving advertisements for one sequence number from rippling through the network.

Since the advertised pair is always a past value of the used route, and a node's (seqno, -metric)
key only grows, following next hops climbs strictly in that key: routes stay loop-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .wire import INFINITY


@dataclass(slots=True)
class DsdvEntry:
    dst: str
    next_hop: str
    metric: int
    seqno: int
    last_refresh: float  # last time the next hop confirmed this route
    adv_seqno: int
    adv_metric: int
    changed: bool = True  # goes into the next incremental update
    first_heard: float = 0.0  # when the current seqno was first heard (settling sample start)
    settling: float = 0.0  # weighted average settling time for this destination
    settle_timer: Any = None  # pending advertisement of a changed metric
    broken_at: float | None = None

    @property
    def valid(self) -> bool:
        return self.metric < INFINITY

    @property
    def pending(self) -> bool:
        return self.settle_timer is not None

    def advertise_now(self) -> None:
        """Make the used route the advertised one (cancelling any settling delay)."""
        if self.settle_timer is not None:
            self.settle_timer.cancel()
            self.settle_timer = None
        self.adv_seqno, self.adv_metric = self.seqno, self.metric
        self.changed = True

    def mark_broken(self, seqno: int, now: float) -> None:
        """Unreachable: odd sequence number, infinite metric, advertised at once."""
        self.seqno, self.metric, self.broken_at = seqno, INFINITY, now
        self.advertise_now()


class DsdvTable:
    """Destination -> :class:`DsdvEntry`; a node's own address is never in it."""

    def __init__(self) -> None:
        self._entries: dict[str, DsdvEntry] = {}

    def get(self, dst: str) -> DsdvEntry | None:
        return self._entries.get(dst)

    def put(self, entry: DsdvEntry) -> None:
        self._entries[entry.dst] = entry

    def delete(self, dst: str) -> None:
        entry = self._entries.pop(dst, None)
        if entry is not None and entry.settle_timer is not None:
            entry.settle_timer.cancel()

    def __iter__(self) -> Iterator[DsdvEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def valid_via(self, next_hop: str) -> list[DsdvEntry]:
        return [e for e in self._entries.values() if e.valid and e.next_hop == next_hop]

    def stale(self, now: float, hold_time: float) -> list[DsdvEntry]:
        """Valid routes whose next hop has not confirmed them within the hold time."""
        return [e for e in self._entries.values() if e.valid and now - e.last_refresh > hold_time]

    def expired_broken(self, now: float, hold_time: float) -> list[DsdvEntry]:
        """Broken entries kept for a hold time (so stale seqnos are refused), now forgettable."""
        return [e for e in self._entries.values()
                if not e.valid and e.broken_at is not None and now - e.broken_at > hold_time]

    def has_changes(self) -> bool:
        return any(e.changed and not e.pending for e in self._entries.values())
