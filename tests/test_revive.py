"""Killing and reviving a node: what it keeps in ``ctx.persistent`` (its non-volatile memory) lets
its neighbours take it back at once.

A revived node gets a new protocol instance and the same ``ctx.persistent``. AODV keeps its
sequence number and RREQ ID there (neighbours still remember its last RREQ IDs for
PATH_DISCOVERY_TIME, and give its broken route its last sequence number plus one); DSDV keeps its
own even sequence number (neighbours hold its broken route at the last one plus one). Clearing
``persistent`` before a revive gives the behaviour of a node that forgot: several of these tests
check that it is then worse, so that they hold the fix and not the scenario."""

import pytest

from meshnet.protocol_api import BROADCAST, Packet
from meshnet.protocols.aodv import AODV, AodvParams
from meshnet.protocols.aodv.wire import RERR, RREP, RREQ, decode, encode, ttl_extension
from meshnet.protocols.dsdv import DSDV, DsdvParams
from meshnet.protocols.dsdv.wire import INFINITY, Entry, Update
from meshnet.protocols.dsdv.wire import decode as dsdv_decode, encode as dsdv_encode
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from tests.fakes import FakeContext
from tests.simhelpers import assert_conserved, next_hop_path

ME, A, D = "10.0.0.1", "10.0.0.2", "10.0.0.9"
INTERVAL = DsdvParams().periodic_update_interval


def sim_of(protocol: str, *overrides: str) -> Simulation:
    return Simulation(load_scenario("line", overrides=list(overrides), protocol=protocol))


def record(sim: Simulation, *kinds: str) -> list[tuple[float, str, dict]]:
    seen: list[tuple[float, str, dict]] = []
    sim.bus.subscribe(lambda t, kind, f: seen.append((t, kind, dict(f))), kinds)
    return seen


def aodv_node(ctx: FakeContext, **overrides) -> AODV:
    proto = AODV(ctx, AodvParams(**{"broadcast_jitter": 0.0, "link_detection": "link-layer",
                                    **overrides}))
    proto.start()
    return proto


def packet(dst=D, src=ME, uid=1) -> Packet:
    return Packet(uid=uid, src=src, dst=dst, size=64, created=0.0)


def sent(ctx: FakeContext, kind=None) -> list:
    out = [(to, decode(raw)) for to, raw in ctx.take_sent()]
    return [(to, m) for to, m in out if kind is None or isinstance(m, kind)]


# --- AODV on one node ----------------------------------------------------------------------------

def test_aodv_first_boot_starts_from_zero_and_records_its_state():
    ctx = FakeContext(ME)
    proto = aodv_node(ctx)
    assert (proto.seq, proto.rreq_id) == (0, 0)
    assert ctx.persistent == {"aodv": {"seq": 0, "rreq_id": 0}}
    assert not proto.rebooting  # reboot_wait is off by default


def test_aodv_new_instance_on_the_same_memory_resumes_seqno_and_rreq_id():
    ctx = FakeContext(ME)
    first = aodv_node(ctx)
    for i in range(3):  # three discoveries: RREQ IDs 1..3, sequence number 3
        first.on_no_route(packet(dst=f"10.0.0.{50 + i}", uid=i))
    first.on_control(A, encode(RREQ(rreq_id=9, dst=ME, dst_seq=7, orig=A, orig_seq=2,
                                    extensions=(ttl_extension(5),))))
    assert (first.seq, first.rreq_id) == (7, 3)  # answered with the number the RREQ asked for
    ctx.take_sent()
    # A crash: no stop(), the state was written when it changed.
    second = aodv_node(ctx)
    assert second is not first and len(second.table) == 0
    assert second.seq == 8 and second.rreq_id == 3  # one further than before the restart
    second.on_no_route(packet())
    [(to, rreq)] = sent(second.ctx, RREQ)
    assert to == BROADCAST and rreq.rreq_id == 4 and rreq.orig_seq == 9
    assert ctx.persistent["aodv"] == {"seq": 9, "rreq_id": 4}


