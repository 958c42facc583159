"""Turns bus events into one-line log entries a person can read (addresses shown as names)."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Callable, Mapping

from .view import FOLDED, LogEntry

BROADCAST = "255.255.255.255"


def hops_text(hops: object) -> str:
    """``1 hop``, ``3 hops`` (``? hops`` when the event does not say)."""
    return "1 hop" if hops == 1 else f"{'?' if hops is None else hops} hops"


class EventFormatter:
    """Formats ``(t, kind, fields)`` events; ``names`` maps addresses to node names."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names
        self._formats: dict[str, Callable[[dict], str]] = {
            "route_found": lambda f: (f"{f['node']} found route to {self.n(f.get('dst'))} "
                                      f"via {self.n(f.get('next_hop'))}, "
                                      f"{hops_text(f.get('hops'))}"),
            "route_broken": lambda f: (f"{f['node']} route to {self.n(f.get('dst'))} broken "
                                       f"(next hop {self.n(f.get('next_hop'))})"),
            "route_added": lambda f: (f"{f['node']} route to {self.n(f.get('dst'))} "
                                      f"via {self.n(f.get('next_hop'))}, metric {f.get('metric')}"),
            "route_changed": lambda f: (f"{f['node']} route to {self.n(f.get('dst'))} now "
                                        f"via {self.n(f.get('next_hop'))}, metric {f.get('metric')}"),
            "route_removed": lambda f: f"{f['node']} removed route to {self.n(f.get('dst'))}",
            "route_expired": lambda f: f"{f['node']} route to {self.n(f.get('dst'))} expired",
            "route_discovery_started": lambda f: (f"{f['node']} discovering a route to "
                                                  f"{self.n(f.get('dst'))}"),
            "route_discovery_failed": lambda f: (f"{f['node']} discovery of "
                                                 f"{self.n(f.get('dst'))} failed"),
            "local_repair_started": lambda f: (f"{f['node']} local repair towards "
                                               f"{self.n(f.get('dst'))}"),
            "rreq_sent": lambda f: (f"{f['node']} RREQ for {self.n(f.get('dst'))} "
                                    f"ttl {f.get('ttl', '?')}"),
            "rrep_sent": lambda f: (f"{f['node']} RREP for {self.n(f.get('dst'))} "
                                    f"-> {self.n(f.get('to'))}"),
            "rerr_sent": lambda f: (f"{f['node']} RERR "
                                    f"{','.join(self.n(d) for d in f.get('dsts', ()))} "
                                    f"-> {self.n(f.get('to'))}"),
            "ctrl_malformed": lambda f: (f"{f['node']} malformed control from "
                                         f"{self.n(f.get('src'))}"),
            "link_up": lambda f: f"link {f['a']}-{f['b']} up",
            "link_down": lambda f: f"link {f['a']}-{f['b']} down",
            "hello_link_lost": lambda f: (f"{f['node']} lost hellos from "
                                          f"{self.n(f.get('neighbor'))}"),
            "node_died": lambda f: f"{f['node']} died ({f.get('reason', '')})",
            "node_revived": lambda f: f"{f['node']} revived",
            "fault_started": lambda f: f"fault: {f['label']} from now",
            "fault_ended": lambda f: f"fault over: {f['label']}",
        }

    def n(self, address: object) -> str:
        """A node name for an address (``*`` for broadcast, the raw value otherwise)."""
        if address is None:
            return "-"
        if address == BROADCAST:
            return "*"
        return self._names.get(str(address), str(address))

    def entry(self, t: float, kind: str, fields: dict) -> LogEntry:
        fmt = self._formats.get(kind)
        try:
            text = fmt(fields) if fmt else f"{fields.get('node', '')} {kind}"
        except (KeyError, TypeError):
            text = f"{kind} {fields}"
        involved = tuple(str(fields[k]) for k in ("node", "a", "b") if k in fields)
        involved += tuple(self.n(fields[k]) for k in ("dst", "next_hop", "neighbor", "to")
                          if k in fields)
        return LogEntry(t, kind, involved, text)


class EventBuffer:
    """Events between two pictures: the latest ``limit`` kept to be listed, older ones counted
    by kind (a folded entry), so a burst costs bounded work and nothing vanishes unaccounted.
    Safe to fill from another thread (the netns emulation's loop)."""

    def __init__(self, formatter: EventFormatter, limit: int) -> None:
        self._formatter = formatter
        self._limit = limit
        self._lock = threading.Lock()
        self._events: deque[tuple[float, str, dict]] = deque()
        self._folded: Counter[str] = Counter()
        self._fold_span: list[float] = []

    def add(self, t: float, kind: str, fields: dict) -> None:
        with self._lock:
            events = self._events
            if len(events) >= self._limit:
                t_old, kind_old, _ = events.popleft()
                self._folded[kind_old] += 1
                if not self._fold_span:
                    self._fold_span = [t_old, t_old]
                self._fold_span[1] = t_old
            events.append((t, kind, fields))

    def drain(self) -> tuple[LogEntry, ...]:
        with self._lock:
            events, self._events = self._events, deque()
            folded, self._folded = self._folded, Counter()
            span, self._fold_span = self._fold_span, []
        entry = self._formatter.entry
        out = [entry(t, kind, f) for t, kind, f in events]
        if folded:  # the older events, before the listed ones
            out.insert(0, LogEntry(span[0], FOLDED, (), "", tuple(sorted(folded.items())),
                                   span[1]))
        return tuple(out)
