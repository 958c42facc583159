"""The event bus: the one stream that metrics, the JSONL trace and the TUI consume.

Events are ``(time, kind, fields)``. Producers check :meth:`EventBus.wants` before building a
costly event, so a run with no trace and no UI pays only for what metrics subscribe to.

Event kinds (fields):
  data_sent        app generated a packet: node, uid, src, dst, flow, size
  data_tx          a data frame left a node: node, uid, next_hop
  data_delivered   reached its destination: node, uid, hops, delay
  data_dropped     a copy was given up: node, uid, reason
  ctrl_tx          a control message was transmitted: node, dst, bytes, proto
  ctrl_rx          a control message was received: node, src, bytes
  ctrl_malformed   a control message failed to decode: node, src, error
  route_added / route_changed / route_removed: node, dst, next_hop, metric
  node_moved       course change: node, x, y, vx, vy
  link_up / link_down: a, b
  node_died / node_revived: node, reason
  protocol events  emitted by protocols through ctx.emit (rreq_sent, route_found, ...): node, ...
"""

from __future__ import annotations

import json
from typing import IO, Any, Callable

Subscriber = Callable[[float, str, dict], None]


class EventBus:
    def __init__(self) -> None:
        self._by_kind: dict[str, list[Subscriber]] = {}
        self._all: list[Subscriber] = []

    def subscribe(self, fn: Subscriber, kinds: tuple[str, ...] | None = None) -> None:
        """Subscribe to some kinds, or to every event when ``kinds`` is None."""
        if kinds is None:
            self._all.append(fn)
        else:
            for k in kinds:
                self._by_kind.setdefault(k, []).append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        if fn in self._all:
            self._all.remove(fn)
        for subs in self._by_kind.values():
            if fn in subs:
                subs.remove(fn)

    def wants(self, kind: str) -> bool:
        return bool(self._all) or kind in self._by_kind

    def emit(self, t: float, kind: str, fields: dict) -> None:
        for fn in self._by_kind.get(kind, ()):
            fn(t, kind, fields)
        for fn in self._all:
            fn(t, kind, fields)


class TraceWriter:
    """Writes every event as one JSON line. Output is byte-identical for the same run."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=False).encode

    def __call__(self, t: float, kind: str, fields: dict) -> None:
        record: dict[str, Any] = {"t": round(t, 9), "ev": kind}
        record.update(fields)
        self._stream.write(self._dumps(record))
        self._stream.write("\n")
