"""Run metrics, computed in one place from the event stream (README: `--json` keys).

PDR counts every packet the application generated, including those dropped at the source for lack
of a route or buffer. Each generated packet ends in exactly one state: delivered, dropped (last
copy given up, with a reason) or still queued (a copy is in a queue, a discovery buffer or the
air when the run ends).

Multicast packets are counted apart (``result()["multicast"]``, see :class:`MulticastMetrics`):
one packet has many receivers, so its delivery ratio is per receiver.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from itertools import compress
from typing import Any, Iterable, Iterator

from .events import EventBus

KINDS = ("data_sent", "data_delivered", "data_dropped", "ctrl_tx", "route_added",
         "route_changed", "route_removed", "node_died", *("mcast_sent", "mcast_delivered",
                                                           "mcast_tx", "mcast_dropped",
                                                           "mcast_duplicate"))


# Packet uids are issued as 1, 2, 3, ... in each run (``Simulation._uid``, the netns
# ``TrafficRunner.uid``; multicast packets take some of them), so per-uid state is kept in
# dense byte arrays indexed by uid, grown on demand, instead of sets and dicts of Python ints
# (~60-100 bytes an entry). A uid outside the dense range -- negative, not an int, or far above
# it (the netns agents' own packets start at 2**32) -- goes to a plain set or dict, so any
# hashable uid stays correct.
DENSE_SLACK = 1 << 16  # a uid up to this far past twice the dense range grows it
DENSE_STEP = 4096      # the dense range grows by at least an eighth, in steps of this many uids
_BIT_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def _dense_size(uid: Any, size: int) -> int:
    """The dense range that holds ``uid`` (``size`` when it already fits), or -1 if ``uid``
    belongs in the fallback."""
    if type(uid) is not int or uid < 0:
        return -1
    if uid < size:
        return size
    if uid >= 2 * size + DENSE_SLACK:
        return -1
    want = max(uid + 1, size + (size >> 3))
    return -(-want // DENSE_STEP) * DENSE_STEP


class UidSet:
    """A set of packet uids: one bit per uid in the dense range, a set for the rest. Supports
    what the callers of ``MetricsCollector.delivered`` use: ``in``, ``len``, iteration,
    ``add`` and ``live - delivered`` (a plain set minus this one: a plain set)."""

    __slots__ = ("bits", "size", "extra", "count")

    def __init__(self, uids: Iterable[Any] = ()) -> None:
        self.bits = bytearray()
        self.size = 0              # uids below it are in ``bits``
        self.extra: set[Any] = set()
        self.count = 0
        for uid in uids:
            self.add(uid)

    def __contains__(self, uid: Any) -> bool:
        if type(uid) is int and 0 <= uid < self.size:
            return bool(self.bits[uid >> 3] & (1 << (uid & 7)))
        return uid in self.extra

    def add(self, uid: Any) -> None:
        size = _dense_size(uid, self.size)
        if size < 0:
            if uid not in self.extra:
                self.extra.add(uid)
                self.count += 1
            return
        if size != self.size:
            self._grow(size)
        byte, bit = uid >> 3, 1 << (uid & 7)
        if not self.bits[byte] & bit:
            self.bits[byte] |= bit
            self.count += 1

    def _grow(self, size: int) -> None:
        self.bits.extend(bytes((size - self.size) >> 3))
        self.size = size
        moved = [u for u in self.extra if type(u) is int and 0 <= u < size]
        for uid in moved:
            self.extra.discard(uid)
            self.bits[uid >> 3] |= 1 << (uid & 7)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        if self.count > len(self.extra):  # one byte per uid, 0 or 1, lowest uid first
            flags = format(int.from_bytes(self.bits, "little"), "b")[::-1].encode()
            yield from compress(range(len(flags)), flags.translate(_BIT_FLAGS))
        yield from list(self.extra)

    def __rsub__(self, other: Any) -> set[Any]:
        if not isinstance(other, (set, frozenset)):
            return NotImplemented
        return {uid for uid in other if uid not in self}

    def __repr__(self) -> str:
        return f"UidSet(<{self.count} uids>)"


class UidReasons:
    """uid -> drop reason: one byte per uid in the dense range (an index into the run's few
    distinct reasons, 0 for none), a dict for the rest. Supports ``[uid] = reason``, ``get``,
    ``pop``, ``in``, ``len``, iteration over uids and ``items()``."""

    __slots__ = ("codes", "reasons", "index", "extra", "count")

    def __init__(self) -> None:
        self.codes = bytearray()
        self.reasons: list[str | None] = [None]   # code -> reason; code 0: no entry
        self.index: dict[str, int] = {}
        self.extra: dict[Any, str] = {}
        self.count = 0

    def _code(self, reason: str) -> int:
        code = self.index.get(reason)
        if code is None:
            if len(self.reasons) > 255:
                return -1
            code = self.index[reason] = len(self.reasons)
            self.reasons.append(reason)
        return code

    def __setitem__(self, uid: Any, reason: str) -> None:
        size = _dense_size(uid, len(self.codes))
        code = self._code(reason) if size >= 0 else -1
        if code < 0:
            if type(uid) is int and 0 <= uid < len(self.codes) and self.codes[uid]:
                self.codes[uid] = 0
                self.count -= 1
            if uid not in self.extra:
                self.count += 1
            self.extra[uid] = reason
            return
        if size != len(self.codes):
            self._grow(size)
        if uid in self.extra:
            del self.extra[uid]
            self.count -= 1
        if not self.codes[uid]:
            self.count += 1
        self.codes[uid] = code

    def _grow(self, size: int) -> None:
        self.codes.extend(bytes(size - len(self.codes)))
        moved = [u for u in self.extra if type(u) is int and 0 <= u < size]
        for uid in moved:
            code = self._code(self.extra[uid])
            if code >= 0:
                self.codes[uid] = code
                del self.extra[uid]

    def get(self, uid: Any, default: Any = None) -> Any:
        if type(uid) is int and 0 <= uid < len(self.codes) and self.codes[uid]:
            return self.reasons[self.codes[uid]]
        return self.extra.get(uid, default)

    def pop(self, uid: Any, *default: Any) -> Any:
        if type(uid) is int and 0 <= uid < len(self.codes) and self.codes[uid]:
            reason = self.reasons[self.codes[uid]]
            self.codes[uid] = 0
            self.count -= 1
            return reason
        if uid in self.extra:
            self.count -= 1
            return self.extra.pop(uid)
        if default:
            return default[0]
        raise KeyError(uid)

    def __contains__(self, uid: Any) -> bool:
        return self.get(uid, self) is not self

    def __len__(self) -> int:
        return self.count

    def items(self) -> Iterator[tuple[Any, str]]:
        codes, reasons = self.codes, self.reasons
        if self.count > len(self.extra):
            for uid in compress(range(len(codes)), codes):
                yield uid, reasons[codes[uid]]
        yield from list(self.extra.items())

    def __iter__(self) -> Iterator[Any]:
        codes = self.codes
        if self.count > len(self.extra):
            yield from compress(range(len(codes)), codes)
        yield from list(self.extra)

    def __repr__(self) -> str:
        return f"UidReasons(<{self.count} uids>)"


class MulticastMetrics:
    """Multicast figures from the event stream.

    - ``pdr``: deliveries to members ÷ Σ over packets sent of the members at send time (the
      source excluded); a delivery counts once per (packet, member), and only at a node that
      was a member when the packet was sent (``late_deliveries`` counts the others: nodes that
      joined after it was sent);
    - ``duplicate_deliveries``: a packet handed to the same node's applications again (a
      protocol's duplicate detection should make this 0);
    - ``duplicates_suppressed``: copies the protocols' duplicate detection recognised
      (``mcast_duplicate``);
    - ``data_tx`` and ``forwarding_overhead``: multicast data frames transmitted (source and
      relays) and their number per delivery;
    - ``control_overhead``: control packets per delivery (every control packet of the run).
    """

    def __init__(self, bus: EventBus) -> None:
        self.sent = 0
        self.expected = 0
        self.receivers: dict[int, frozenset[str]] = {}
        self.delivered: set[tuple[int, str]] = set()
        self.counted = 0
        self.late = 0
        self.duplicate_deliveries = 0
        self.delay_sum = 0.0
        self.hops_sum = 0
        self.suppressed = 0
        self.data_tx = 0
        self.drops: Counter[str] = Counter()
        bus.subscribe(self._mcast_sent, ("mcast_sent",))
        bus.subscribe(self._mcast_delivered, ("mcast_delivered",))
        bus.subscribe(self._mcast_tx, ("mcast_tx",))
        bus.subscribe(self._mcast_dropped, ("mcast_dropped",))
        bus.subscribe(self._mcast_duplicate, ("mcast_duplicate",))

    def _mcast_sent(self, t: float, kind: str, f: dict) -> None:
        self.sent += 1
        receivers = frozenset(f["receivers"])
        self.receivers[f["uid"]] = receivers
        self.expected += len(receivers)

    def _mcast_delivered(self, t: float, kind: str, f: dict) -> None:
        key = (f["uid"], f["node"])
        if key in self.delivered:
            self.duplicate_deliveries += 1
            return
        self.delivered.add(key)
        if f["node"] not in self.receivers.get(f["uid"], ()):
            self.late += 1
            return
        self.counted += 1
        self.delay_sum += f["delay"]
        self.hops_sum += f["hops"]

    def _mcast_tx(self, t: float, kind: str, f: dict) -> None:
        self.data_tx += 1

    def _mcast_dropped(self, t: float, kind: str, f: dict) -> None:
        self.drops[f["reason"]] += 1

    def _mcast_duplicate(self, t: float, kind: str, f: dict) -> None:
        self.suppressed += 1

    def result(self, control_packets: int) -> dict[str, Any]:
        n = self.counted
        return {
            "sent": self.sent,
            "expected": self.expected,
            "delivered": n,
            "pdr": n / self.expected if self.expected else 0.0,
            "mean_delay_s": self.delay_sum / n if n else 0.0,
            "mean_hops": self.hops_sum / n if n else 0.0,
            "late_deliveries": self.late,
            "duplicate_deliveries": self.duplicate_deliveries,
            "duplicates_suppressed": self.suppressed,
            "data_tx": self.data_tx,
            "forwarding_overhead": self.data_tx / n if n else (math.inf if self.data_tx else 0.0),
            "control_overhead": (control_packets / n if n
                                 else (math.inf if control_packets and self.sent else 0.0)),
            "drops": dict(sorted(self.drops.items())),
        }


class FaultMetrics:
    """Outage and recovery of unicast traffic around each scenario fault (``result()["faults"]``).

    A fault's window runs from its ``fault_started`` to its ``fault_ended`` (or the end of the
    run). A packet is lost to a fault when it never arrived and was sent in the window, or was
    sent before it and given up inside it (in a queue when the fault struck). Losses are
    counted as traffic sees them: a collision in the window counts too, so compare
    ``pdr_during`` with ``pdr_outside`` (packets sent outside every fault's window). For each
    flow that lost packets to the fault:

    - ``first_loss_s``: from the fault's start to the first lost packet (its send time, or the
      start for a packet already in flight);
    - ``recovery_s``: from the fault's start to the arrival of the flow's first packet sent
      after that loss and delivered (None: it never recovered);
    - ``after_end_s``: the same from the fault's end, for faults that end (None when the flow
      recovered before the end, over a detour, or never).
    """

    def __init__(self, bus: EventBus) -> None:
        self.sent: dict[int, tuple[int, float]] = {}      # uid -> (flow, time sent)
        self.arrived: dict[int, float] = {}                # uid -> first delivery time
        self.given_up: dict[int, float] = {}               # uid -> time of its last drop
        self.windows: dict[int, dict[str, Any]] = {}       # fault -> kind, label, start, end
        self.last_t = 0.0
        bus.subscribe(self._data_sent, ("data_sent",))
        bus.subscribe(self._data_delivered, ("data_delivered",))
        bus.subscribe(self._data_dropped, ("data_dropped",))
        bus.subscribe(self._fault_started, ("fault_started",))
        bus.subscribe(self._fault_ended, ("fault_ended",))

    def _data_sent(self, t: float, kind: str, f: dict) -> None:
        self.sent[f["uid"]] = (f["flow"], t)
        self.last_t = t

    def _data_delivered(self, t: float, kind: str, f: dict) -> None:
        self.arrived.setdefault(f["uid"], t)
        self.last_t = t

    def _data_dropped(self, t: float, kind: str, f: dict) -> None:
        self.given_up[f["uid"]] = t
        self.last_t = t

    def _fault_started(self, t: float, kind: str, f: dict) -> None:
        self.windows[f["fault"]] = {"kind": f["kind"], "label": f["label"], "start": t,
                                    "end": None}

    def _fault_ended(self, t: float, kind: str, f: dict) -> None:
        if f["fault"] in self.windows:
            self.windows[f["fault"]]["end"] = t

    def result(self, end: float | None = None) -> list[dict[str, Any]]:
        """One record per fault that started, in fault order; ``end``: when the run ended."""
        run_end = max([self.last_t, *(w["start"] for w in self.windows.values())]) \
            if end is None else end
        spans = [(w["start"], run_end if w["end"] is None else w["end"])
                 for w in self.windows.values()]
        outside = [uid for uid, (_, ts) in self.sent.items()
                   if not any(a <= ts < b for a, b in spans)]
        out_delivered = sum(uid in self.arrived for uid in outside)
        pdr_outside = out_delivered / len(outside) if outside else None
        return [self._one(k, w, run_end, pdr_outside) for k, w in sorted(self.windows.items())]

    def _one(self, k: int, w: dict[str, Any], run_end: float,
             pdr_outside: float | None) -> dict[str, Any]:
        start = w["start"]
        stop = run_end if w["end"] is None else w["end"]
        sent = delivered = 0
        first_lost: dict[int, float] = {}   # flow -> send time of its first lost packet
        lost: Counter[int] = Counter()
        for uid, (flow, ts) in self.sent.items():
            during = start <= ts < stop
            if during:
                sent += 1
                delivered += uid in self.arrived
            if uid in self.arrived:
                continue
            dropped = self.given_up.get(uid)
            if during or (ts < start and dropped is not None and start <= dropped < stop):
                lost[flow] += 1
                if ts < first_lost.get(flow, math.inf):
                    first_lost[flow] = ts
        recovered: dict[int, float] = {}
        for uid, (flow, ts) in self.sent.items():
            at = self.arrived.get(uid)
            if (at is not None and flow in first_lost and ts > first_lost[flow]
                    and at < recovered.get(flow, math.inf)):
                recovered[flow] = at
        flows = []
        for flow in sorted(first_lost):
            back = recovered.get(flow)
            flows.append({
                "flow": flow,
                "lost": lost[flow],
                "first_loss_s": max(first_lost[flow] - start, 0.0),
                "recovery_s": None if back is None else back - start,
                "after_end_s": (back - w["end"] if back is not None and w["end"] is not None
                                and back >= w["end"] else None),
            })
        times = [f["recovery_s"] for f in flows if f["recovery_s"] is not None]
        after = [f["after_end_s"] for f in flows if f["after_end_s"] is not None]
        return {
            "fault": k, "kind": w["kind"], "label": w["label"],
            "start_s": start, "end_s": w["end"],
            "sent": sent, "delivered": delivered,
            "pdr_during": delivered / sent if sent else None,
            "pdr_outside": pdr_outside,
            "affected_flows": len(flows),
            "lost": sum(lost.values()),
            "first_loss_s": min((f["first_loss_s"] for f in flows), default=None),
            "mean_recovery_s": sum(times) / len(times) if times else None,
            "max_recovery_s": max(times) if times else None,
            "mean_after_end_s": sum(after) / len(after) if after else None,
            "unrecovered_flows": len(flows) - len(times),
            "flows": flows,
        }


class MetricsCollector:
    """Every figure of ``--json``. ``faults=True`` (a scenario with ``[[faults]]``) also keeps
    per-packet times for :class:`FaultMetrics`; other runs do not pay for them.

    The per-packet state lasts the whole run (an emulation may run for hours), so it is kept
    compact, with the same figures as sets, lists and dicts would give:

    - ``delivered`` (:class:`UidSet`): one bit per uid issued, for duplicates and the
      end-of-run accounting;
    - ``delays``: an ``array('d')`` of every first delivery's delay, 8 bytes each; the 95th
      percentile is exact, so none is left out (a delay that is not a float turns it into a
      list);
    - ``last_drop`` (:class:`UidReasons`): one byte per uid, the last drop reason of packets
      that were dropped and not delivered; a delivery forgets it, since a delivered packet's
      drops only count in ``drop_events``.

    About 9 bytes a packet in all, against ~100 for sets, lists and dicts of Python objects.
    """

    def __init__(self, bus: EventBus, faults: bool = False) -> None:
        self.sent = 0
        self.sent_bytes = 0
        self.delivered = UidSet()
        self.duplicates = 0
        self.delay_sum = 0.0
        self.hops_sum = 0
        self.delays: array[float] | list[float] = array("d")
        self.drop_events: Counter[str] = Counter()
        self.last_drop = UidReasons()
        self.control_packets = 0
        self.control_bytes = 0
        self.route_changes = 0
        self.deaths: list[float] = []
        self.per_flow_sent: Counter[int] = Counter()
        self.per_flow_delivered: Counter[int] = Counter()
        bus.subscribe(self._sent, ("data_sent",))
        bus.subscribe(self._delivered, ("data_delivered",))
        bus.subscribe(self._dropped, ("data_dropped",))
        bus.subscribe(self._ctrl, ("ctrl_tx",))
        bus.subscribe(self._route, ("route_added", "route_changed", "route_removed"))
        bus.subscribe(self._died, ("node_died",))
        self.multicast = MulticastMetrics(bus)
        self.faults = FaultMetrics(bus) if faults else None

    def _sent(self, t: float, kind: str, f: dict) -> None:
        self.sent += 1
        self.sent_bytes += f["size"]
        self.per_flow_sent[f["flow"]] += 1

    def _delivered(self, t: float, kind: str, f: dict) -> None:
        uid = f["uid"]
        if uid in self.delivered:
            self.duplicates += 1
            return
        self.delivered.add(uid)
        self.last_drop.pop(uid, None)
        delay = f["delay"]
        self.delay_sum += delay
        if type(delay) is not float and type(self.delays) is array:
            self.delays = list(self.delays)
        self.delays.append(delay)
        self.hops_sum += f["hops"]
        self.per_flow_delivered[f["flow"]] += 1

    def _dropped(self, t: float, kind: str, f: dict) -> None:
        self.drop_events[f["reason"]] += 1
        if f["uid"] not in self.delivered:
            self.last_drop[f["uid"]] = f["reason"]

    def _ctrl(self, t: float, kind: str, f: dict) -> None:
        self.control_packets += 1
        self.control_bytes += f["bytes"]

    def _route(self, t: float, kind: str, f: dict) -> None:
        self.route_changes += 1

    def _died(self, t: float, kind: str, f: dict) -> None:
        if f["reason"] != "crash":  # a crash fault is an outage, not the end of a node's life
            self.deaths.append(t)

    def ended(self) -> int:
        """Packets delivered or given up so far. A delivery forgets the packet's drop and a
        drop of a delivered packet is not kept, so the two never share a uid."""
        return len(self.delivered) + len(self.last_drop)

    def result(self, live_uids: set[int], n_nodes: int, end: float | None = None
               ) -> dict[str, Any]:
        """Final figures. ``live_uids``: packets with a copy still in a queue, buffer or the air;
        ``end``: when the run ended (faults without an end last until then)."""
        delivered = len(self.delivered)
        queued = sum(uid not in self.delivered for uid in live_uids)
        dropped_by_reason: Counter[str] = Counter()
        for uid, reason in self.last_drop.items():
            if uid not in self.delivered and uid not in live_uids:
                dropped_by_reason[reason] += 1
        dropped = sum(dropped_by_reason.values())
        unaccounted = self.sent - delivered - dropped - queued
        delays = sorted(self.delays)
        deaths = sorted(self.deaths)
        half = math.ceil(n_nodes / 2)
        return {
            "sent": self.sent,
            "delivered": delivered,
            "dropped": dropped,
            "queued": queued,
            "unaccounted": unaccounted,
            "pdr": delivered / self.sent if self.sent else 0.0,
            "mean_delay_s": self.delay_sum / delivered if delivered else 0.0,
            "p95_delay_s": delays[min(len(delays) - 1, int(0.95 * len(delays)))] if delays else 0.0,
            "mean_hops": self.hops_sum / delivered if delivered else 0.0,
            "control_packets": self.control_packets,
            "control_bytes": self.control_bytes,
            "normalized_routing_load": (self.control_packets / delivered if delivered
                                        else (math.inf if self.control_packets else 0.0)),
            "route_changes": self.route_changes,
            "drops": dict(sorted(dropped_by_reason.items())),
            "drop_events": dict(sorted(self.drop_events.items())),
            "duplicates": self.duplicates,
            "first_death_s": deaths[0] if deaths else None,
            "half_death_s": deaths[half - 1] if len(deaths) >= half else None,
            "dead_nodes": len(deaths),
            "multicast": self.multicast.result(self.control_packets),
            "faults": self.faults.result(end) if self.faults is not None else [],
        }
