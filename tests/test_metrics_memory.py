"""The metrics' per-packet state (``MetricsCollector.delivered``, ``delays``, ``last_drop``) is
kept compact -- a bitmap, an ``array('d')``, a byte per uid -- and gives exactly the figures of
plain sets, lists and dicts: on real simulator runs, on a long synthetic event stream with
duplicates, drops before and after delivery and out-of-order and odd uids, and in far less
memory."""

from __future__ import annotations

import gc
import random
import tracemalloc
from array import array
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.events import EventBus
from meshnet.metrics import MetricsCollector, UidReasons, UidSet
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


class PlainCollector(MetricsCollector):
    """The collector with a set of delivered uids, a list of delays and a dict of last drop
    reasons, as it was written first: the reference for the figures."""

    def __init__(self, bus: EventBus, faults: bool = False) -> None:
        super().__init__(bus, faults)
        self.delivered: set[int] = set()   # type: ignore[assignment]
        self.delays: list[float] = []
        self.last_drop: dict[int, str] = {}  # type: ignore[assignment]

    def _delivered(self, t: float, kind: str, f: dict) -> None:
        uid = f["uid"]
        if uid in self.delivered:
            self.duplicates += 1
            return
        self.delivered.add(uid)
        self.delay_sum += f["delay"]
        self.delays.append(f["delay"])
        self.hops_sum += f["hops"]
        self.per_flow_delivered[f["flow"]] += 1

    def _dropped(self, t: float, kind: str, f: dict) -> None:
        self.drop_events[f["reason"]] += 1
        self.last_drop[f["uid"]] = f["reason"]

    def result(self, live_uids: set[int], n_nodes: int, end: float | None = None
               ) -> dict[str, Any]:
        # The figures are assembled by the same code; with plain containers it reads what the
        # old collector kept. Its one rewritten line is checked against the old formula.
        out = super().result(live_uids, n_nodes, end)
        assert out["queued"] == len(live_uids - self.delivered)
        return out


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(got) == list(want)
    for key in want:
        assert got[key] == want[key] and type(got[key]) is type(want[key]), key
        assert repr(got[key]) == repr(want[key]), key  # the same floats, bit for bit


# -- real runs ------------------------------------------------------------------------------------
RUNS = [
    ("broch", ["scenario.duration=60"]),
    ("default", []),
    ("default", ["protocol.name=flooding", "nodes.count=30", "scenario.duration=40"]),
    ("faults", []),
]


@pytest.mark.parametrize("spec,overrides", RUNS, ids=lambda v: v if isinstance(v, str) else "")
def test_simulator_runs_give_the_plain_collectors_figures(spec, overrides):
    sim = Simulation(load_scenario(spec, overrides))
    plain = PlainCollector(sim.bus, faults=sim.metrics.faults is not None)
    out = sim.run()
    live = set(sim.live)
    want = plain.result(live, sim.n, end=sim.sched.now)
    got = sim.metrics.result(live, sim.n, end=sim.sched.now)
    assert_same(got, want)
    for key, value in want.items():
        assert out[key] == value, key
    assert got["sent"] > 0 and got["delivered"] > 0
    assert set(sim.metrics.delivered) == plain.delivered
    assert list(sim.metrics.delays) == plain.delays
    assert dict(sim.metrics.last_drop.items()) == {
        uid: reason for uid, reason in plain.last_drop.items() if uid not in plain.delivered}
    assert sim.metrics.ended() == len(plain.delivered.union(plain.last_drop))


# -- a long synthetic stream ----------------------------------------------------------------------
REASONS = ("no_route", "mac_retries", "queue_full", "ttl_expired", "duplicate")
SEND, DELIVER, DROP = 0, 1, 2
N_EVENTS = 200_000


def synthetic_stream(seed: int, n_events: int = N_EVENTS) -> tuple[array, array, array, array]:
    """(kind, uid, delay, reason index) columns of ``n_events`` data events: uids sent in
    order and ended out of order, duplicate deliveries, drops before and after delivery,
    repeated drops, and a few uids that are negative or far above the rest."""
    rng = random.Random(seed)
    kinds, uids, delays, reasons = array("b"), array("q"), array("d"), array("b")
    pending: list[int] = []
    done: list[int] = []
    uid = 0
    odd = [-1, -7, 1 << 32, (1 << 32) + 5, (1 << 40) + 3]

    def put(kind: int, u: int) -> None:
        kinds.append(kind)
        uids.append(u)
        delays.append(rng.expovariate(50.0) if kind == DELIVER else 0.0)
        reasons.append(rng.randrange(len(REASONS)))

    while len(kinds) < n_events:
        r = rng.random()
        if r < 0.42 or not pending:
            uid += 1 + (rng.random() < 0.05)  # a few uids never appear (multicast packets)
            pending.append(uid)
            put(SEND, uid)
        elif r < 0.80:  # a pending packet arrives, maybe after drops of other copies
            i = rng.randrange(max(0, len(pending) - 200), len(pending))
            u = pending[i]
            pending[i] = pending[-1]
            pending.pop()
            if rng.random() < 0.1:
                put(DROP, u)
            put(DELIVER, u)
            done.append(u)
        elif r < 0.90:  # a copy is dropped: the packet may stay pending, or end dropped
            i = rng.randrange(len(pending))
            u = pending[i]
            put(DROP, u)
            if rng.random() < 0.5:
                pending[i] = pending[-1]
                pending.pop()
                if rng.random() < 0.2:
                    put(DROP, u)  # a later copy, another reason
        elif r < 0.95 and done:  # a copy arrives again, or is dropped after the delivery
            put(DELIVER if rng.random() < 0.6 else DROP, rng.choice(done))
        else:
            u = rng.choice(odd)
            put(SEND if rng.random() < 0.2 else DELIVER if rng.random() < 0.5 else DROP, u)
    return kinds, uids, delays, reasons


