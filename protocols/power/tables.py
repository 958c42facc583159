"""Per-node state of the power-aware protocols: routes, neighbour links and RREQs seen (the
buffer of packets waiting for a discovery is protocol_api.RequestQueue, shared with AODV)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .cost import Key
from .wire import BATTERY_FULL

SEQ_MASK = 0xFFFFFFFF


def seq_newer(a: int, b: int) -> bool:
    """``a`` is newer than ``b`` (32-bit sequence numbers that wrap, as in RFC 3561 §6.1)."""
    d = (a - b) & SEQ_MASK
    return 0 < d < 1 << 31


def seq_next(a: int) -> int:
    """Increment, skipping 0 on wrap-around."""
    return (a + 1) & SEQ_MASK or 1


@dataclass(slots=True)
class RouteEntry:
    """A route to ``dst``; invalid entries stay to remember the destination's sequence number."""

    dst: str
    next_hop: str
    hops: int
    seq: int
    expires: float
    learnt: float  # when the route was installed (a source refreshes it after refresh_interval)
    cost: int = 0
    battery: int = BATTERY_FULL
    valid: bool = True
    precursors: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Link:
    """What a node knows of the link to a neighbour, from the last control frame it heard on it:
    the path loss (the sender's power minus the RSSI) and the level that crosses it."""

    loss_db: float
    level: float
    heard: float
    weak: bool = False  # even the highest level does not keep the margin: not used for routes


@dataclass(slots=True)
class Request:
    """The best copy of one RREQ (originator, RREQ ID) this node has heard."""

    dst: str
    orig_seq: int
    key: Key
    prev_hop: str  # the reverse hop: towards the originator along the best copy
    cost: int  # up to this node (the hop from prev_hop included)
    hops: int
    battery: int  # weakest relay, this node included unless it is the destination
    ttl: int  # TTL of the best copy as received
    my_battery: int  # this node's battery, read once per request
    expires: float
    forwards: int = 0
    pending: Any = None  # timer of a scheduled forward (or, at the destination, of the reply)
    replied: bool = False  # the destination has answered it


class Requests:
    """RREQ state by (originator, RREQ ID), forgotten ``memory`` seconds after it was created."""

    def __init__(self, memory: float) -> None:
        self.memory = memory
        self._items: OrderedDict[tuple[str, int], Request] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[str, int]) -> Request | None:
        return self._items.get(key)

    def add(self, key: tuple[str, int], req: Request) -> None:
        self._items[key] = req
        self._items.move_to_end(key)

    def expire(self, now: float) -> None:
        items = self._items
        while items:
            key, req = next(iter(items.items()))
            if req.expires > now:
                break
            del items[key]
            if req.pending is not None:
                req.pending.cancel()
