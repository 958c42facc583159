"""AODV logic on one node, driven through tests.fakes.FakeContext with a manual clock."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from meshnet.protocol_api import BROADCAST, DecodeError, Packet, ProtocolConfigError, build_params
from meshnet.protocols.aodv import AODV, AodvParams
from meshnet.protocols.aodv import wire
from meshnet.protocols.aodv.wire import RERR, RREP, RREQ, decode, encode
from tests.fakes import FakeContext

ME = "10.0.0.1"
A, B, C, D = "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.9"


class TimedContext(FakeContext):
    """FakeContext that also remembers when each control message left."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log: list[tuple[float, str, bytes]] = []

    def broadcast(self, payload):
        super().broadcast(payload)
        self.log.append((self.now, BROADCAST, payload))

    def send(self, next_hop, payload):
        super().send(next_hop, payload)
        self.log.append((self.now, next_hop, payload))


def make(address=ME, **overrides):
    params = AodvParams(**{"broadcast_jitter": 0.0, "link_detection": "link-layer", **overrides})
    ctx = TimedContext(address=address)
    proto = AODV(ctx, params)
    proto.start()
    return ctx, proto


def packet(dst=D, src=ME, uid=1):
    return Packet(uid=uid, src=src, dst=dst, size=64, created=0.0)


def sent_messages(ctx, kind=None):
    out = [(to, decode(raw)) for to, raw in ctx.take_sent()]
    return [(to, m) for to, m in out if kind is None or isinstance(m, kind)]


def events(ctx, kind):
    return [fields for k, fields in ctx.events if k == kind]


# --- parameters -----------------------------------------------------------------------------------

def test_class_attributes_and_defaults():
    assert (AODV.name, AODV.port, AODV.reactive) == ("aodv", 654, True)
    assert AODV.description
    p = AODV.Params()
    assert (p.hello_interval, p.allowed_hello_loss, p.active_route_timeout) == (1.0, 2, 3.0)
    assert (p.node_traversal_time, p.net_diameter, p.rreq_retries) == (0.04, 35, 2)
    assert (p.rreq_rate_limit, p.rerr_rate_limit, p.queue_len, p.queue_timeout) == (10, 10, 64, 30.0)
    assert (p.ttl_start, p.ttl_increment, p.ttl_threshold, p.timeout_buffer) == (1, 2, 7, 2)
    assert p.net_traversal_time == 2.8 and p.path_discovery_time == 5.6
    assert p.my_route_timeout == 6.0 and p.delete_period == 15.0
    assert p.enable_hello and not AodvParams(link_detection="link-layer").enable_hello
    assert p.ring_traversal_time(1) == pytest.approx(0.24)


def test_bad_link_detection_lists_allowed_values():
    with pytest.raises(ProtocolConfigError, match="'hello', 'link-layer'"):
        build_params(AODV, {"link_detection": "radar"})
    assert build_params(AODV, {"local_repair": True, "hello_interval": 2}).hello_interval == 2.0


# --- discovery ------------------------------------------------------------------------------------

def test_no_route_buffers_and_broadcasts_rreq():
    ctx, proto = make()
    p = packet()
    proto.on_no_route(p)
    assert ctx.held == [p]
    [(to, rreq)] = sent_messages(ctx)
    assert to == BROADCAST and isinstance(rreq, RREQ)
    assert (rreq.dst, rreq.orig, rreq.hop_count, rreq.ttl) == (D, ME, 0, 1)
    assert rreq.unknown_seq and rreq.gratuitous and rreq.orig_seq == 1
    assert events(ctx, "route_discovery_started") == [{"dst": D}]
    proto.on_no_route(packet(uid=2))  # a second packet joins the same discovery
    assert sent_messages(ctx) == []


def test_expanding_ring_then_retries_with_backoff_then_failure():
    ctx, proto = make()
    p = packet()
    proto.on_no_route(p)
    ctx.advance(60.0)
    rreqs = [(t, decode(raw)) for t, _, raw in ctx.log]
    assert [m.ttl for _, m in rreqs] == [1, 3, 5, 7, 35, 35, 35]
    times = [t for t, _ in rreqs]
    waits = [b - a for a, b in zip(times, times[1:])]
    par = proto.params
    expected = [par.ring_traversal_time(ttl) for ttl in (1, 3, 5, 7)] + [2.8, 5.6]
    assert waits == pytest.approx(expected)
    assert len({m.rreq_id for _, m in rreqs}) == 7  # each attempt is a new RREQ
    assert events(ctx, "route_discovery_failed") == [{"dst": D}]
    assert ctx.dropped == [(p, "discovery_failed")]
    assert proto.discoveries == {}


