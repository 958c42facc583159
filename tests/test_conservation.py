"""Packet conservation (README, `--json`): every generated packet ends delivered, dropped with a reason,
or still queued -- on the radio channel too, with mobility, collisions and node deaths."""

from __future__ import annotations

import pytest

from meshnet.scenario import scenario_from_dict
from meshnet.sim import Simulation

from .simhelpers import assert_conserved, make_sim
from .test_radio_channel import radio_sim

RADIOS = [("zigbee", "outdoor"), ("wavelan", "two-ray")]


@pytest.mark.parametrize("protocol", ["flooding", "aodv", "dsdv"])
@pytest.mark.parametrize("profile,propagation", RADIOS)
@pytest.mark.parametrize("seed", [1, 2])
def test_mobile_radio_runs_conserve_packets(protocol, profile, propagation, seed):
    sim = make_sim("default", f"protocol.name={protocol}", f"radio.profile={profile}",
                   f"radio.propagation={propagation}", "mobility.model=random-walk",
                   "nodes.count=20", "traffic.kind=poisson", f"scenario.seed={seed}",
                   "scenario.duration=15")
    assert_conserved(sim.run())


def static_sim(positions, pairs, protocol="flooding", propagation="unit-disk", **radio):
    n = len(positions)
    sim = Simulation(scenario_from_dict({
        "scenario": {"name": "conservation", "duration": 5, "seed": 1},
        "area": {"width": 1000, "height": 1000},
        "nodes": {"count": n, "placement": "line", "spacing": 1},
        "radio": {"profile": "wavelan", "propagation": propagation, **radio},
        "mobility": {"model": "static"},
        "protocol": {"name": protocol},
        "traffic": [{"kind": "cbr", "pairs": [[s + 1, d + 1] for s, d in pairs], "rate": 2,
                     "size": 64, "start": 1, "jitter": 0}],
    }))
    for i, (x, y) in enumerate(positions):
        sim.move(i, x, y)
    return sim


def test_a_flood_that_dies_out_is_a_duplicate_drop():
    # n1 and n2 hear each other; n3 is out of reach: each flood ends when n1 hears n2's copy
    sim = static_sim([(0, 0), (100, 0), (900, 900)], [(0, 2)], range=250)
    result = sim.run()
    assert_conserved(result)
    assert result["delivered"] == 0
    assert result["drops"] == {"duplicate": result["sent"]}


def test_a_delivered_flood_leaves_no_drop():
    sim = static_sim([(0, 0), (100, 0), (200, 0)], [(0, 2)], range=150)
    result = sim.run()
    assert_conserved(result)
    assert result["delivered"] == result["sent"] and result["drops"] == {}


def test_a_node_dying_with_a_frame_on_the_unit_disk_air_drops_it():
    sim = static_sim([(0, 0), (100, 0)], [(0, 1)], range=250, bitrate=2000)
    sim.run_until(1.01)  # n1's first frame (92 bytes at 2 kbit/s) is on the air
    assert sim.nodes[0].mac.busy
    sim.kill(0)
    result = sim.run()
    assert_conserved(result)
    assert result["queued"] == 0 and result["drops"] == {"node_dead": result["sent"]}


def test_a_receiver_dying_during_its_ack_does_not_stall_the_sender():
    sim = radio_sim([(0, 0), (20, 0), (0, 20)], pairs=[(0, 1), (0, 2)], rate=20, duration=10)
    ch = sim.channel
    t = 0.6
    while not (ch.transmitting[1] is not None and ch.transmitting[1].dst == 0):
        t += 1e-4
        sim.run_until(t)  # until n2 sends an ACK to n1
    sim.kill(1)
    result = sim.run()
    assert_conserved(result)
    assert result["queued"] == 0 and "queue_full" not in result["drops"]
    flow_to_n3 = sim.world.flows[1].id
    assert sim.metrics.per_flow_delivered[flow_to_n3] > 0.9 * sim.metrics.per_flow_sent[flow_to_n3]
