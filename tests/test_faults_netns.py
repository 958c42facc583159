"""Scenario faults on the netns backend: the same schedule as on the simulator (same actions at
the same scenario times), traffic lost during a crash and a blackout and delivered after, and
every namespace of the run removed."""

from __future__ import annotations

import time

import pytest

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from tests.netns_support import mn_namespaces, netns_skip_reason

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

DURATION = 16.0
# n1 - n2 - n3 - n4, 200 m apart (unit disk, 250 m): every hop forced; a flow n1 -> n4
OVERRIDES = [
    "nodes.count=4", "area.width=800", f"scenario.duration={DURATION}", "traffic.0.pairs=[[1, 4]]",
    "traffic.0.rate=10",
    'faults.0.kind="crash"', "faults.0.nodes=[2]", "faults.0.at=4", "faults.0.recover_at=8",
    'faults.1.kind="blackout"', "faults.1.links=[[3, 4]]", "faults.1.at=11", "faults.1.until=13",
]
EXPECTED_LOG = [(4.0, "kill", ("n2",)), (8.0, "revive", ("n2",)), (11.0, "cut", ("n3", "n4")),
                (13.0, "restore", ("n3", "n4"))]


@pytest.fixture(autouse=True)
def no_leftovers():
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-tfault")] == []


def test_the_same_fault_schedule_runs_on_both_backends_and_traffic_recovers():
    from meshnet.netns.emulation import Emulation

    sc = load_scenario("line", OVERRIDES)
    sim = Simulation(sc)
    sim.run()
    assert sim.faults.log == EXPECTED_LOG

    seen: list[tuple[float, str, dict]] = []
    with Emulation(sc, name="tfault") as emu:
        emu.bus.subscribe(lambda t, kind, f: seen.append((t, kind, dict(f))))
        while emu.now < DURATION:
            time.sleep(0.2)
        result = emu.finish(at=DURATION)
        log, applied = list(emu.faults.log), list(emu.faults.applied_at)
    assert log == sim.faults.log
    for (t, _, _), at in zip(log, applied):
        assert t <= at < t + 0.5, (t, at)  # the loop's timer, a little late at most

    kinds = [(kind, f.get("node")) for _, kind, f in seen
             if kind in ("fault_started", "fault_ended", "node_died", "node_revived")]
    assert kinds == [("fault_started", None), ("node_died", "n2"), ("node_revived", "n2"),
                     ("fault_ended", None), ("fault_started", None), ("fault_ended", None)]
    got = [t for t, kind, f in seen if kind == "data_delivered"]
    assert [t for t in got if 2.0 < t < 4.0], "the flow runs before the crash"
    assert not [t for t in got if 4.5 < t < 8.0], "no path while n2 is down"
    assert [t for t in got if 8.0 < t < 11.0], "delivery resumes after n2 comes back"
    assert not [t for t in got if 11.5 < t < 13.0], "no path while n3-n4 is silent"
    assert [t for t in got if t > 13.0], "delivery resumes after the blackout"

    crash, blackout = result["faults"]
    assert (crash["label"], blackout["label"]) == ("crash n2", "blackout n3-n4")
    for f in (crash, blackout):
        assert f["affected_flows"] == 1 and f["lost"] > 0 and f["unrecovered_flows"] == 0
        assert f["flows"][0]["after_end_s"] is not None and 0 <= f["flows"][0]["after_end_s"] < 3
        assert f["pdr_during"] < f["pdr_outside"]