def test_aodv_neighbour_takes_the_revived_nodes_rreq():
    """A neighbour that heard the node's RREQs before it died forwards its new one; with the
    memory lost (the old behaviour) the same RREQ ID is dropped as a duplicate."""
    for keep_memory in (True, False):
        ctx, nbr_ctx = FakeContext(ME), FakeContext(A)
        neighbour = aodv_node(nbr_ctx)
        before = aodv_node(ctx, ttl_start=3)  # a first ring wide enough to be forwarded
        before.on_no_route(packet())
        [(_, rreq)] = sent(ctx, RREQ)
        neighbour.on_control(ME, encode(rreq))
        assert sent(nbr_ctx, RREQ)  # forwarded
        before.stop()
        if not keep_memory:
            ctx.persistent.clear()
        after = aodv_node(ctx, ttl_start=3)
        after.on_no_route(packet(uid=2))
        [(_, again)] = sent(ctx, RREQ)
        nbr_ctx.advance(1.0)
        neighbour.on_control(ME, encode(again))
        forwarded = sent(nbr_ctx, RREQ)
        if keep_memory:
            assert again.rreq_id == rreq.rreq_id + 1 and again.orig_seq > rreq.orig_seq
            assert forwarded and forwarded[0][1].orig == ME
        else:
            assert again.rreq_id == rreq.rreq_id and not forwarded  # dropped as a duplicate


def test_aodv_revived_hello_beats_the_number_neighbours_gave_its_broken_route():
    ctx, nbr_ctx = FakeContext(ME), FakeContext(A)
    neighbour = aodv_node(nbr_ctx, link_detection="hello")
    node = aodv_node(ctx, link_detection="hello")
    # Asked for itself with number 7 by some node further away: it answers with 7.
    node.on_control("10.0.0.5", encode(RREQ(rreq_id=1, dst=ME, dst_seq=7, orig="10.0.0.5",
                                            orig_seq=1, extensions=(ttl_extension(5),))))
    ctx.advance(2.0)
    for m in [m for _, m in sent(ctx, RREP) if m.is_hello]:
        neighbour.on_control(ME, encode(m))
    assert neighbour.table.valid(ME).seq == 7
    node.stop()
    nbr_ctx.advance(5.0)  # hellos lost: the route breaks, its number goes up by one
    broken = neighbour.table.get(ME)
    assert not broken.valid and broken.seq == 8
    revived = aodv_node(ctx, link_detection="hello")
    assert revived.seq == 8
    ctx.advance(1.5)
    hellos = [m for _, m in sent(ctx, RREP) if m.is_hello]
    assert hellos and hellos[0].dst_seq == 8
    neighbour.on_control(ME, encode(hellos[0]))
    assert neighbour.table.valid(ME).seq == 8  # taken as fresh, not forced over a newer number


# --- AODV: RFC 3561 §6.13 for a node that lost its memory ---------------------------------------

def test_aodv_reboot_wait_after_a_start_without_memory():
    p = AodvParams(reboot_wait=True, broadcast_jitter=0.0, link_detection="hello")
    ctx = FakeContext(ME)
    proto = AODV(ctx, p)
    proto.start()
    assert proto.rebooting
    mine = packet()
    proto.on_no_route(mine)
    assert ctx.held == [mine] and ctx.take_sent() == []  # buffered; no discovery yet
    ctx.advance(p.delete_period / 2)
    assert ctx.take_sent() == []  # no hellos either
    # An RREQ for us: no reply, but our number moves up to the one it carries.
    proto.on_control(A, encode(RREQ(rreq_id=1, dst=ME, dst_seq=41, orig=A, orig_seq=3,
                                    extensions=(ttl_extension(5),))))
    # An RREQ for someone else: the reverse route is learnt, the RREQ is not forwarded.
    proto.on_control(A, encode(RREQ(rreq_id=2, dst="10.0.0.77", dst_seq=0, unknown_seq=True,
                                    orig=A, orig_seq=4, extensions=(ttl_extension(5),))))
    assert ctx.take_sent() == [] and proto.seq == 41
    assert proto.table.valid(A) is not None and ctx.routes.lookup(A) is None
    # Data we are asked to forward: dropped with a broadcast RERR, and the wait starts over.
    restarted_at = ctx.now
    transit = packet(dst="10.0.0.77", src=A, uid=7)
    proto.on_no_route(transit)
    assert (transit, "no_route") in ctx.dropped
    [(to, rerr)] = sent(ctx)
    assert to == BROADCAST and isinstance(rerr, RERR)
    ctx.advance(restarted_at + p.delete_period - ctx.now - 0.1)
    assert proto.rebooting and ctx.take_sent() == []
    # A reply reaching us still teaches a route (not installed yet).
    proto.on_control(A, encode(RREP(dst=D, dst_seq=5, orig=ME, hop_count=1, lifetime_ms=60000)))
    assert ctx.routes.lookup(D) is None and ctx.data_sent == []
    ctx.advance(0.2)
    assert not proto.rebooting
    assert ctx.routes.lookup(D) is not None and ctx.data_sent == [mine]  # installed, released