def test_rreq_rate_limit_defers_the_eleventh():
    ctx, proto = make()
    for i in range(11):
        proto.on_no_route(packet(dst=f"10.0.1.{i + 1}", uid=i))
    assert len(sent_messages(ctx)) == 10
    ctx.advance(0.5)
    assert sent_messages(ctx, RREQ) == []
    ctx.advance(0.6)
    later = sent_messages(ctx, RREQ)
    assert [m.dst for _, m in later if m.ttl == 1] == ["10.0.1.11"]


def test_route_found_releases_buffered_packets():
    ctx, proto = make()
    pkts = [packet(uid=i) for i in range(3)]
    for p in pkts:
        proto.on_no_route(p)
    ctx.take_sent()
    proto.on_control(A, encode(RREP(dst=D, dst_seq=4, orig=ME, hop_count=2, lifetime_ms=6000)))
    assert ctx.data_sent == pkts
    route = ctx.routes.lookup(D)
    assert (route.next_hop, route.metric, route.seqno) == (A, 3, 4)
    assert events(ctx, "route_found") == [{"dst": D, "hops": 3, "next_hop": A}]
    ctx.advance(60)
    assert ctx.dropped == [] and events(ctx, "route_discovery_failed") == []


def test_queue_full_drops_oldest_and_queue_timeout():
    ctx, proto = make(queue_len=2, queue_timeout=5.0, rreq_retries=10)
    pkts = [packet(uid=i) for i in range(3)]
    for p in pkts:
        proto.on_no_route(p)
    assert ctx.dropped == [(pkts[0], "queue_full")]
    ctx.advance(5.01)
    assert ctx.dropped[1:] == [(pkts[1], "queue_timeout"), (pkts[2], "queue_timeout")]


# --- answering RREQs ------------------------------------------------------------------------------

def rreq(dst=ME, dst_seq=0, unknown=True, orig=A, orig_seq=7, rreq_id=1, hops=0, ttl=5, **kw):
    return encode(RREQ(rreq_id=rreq_id, dst=dst, dst_seq=dst_seq, orig=orig, orig_seq=orig_seq,
                       hop_count=hops, unknown_seq=unknown,
                       extensions=(wire.ttl_extension(ttl),), **kw))


def test_destination_replies_with_incremented_seqno():
    ctx, proto = make()
    proto.seq = 10
    proto.on_control(B, rreq(dst_seq=11, unknown=False, hops=1))
    [(to, rrep)] = sent_messages(ctx, RREP)
    assert to == B
    assert (rrep.dst, rrep.orig, rrep.dst_seq, rrep.hop_count) == (ME, A, 11, 0)
    assert rrep.lifetime_ms == 6000
    assert ctx.routes.lookup(A).next_hop == B and ctx.routes.lookup(A).metric == 2
    proto.on_control(B, rreq(dst_seq=11, unknown=False, rreq_id=2, orig_seq=8, hops=1))
    [(_, again)] = sent_messages(ctx, RREP)
    assert again.dst_seq == 12  # equal to ours: move past it


def test_destination_keeps_seqno_for_unknown():
    ctx, proto = make()
    proto.seq = 3
    proto.on_control(A, rreq())
    [(_, rrep)] = sent_messages(ctx, RREP)
    assert rrep.dst_seq == 3


def learn_route(ctx, proto, dst=D, via=C, seq=5, hops=2):
    """Give the node a valid route to dst through neighbour ``via``."""
    proto.on_control(via, encode(RREP(dst=dst, dst_seq=seq, orig=ME, hop_count=hops - 1,
                                      lifetime_ms=10000)))
    ctx.take_sent()


