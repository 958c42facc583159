"""The medium's link sampling and its spatial grid: the all-pairs arithmetic finds exactly the
links the per-node queries find, and looking at the run never changes it."""

from __future__ import annotations

import pytest

from meshnet.medium.base import Channel
from meshnet.medium.spatial import SpatialGrid
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation

BROCH = ["scenario.duration=20", "traffic.0.jitter=0"]


def per_node_pairs(channel, t: float) -> set[tuple[int, int]]:
    """The definition: every node's neighbours, one grid query per node."""
    return Channel.neighbour_pairs(channel, t)


@pytest.mark.parametrize("overrides", [
    [],                                      # 50 nodes moving, two-ray
    ["nodes.count=300"],                     # more than one block of rows
    ["radio.sigma=6", "radio.shadowing=link"],  # shadowing does not enter: median power
])
def test_all_pairs_equal_the_per_node_neighbours(overrides):
    sim = Simulation(load_scenario("broch", BROCH + overrides))
    channel = sim.channel
    sim.nodes[3].alive = False  # a dead node has no links either way
    channel.cut(1, 2)
    checked = 0
    for t in (0.0, 0.4, 2.5, 4.99):
        sim.run_until(t)
        got = channel.neighbour_pairs(t)
        assert got == per_node_pairs(channel, t)
        assert all(i < j for i, j in got)
        assert not any(3 in pair for pair in got)
        assert (1, 2) not in got
        checked += len(got)
    assert checked > 100  # the scenario has links to compare


def test_when_the_grid_is_asked_does_not_change_its_answers():
    """A query made only to look (a UI, a probe) must not change the order in which the grid
    lists candidates, which is the order receivers hear a frame: the grid places nodes where
    they are at the start of its refresh period, whoever asks and when."""
    def positions(i: int, t: float) -> tuple[float, float]:
        # node 1 crosses from cell 0 into cell 1 (x = 200) at t = 1.5; node 0 sits in cell 1
        return (210.0, 0.0) if i == 0 else (125.0 + 50.0 * t, 0.0)

    def asked_at(*times: float) -> list[int]:
        grid = SpatialGrid(reach=100.0, max_speed=50.0, refresh=1.0)  # cells of 200 m
        for t in times:
            got = grid.candidates(10.0, 0.0, t, positions, 2)
        return got

    assert asked_at(0.0, 1.2, 1.7) == asked_at(0.0, 0.6, 1.7) == asked_at(1.7) == [1, 0]
    assert asked_at(2.0) == [0, 1]  # the next period: node 1 has crossed


def test_a_static_network_keeps_its_links_until_something_changes():
    """Nothing moves in `line`, so the links are kept between samples; every change that can
    alter them (death, revival, a cut link, a node moved by hand) is seen at once."""
    sim = Simulation(load_scenario("line", ["scenario.duration=10"]))
    channel = sim.channel
    sim.run_until(1.0)
    chain = channel.neighbour_pairs(1.0)
    assert (0, 1) in chain and chain == per_node_pairs(channel, 1.0)

    def check(t: float) -> set[tuple[int, int]]:
        sim.run_until(t)
        got = channel.neighbour_pairs(t)
        assert got == per_node_pairs(channel, t)
        return got

    sim.kill(1)
    assert not any(1 in pair for pair in check(2.0))
    sim.revive(1)
    assert check(3.0) == chain
    channel.cut(0, 1)
    assert (0, 1) not in check(4.0)
    channel.restore(0, 1)
    assert check(5.0) == chain
    x, y = sim.position(9, 5.0)
    sim.move(9, x + 10_000.0, y)  # far out of everyone's range
    assert not any(9 in pair for pair in check(6.0))
