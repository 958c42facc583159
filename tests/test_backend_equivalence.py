"""Both backends run the same radio medium (``meshnet/medium``): the same links and error rates
at the same seed, the same per-frame transmit power and the same energy per frame.

The netns half needs root and real namespaces (``MESHNET_REQUIRE_NETNS=1`` makes a skip fail).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from meshnet.protocol_api import Protocol
from meshnet.scenario import load_scenario, scenario_from_dict
from meshnet.sim import Simulation
from tests.netns_support import mn_namespaces, netns_skip_reason

needs_netns = pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))

SCENARIOS = [("zigbee-home", []), ("zwave-home", []),
             ("broch", ["nodes.count=30", "mobility.model=static"])]  # WaveLAN, two-ray


class PowerProbe(Protocol):
    """Sends nothing by itself; records what it hears."""

    name = "power-probe"
    port = 6999

    def start(self) -> None:
        self.heard: list[bytes] = []

    def on_control(self, src: str, payload: bytes) -> None:
        self.heard.append(payload)


def _probe_line() -> dict:
    """Three ZigBee nodes 10 m apart outdoors, no shadowing: at 0 dBm everyone hears everyone
    (range ~158 m); at -25 dBm the range is ~16 m, so node 3 (20 m) no longer hears node 1."""
    return {"scenario": {"name": "power", "duration": 5.0, "seed": 3},
            "area": {"width": 100, "height": 100},
            "nodes": {"count": 3, "placement": "line", "spacing": 10.0},
            "radio": {"profile": "zigbee", "propagation": "outdoor", "sigma": 0.0},
            "mobility": {"model": "static"}, "protocol": {"name": "none"}}


@dataclass
class Sent:
    heard_by: list[bool]
    tx_energy_j: float


# --------------------------------------------------------------------------- simulator
def _sim_probe() -> Simulation:
    from meshnet.world import build_world

    world = build_world(scenario_from_dict(_probe_line()))
    world.protocol_cls, world.protocol_params = PowerProbe, PowerProbe.Params()
    sim = Simulation(world)
    sim.run_until(0.1)
    return sim


def _sim_send(sim: Simulation, payload: bytes, power: float | None) -> Sent:
    sender = sim.nodes[0]
    before = sim.channel.extra_j[0]
    sender.broadcast(payload, tx_power_dbm=power)
    sim.run_until(sim.now + 0.2)
    return Sent([payload in n.protocol.heard for n in sim.nodes[1:]],
                sim.channel.extra_j[0] - before)


def test_sim_lower_power_reaches_the_near_node_only_and_costs_less():
    sim = _sim_probe()
    full, low = _sim_send(sim, b"full", None), _sim_send(sim, b"lowp", -25.0)
    assert full.heard_by == [True, True]
    assert low.heard_by == [True, False]
    p = sim.world.profile
    airtime = sum(p.airtime(psdu) for psdu in p.fragments(4 + 28))
    idle_w = p.current_a("idle") * p.voltage
    for sent, dbm in ((full, 0.0), (low, -25.0)):
        assert sent.tx_energy_j == pytest.approx(
            airtime * (p.current_a("tx", dbm) * p.voltage - idle_w), rel=1e-9)
    assert low.tx_energy_j < 0.5 * full.tx_energy_j  # CC2420: 8.5 mA vs 17.4 mA


def test_a_power_outside_the_radio_range_is_refused():
    sim = _sim_probe()
    with pytest.raises(ValueError, match="outside"):
        sim.nodes[0].broadcast(b"x", tx_power_dbm=10.0)


def test_per_neighbour_power_applies_to_data_frames():
    sim = _sim_probe()
    sim.nodes[0].set_link_power(sim.nodes[2].address, -25.0)
    sim.nodes[0].routes.add(sim.nodes[2].address, sim.nodes[2].address)
    from meshnet.protocol_api import Packet
    sim.nodes[0].originate(Packet(999_999, sim.nodes[0].address, sim.nodes[2].address, 20,
                                  sim.now))
    result = sim.run()
    assert result["delivered"] == 0  # node 3 is beyond the -25 dBm range
    assert result["drops"] == {"mac_retries": 1}


# --------------------------------------------------------------------------- both backends
@needs_netns
@pytest.mark.netns
@pytest.mark.parametrize("name,overrides", SCENARIOS, ids=[s for s, _ in SCENARIOS])
def test_netns_medium_has_the_simulators_links_and_error_rates(name, overrides):
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    sc = load_scenario(name, overrides + ["protocol.name=none"])
    expected = Simulation(sc).channel.links(0.0)
    plan = Plan.from_scenario(load_scenario(name, overrides + ["protocol.name=none"]))
    with Emulation(plan, name="teq") as emu:
        medium = emu.runtime.channel.medium
        got = emu._call(lambda: medium.links(0.0))
        assert type(medium) is type(Simulation(sc).channel)
    assert len(expected) > 2 * plan.n
    assert got.keys() == expected.keys()
    assert all(got[k] == expected[k] for k in expected)
    assert [n for n in mn_namespaces() if n.startswith("mn-teq")] == []


@needs_netns
@pytest.mark.netns
def test_netns_lower_power_reaches_the_near_node_only_and_costs_the_same_energy():
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    sim = _sim_probe()
    expected = {p: _sim_send(sim, b"e%g" % (p or 0), p) for p in (None, -25.0)}
    plan = Plan.from_scenario(scenario_from_dict(_probe_line()))
    plan.protocol_cls, plan.protocol_params = PowerProbe, PowerProbe.Params()
    with Emulation(plan, name="tpow") as emu:
        rt = emu.runtime
        time.sleep(2.0)  # the kernels' IPv6 link-local start-up chatter (MLD) is over by then
        for power, want in expected.items():
            payload = b"n%g" % (power or 0)
            before = emu._call(lambda: rt.channel.medium.extra_j[0])
            emu._call(rt.agents[0].broadcast, payload, power)
            time.sleep(0.3)
            heard = emu._call(lambda: [payload in a.protocol.heard for a in rt.agents[1:]])
            spent = emu._call(lambda: rt.channel.medium.extra_j[0]) - before
            assert heard == want.heard_by, power
            assert spent == pytest.approx(want.tx_energy_j, rel=1e-6), power
    assert [n for n in mn_namespaces() if n.startswith("mn-tpow")] == []


class RssiProbe(PowerProbe):
    name = "rssi-probe"

    def start(self) -> None:
        super().start()
        self.rssi: dict[bytes, float | None] = {}

    def on_control(self, src: str, payload: bytes) -> None:
        super().on_control(src, payload)
        self.rssi[payload] = self.ctx.rx_power_dbm


def _expected_rssi(power: float, distance: float) -> float:
    from meshnet.radio import get_profile, make_propagation

    p = get_profile("zigbee")
    return make_propagation("outdoor", p, sigma_db=0.0).rx_power_dbm(power, distance)


def test_sim_reports_the_received_power_of_each_control_frame():
    from meshnet.world import build_world

    world = build_world(scenario_from_dict(_probe_line()))
    world.protocol_cls, world.protocol_params = RssiProbe, RssiProbe.Params()
    sim = Simulation(world)
    sim.run_until(0.1)
    sim.nodes[0].broadcast(b"r0")
    sim.nodes[0].broadcast(b"r25", tx_power_dbm=-25.0)
    sim.run_until(0.5)
    assert sim.nodes[1].protocol.rssi[b"r0"] == pytest.approx(_expected_rssi(0.0, 10.0))
    assert sim.nodes[2].protocol.rssi[b"r0"] == pytest.approx(_expected_rssi(0.0, 20.0))
    assert sim.nodes[1].protocol.rssi[b"r25"] == pytest.approx(_expected_rssi(-25.0, 10.0))


@needs_netns
@pytest.mark.netns
def test_netns_reports_the_same_received_power():
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    plan = Plan.from_scenario(scenario_from_dict(_probe_line()))
    plan.protocol_cls, plan.protocol_params = RssiProbe, RssiProbe.Params()
    with Emulation(plan, name="trssi") as emu:
        rt = emu.runtime
        time.sleep(0.3)
        emu._call(rt.agents[0].broadcast, b"r0", None)
        emu._call(rt.agents[0].broadcast, b"r25", -25.0)
        time.sleep(0.5)
        got = emu._call(lambda: [dict(a.protocol.rssi) for a in rt.agents])
    assert got[1][b"r0"] == pytest.approx(_expected_rssi(0.0, 10.0))
    assert got[2][b"r0"] == pytest.approx(_expected_rssi(0.0, 20.0))
    assert got[1][b"r25"] == pytest.approx(_expected_rssi(-25.0, 10.0))


def _battery_line() -> dict:
    raw = _probe_line()
    raw["nodes"]["battery_j"] = 0.004  # CC2420 idle (1.28 mW): empty after ~3.1 s
    return raw


def test_sim_batteries_run_out_at_the_idle_drain_time():
    from meshnet.radio import get_profile

    p = get_profile("zigbee")
    expected = 0.004 / (p.current_a("idle") * p.voltage)
    result = Simulation(scenario_from_dict(_battery_line())).run()
    assert result["first_death_s"] == pytest.approx(expected, rel=1e-6)
    assert result["dead_nodes"] == 3


@needs_netns
@pytest.mark.netns
def test_netns_batteries_drain_and_run_out_like_the_simulators():
    """The kernels' IPv6 start-up frames (MLD, over within ~2 s) cost receive energy the
    simulator's idle run does not have, so compare the drain once they are over, then the end:
    every node dies of its battery, having drawn exactly its capacity."""
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan
    from meshnet.radio import get_profile

    p = get_profile("zigbee")
    idle_w = p.current_a("idle") * p.voltage
    raw = _battery_line()
    raw["nodes"]["battery_j"] = 0.008  # dead by ~5 s on netns, ~6.3 s idle-only
    plan = Plan.from_scenario(scenario_from_dict(raw))
    with Emulation(plan, name="tbat") as emu:
        ch = emu.runtime.channel
        time.sleep(2.2)
        t1, e1 = emu._call(lambda: (ch.sched.wall(), ch.energy_j()))
        time.sleep(0.8)
        t2, e2 = emu._call(lambda: (ch.sched.wall(), ch.energy_j()))
        time.sleep(4.5)
        deaths = [f for _t, _node, kind, f in list(emu.events) if kind == "node_died"]
        total = emu._call(ch.energy_j)
    assert (e2 - e1) == pytest.approx(3 * idle_w * (t2 - t1), rel=0.02)
    assert len(deaths) == 3 and all(f["reason"] == "battery" for f in deaths)
    assert total == pytest.approx(3 * 0.008, rel=1e-6)  # every battery drained, no more


@pytest.mark.parametrize("shadowing", ["link", "frame"])
def test_asking_for_the_links_never_changes_a_run(shadowing):
    over = ["scenario.duration=20", f"radio.shadowing={shadowing}"]
    quiet = Simulation(load_scenario("zigbee-home", over)).run()
    watched = Simulation(load_scenario("zigbee-home", over))
    for t in (0.3, 1.7, 4.1, 9.9, 15.2):
        watched.run_until(t)
        watched.channel.links(watched.now)
    result = watched.run()
    for key in ("sent", "delivered", "control_packets", "drops", "energy_j", "events"):
        assert result[key] == quiet[key], key