def test_aodv_reboot_wait_ends_in_a_discovery_for_buffered_data():
    p = AodvParams(reboot_wait=True, broadcast_jitter=0.0, link_detection="link-layer")
    ctx = FakeContext(ME)
    proto = AODV(ctx, p)
    proto.start()
    proto.on_no_route(packet())
    ctx.advance(p.delete_period + 0.01)
    [(to, rreq)] = sent(ctx, RREQ)
    assert to == BROADCAST and rreq.dst == D and rreq.rreq_id == 1


def test_aodv_reboot_wait_never_applies_when_the_memory_survived():
    ctx = FakeContext(ME)
    aodv_node(ctx, reboot_wait=True).stop()  # first boot: waits; the memory now holds its state
    again = aodv_node(ctx, reboot_wait=True)
    assert not again.rebooting
    again.on_no_route(packet())
    assert sent(ctx, RREQ)


# --- DSDV on one node ----------------------------------------------------------------------------

def test_dsdv_new_instance_resumes_above_its_broken_routes_number():
    ctx, nbr_ctx = FakeContext("10.99.0.1"), FakeContext("10.99.0.2")
    node, neighbour = DSDV(ctx), DSDV(nbr_ctx)
    node.start()
    neighbour.start()
    ctx.advance(2 * INTERVAL)
    for _, raw in ctx.take_sent():
        neighbour.on_control(ctx.address, raw)
    last = node.seqno
    assert last > 0 and ctx.persistent == {"dsdv": {"seqno": last}}  # saved as it changed
    neighbour.on_link_failure(ctx.address, None)  # the node died
    assert neighbour.table.get(ctx.address).seqno == last + 1
    node.stop()
    revived = DSDV(ctx)
    revived.start()
    assert revived.seqno == last + 2 and len(revived.table) == 0
    ctx.advance(1.0)  # first full dump
    first = [dsdv_decode(raw) for _, raw in ctx.take_sent()][0]
    assert first.entries[0] == Entry(ctx.address, revived.seqno, 0)
    neighbour.on_control(ctx.address, dsdv_encode(first))
    route = nbr_ctx.routes.lookup(ctx.address)
    assert route is not None and route.metric == 1 and route.seqno > last + 1


def test_dsdv_first_boot_starts_from_zero():
    ctx = FakeContext("10.99.0.1")
    node = DSDV(ctx)
    node.start()
    assert node.seqno == 0 and ctx.persistent == {"dsdv": {"seqno": 0}}
    node.on_control("10.99.0.2", dsdv_encode(Update(False, (Entry(ctx.address, 5, INFINITY),))))
    assert ctx.persistent["dsdv"]["seqno"] == node.seqno == 6  # declared broken: saved at once


# --- on the simulator -----------------------------------------------------------------------------

@pytest.mark.parametrize("dead_for", [0.5, 3.0])
@pytest.mark.parametrize("keep_memory", [True, False])
def test_aodv_revived_source_rediscovers_at_once(dead_for, keep_memory):
    # n1 -> n10 on the 9-hop line; n1 found its route with RREQs 1..5 around t = 1..3 s. It dies
    # at 3.5 s: its neighbours remember those RREQ IDs until PATH_DISCOVERY_TIME (5.6 s) later.
    sim = sim_of("aodv", "scenario.duration=20")
    seen = record(sim, "rreq_sent", "data_sent", "data_delivered")
    src, dst = sim.nodes[0], sim.nodes[9]
    sim.run_until(3.5)
    seq_before, id_before = src.protocol.seq, src.protocol.rreq_id
    assert id_before >= 5
    sim.kill(0)
    sim.run_until(3.5 + dead_for)
    revived_at = sim.now
    if not keep_memory:
        src.persistent.clear()  # what the node did before it had a memory
    sim.revive(0)
    sim.run_until(revived_at + 4.0)
    own_rreqs = [f for t, k, f in seen if k == "rreq_sent" and t >= revived_at
                 and f["node"] == src.name and not f["forwarded"]]
    sent_after = {f["uid"]: t for t, k, f in seen if k == "data_sent" and t >= revived_at}
    delivered = sorted(t for t, k, f in seen if k == "data_delivered" and f["uid"] in sent_after)
    their_view = dst.protocol.table.get(src.address)
    ok = (src.protocol.seq > seq_before and own_rreqs[0]["rreq_id"] > id_before
          and their_view is not None and their_view.seq > seq_before
          and bool(delivered) and delivered[0] < revived_at + 3.0)
    if not keep_memory:
        assert not ok  # a node that forgot starts over at 0 (and, soon after, is not heard)
        return
    assert src.protocol.seq > seq_before  # continues above its number before death
    assert own_rreqs[0]["rreq_id"] == id_before + 1
    assert their_view is not None and their_view.seq > seq_before
    # Delivered after at most one expanding ring search (1.9 s on this line), not held up
    # for PATH_DISCOVERY_TIME (5.6 s) by neighbours taking its RREQs for old ones.
    assert delivered and delivered[0] < revived_at + 3.0
    assert next_hop_path(sim, 0, 9) == list(range(10))
    result = sim.run()
    assert result["drops"].keys() <= {"node_dead"}
    assert_conserved(result)