def test_intermediate_replies_only_with_fresh_enough_route():
    ctx, proto = make()
    learn_route(ctx, proto, seq=5, hops=2)
    proto.on_control(A, rreq(dst=D, dst_seq=6, unknown=False))  # ours (5) is too old
    out = sent_messages(ctx)
    assert [type(m) for _, m in out] == [RREQ]
    fwd = out[0][1]
    assert (fwd.hop_count, fwd.ttl, fwd.dst_seq) == (1, 4, 6)

    proto.on_control(A, rreq(dst=D, dst_seq=5, unknown=False, rreq_id=2, orig_seq=8, gratuitous=True))
    replies = sent_messages(ctx, RREP)
    (to, rrep), (gto, grat) = replies
    assert to == A and (rrep.dst, rrep.dst_seq, rrep.hop_count, rrep.orig) == (D, 5, 2, A)
    assert gto == C and (grat.dst, grat.orig, grat.dst_seq, grat.hop_count) == (A, D, 8, 1)
    assert A in proto.table.get(D).precursors and C in proto.table.get(A).precursors


def test_destination_only_flag_forces_forwarding():
    ctx, proto = make()
    learn_route(ctx, proto)
    proto.on_control(A, rreq(dst=D, dest_only=True))
    assert [type(m) for _, m in sent_messages(ctx)] == [RREQ]


def test_duplicate_rreq_dropped_and_ttl_respected():
    ctx, proto = make()
    proto.on_control(A, rreq(dst=D))
    proto.on_control(B, rreq(dst=D))  # same originator and RREQ ID via another neighbour
    assert len(sent_messages(ctx, RREQ)) == 1
    proto.on_control(A, rreq(dst=D, rreq_id=9, ttl=1))
    assert sent_messages(ctx, RREQ) == []  # TTL exhausted: not forwarded
    ctx.advance(proto.params.path_discovery_time + 0.1)
    proto.on_control(A, rreq(dst=D))
    assert len(sent_messages(ctx, RREQ)) == 1  # remembered only PATH_DISCOVERY_TIME


def test_own_echo_and_own_rreq_ignored():
    ctx, proto = make()
    proto.on_no_route(packet())
    [(_, raw)] = ctx.take_sent()
    proto.on_control(ME, raw)
    proto.on_control(A, raw)  # our RREQ relayed back by a neighbour
    assert [m for _, m in sent_messages(ctx) if isinstance(m, (RREQ, RREP))] == []
    assert len(ctx.routes) == 1  # only the neighbour route to A


def test_rrep_forwarded_along_reverse_route_with_precursors():
    ctx, proto = make()
    proto.on_control(A, rreq(dst=D))
    ctx.take_sent()
    proto.on_control(C, encode(RREP(dst=D, dst_seq=3, orig=A, hop_count=1, lifetime_ms=6000)))
    [(to, rrep)] = sent_messages(ctx, RREP)
    assert to == A and rrep.hop_count == 2
    assert proto.table.get(D).precursors == {A}
    assert proto.table.get(A).precursors == {C}


# --- route maintenance ----------------------------------------------------------------------------

def intermediate_for(ctx, proto, upstream=(A,)):
    """Make this node a relay on the path upstream -> ME -> C -> D."""
    for i, up in enumerate(upstream):
        proto.on_control(up, rreq(dst=D, orig=up, rreq_id=i + 1))
        proto.on_control(C, encode(RREP(dst=D, dst_seq=3, orig=up, hop_count=1, lifetime_ms=6000)))
    ctx.take_sent()


def test_link_failure_sends_rerr_to_single_precursor():
    ctx, proto = make()
    intermediate_for(ctx, proto)
    proto.on_link_failure(C, None)
    [(to, rerr)] = sent_messages(ctx, RERR)
    assert to == A
    assert dict(rerr.unreachable)[D] == 4  # sequence number incremented (RFC 6.11)
    assert ctx.routes.lookup(D) is None and ctx.routes.lookup(C) is None
    assert {"dst": D, "next_hop": C} in events(ctx, "route_broken")
    assert proto.table.get(D).seq == 4  # the invalid entry remembers it


def test_link_failure_broadcasts_rerr_to_several_precursors():
    ctx, proto = make()
    intermediate_for(ctx, proto, upstream=(A, B))
    proto.on_link_failure(C, None)
    [(to, rerr)] = sent_messages(ctx, RERR)
    assert to == BROADCAST and D in dict(rerr.unreachable)


