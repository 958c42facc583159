"""The reference flooding protocol proves the API and the engine end to end."""

from tests.simhelpers import assert_conserved, make_sim


def test_line_delivers_every_packet_with_exactly_nine_hops():
    sim = make_sim("line", 'protocol.name="flooding"')
    r = sim.run()
    assert r["sent"] > 100
    assert r["delivered"] == r["sent"]
    assert r["mean_hops"] == 9.0
    assert r["control_packets"] == 0
    assert_conserved(r)


def test_out_of_range_pairs_are_unreachable():
    # 300 m spacing with a 250 m radio: nobody hears anybody
    sim = make_sim("line", 'protocol.name="flooding"', "nodes.spacing=300", "area.width=3000")
    r = sim.run()
    assert r["sent"] > 0 and r["delivered"] == 0
    assert r["drops"] == {"out_of_range": r["sent"]}
    assert_conserved(r)


def test_ttl_stops_floods_short_of_the_destination():
    sim = make_sim("line", 'protocol.name="flooding"', "traffic.ttl=5")
    r = sim.run()
    assert r["delivered"] == 0
    assert set(r["drops"]) == {"ttl"}
    assert_conserved(r)


def test_ttl_just_enough_for_nine_hops():
    r = make_sim("line", 'protocol.name="flooding"', "traffic.ttl=9").run()
    assert r["delivered"] == r["sent"]


def test_mobile_flooding_conserves_packets():
    r = make_sim("default", 'protocol.name="flooding"', "scenario.duration=30").run()
    assert r["sent"] > 0 and r["delivered"] > 0
    assert_conserved(r)


def test_a_revived_node_runs_only_its_new_protocol_instance():
    """Timers armed by the instance that died must not fire after the node is revived."""
    sim = make_sim("line", "scenario.duration=60")  # AODV: hellos every second
    sim.run_until(5)
    old = sim.nodes[4].protocol
    fired = []
    sim.nodes[4].call_later(2.0, fired.append, "old")
    sim.kill(4)
    sim.run_until(6)
    sim.revive(4)
    assert sim.nodes[4].protocol is not old
    sim.run_until(20)
    assert fired == []
    r = sim.run()
    assert_conserved(r)
