"""A saved JSONL trace (``meshnet run --trace``), read once and indexed by time, so a replay can
show the state at any instant and seek backwards as cheaply as forwards.

Everything is kept as sorted time series answered by bisection: per node the legs of its
piecewise-linear path (``node_moved`` carries the full-precision start of every leg, the first
at t = 0), whether it is alive, and its forwarding table per destination (``route_added`` /
``route_changed`` / ``route_removed`` are every change of it); per pair of nodes the sampled
link state; and the times of data, control and per-node packet events for counters. Memory
grows with the trace; no query re-reads the file.

Positions use the simulator's own formula (``x0 + vx * (t - t0)``), so they equal the
simulation's bit for bit (``tests/test_tui_replay.py``).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..scenario import ScenarioError
from ..world import address_of
from .multicast_tally import MemberDeliveries
from .view import ALL_LOG_KINDS

BROADCAST = "255.255.255.255"
ROUTE_KINDS = ("route_added", "route_changed", "route_removed")


class TraceError(ScenarioError):
    """A file that is not a readable meshnet trace (exit status 2, one line)."""


class Series:
    """Values that change at increasing times; :meth:`at` gives the one in force at ``t``."""

    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[Any] = []

    def add(self, t: float, value: Any) -> None:
        if self.times and self.times[-1] == t:  # a later event at the same instant wins
            self.values[-1] = value
        else:
            self.times.append(t)
            self.values.append(value)

    def at(self, t: float, default: Any = None) -> Any:
        k = bisect_right(self.times, t)
        return self.values[k - 1] if k else default

    def since(self, t: float) -> float | None:
        """When the value in force at ``t`` was set (None: before the first change)."""
        k = bisect_right(self.times, t)
        return self.times[k - 1] if k else None


def count_until(times: list[float], t: float) -> int:
    """How many of the sorted ``times`` are <= ``t``."""
    return bisect_right(times, t)


@dataclass(frozen=True, slots=True)
class Leg:
    t0: float
    x: float
    y: float
    vx: float
    vy: float


@dataclass(frozen=True, slots=True)
class TraceFlow:
    id: int
    src: int
    dst: int
    start: float


@dataclass
class MulticastFlow:
    """A multicast flow as the trace has it (it does not record group names or joins): who
    should receive each packet (``mcast_sent``'s receivers) and who did, counted as
    `meshnet run` counts them (once per packet and member that should have it)."""

    src: int
    group: str  # the group's address
    start: float
    receivers: Series = field(default_factory=Series)  # members the newest packet was for
    due: "Cumulative" = field(default_factory=lambda: Cumulative())
    made: list[float] = field(default_factory=list)  # member deliveries


class Cumulative:
    """A running total that grows at increasing times; :meth:`at` gives it at ``t``."""

    __slots__ = ("times", "totals")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.totals: list[int] = []

    def add(self, t: float, n: int) -> None:
        total = (self.totals[-1] if self.totals else 0) + n
        if self.times and self.times[-1] == t:
            self.totals[-1] = total
        else:
            self.times.append(t)
            self.totals.append(total)

    def at(self, t: float) -> int:
        k = bisect_right(self.times, t)
        return self.totals[k - 1] if k else 0


@dataclass
class NodeHistory:
    """What the trace says about one node over time."""

    legs: list[Leg] = field(default_factory=list)
    leg_times: list[float] = field(default_factory=list)
    alive: Series = field(default_factory=Series)
    routes: dict[str, Series] = field(default_factory=dict)  # dst address -> row or None
    sent: list[float] = field(default_factory=list)       # data packets it originated
    received: list[float] = field(default_factory=list)   # data packets delivered to it
    forwarded: list[float] = field(default_factory=list)  # data frames it sent for others
    dropped: list[float] = field(default_factory=list)    # data copies it gave up


@dataclass
class Frames:
    """Frames in the order they left their senders (``data_tx`` / ``ctrl_tx`` times)."""

    times: list[float] = field(default_factory=list)
    sender: list[int] = field(default_factory=list)
    receiver: list[int] = field(default_factory=list)  # -1: broadcast
    data: list[bool] = field(default_factory=list)

    def between(self, t0: float, t1: float) -> range:
        """Indices of the frames with t0 < time <= t1."""
        return range(bisect_right(self.times, t0), bisect_right(self.times, t1))


class TraceIndex:
    """Reads ``path`` once; raises :class:`TraceError` on anything that is not a trace.

    A last line cut short (a run killed while writing) is not an error: the index ends with the
    last complete event and :attr:`warning` says so."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.warning = ""
        self.names: list[str] = []
        self.index_of: dict[str, int] = {}      # node name -> index
        self.node_of: dict[str, int] = {}       # address -> index
        self.nodes: list[NodeHistory] = []
        self.links: dict[tuple[int, int], Series] = {}  # (i, j), i < j -> up (bool)
        self.log: list[tuple[float, str, dict]] = []
        self.log_times: list[float] = []
        self.frames = Frames()
        self.sent: list[float] = []
        self.delivered: list[float] = []  # first delivery of each packet
        self.control: list[float] = []
        self.flow_sent: dict[int, list[float]] = {}
        self.flow_delivered: dict[int, list[float]] = {}
        self.flows: list[TraceFlow] = []
        self.mcast_flows: dict[int, MulticastFlow] = {}
        self.mcast_due = Cumulative()       # member deliveries due, every multicast flow
        self.mcast_made: list[float] = []   # ... and made
        self._mcast_members = MemberDeliveries()
        self.has_routes = False
        self.faults: list[list] = []  # [start, end (inf: still on), label] per fault
        self._fault_at: dict[int, list] = {}
        self.header: dict = {}  # the run_started event: scenario, protocol, area, duration ...
        self.end = 0.0
        self.events = 0
        self._source_of: dict[int, int] = {}  # packet uid -> source node
        self._delivered_uids: set[int] = set()
        self._flow_dst: dict[int, str] = {}
        self._flow_src: dict[int, tuple[int, float]] = {}  # flow -> (source, first packet)
        self._read()

    # --- reading ----------------------------------------------------------------------------
    def _lines(self) -> Iterator[tuple[int, float, str, dict]]:
        try:
            f = self.path.open("r", encoding="utf-8")
        except OSError as e:
            raise TraceError(f"{self.path}: cannot read the trace: {e.strerror or e}") from None
        with f:
            last_t = 0.0
            lineno = 0
            pending: tuple[int, str] | None = None  # a line that failed to parse
            for lineno, line in enumerate(f, 1):
                if pending is not None:  # a bad line that is not the last one
                    raise TraceError(f"{self.path}:{pending[0]}: not a JSON event ({pending[1]})")
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    pending = (lineno, e.msg if isinstance(e, json.JSONDecodeError) else str(e))
                    if line.endswith("\n"):  # complete, yet broken: not a truncation
                        raise TraceError(f"{self.path}:{lineno}: not a JSON event "
                                         f"({pending[1]})") from None
                    continue
                if not isinstance(record, dict):
                    raise TraceError(f"{self.path}:{lineno}: expected a JSON object, "
                                     f"got {type(record).__name__}")
                t, kind = record.pop("t", None), record.pop("ev", None)
                if (not isinstance(t, (int, float)) or isinstance(t, bool)
                        or not math.isfinite(t) or not isinstance(kind, str)):
                    raise TraceError(f"{self.path}:{lineno}: an event needs a finite time 't' "
                                     f"and a kind 'ev'")
                if t < last_t:
                    raise TraceError(f"{self.path}:{lineno}: time {t} goes back from {last_t}")
                last_t = t
                yield lineno, float(t), kind, record
            if pending is not None:
                self.warning = (f"{self.path}: line {pending[0]} is cut short; "
                                f"replaying up to the event before it")

    def _read(self) -> None:
        handlers = {
            "run_started": self._run_started,
            "node_moved": self._moved, "node_died": self._died, "node_revived": self._revived,
            "link_up": self._link, "link_down": self._link,
            "route_added": self._route, "route_changed": self._route,
            "route_removed": self._route_removed,
            "data_sent": self._data_sent, "data_delivered": self._data_delivered,
            "data_tx": self._data_tx, "data_dropped": self._data_dropped, "ctrl_tx": self._ctrl_tx,
            "fault_started": self._fault_started, "fault_ended": self._fault_ended,
            "mcast_sent": self._mcast_sent, "mcast_delivered": self._mcast_delivered,
        }
        logged = frozenset(ALL_LOG_KINDS)
        for lineno, t, kind, f in self._lines():
            self.events += 1
            self.end = t
            try:
                handler = handlers.get(kind)
                if handler is not None:
                    handler(t, kind, f)
                if kind in logged:
                    self.log.append((t, kind, f))
                    self.log_times.append(t)
            except TraceError as e:
                raise TraceError(f"{self.path}:{lineno}: {e}") from None
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise TraceError(f"{self.path}:{lineno}: bad {kind} event "
                                 f"({type(e).__name__}: {e})") from None
        if not self.names:
            raise TraceError(f"{self.path}: not a meshnet trace: no node positions "
                             f"(node_moved at t = 0); write one with `meshnet run --trace`")
        for fid in sorted(self._flow_dst):
            dst = self.node_of.get(self._flow_dst[fid])
            src, start = self._flow_src[fid]
            if dst is not None:
                self.flows.append(TraceFlow(fid, src, dst, start))
        self._source_of.clear()
        self._delivered_uids.clear()
        self._mcast_members.clear()

    def _node(self, name: Any) -> int:
        i = self.index_of.get(name)
        if i is None:
            raise TraceError(f"unknown node {name!r} (no node_moved at t = 0 for it)")
        return i

    def _moved(self, t: float, kind: str, f: dict) -> None:
        name = f["node"]
        i = self.index_of.get(name)
        if i is None:
            if t != 0.0:
                raise TraceError(f"node {name!r} first appears at t = {t}, not at t = 0")
            i = len(self.names)  # nodes are announced in index order at t = 0
            self.names.append(name)
            self.index_of[name] = i
            self.node_of[address_of(i)] = i
            node = NodeHistory()
            node.alive.add(0.0, True)
            self.nodes.append(node)
        leg = Leg(t, float(f["x"]), float(f["y"]), float(f["vx"]), float(f["vy"]))
        node = self.nodes[i]
        if node.leg_times and node.leg_times[-1] == t:
            node.legs[-1] = leg
        else:
            node.legs.append(leg)
            node.leg_times.append(t)

    def _died(self, t: float, kind: str, f: dict) -> None:
        i = self._node(f["node"])
        self.nodes[i].alive.add(t, False)

    def _revived(self, t: float, kind: str, f: dict) -> None:
        self.nodes[self._node(f["node"])].alive.add(t, True)

    def _link(self, t: float, kind: str, f: dict) -> None:
        i, j = self._node(f["a"]), self._node(f["b"])
        key = (i, j) if i < j else (j, i)
        series = self.links.get(key)
        if series is None:
            series = self.links[key] = Series()
        series.add(t, kind == "link_up")

    def _route(self, t: float, kind: str, f: dict) -> None:
        self._route_row(t, f, (str(f["next_hop"]), f["metric"]))

    def _route_removed(self, t: float, kind: str, f: dict) -> None:
        self._route_row(t, f, None)

    def _route_row(self, t: float, f: dict, row: tuple[str, int] | None) -> None:
        self.has_routes = True
        node = self.nodes[self._node(f["node"])]
        dst = str(f["dst"])
        series = node.routes.get(dst)
        if series is None:
            series = node.routes[dst] = Series()
        series.add(t, row)

    def _data_sent(self, t: float, kind: str, f: dict) -> None:
        i = self._node(f["node"])
        self.sent.append(t)
        self.nodes[i].sent.append(t)
        self._source_of[f["uid"]] = i
        fid = f["flow"]
        times = self.flow_sent.get(fid)
        if times is None:
            times = self.flow_sent[fid] = []
            self._flow_dst[fid] = str(f["dst"])
            self._flow_src[fid] = (i, t)
        times.append(t)
        address = str(f["src"])
        if self.node_of.get(address, i) != i:
            raise TraceError(f"{f['node']} sends from {address}, which is not its address")

    def _mcast_sent(self, t: float, kind: str, f: dict) -> None:
        i = self._node(f["node"])
        fid = f["flow"]
        flow = self.mcast_flows.get(fid)
        if flow is None:
            flow = self.mcast_flows[fid] = MulticastFlow(i, str(f["group"]), t)
        receivers = [str(name) for name in f["receivers"]]
        flow.receivers.add(t, tuple(sorted(self._node(name) for name in receivers)))
        flow.due.add(t, len(receivers))
        self.mcast_due.add(t, len(receivers))
        self._mcast_members.sent(f["uid"], flow, set(receivers))

    def _mcast_delivered(self, t: float, kind: str, f: dict) -> None:
        flow = self._mcast_members.delivered(f["uid"], f["node"])
        if flow is not None:
            flow.made.append(t)
            self.mcast_made.append(t)

    def _data_delivered(self, t: float, kind: str, f: dict) -> None:
        i = self._node(f["node"])
        self.nodes[i].received.append(t)
        uid = f["uid"]
        if uid in self._delivered_uids:  # a duplicate copy: the packet counts once
            return
        self._delivered_uids.add(uid)
        self.delivered.append(t)
        fid = f["flow"]
        self.flow_delivered.setdefault(fid, []).append(t)

    def _data_tx(self, t: float, kind: str, f: dict) -> None:
        i = self._node(f["node"])
        if self._source_of.get(f["uid"], i) != i:
            self.nodes[i].forwarded.append(t)
        hop = str(f["next_hop"])
        self._frame(t, i, hop, True)

    def _data_dropped(self, t: float, kind: str, f: dict) -> None:
        self.nodes[self._node(f["node"])].dropped.append(t)

    def _ctrl_tx(self, t: float, kind: str, f: dict) -> None:
        self.control.append(t)
        self._frame(t, self._node(f["node"]), str(f["dst"]), False)

    def _frame(self, t: float, i: int, dst: str, data: bool) -> None:
        frames = self.frames
        frames.times.append(t)
        frames.sender.append(i)
        frames.receiver.append(-1 if dst == BROADCAST else self.node_of.get(dst, -1))
        frames.data.append(data)

    # --- queries ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.names)

    def leg(self, i: int, t: float) -> Leg:
        node = self.nodes[i]
        k = bisect_right(node.leg_times, t)
        return node.legs[k - 1 if k else 0]

    def position(self, i: int, t: float) -> tuple[float, float]:
        """Where node ``i`` is at ``t``, computed exactly as the simulator does."""
        leg = self.leg(i, t)
        dt = t - leg.t0
        if dt < 0.0:
            dt = 0.0
        return (leg.x + leg.vx * dt, leg.y + leg.vy * dt)

    def alive(self, i: int, t: float) -> bool:
        return bool(self.nodes[i].alive.at(t, True))

    def links_at(self, t: float) -> list[tuple[int, int]]:
        """The sampled links (``link_up`` without a later ``link_down``) at ``t``."""
        return [pair for pair, series in self.links.items() if series.at(t, False)]

    def link_since(self, i: int, j: int, t: float) -> float | None:
        series = self.links.get((i, j) if i < j else (j, i))
        return None if series is None else series.since(t)

    def route(self, i: int, dst: str, t: float) -> tuple[str, Any] | None:
        """(next hop address, metric) of node ``i``'s forwarding entry for ``dst`` at ``t``."""
        series = self.nodes[i].routes.get(dst)
        return None if series is None else series.at(t)

    def route_changed_at(self, i: int, dst: str, t: float) -> float | None:
        """When node ``i``'s entry for ``dst`` in force at ``t`` was last changed."""
        series = self.nodes[i].routes.get(dst)
        return None if series is None else series.since(t)

    def table(self, i: int, t: float) -> list[tuple[str, str, Any]]:
        """Node ``i``'s forwarding table at ``t``: (dst, next hop, metric) rows."""
        out = []
        for dst, series in self.nodes[i].routes.items():
            row = series.at(t)
            if row is not None:
                out.append((dst, row[0], row[1]))
        return out

    def log_between(self, t0: float | None, t1: float) -> list[tuple[float, str, dict]]:
        """Logged events with t0 < t <= t1 (t0 None: from the start)."""
        lo = 0 if t0 is None else bisect_right(self.log_times, t0)
        return self.log[lo:bisect_right(self.log_times, t1)]

    def log_before(self, t: float, limit: int) -> list[tuple[float, str, dict]]:
        """The last ``limit`` logged events with time <= t."""
        hi = bisect_right(self.log_times, t)
        return self.log[max(0, hi - limit):hi]

    def _fault_started(self, t: float, kind: str, f: dict) -> None:
        entry = [t, math.inf, str(f["label"])]
        self.faults.append(entry)
        self._fault_at[f["fault"]] = entry

    def _fault_ended(self, t: float, kind: str, f: dict) -> None:
        entry = self._fault_at.pop(f["fault"], None)
        if entry is not None:
            entry[1] = t

    def faults_at(self, t: float) -> tuple[str, ...]:
        """Labels (with start times) of the faults in force at time ``t``."""
        return tuple(f"{label} @{start:g}s" for start, end, label in self.faults
                     if start <= t < end)

    def _run_started(self, t: float, kind: str, f: dict) -> None:
        self.header = f

    def area(self) -> tuple[float, float]:
        """The scenario's area when the trace says it (``run_started``), else :meth:`bounds`."""
        w, h = self.header.get("width"), self.header.get("height")
        if all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in (w, h)):
            return float(w), float(h)
        return self.bounds()

    def duration(self) -> float:
        """The run's planned duration (``run_started``) unless the trace ends early because it
        was cut short; else the time of the last event."""
        d = self.header.get("duration")
        if isinstance(d, (int, float)) and math.isfinite(d) and not self.warning:
            return max(float(d), self.end)
        return self.end

    def bounds(self) -> tuple[float, float]:
        """Width and height of the smallest area from (0, 0) holding every position."""
        w = h = 1.0
        for node in self.nodes:
            legs = node.legs
            for k, leg in enumerate(legs):
                t_end = legs[k + 1].t0 if k + 1 < len(legs) else self.end
                for x, y in ((leg.x, leg.y),
                             (leg.x + leg.vx * (t_end - leg.t0), leg.y + leg.vy * (t_end - leg.t0))):
                    w, h = max(w, x), max(h, y)
        return w, h