def feed(collector_cls: type, columns: tuple[array, array, array, array]
         ) -> tuple[MetricsCollector, int]:
    """Run the stream through a new collector; returns it and the bytes it holds (tracemalloc)."""
    kinds, uids, delays, reasons = columns
    bus = EventBus()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        collector = collector_cls(bus)
        emit = bus.emit
        for i in range(len(kinds)):  # fresh int and float objects, as in a run
            kind, uid = kinds[i], uids[i]
            if kind == SEND:
                emit(i * 0.01, "data_sent", {"node": "n1", "uid": uid, "src": "a", "dst": "b",
                                             "flow": uid % 7, "size": 512})
            elif kind == DELIVER:
                emit(i * 0.01, "data_delivered", {"node": "n2", "uid": uid, "hops": uid % 5 + 1,
                                                  "delay": delays[i], "flow": uid % 7})
            else:
                emit(i * 0.01, "data_dropped", {"node": "n3", "uid": uid,
                                                "reason": REASONS[reasons[i]]})
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return collector, held


def test_long_stream_same_figures_in_far_less_memory():
    columns = synthetic_stream(seed=3)
    plain, plain_bytes = feed(PlainCollector, columns)
    compact, compact_bytes = feed(MetricsCollector, columns)
    kinds, uids = columns[0], columns[1]
    rng = random.Random(4)
    sent = sorted({u for k, u in zip(kinds, uids) if k == SEND})
    live = set(rng.sample(sent, 3000)) | {0, -7, 1 << 32, 10**12}
    want = plain.result(live, 50)
    assert_same(compact.result(live, 50), want)
    assert_same(compact.result(set(), 50), plain.result(set(), 50))
    assert want["duplicates"] > 1000 and want["dropped"] > 1000 and want["queued"] > 100
    assert sum(want["drop_events"].values()) > want["dropped"]  # drops of delivered packets too
    assert len(compact.delivered) == len(plain.delivered) > 50_000
    # what the emulation's drain counts as ended: delivered or given up
    assert compact.ended() == len(plain.delivered.union(plain.last_drop))
    # the plain collector holds ~100 bytes a packet; the compact one about 9
    assert compact_bytes < plain_bytes / 3, (compact_bytes, plain_bytes)
    assert compact_bytes < 12 * len(sent), (compact_bytes, len(sent))


# -- the structures themselves --------------------------------------------------------------------
uid_values = st.one_of(st.integers(0, 300), st.integers(-5, 200_000),
                       st.sampled_from([1 << 32, (1 << 63) + 1, -(1 << 40)]), st.just("x"))


@settings(max_examples=200, deadline=None)
@given(st.lists(uid_values, max_size=80), st.lists(uid_values, max_size=30))
def test_uid_set_behaves_as_a_set(adds, probes):
    compact, plain = UidSet(), set()
    for uid in adds:
        compact.add(uid)
        plain.add(uid)
        assert len(compact) == len(plain)
    assert sorted(compact, key=repr) == sorted(plain, key=repr)
    for uid in [*adds, *probes]:
        assert (uid in compact) == (uid in plain)
    live = set(probes)
    assert live - compact == live - plain
    assert len(compact) == len(plain)  # the subtraction left it alone


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), uid_values, st.sampled_from(REASONS)), max_size=80))
def test_uid_reasons_behave_as_a_dict(ops):
    compact, plain = UidReasons(), {}
    for put, uid, reason in ops:
        if put:
            compact[uid] = reason
            plain[uid] = reason
        else:
            assert compact.pop(uid, None) == plain.pop(uid, None)
        assert len(compact) == len(plain)
        assert (uid in compact) == (uid in plain)
        assert compact.get(uid) == plain.get(uid)
    assert dict(compact.items()) == plain
    assert sorted(compact, key=repr) == sorted(plain, key=repr)


def test_uid_reasons_past_255_reasons_fall_back_to_the_dict():
    compact, plain = UidReasons(), {}
    for uid in range(1, 400):
        compact[uid] = plain[uid] = f"reason{uid}"
    compact[3] = plain[3] = "reason399"
    assert len(compact) == len(plain) and dict(compact.items()) == plain
    assert compact.pop(390) == plain.pop(390) and compact.get(390) is None
    assert dict(compact.items()) == plain
