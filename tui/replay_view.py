"""A saved trace behind the :class:`~meshnet.tui.view.EngineView` interface: the replay feeds
the same pictures the live views do, so map, table, log and inspector are the same widgets.

Time is whatever the engine asks for: :meth:`ReplayView.advance` and :meth:`ReplayView.seek`
only move a clock, and every picture is answered from the :class:`TraceIndex` by bisection, so
seeking backwards costs what playing forwards does. What a trace does not record (received power,
per-link delivery, batteries, queues, sequence numbers, timers) is shown as "not in trace".
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from .frame_trail import frame_marks
from .log_format import EventFormatter
from .route_age import route_since
from .trace_index import TraceIndex, count_until
from .view import (FOLDED, FlowInfo, LinkDetail, LogEntry, NodeDetail, NodeInfo, Picture,
                   RouteRow, Stats, heading, link_order, metric_text, route_gaps)

HISTORY = 120       # sparkline samples (one per second of trace time), as on the live view
BACKLOG = 200       # events put back in the log after a seek (the latest before the new time)
PENDING_EVENTS = 1000  # events listed per picture while playing; more are only counted
UNKNOWN = "not in trace"
UNMEASURED = math.nan  # link quality: the trace does not say what a link delivered


class ReplayView:
    backend = "replay"
    controls_time = True
    can_kill = False
    can_move = False
    can_seek = True

    def __init__(self, path: str | Path, index: TraceIndex | None = None) -> None:
        ix = index if index is not None else TraceIndex(path)
        self.index = ix
        head = ix.header
        self.scenario_name = (f"{head['scenario']} ({Path(path).name})" if "scenario" in head
                              else Path(path).name)
        self.protocol = str(head.get("protocol", "replay"))
        self.radio = (f"{head['radio']} · {ix.events} events" if "radio" in head
                      else f"{ix.events} events")
        self.area = ix.area()
        self.duration = ix.duration()
        self.flows = tuple(sorted(
            [FlowInfo(f.id, f.src, f.dst, f.start) for f in ix.flows]
            + [FlowInfo(fid, m.src, -1, m.start, group=m.group, group_address=m.group)
               for fid, m in ix.mcast_flows.items()], key=lambda f: f.id))
        self.per_packet = bool(ix.frames.times) and not ix.has_routes
        addresses = {a: ix.names[i] for a, i in ix.node_of.items()}
        self._address = {i: a for a, i in ix.node_of.items()}
        self._formatter = EventFormatter(addresses)
        self._now = 0.0
        self._shown: float | None = None  # time of the last picture (None: none yet)
        self._window: float | None = None  # packet animation window (None: off)

    # --- time ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self._now

    @property
    def node_count(self) -> int:
        return self.index.n

    def advance(self, until: float) -> None:
        self._now = min(max(until, self._now), self.duration)

    def seek(self, t: float) -> None:
        """Jump to ``t`` (either way); the next picture starts the log over."""
        self._now = min(max(t, 0.0), self.duration)
        self._shown = None

    def position(self, i: int) -> tuple[float, float]:
        return self.index.position(i, self._now)

    def node_name(self, i: int) -> str:
        return self.index.names[i]

    def move(self, i: int, x: float, y: float) -> None:
        """A recorded run cannot be changed."""

    def toggle_alive(self, i: int) -> bool:
        return self.index.alive(i, self._now)

    def summary(self) -> None:
        return None

    def close(self) -> None:
        pass

    def set_animation(self, window_s: float | None) -> None:
        self._window = window_s

    # --- the picture --------------------------------------------------------------------------
    def picture(self, selected: int, flow: int) -> Picture:
        ix, now = self.index, self._now
        nodes = tuple(NodeInfo(ix.names[i], self._address.get(i, "?"), *ix.position(i, now),
                               ix.alive(i, now)) for i in range(ix.n))
        pairs = ix.links_at(now)
        links = tuple((i, j, UNMEASURED) for i, j in sorted(pairs))
        route, complete = self._route(flow, now)
        linked = set(pairs)
        gaps = route_gaps(route, lambda a, b: (min(a, b), max(a, b)) in linked)
        f = self.flows[flow % len(self.flows)] if self.flows else None
        fid = f.id if f else -1
        sent = count_until(ix.flow_sent.get(fid, []), now)
        delivered = count_until(ix.flow_delivered.get(fid, []), now)
        members: tuple[int, ...] = ()
        if f is not None and f.group:  # the members the newest packet was for; sent: due
            m = ix.mcast_flows[fid]
            members = m.receivers.at(now, ())
            sent, delivered = m.due.at(now), count_until(m.made, now)
        events, rewound = self._events(now)
        frames = self._frames(now, linked) if self._window else ()
        since = (route_since(route, self._address[route[-1]],
                             lambda i, dst: ix.route_changed_at(i, dst, now))
                 if complete else None)
        return Picture(now, nodes, links, route, complete, selected, self._table(selected, now),
                       self._stats(now), events, gaps, sent, delivered,
                       frames=frames, rewound=rewound, route_since=since, members=members)

    def _events(self, now: float) -> tuple[tuple[LogEntry, ...], bool]:
        """The log's new entries: those since the last picture (the latest
        :data:`PENDING_EVENTS` listed, older ones counted by kind, as live), or after a jump the
        latest :data:`BACKLOG` before now with the earlier ones counted in one line."""
        ix, shown = self.index, self._shown
        self._shown = now
        entry = self._formatter.entry
        if shown is not None:
            new = ix.log_between(shown, now)
            listed = new[-PENDING_EVENTS:]
            out = [entry(t, k, f) for t, k, f in listed]
            folded = new[:len(new) - len(listed)]
            if folded:
                counts = Counter(k for _, k, _ in folded)
                out.insert(0, LogEntry(folded[0][0], FOLDED, (), "",
                                       tuple(sorted(counts.items())), folded[-1][0]))
            return tuple(out), False
        listed = ix.log_before(now, BACKLOG)
        older = count_until(ix.log_times, now) - len(listed)
        out = [entry(t, k, f) for t, k, f in listed]
        if older:
            out.insert(0, LogEntry(0.0, FOLDED, (), "", (("earlier events", older),),
                                   listed[0][0] if listed else now))
        return tuple(out), True

    def _frames(self, now: float, linked: set[tuple[int, int]]):
        ix, window = self.index, self._window
        fr = ix.frames
        marks = []
        neighbours: dict[int, list[int]] = {}
        for k in fr.between(now - window, now):
            i, j = fr.sender[k], fr.receiver[k]
            if j >= 0:
                marks.append((fr.times[k], i, j, fr.data[k]))
                continue
            peers = neighbours.get(i)
            if peers is None:  # a broadcast: every node linked to the sender at the time
                peers = neighbours[i] = [b if a == i else a for a, b in linked if i in (a, b)]
            marks.extend((fr.times[k], i, j, fr.data[k]) for j in peers)
        return frame_marks(marks, now, window)

    def _stats(self, now: float) -> Stats:
        ix = self.index
        whole = range(max(1, math.floor(now) - HISTORY + 1), math.floor(now) + 1)
        pdr, overhead = [], []
        for second in whole:
            sent, due = count_until(ix.sent, second), ix.mcast_due.at(second)
            if not sent and due:  # only multicast traffic: its delivery ratio, as live
                pdr.append(count_until(ix.mcast_made, second) / due)
            else:
                pdr.append(count_until(ix.delivered, second) / sent if sent else 0.0)
            overhead.append(float(count_until(ix.control, second)
                                  - count_until(ix.control, second - 1)))
        return Stats(count_until(ix.sent, now), count_until(ix.delivered, now),
                     count_until(ix.control, now), tuple(pdr), tuple(overhead),
                     ix.faults_at(now), ix.mcast_due.at(now), count_until(ix.mcast_made, now))

    def _route(self, flow: int, now: float) -> tuple[tuple[int, ...], bool]:
        """Follow the forwarding tables from the flow's source, as the live view does."""
        if not self.flows or self.per_packet or self.flows[flow % len(self.flows)].group:
            return (), False
        ix = self.index
        f = self.flows[flow % len(self.flows)]
        dst = self._address[f.dst]
        path = [f.src]
        here = f.src
        while here != f.dst:
            row = ix.route(here, dst, now) if ix.alive(here, now) else None
            nxt = ix.node_of.get(row[0]) if row else None
            if nxt is None or nxt in path:
                return tuple(path), False
            path.append(nxt)
            here = nxt
        return tuple(path), ix.alive(f.dst, now)

    def _table(self, i: int, now: float) -> tuple[RouteRow, ...]:
        name = self._formatter.n
        order = self.index.node_of
        rows = sorted(self.index.table(i, now), key=lambda r: order.get(r[0], 1 << 30))
        return tuple(RouteRow(name(dst), name(hop), metric_text(metric), "-", "-", "valid")
                     for dst, hop, metric in rows)

    # --- the inspector ------------------------------------------------------------------------
    def detail(self, i: int, link: int | None) -> NodeDetail:
        ix, now = self.index, self._now
        x, y = ix.position(i, now)
        leg = ix.leg(i, now)
        node = ix.nodes[i]
        peers = link_order(ix.links_at(now), i)
        links = []
        for j in peers:
            xj, yj = ix.position(j, now)
            links.append(LinkDetail(j, ix.names[j], math.hypot(xj - x, yj - y),
                                    ix.link_since(i, j, now)))
        return NodeDetail(
            i, ix.names[i], self._address.get(i, "?"), x, y, ix.alive(i, now), UNKNOWN,
            math.hypot(leg.vx, leg.vy), heading(leg.vx, leg.vy), None, None, None, None,
            count_until(node.sent, now), count_until(node.received, now),
            count_until(node.forwarded, now), count_until(node.dropped, now), tuple(links),
            None if link is None or not links else link % len(links),
            ("links: as sampled by the run (trace.link_interval)",))