def test_aodv_forgetful_source_sits_out_the_reboot_wait():
    sim = sim_of("aodv", "scenario.duration=40", "protocol.reboot_wait=true")
    p = sim.nodes[0].protocol.params
    seen = record(sim, "rreq_sent", "data_delivered")
    sim.run_until(p.delete_period + 3.0)  # every node waited at first boot, then found routes
    assert any(k == "data_delivered" for _, k, _ in seen)
    sim.kill(0)
    sim.run_until(sim.now + 0.5)
    sim.nodes[0].persistent.clear()  # it lost its memory
    revived_at = sim.now
    sim.revive(0)
    assert sim.nodes[0].protocol.rebooting
    sim.run_until(revived_at + p.delete_period - 0.5)
    after = [(t, k, f) for t, k, f in seen if t >= revived_at]
    assert not [f for _, k, f in after if k == "rreq_sent" and f["node"] == "n1"]
    assert not [f for _, k, f in after if k == "data_delivered"]
    sim.run_until(revived_at + p.delete_period + 3.0)
    assert not sim.nodes[0].protocol.rebooting
    assert [f for _, k, f in seen if k == "data_delivered"][-1]["node"] == "n10"
    assert any(t >= revived_at + p.delete_period for t, k, _ in seen if k == "data_delivered")


@pytest.mark.parametrize("keep_memory", [True, False])
def test_dsdv_revived_node_is_taken_back_at_once(keep_memory):
    # n1 -> n10 on the line. n10 dies; n9 learns it from link-layer feedback and gives the route
    # the odd number n10 advertised last plus one. n10 comes back just after n9's full dump.
    sim = sim_of("dsdv", f"scenario.duration={6 * INTERVAL}")
    seen = record(sim, "update_sent", "data_delivered")
    node, nbr = sim.nodes[9], sim.nodes[8]
    sim.run_until(2 * INTERVAL + 5)
    seq_before = node.protocol.seqno
    sim.kill(9)
    killed_at = sim.now
    sim.run_until(killed_at + 5)
    broken = nbr.protocol.table.get(node.address)
    assert broken is not None and not broken.valid and broken.seqno == seq_before + 1
    while not any(t > killed_at and k == "update_sent" and f["node"] == nbr.name
                  and f["mode"] == "full" for t, k, f in seen):
        sim.run_until(sim.now + 0.5)
    if not keep_memory:
        node.persistent.clear()
    revived_at = sim.now
    sim.revive(9)
    sim.run_until(revived_at + 1.5)  # the revived node's first full dump went out
    route = nbr.routes.lookup(node.address)
    accepted = route is not None and route.metric == 1 and route.seqno > seq_before + 1
    sim.run_until(revived_at + INTERVAL)
    converged = all(
        (r := sim.nodes[i].routes.lookup(node.address)) is not None
        and r.metric == 9 - i and r.seqno > seq_before for i in range(9))
    delivered = [t for t, k, _ in seen if k == "data_delivered" and t > revived_at]
    if not keep_memory:
        assert not (accepted and converged)  # its updates were refused until it caught up
        return
    assert node.protocol.seqno > seq_before
    assert accepted  # the first advertisement is taken
    assert converged  # within one periodic interval every node routes to it again
    assert next_hop_path(sim, 0, 9) == list(range(10))
    assert delivered and delivered[0] < revived_at + INTERVAL
    assert_conserved(sim.run())


@pytest.mark.parametrize("victim", [0, 4])
def test_flooding_revived_node_still_floods(victim):
    # Packet ids come from the backend, not the node: a revived source's packets are new ids,
    # and a revived relay's empty duplicate cache costs at most one extra copy.
    sim = sim_of("flooding", "scenario.duration=12")
    seen = record(sim, "data_sent", "data_delivered")
    sim.run_until(3.0)
    sim.kill(victim)
    sim.run_until(4.0)
    revived_at = sim.now
    sim.revive(victim)
    result = sim.run()
    sent_after = {f["uid"] for t, k, f in seen if k == "data_sent" and t > revived_at}
    delivered_after = {f["uid"] for t, k, f in seen if k == "data_delivered"} & sent_after
    assert len(sent_after) > 20 and delivered_after == sent_after
    assert_conserved(result)
