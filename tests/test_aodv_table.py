"""AODV building blocks: sequence-number arithmetic, route table freshness and expiry, request
queue, duplicate cache, rate limiter."""

from meshnet.protocol_api import Packet
from meshnet.protocol_api import DuplicateCache
from meshnet.protocols.aodv.rate_limit import RateLimiter
from meshnet.protocol_api import RequestQueue
from meshnet.protocols.aodv.routing_table import (RouteState, RoutingTable, seq_diff, seq_newer,
                                                  seq_next)


def test_sequence_numbers_wrap():
    assert seq_newer(5, 4) and not seq_newer(4, 5) and not seq_newer(4, 4)
    assert seq_newer(1, 0xFFFFFFFF)  # 2**32 - 1 wraps to 1 (0 means unknown)
    assert seq_diff(2, 0xFFFFFFFE) == 4
    assert seq_next(0xFFFFFFFF) == 1 and seq_next(7) == 8


def test_offer_follows_freshness_rules():
    t = RoutingTable()
    assert t.offer("d", "a", 3, 10, 5.0) is not None
    assert t.offer("d", "b", 2, 9, 5.0) is None  # older
    assert t.offer("d", "b", 4, 10, 5.0) is None  # same seq, longer
    assert t.offer("d", "b", 2, 10, 5.0).next_hop == "b"  # same seq, shorter
    assert t.offer("d", "c", 9, 11, 5.0).next_hop == "c"  # newer wins even if longer
    e = t.get("d")
    t.invalidate(e, 20.0)
    assert t.valid("d") is None
    assert t.offer("d", "a", 9, 11, 6.0).valid  # same seq, but ours is invalid
    assert t.offer("d", "a", 9, 11, 8.0).expires == 8.0  # the same route: lifetime extended


def test_expiry_heap_tracks_extensions_and_repairs():
    t = RoutingTable()
    a = t.offer("a", "n", 1, 1, 5.0)
    t.offer("b", "n", 1, 1, 3.0)
    assert t.next_expiry() == 3.0
    a.expires = 9.0  # extended in place, as route use does
    assert [e.dst for e in t.expired(6.0)] == ["b"]
    assert t.next_expiry() == 9.0
    a.state = RouteState.REPAIRING
    assert t.next_expiry() is None and t.expired(100.0) == []
    t.force("a", "m", 2, 2, True, 12.0)
    assert t.next_expiry() == 12.0
    t.remove("a")
    assert t.next_expiry() is None  # "b" was handed out as expired; "a" is gone


def packet(uid, dst="d"):
    return Packet(uid=uid, src="s", dst=dst, size=1, created=0.0)


def test_request_queue_bounds_and_per_destination_take():
    q = RequestQueue(max_len=3, timeout=10.0)
    p = [packet(i, "d" if i % 2 else "e") for i in range(4)]
    assert q.enqueue(p[0], 0.0) == [] and q.enqueue(p[1], 1.0) == [] and q.enqueue(p[2], 2.0) == []
    assert q.enqueue(p[3], 3.0) == [p[0]]  # the oldest makes room
    assert q.take("d") == [p[1], p[3]] and len(q) == 1
    assert q.expire(11.9) == [] and q.expire(12.0) == [p[2]]


def test_duplicate_cache_forgets_after_lifetime():
    c = DuplicateCache(lifetime=5.0)
    assert not c.seen(("o", 1), 0.0)
    assert c.seen(("o", 1), 4.9)
    assert not c.seen(("o", 1), 5.0)


def test_rate_limiter_sliding_window():
    r = RateLimiter(limit=2)
    assert r.allow(0.0) and r.allow(0.5) and not r.allow(0.9)
    assert r.next_free(0.9) == 1.0 and r.allow(1.0)
    assert RateLimiter(limit=0).allow(0.0)


def test_rate_limiter_slot_is_free_when_next_free_says_so():
    """``(s + 1) - 1 < s`` in floating point: a timer set for next_free() must find the slot
    free, or it is re-armed at zero delay forever."""
    s = 7.232753387141089
    r = RateLimiter(limit=1)
    assert r.allow(s) and not r.allow(s + 0.5)
    assert r.allow(r.next_free(s + 0.5))


def test_precursors_survive_a_next_hop_change():
    """Upstream nodes still route through us after our next hop changes: they must hear the
    RERR when the new route breaks."""
    t = RoutingTable()
    e = t.force("10.99.0.9", "10.99.0.2", 4, 5, True, 10.0)
    e.precursors |= {"10.99.0.3", "10.99.0.4"}
    t.offer("10.99.0.9", "10.99.0.4", 3, 6, 10.0)
    assert e.next_hop == "10.99.0.4" and e.precursors == {"10.99.0.3"}


def test_expired_returns_each_entry_once_even_with_stale_deadlines():
    """Two stale heap items moved onto the same current deadline must not expire the entry
    twice (invalidated, then deleted at once, losing its sequence number and hop count)."""
    from meshnet.protocols.aodv.routing_table import RoutingTable

    t = RoutingTable()
    t.force("10.99.0.9", "10.99.0.2", 9, 5, True, 10.0)
    t.force("10.99.0.9", "10.99.0.2", 9, 6, True, 12.0)
    t.get("10.99.0.9").expires = 20.0
    t.next_expiry()
    assert [e.dst for e in t.expired(20.0)] == ["10.99.0.9"]
