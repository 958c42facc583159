"""Traffic: CBR spacing is exact, Poisson gaps are exponential with the right mean, pairs are
resolved by number or name, random pairs never send to themselves and depend only on the seed."""

import random
import statistics

import pytest

from meshnet.scenario import ScenarioError, scenario_from_dict
from meshnet.sim import Simulation
from meshnet.traffic import build_flows

NAMES = [f"n{i + 1}" for i in range(10)]


def flows(traffic, seed=1):
    sc = scenario_from_dict({"scenario": {"seed": seed}, "nodes": {"count": 10},
                             "traffic": traffic})
    return build_flows(sc, NAMES)


def test_cbr_gaps_are_exact_and_poisson_gaps_exponential():
    cbr, poisson = flows([{"pairs": [[1, 2]], "rate": 8}, {"kind": "poisson", "pairs": [[3, 4]],
                                                            "rate": 8}])
    rng = random.Random(3)
    assert {cbr.next_gap(rng) for _ in range(100)} == {0.125}
    gaps = [poisson.next_gap(rng) for _ in range(20000)]
    assert statistics.mean(gaps) == pytest.approx(0.125, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(0.125, rel=0.05)  # exponential: sd = mean


def test_pairs_by_number_or_name_and_random_pairs_are_distinct():
    fs = flows([{"pairs": [[1, 10], ["n3", "n7"]], "flows": 50}])
    assert (fs[0].src, fs[0].dst) == (0, 9) and (fs[1].src, fs[1].dst) == (2, 6)
    assert all(f.src != f.dst for f in fs)
    assert [(f.src, f.dst) for f in fs] == [(f.src, f.dst) for f in flows(
        [{"pairs": [[1, 10], ["n3", "n7"]], "flows": 50}])]
    assert [(f.src, f.dst) for f in fs] != [(f.src, f.dst) for f in flows(
        [{"pairs": [[1, 10], ["n3", "n7"]], "flows": 50}], seed=2)]


@pytest.mark.parametrize("pair, words", [([0, 2], "node number 0"), ([1, 11], "node number 11"),
                                         (["n1", "x"], "unknown node 'x'"),
                                         ([4, 4], "sends to itself")])
def test_bad_pairs_are_clear_errors(pair, words):
    with pytest.raises(ScenarioError, match=words):
        flows([{"pairs": [pair]}])


def test_poisson_run_generates_the_expected_number_of_packets():
    sc = scenario_from_dict({"scenario": {"duration": 200}, "nodes": {"count": 2,
                             "placement": "line", "spacing": 50}, "area": {"width": 100},
                             "radio": {"propagation": "unit-disk"}, "protocol": {"name": "flooding"},
                             "traffic": [{"kind": "poisson", "pairs": [[1, 2]], "rate": 10,
                                          "jitter": 0}]})
    r = Simulation(sc).run()
    assert r["sent"] == pytest.approx(2000, rel=0.1)
    assert r["delivered"] == r["sent"]
