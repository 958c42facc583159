"""The event bus: the one stream that metrics, the JSONL trace and the TUI consume.

Events are ``(time, kind, fields)``. Producers check :meth:`EventBus.wants` before building a
costly event, so a run with no trace and no UI pays only for what metrics subscribe to.

Every kind, its fields with their types and meaning, is declared in :mod:`meshnet.event_schema`
(the reference list is in docs/architecture.md). The bus does not check events as they pass;
``EventBus(validate=True)`` does, for tests, and raises
:class:`~meshnet.event_schema.EventSchemaError` at the producer on an undeclared kind or field or
a value of the wrong type.
"""

from __future__ import annotations

import json
from typing import IO, Any, Callable

Subscriber = Callable[[float, str, dict], None]


class EventBus:
    def __init__(self, validate: bool = False) -> None:
        self._by_kind: dict[str, list[Subscriber]] = {}
        self._all: list[Subscriber] = []
        if validate:
            self.emit = self._checked_emit  # type: ignore[method-assign]  # the default stays lean

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

    def _checked_emit(self, t: float, kind: str, fields: dict) -> None:
        from .event_schema import check

        check(kind, fields)
        EventBus.emit(self, t, kind, fields)


class TraceWriter:
    """Writes every event as one JSON line. Output is byte-identical for the same run. Times and
    positions are written at full precision, so the trace alone reproduces every position."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=False).encode

    def __call__(self, t: float, kind: str, fields: dict) -> None:
        record: dict[str, Any] = {"t": t, "ev": kind}
        record.update(fields)
        self._stream.write(self._dumps(record))
        self._stream.write("\n")
