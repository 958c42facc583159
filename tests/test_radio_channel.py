"""Behaviour of the simulator's radio channel (meshnet/sim/radio_channel.py): saturation against
an analytical bound, hidden terminals, derived range, energy and batteries, fragmentation,
link-layer feedback to AODV, determinism. No timing assertions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from meshnet.scenario import scenario_from_dict
from meshnet.sim import Simulation
from meshnet.medium import RadioChannel

from .simhelpers import assert_conserved

IP_UDP = 28  # the simulator puts IPv4 + UDP headers on every payload


def radio_sim(positions, *, profile="zigbee", propagation="outdoor", pairs=(), rate=4.0,
              size=72, duration=10.0, protocol="none", sigma=0.0, battery_j=0.0, start=0.5,
              seed=1, extra_protocol=None, mac=True):
    """A static scenario with nodes at ``positions`` (placed with a one-row 'line' and then
    moved), CBR flows over ``pairs`` (0-based) and static one-hop routes for them."""
    n = len(positions)
    raw = {
        "scenario": {"name": "radio-test", "duration": duration, "seed": seed},
        "area": {"width": 5000, "height": 5000},
        "nodes": {"count": n, "placement": "line", "spacing": 1, "battery_j": battery_j},
        "radio": {"profile": profile, "propagation": propagation, "mac": mac},
        "mobility": {"model": "static"},
        "protocol": {"name": protocol, **(extra_protocol or {})},
        "traffic": [{"kind": "cbr", "pairs": [[s + 1, d + 1] for s, d in pairs], "rate": rate,
                     "size": size, "start": start, "jitter": 0}] if pairs else [],
    }
    if propagation not in ("two-ray", "friis", "unit-disk"):
        raw["radio"]["sigma"] = sigma
    sim = Simulation(scenario_from_dict(raw))
    for i, (x, y) in enumerate(positions):
        sim.move(i, x, y)
    if protocol == "none":
        for s, d in pairs:
            dst = sim.nodes[d].address
            sim.nodes[s].routes.add(dst, dst, 1)
    assert isinstance(sim.channel, RadioChannel)
    return sim


def delivered_bytes(sim, result):
    return result["delivered"] * sim.world.flows[0].size


# --- saturation -------------------------------------------------------------------------------

def csma_bound_bps(profile, ip_bytes):
    """Goodput of one saturated 802.15.4 sender with no contention (cf. Latre et al., "Maximum
    throughput of IEEE 802.15.4", 2005): every packet costs the mean initial backoff
    ((2^minBE - 1) / 2 unit periods), one CCA, the RX-to-TX turnaround, the frame, the ACK after
    aTurnaroundTime, and the inter-frame space (LIFS above aMaxSIFSFrameSize)."""
    psdu = ip_bytes + profile.mac_header_bytes
    backoff = (2 ** profile.min_be - 1) / 2 * profile.backoff_unit_s
    ifs = profile.lifs_s if psdu > profile.max_sifs_frame_bytes else profile.sifs_s
    per_packet = (backoff + profile.cca_s + profile.turnaround_s + profile.airtime(psdu)
                  + profile.turnaround_s + profile.airtime(profile.ack_bytes) + ifs)
    return ip_bytes * 8 / per_packet


def test_saturated_zigbee_hop_is_below_250kbps_and_near_the_csma_bound():
    ip_bytes = 100
    sim = radio_sim([(0, 0), (20, 0)], pairs=[(0, 1)], rate=400, size=ip_bytes - IP_UDP,
                    duration=20.5)
    result = sim.run()
    assert_conserved(result)
    goodput = result["delivered"] * ip_bytes * 8 / 20.0
    bound = csma_bound_bps(sim.world.profile, ip_bytes)
    assert goodput < 250e3
    assert bound < 250e3
    assert abs(goodput - bound) / bound < 0.10, (goodput, bound)
    assert result["drops"].get("queue_full", 0) > 0  # the queue really was saturated
    assert sim.channel.stats()["rx_lost_collision"] == 0


# --- hidden terminals -------------------------------------------------------------------------

def test_hidden_senders_lose_frames_to_collisions():
    sim = radio_sim([(0, 0), (100, 0), (200, 0)], pairs=[(0, 1), (2, 1)], rate=40,
                    size=72, duration=20)
    ch = sim.channel
    p = sim.world.propagation
    prof = sim.world.profile
    # both senders reach the receiver, and cannot hear each other's carrier
    assert p.rx_power_dbm(0.0, 100) >= prof.sensitivity_dbm
    assert p.rx_power_dbm(0.0, 200) < prof.cs_threshold_dbm
    result = sim.run()
    assert_conserved(result)
    stats = ch.stats()
    assert stats["rx_lost_collision"] > 0
    assert stats["retransmissions"] > 0
    assert result["delivered"] < result["sent"]


def test_senders_that_hear_each_other_rarely_collide():
    sim = radio_sim([(0, 0), (20, 0), (40, 0)], pairs=[(0, 1), (2, 1)], rate=10,
                    size=72, duration=20)
    hidden = radio_sim([(0, 0), (100, 0), (200, 0)], pairs=[(0, 1), (2, 1)], rate=10,
                       size=72, duration=20)
    sim.run()
    hidden.run()
    assert sim.channel.stats()["rx_lost_collision"] < hidden.channel.stats()["rx_lost_collision"]


# --- range ------------------------------------------------------------------------------------

def test_moving_the_receiver_past_the_derived_range_drops_pdr_to_zero():
    sim = radio_sim([(0, 0), (50, 0)], pairs=[(0, 1)], rate=10, duration=20)
    rng = sim.world.propagation.range_m(0.0, sim.world.profile.sensitivity_dbm)
    sim.run_until(10.0)
    before = sim.metrics.result(set(sim.live), sim.n)
    assert before["delivered"] >= before["sent"] - 1 > 0  # one may still be on the air
    sim.move(1, rng * 1.01, 0)
    sim.run_until(10.5)  # let the frame on the air finish
    mid = sim.metrics.result(set(sim.live), sim.n)["delivered"]
    result = sim.run()
    assert result["delivered"] == mid
    assert result["drops"].get("mac_retries", 0) > 0


@pytest.mark.parametrize("distance, linked", [(240, True), (260, False)])
def test_wavelan_two_ray_link_exists_at_240_not_260(distance, linked):
    sim = radio_sim([(0, 0), (distance, 0)], profile="wavelan", propagation="two-ray",
                    pairs=[(0, 1)], rate=10, duration=5)
    assert (1 in sim.channel.neighbours(0, 0.0)) is linked
    assert (sim.channel.link_quality(0, 1, 0.0) > 0.99) is linked
    result = sim.run()
    assert (result["delivered"] >= result["sent"] - 1 > 0) is linked  # one may be on the air
    if not linked:
        assert result["delivered"] == 0


# --- energy -----------------------------------------------------------------------------------

def test_idle_energy_and_a_tiny_battery_kills_at_the_computed_time():
    prof_idle_w = 426e-6 * 3.0  # CC2420 idle current at 3 V
    battery = 0.01
    sim = radio_sim([(0, 0), (5000, 0)], battery_j=battery, duration=30)
    sim.run_until(1.0)
    assert sim.channel.energy_j(0) == pytest.approx(prof_idle_w * 1.0, rel=1e-12)
    assert sim.battery_fraction(0) == pytest.approx(1 - prof_idle_w / battery, rel=1e-9)
    result = sim.run()
    assert result["first_death_s"] == pytest.approx(battery / prof_idle_w, rel=1e-9)
    assert result["dead_nodes"] == 2
    assert result["energy_j"] == pytest.approx(2 * battery, rel=1e-9)


def test_transmitting_drains_more_and_dies_first():
    sim = radio_sim([(0, 0), (20, 0), (4000, 0)], pairs=[(0, 1)], rate=100, battery_j=0.02,
                    duration=30)
    deaths = []
    sim.bus.subscribe(lambda t, k, f: deaths.append((t, f["node"], f["reason"])), ("node_died",))
    sim.run_until(0.9)
    ch = sim.channel
    assert ch.energy_j(0) > ch.energy_j(2) and ch.energy_j(1) > ch.energy_j(2)
    result = sim.run()
    assert deaths[0][1] in ("n1", "n2") and deaths[0][2] == "battery"
    assert result["first_death_s"] < 0.02 / (426e-6 * 3.0)
    assert_conserved(result)


# --- fragmentation ----------------------------------------------------------------------------

def test_a_300_byte_packet_is_fragmented_and_delivered():
    sim = radio_sim([(0, 0), (20, 0)], pairs=[(0, 1)], rate=2, size=300 - IP_UDP, duration=5)
    frags = sim.world.profile.fragments(300)
    assert len(frags) > 1 and max(frags) <= 127
    result = sim.run()
    assert result["pdr"] == 1.0
    assert sim.channel.stats()["frames"] == result["sent"] * len(frags) * 2  # frames + ACKs


@pytest.mark.parametrize("broadcast", [False, True])
def test_losing_one_fragment_loses_the_packet(broadcast):
    sim = radio_sim([(0, 0), (20, 0)], pairs=[(0, 1)], rate=2, size=300 - IP_UDP, duration=5)
    frags = sim.world.profile.fragments(300)
    last = frags[-1]
    assert frags.count(last) == 1
    ch = sim.channel
    fer = ch._fer
    ch._fer = lambda sinr_db, psdu: 1.0 if psdu == last else fer(sinr_db, psdu)
    if broadcast:
        sim.nodes[0].routes.add(sim.nodes[1].address, "255.255.255.255", 1)
    got = []
    orig = sim.nodes[1].on_frame
    sim.nodes[1].on_frame = lambda frame: (got.append(frame), orig(frame))
    result = sim.run()
    assert result["delivered"] == 0 and got == []
    assert result["dropped"] == result["sent"] > 0
    assert set(result["drops"]) == ({"collision", "out_of_range"} & set(result["drops"])
                                    if broadcast else {"mac_retries"})
    retries = sim.world.profile.max_frame_retries
    per_packet = len(frags) if broadcast else len(frags) + retries
    assert ch.stats()["frames"] - ch.stats()["acks"] == result["sent"] * per_packet


# --- link-layer feedback ----------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["zigbee", "wavelan"])
def test_retries_after_lost_acks_reach_the_receiver_once(profile):
    """Every ACK is lost (the receiver-to-sender direction is cut): the sender retries the
    whole retry budget, the receiver decodes every copy but hands the packet up once, and the
    sender counts it delivered. The receiver keeps sequence numbers, not the frames."""
    propagation = "two-ray" if profile == "wavelan" else "outdoor"
    sim = radio_sim([(0, 0), (20, 0)], profile=profile, propagation=propagation,
                    pairs=[(0, 1)], rate=2, size=50, duration=5)
    sim.channel.blocked.add((1, 0))
    got = []
    orig = sim.nodes[1].on_frame
    sim.nodes[1].on_frame = lambda frame: (got.append(frame), orig(frame))
    result = sim.run()
    assert result["sent"] > 0 and result["pdr"] == 1.0 and result["duplicates"] == 0
    assert len(got) == len({id(f) for f in got}) == result["delivered"]
    mac = sim.channel.macs[0]
    stats = sim.channel.stats()
    attempts = mac.max_retries + 1
    assert stats["frames"] - stats["acks"] == result["sent"] * attempts
    assert stats["acks"] == result["sent"] * attempts  # sent, never heard
    assert all(isinstance(seq, int) and isinstance(k, int)
               for seq, k in sim.channel.macs[1].last_rx.values())


def test_aodv_link_layer_feedback_when_the_next_hop_moves_away():
    sim = radio_sim([(0, 0), (50, 0)], pairs=[(0, 1)], rate=10, duration=10, protocol="aodv",
                    extra_protocol={"link_detection": "link-layer"})
    calls = []
    proto = sim.nodes[0].protocol
    orig = proto.on_link_failure

    def spy(next_hop, packet):
        calls.append((sim.now, next_hop))
        return orig(next_hop, packet)

    proto.on_link_failure = spy
    sim.run_until(4.0)
    assert calls == []
    sim.move(1, 2000, 0)
    sim.run()
    assert calls and calls[0][1] == sim.nodes[1].address
    assert calls[0][0] > 4.0


# --- ideal MAC, scenarios, determinism -------------------------------------------------------

def test_ideal_mac_has_no_collisions():
    sim = radio_sim([(0, 0), (100, 0), (200, 0)], pairs=[(0, 1), (2, 1)], rate=40,
                    duration=10, mac=False)
    result = sim.run()
    assert sim.channel.stats()["rx_lost_collision"] == 0
    assert sim.channel.stats()["retransmissions"] == 0
    assert result["pdr"] > 0.99


@pytest.mark.parametrize("profile", ["zwave-r2", "zigbee-868", "wavelan"])
def test_other_profiles_deliver_over_one_hop(profile):
    sim = radio_sim([(0, 0), (10, 0)], profile=profile, propagation="indoor",
                    pairs=[(0, 1)], rate=2, size=20, duration=5)
    result = sim.run()
    assert result["pdr"] == 1.0
    assert result["energy_j"] > 0


@pytest.mark.parametrize("name", ["zigbee-home", "zwave-home"])
def test_example_scenarios_run(name):
    from meshnet.scenario import load_scenario
    sim = Simulation(load_scenario(name, ["scenario.duration=30"]))
    result = sim.run()
    assert_conserved(result)
    assert result["delivered"] > 0


def test_same_seed_gives_a_byte_identical_trace(tmp_path):
    outs = []
    for k in range(2):
        f = tmp_path / f"t{k}.jsonl"
        p = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "zigbee-home",
                            "--set", "scenario.duration=20", "--json", "--trace", str(f)],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        outs.append(f.read_bytes())
    assert outs[0] == outs[1] and len(outs[0]) > 1000