def test_no_rerr_without_precursors_and_source_rediscovers():
    ctx, proto = make()
    learn_route(ctx, proto)
    p = packet()
    proto.on_link_failure(C, p)
    out = sent_messages(ctx)
    assert [type(m) for _, m in out] == [RREQ]
    rreq_msg = out[0][1]
    assert not rreq_msg.unknown_seq and rreq_msg.dst_seq == 6  # asks for fresher than the broken
    assert rreq_msg.ttl == 2 + proto.params.ttl_increment  # last hop count + TTL_INCREMENT
    assert ctx.held == [p]


def test_link_failure_ignored_in_hello_mode():
    ctx, proto = make(link_detection="hello")
    learn_route(ctx, proto)
    proto.on_link_failure(C, None)
    assert ctx.routes.lookup(D) is not None


def test_rerr_received_invalidates_and_propagates():
    ctx, proto = make()
    intermediate_for(ctx, proto)
    proto.on_control(B, encode(RERR(unreachable=((D, 9),))))  # not our next hop: ignored
    assert ctx.routes.lookup(D) is not None
    proto.on_control(C, encode(RERR(unreachable=((D, 9),))))
    assert ctx.routes.lookup(D) is None
    [(to, rerr)] = sent_messages(ctx, RERR)
    assert to == A and rerr.unreachable == ((D, 9),)
    proto.on_control(C, encode(RERR(unreachable=((D, 10),), no_delete=True)))
    assert sent_messages(ctx, RERR) == []


def test_forwarding_without_route_broadcasts_rerr_to_the_upstream_neighbours():
    # the reverse route to the source runs via A, but the packet may have come from another
    # neighbour: the RERR is broadcast so the node that actually forwarded it hears it
    ctx, proto = make()
    proto.on_control(A, rreq(dst=D, orig="10.0.0.50", rreq_id=3))  # route back to 10.0.0.50 via A
    ctx.take_sent()
    p = packet(src="10.0.0.50")
    proto.on_no_route(p)
    ctx.advance(0.05)  # broadcast jitter
    [(to, rerr)] = sent_messages(ctx, RERR)
    assert to == BROADCAST and rerr.unreachable[0][0] == D
    assert ctx.dropped == [(p, "no_route")]


def test_hello_loss_breaks_link():
    ctx, proto = make(link_detection="hello")
    intermediate_for(ctx, proto)
    ctx.take_sent()
    for _ in range(3):
        proto.on_control(C, encode(RREP(dst=C, dst_seq=1, orig=C, lifetime_ms=2000)))
        proto.on_control(A, encode(RREP(dst=A, dst_seq=1, orig=A, lifetime_ms=2000)))
        ctx.advance(1.0)
    assert ctx.routes.lookup(D) is not None and events(ctx, "hello_link_lost") == []
    for _ in range(3):  # C falls silent; A keeps saying hello
        proto.on_control(A, encode(RREP(dst=A, dst_seq=1, orig=A, lifetime_ms=2000)))
        ctx.advance(1.0)
    assert events(ctx, "hello_link_lost") == [{"neighbor": C}]
    assert ctx.routes.lookup(C) is None and ctx.routes.lookup(D) is None
    assert D in dict(next(m for _, m in sent_messages(ctx, RERR)).unreachable)


def test_hellos_are_sent_periodically():
    ctx, proto = make(link_detection="hello")
    ctx.advance(5.0)
    hellos = [m for _, m in sent_messages(ctx, RREP)]
    assert 4 <= len(hellos) <= 6
    assert all(h.is_hello and h.dst == ME and h.hop_count == 0 and h.lifetime_ms == 2000
               for h in hellos)


def test_unused_route_expires_then_is_deleted():
    ctx, proto = make()
    learn_route(ctx, proto)
    ctx.advance(10.5)
    assert ctx.routes.lookup(D) is None and proto.table.get(D) is not None  # invalid, kept
    ctx.advance(proto.params.delete_period)
    assert proto.table.get(D) is None


def test_data_keeps_active_route_alive():
    ctx, proto = make()
    learn_route(ctx, proto)
    for _ in range(30):
        ctx.advance(1.0)
        proto.on_data(packet(), None, C)
    assert ctx.routes.lookup(D) is not None and ctx.routes.lookup(C) is not None


