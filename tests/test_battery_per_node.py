"""``nodes.battery_j`` as a list: one capacity per node (0 = no battery), validated by the scenario
loader and applied by the radio medium."""

from __future__ import annotations

import pytest

from meshnet.scenario import ScenarioError, load_scenario, scenario_from_dict
from meshnet.sim import Simulation

IDLE_W = 426e-6 * 3.0  # CC2420 idle current at 3 V


def far_apart(battery_j, count=3, **extra) -> dict:
    """Silent ZigBee nodes out of each other's reach: each only idles."""
    return {"scenario": {"name": "batteries", "duration": 40.0, "seed": 1},
            "area": {"width": 5000, "height": 100},
            "nodes": {"count": count, "placement": "line", "spacing": 1000,
                      "battery_j": battery_j},
            "radio": {"profile": "zigbee", "propagation": "outdoor", "sigma": 0.0, **extra},
            "mobility": {"model": "static"}, "protocol": {"name": "none"}}


def test_each_node_gets_its_own_capacity_and_dies_when_it_is_spent():
    sim = Simulation(scenario_from_dict(far_apart([0.01, 0.02, 0])))
    deaths: list[tuple[float, str]] = []
    sim.bus.subscribe(lambda t, k, f: deaths.append((t, f["node"])), ("node_died",))
    sim.run_until(1.0)
    assert sim.battery_fraction(0) == pytest.approx(1 - IDLE_W / 0.01, rel=1e-9)
    assert sim.battery_fraction(1) == pytest.approx(1 - IDLE_W / 0.02, rel=1e-9)
    assert sim.battery_fraction(2) == 1.0  # no battery: never drains as a fraction
    result = sim.run()
    assert [n for _, n in deaths] == ["n1", "n2"]
    assert deaths[0][0] == pytest.approx(0.01 / IDLE_W, rel=1e-9)
    assert deaths[1][0] == pytest.approx(0.02 / IDLE_W, rel=1e-9)
    assert result["first_death_s"] == pytest.approx(0.01 / IDLE_W, rel=1e-9)
    assert result["energy_j"] == pytest.approx(0.03 + IDLE_W * 40.0, rel=1e-9)


def test_a_list_of_equal_capacities_runs_as_the_single_number():
    runs = [Simulation(scenario_from_dict(far_apart(b))).run() for b in (0.02, [0.02] * 3)]
    for key in ("first_death_s", "half_death_s", "energy_j", "dead_nodes"):
        assert runs[0][key] == runs[1][key]


def test_a_list_can_be_set_from_the_command_line():
    sc = load_scenario("zigbee-home", ["nodes.count=3", "traffic.pairs=[[1, 2]]",
                                       "nodes.battery_j=[1, 2.5, 0]"])
    assert sc.nodes.battery_j == [1, 2.5, 0]
    assert sc.to_dict()["nodes"]["battery_j"] == [1, 2.5, 0]


@pytest.mark.parametrize("value, words", [
    ([1.0, 2.0], ["nodes.battery_j lists 2 capacities", "nodes.count = 3"]),
    ([1.0, -2.0, 1.0], ["nodes.battery_j", "list of them"]),
    ([1.0, "x", 1.0], ["nodes.battery_j"]),
    ([1.0, True, 1.0], ["nodes.battery_j"]),
    ([1.0, float("inf"), 1.0], ["nodes.battery_j"]),
    ("2", ["nodes.battery_j = '2'"]),
])
def test_bad_lists_are_scenario_errors(value, words):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(far_apart(value))
    for word in words:
        assert word in str(err.value)


def test_a_battery_in_a_list_needs_a_radio_model():
    raw = far_apart([0, 1, 0])
    raw["radio"] = {"propagation": "unit-disk"}
    with pytest.raises(ScenarioError, match="nodes.battery_j needs a radio propagation model"):
        scenario_from_dict(raw)
    raw["nodes"]["battery_j"] = [0, 0, 0]
    scenario_from_dict(raw)  # no battery anywhere: fine on the unit disk