def test_local_repair_buffers_and_rediscovers_near_the_break():
    ctx, proto = make(local_repair=True)
    intermediate_for(ctx, proto)
    p = packet(src=A)
    proto.on_link_failure(C, p)
    assert ctx.held == [p]
    [(_, req)] = sent_messages(ctx, RREQ)
    assert req.dst == D and req.orig == ME and req.dst_seq == 4
    assert sent_messages(ctx, RERR) == []
    proto.on_control(B, encode(RREP(dst=D, dst_seq=4, orig=ME, hop_count=1, lifetime_ms=6000)))
    assert ctx.data_sent == [p] and ctx.routes.lookup(D).next_hop == B


def test_local_repair_failure_sends_rerr():
    ctx, proto = make(local_repair=True)
    intermediate_for(ctx, proto)
    p = packet(src=A)
    proto.on_link_failure(C, p)
    ctx.take_sent()
    ctx.advance(5.0)
    [(to, rerr)] = sent_messages(ctx, RERR)
    assert to == A and D in dict(rerr.unreachable)
    assert (p, "discovery_failed") in ctx.dropped


def test_stop_cancels_everything():
    ctx, proto = make(link_detection="hello")
    proto.on_no_route(packet())
    proto.stop()
    ctx.take_sent()
    ctx.advance(60)
    assert ctx.sent == []


# --- robustness -----------------------------------------------------------------------------------

FUZZ_PROTO = {}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([A, B, C]), st.one_of(
    st.binary(max_size=80),
    st.tuples(st.sampled_from([1, 2, 3, 4]), st.binary(max_size=60)).map(lambda t: bytes([t[0]]) + t[1]),
))
def test_on_control_raises_only_decode_error(src, payload):
    if "p" not in FUZZ_PROTO:
        FUZZ_PROTO["p"] = make(link_detection="hello")
    ctx, proto = FUZZ_PROTO["p"]
    try:
        proto.on_control(src, payload)
    except DecodeError:
        pass
    ctx.advance(0.05)


def test_node_keeps_working_after_garbage():
    ctx, proto = make()
    for junk in (b"", b"\x01", b"\x03\x00\x00\x00", b"\xff" * 40, rreq(hops=255)):
        try:
            proto.on_control(A, junk)
        except DecodeError:
            pass
    ctx.take_sent()
    test_pkt = packet(uid=99)
    proto.on_no_route(test_pkt)
    assert [type(m) for _, m in sent_messages(ctx)] == [RREQ]
    proto.on_control(A, encode(RREP(dst=D, dst_seq=1, orig=ME, hop_count=0, lifetime_ms=3000)))
    assert ctx.data_sent == [test_pkt]


def test_revived_node_starts_clean():
    ctx, proto = make()
    learn_route(ctx, proto)
    proto.on_no_route(packet(dst="10.0.0.77"))
    proto.stop()
    ctx.routes._routes.clear()  # what a backend does to a dead node's table
    proto.start()
    assert len(proto.queue) == 0 and proto.table.get(D) is None
    learn_route(ctx, proto)
    assert ctx.routes.lookup(D) is not None  # mirrored again, not assumed present


def test_direct_route_to_neighbour_is_not_replaced_by_a_longer_one():
    # Regression: a node hearing the destination directly must not take a longer route that an
    # older reply offers, which may lead back through itself.
    ctx, proto = make()
    learn_route(ctx, proto, seq=36, hops=2)
    proto.on_control(D, encode(RERR(unreachable=(("10.0.0.99", 1),))))  # any message from D
    e = proto.table.get(D)
    assert (e.next_hop, e.hops, e.seq, e.valid_seq) == (D, 1, 36, True)
    proto.on_control(A, encode(RREP(dst=D, dst_seq=36, orig=ME, hop_count=4, lifetime_ms=3000)))
    assert ctx.routes.lookup(D).next_hop == D

    ctx2, fresh = make()
    fresh.on_control(D, encode(RERR(unreachable=(("10.0.0.99", 1),))))  # no sequence number known
    fresh.on_control(A, encode(RREP(dst=D, dst_seq=5, orig=ME, hop_count=4, lifetime_ms=3000)))
    assert ctx2.routes.lookup(D).next_hop == D
    fresh.on_control(D, encode(RREP(dst=D, dst_seq=7, orig=D, lifetime_ms=2000)))  # D's hello
    assert fresh.table.get(D).valid_seq and fresh.table.get(D).seq == 7
