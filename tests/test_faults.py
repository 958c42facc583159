"""Scenario faults ([[faults]]) on the simulator: validation, what each kind does to links,
nodes and traffic, the recovery figures, overlapping faults and determinism."""

from __future__ import annotations

import io
import math

import pytest

from meshnet import cli
from meshnet.event_schema import SchemaChecker
from meshnet.events import TraceWriter
from meshnet.faults import Fault, FaultSchedule, build_faults
from meshnet.scenario import ScenarioError, load_scenario, scenario_from_dict
from meshnet.sim import Simulation


def line(count: int, duration: float, faults: list[dict], pairs=((1, 0),), **extra) -> dict:
    """A static unit-disk line, 200 m spacing and 250 m range (every hop forced), AODV, CBR
    flows at 4 packets/s from t = 1 s (pairs (src, dst); dst 0 = the last node)."""
    raw = {
        "scenario": {"name": "fault-line", "duration": duration, "seed": 3},
        "area": {"width": 200.0 * count, "height": 100.0},
        "nodes": {"count": count, "placement": "line", "spacing": 200.0},
        "radio": {"propagation": "unit-disk", "range": 250.0},
        "protocol": {"name": "aodv"},
        "traffic": [{"kind": "cbr", "pairs": [[s, d or count] for s, d in pairs], "rate": 4.0,
                     "start": 1.0, "jitter": 0.0}],
        "faults": faults,
    }
    for section, values in extra.items():
        raw.setdefault(section, {}).update(values)
    return raw


def run(raw: dict) -> tuple[Simulation, dict, list]:
    sim = Simulation(scenario_from_dict(raw))
    checker = SchemaChecker(strict=True)
    sim.bus.subscribe(checker)
    seen: list = []
    sim.bus.subscribe(lambda t, kind, f: seen.append((t, kind, dict(f))))
    return sim, sim.run(), seen


def arrivals(seen: list, flow: int = 0) -> list[float]:
    return [t for t, kind, f in seen if kind == "data_delivered" and f["flow"] == flow]


# --- validation ------------------------------------------------------------------------------
BASE = {"scenario": {"duration": 100}, "area": {"width": 1000, "height": 300},
        "nodes": {"count": 10}}


@pytest.mark.parametrize("fault, words", [
    ({"kind": "earthquake", "at": 1}, ["faults.0.kind", "crash, blackout, partition, drain"]),
    ({"nodes": [1], "at": 1}, ["faults.0", "kind is missing"]),
    ({"kind": "crash", "nodes": [1]}, ["faults.0", "at is missing"]),
    ({"kind": "crash", "at": 1}, ["a crash needs nodes"]),
    ({"kind": "crash", "nodes": [1], "at": -1}, ["faults.0.at = -1", "seconds >= 0"]),
    ({"kind": "crash", "nodes": [1], "at": 150}, ["faults.0.at = 150", "after the end",
                                                  "duration = 100"]),
    ({"kind": "crash", "nodes": [1], "at": 10, "recover_at": 10}, ["recover_at = 10",
                                                                   "after at = 10"]),
    ({"kind": "crash", "nodes": [1], "at": 10, "recover_at": 101}, ["recover_at = 101",
                                                                    "after the end"]),
    ({"kind": "crash", "nodes": [1], "at": 10, "until": 20}, ["faults.0.until does not apply",
                                                              "crash"]),
    ({"kind": "blackout", "links": [[1, 2]], "at": 30, "until": 20}, ["until = 20",
                                                                      "after at = 30"]),
    ({"kind": "blackout", "links": [[1, 2]], "at": 30}, ["a blackout needs until"]),
    ({"kind": "blackout", "at": 30, "until": 40}, ["a blackout needs links"]),
    ({"kind": "blackout", "links": [[1, 2, 3]], "at": 1, "until": 2}, ["links entry [1, 2, 3]",
                                                                        "expected [a, b]"]),
    ({"kind": "partition", "at": 1, "until": 2}, ["exactly one of x = METRES"]),
    ({"kind": "partition", "x": 500, "y": 100, "at": 1, "until": 2}, ["got x, y"]),
    ({"kind": "partition", "x": 1000, "at": 1, "until": 2}, ["faults.0.x = 1000",
                                                             "inside the area (0 < x < 1000)"]),
    ({"kind": "partition", "y": 0, "at": 1, "until": 2}, ["faults.0.y = 0", "0 < y < 300"]),
    ({"kind": "partition", "groups": [[1, 2]], "at": 1, "until": 2}, ["two non-empty lists"]),
    ({"kind": "drain", "nodes": [1], "at": 1, "to_fraction": 0}, ["a drain needs batteries"]),
    ({"kind": "drain", "nodes": [1], "at": 1, "to_fraction": 1.5}, ["to_fraction = 1.5",
                                                                    "[0, 1]"]),
])
def test_bad_faults_are_refused_with_one_line(fault, words):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({**BASE, "faults": [fault]})
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_drain_needs_exactly_one_amount_and_a_battery_for_each_drained_node():
    radio = {"propagation": "two-ray"}
    with pytest.raises(ScenarioError, match="exactly one of to_fraction"):
        scenario_from_dict({**BASE, "radio": radio, "nodes": {"count": 3, "battery_j": 10},
                            "faults": [{"kind": "drain", "nodes": [1], "at": 1,
                                        "to_fraction": 0.5, "by_joules": 2}]})
    sc = scenario_from_dict({**BASE, "radio": radio,
                             "nodes": {"count": 3, "battery_j": [10, 0, 10]},
                             "faults": [{"kind": "drain", "nodes": [1, 2], "at": 1,
                                         "by_joules": 2}]})
    with pytest.raises(ScenarioError, match="faults.0.nodes: n2 has no battery"):
        build_faults(sc, ["n1", "n2", "n3"])


@pytest.mark.parametrize("fault, words", [
    ({"kind": "crash", "nodes": [11], "at": 1}, ["faults.0.nodes", "node number 11 is not in "
                                                                   "1..10"]),
    ({"kind": "crash", "nodes": [2, "n2"], "at": 1}, ["faults.0.nodes lists 'n2' twice"]),
    ({"kind": "blackout", "links": [[3, 3]], "at": 1, "until": 2}, ["two different nodes"]),
    ({"kind": "blackout", "links": [[3, "x"]], "at": 1, "until": 2}, ["unknown node 'x'"]),
    ({"kind": "partition", "groups": [[1, 2], [2, 3]], "at": 1, "until": 2},
     ["n2 is in both groups"]),
])
def test_node_references_are_resolved_like_traffic_pairs(fault, words):
    sc = scenario_from_dict({**BASE, "faults": [fault]})
    with pytest.raises(ScenarioError) as err:
        build_faults(sc, [f"n{i + 1}" for i in range(10)])
    for word in words:
        assert word in str(err.value)


def test_the_cli_prints_one_line_and_exits_2(capsys):
    code = cli.main(["run", "line", "--json", "--set", 'faults.0.kind="crash"',
                     "--set", "faults.0.nodes=[42]", "--set", "faults.0.at=1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "node number 42 is not in 1..10" in lines[0], err


# --- the schedule ----------------------------------------------------------------------------
class Recorder:
    """FaultActions that only records what it is asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def kill(self, i, reason):
        self.calls.append(("kill", i, reason))

    def revive(self, i):
        self.calls.append(("revive", i))

    def cut(self, i, j):
        self.calls.append(("cut", i, j))

    def restore(self, i, j):
        self.calls.append(("restore", i, j))

    def drain(self, i, to_fraction, joules):
        self.calls.append(("drain", i, to_fraction, joules))


def drive(faults: list[Fault], positions=None) -> tuple[Recorder, list, FaultSchedule]:
    """Run a schedule on a plain clock: steps in time order, as a backend would."""
    rec, events = Recorder(), []
    clock = [0.0]
    names = [f"n{i + 1}" for i in range(6)]
    pos = positions or (lambda i, t: (100.0 * i, 0.0))
    fs = FaultSchedule(faults, names, pos, rec, lambda kind, f: events.append((clock[0], kind, f)),
                       lambda: clock[0])
    pending: list = []
    fs.install(lambda t, fn, *args: pending.append((t, fn, args)))
    for t, fn, args in sorted(pending, key=lambda p: p[0]):
        clock[0] = t
        fn(*args)
    return rec, events, fs


def test_overlapping_faults_compose_a_link_returns_when_the_last_cut_ends():
    rec, events, fs = drive([
        Fault(0, "blackout", 10.0, 30.0, links=((1, 2),)),
        Fault(1, "blackout", 20.0, 40.0, links=((2, 1), (2, 3))),
        Fault(2, "crash", 5.0, 25.0, nodes=(4,)),
        Fault(3, "crash", 15.0, 35.0, nodes=(4,)),
    ])
    assert fs.log == [(5.0, "kill", ("n5",)), (10.0, "cut", ("n2", "n3")),
                      (20.0, "cut", ("n3", "n4")), (35.0, "revive", ("n5",)),
                      (40.0, "restore", ("n2", "n3")), (40.0, "restore", ("n3", "n4"))]
    assert rec.calls[0] == ("kill", 4, "crash")
    assert [(t, kind, f["fault"]) for t, kind, f in events] == [
        (5.0, "fault_started", 2), (10.0, "fault_started", 0), (15.0, "fault_started", 3),
        (20.0, "fault_started", 1), (25.0, "fault_ended", 2), (30.0, "fault_ended", 0),
        (35.0, "fault_ended", 3), (40.0, "fault_ended", 1)]
    assert fs.cut_links() == set() and fs.down() == set() and fs.active == {}


def test_at_one_instant_an_end_comes_before_a_start():
    rec, _, fs = drive([Fault(0, "blackout", 10.0, 20.0, links=((0, 1),)),
                        Fault(1, "blackout", 20.0, 30.0, links=((0, 1),))])
    assert [a for _, a, _ in fs.log] == ["cut", "restore", "cut", "restore"]
    assert [t for t, _, _ in fs.log] == [10.0, 20.0, 20.0, 30.0]


def test_a_partition_by_a_line_takes_the_sides_at_its_start():
    def pos(i, t):  # n1 walks from x=0 to x=600 at 10 m/s; the others stand at 100*i
        return (10.0 * t, 0.0) if i == 0 else (100.0 * i, 0.0)

    rec, events, fs = drive([Fault(0, "partition", 40.0, 50.0, line=("x", 250.0))], pos)
    started = events[0][2]
    # at t = 40 n1 is at x = 400: on the east side with n4..n6
    assert started["sides"] == [["n2", "n3"], ["n1", "n4", "n5", "n6"]]
    assert started["label"] == "partition x=250"
    cuts = {names for _, action, names in fs.log if action == "cut"}
    assert cuts == {("n1", "n2"), ("n1", "n3"), ("n2", "n4"), ("n2", "n5"), ("n2", "n6"),
                    ("n3", "n4"), ("n3", "n5"), ("n3", "n6")}
    assert len([a for _, a, _ in fs.log if a == "restore"]) == len(cuts)


# --- on the simulator ------------------------------------------------------------------------
def test_a_crash_of_the_only_relay_breaks_the_flow_and_aodv_recovers_after_recover_at():
    sim, r, seen = run(line(3, 40.0, [{"kind": "crash", "nodes": [2], "at": 10.0,
                                       "recover_at": 20.0}]))
    assert [(t, kind) for t, kind, f in seen if kind in ("fault_started", "fault_ended",
                                                         "node_died", "node_revived")] == [
        (10.0, "fault_started"), (10.0, "node_died"), (20.0, "node_revived"),
        (20.0, "fault_ended")]
    got = arrivals(seen)
    assert any(9.0 < t < 10.0 for t in got)
    assert not [t for t in got if 10.0 < t < 20.0]      # no path while the relay is down
    assert [t for t in got if 20.0 <= t < 22.0]         # back within 2 s of the revival
    (f,) = r["faults"]
    assert (f["kind"], f["label"], f["start_s"], f["end_s"]) == ("crash", "crash n2", 10.0, 20.0)
    assert f["affected_flows"] == 1 and f["lost"] > 0 and f["unrecovered_flows"] == 0
    (flow,) = f["flows"]
    first_back = min(t for t in got if t > 20.0)
    assert flow["recovery_s"] == pytest.approx(first_back - 10.0)
    assert 10.0 <= flow["recovery_s"] < 12.0
    assert 0.0 <= flow["after_end_s"] < 2.0
    assert f["pdr_outside"] == pytest.approx(1.0)
    assert f["pdr_during"] < 1.0


def test_a_partition_stops_cross_traffic_and_it_resumes_after():
    # n1..n6 at x = 100, 300 ... 1100 m; x = 600 falls between n3 and n4
    sim, r, seen = run(line(6, 60.0, [{"kind": "partition", "x": 600.0, "at": 15.0,
                                       "until": 30.0}], pairs=((1, 6), (1, 3))))
    cross, same = arrivals(seen, 0), arrivals(seen, 1)
    assert any(10.0 < t < 15.0 for t in cross)
    assert not [t for t in cross if 15.5 < t < 30.0]
    assert [t for t in cross if 30.0 <= t < 40.0]
    # traffic that stays on one side keeps flowing
    assert len([t for t in same if 15.0 < t < 30.0]) >= 4 * 15 - 2
    (f,) = r["faults"]
    assert [fl["flow"] for fl in f["flows"]] == [0]
    assert f["flows"][0]["after_end_s"] is not None and f["flows"][0]["after_end_s"] >= 0
    started = next(fields for t, kind, fields in seen if kind == "fault_started")
    assert started["sides"] == [["n1", "n2", "n3"], ["n4", "n5", "n6"]]
    assert not sim.channel.blocked  # every cut restored


def test_a_blackout_silences_one_link_both_ways_until_it_ends():
    sim, r, seen = run(line(4, 40.0, [{"kind": "blackout", "links": [[2, 3]], "at": 10.0,
                                       "until": 20.0}]))
    downs = [(t, f["a"], f["b"]) for t, kind, f in seen if kind == "link_down"]
    ups = [(t, f["a"], f["b"]) for t, kind, f in seen if kind == "link_up" and t > 0]
    assert downs == [(10.0, "n2", "n3")] or downs == [(11.0, "n2", "n3")]  # sampled each 1 s
    assert [(a, b) for _, a, b in ups] == [("n2", "n3")] and 20.0 <= ups[0][0] <= 21.0
    got = arrivals(seen)
    assert not [t for t in got if 10.5 < t < 20.0]
    assert [t for t in got if t >= 20.0]
    (f,) = r["faults"]
    assert f["unrecovered_flows"] == 0 and f["flows"][0]["first_loss_s"] < 0.5


RADIO = {"propagation": "two-ray", "profile": "wavelan"}


def test_a_drain_to_zero_kills_the_node_by_battery():
    raw = line(3, 30.0, [{"kind": "drain", "nodes": [3], "at": 8.0, "to_fraction": 0.0}],
               radio=RADIO, nodes={"battery_j": 1000.0})
    del raw["radio"]["range"]
    sim, r, seen = run(raw)
    deaths = [(t, f["node"], f["reason"]) for t, kind, f in seen if kind == "node_died"]
    assert deaths == [(8.0, "n3", "battery")]
    assert r["first_death_s"] == 8.0 and r["dead_nodes"] == 1
    assert not [t for t in arrivals(seen) if t > 8.0]
    assert sim.battery_fraction(2) == 0.0
    (f,) = r["faults"]
    assert f["end_s"] is None and f["unrecovered_flows"] == 1


def test_a_partial_drain_lowers_the_level_and_is_not_radio_energy():
    raw = line(2, 10.0, [{"kind": "drain", "nodes": [1], "at": 5.0, "to_fraction": 0.25},
                         {"kind": "drain", "nodes": [2], "at": 5.0, "by_joules": 100.0}],
               radio=RADIO, nodes={"battery_j": 1000.0})
    del raw["radio"]["range"]
    sim = Simulation(scenario_from_dict(raw))
    sim.run_until(5.0)
    used = [sim.channel.energy_j(i) for i in range(2)]
    assert sim.battery_fraction(0) == pytest.approx(0.25)
    assert sim.battery_fraction(1) == pytest.approx(1.0 - (used[1] + 100.0) / 1000.0)
    assert sim.channel.energy_j(0) == pytest.approx(used[0])  # the drained joules are apart
    assert all(n.alive for n in sim.nodes)


def test_same_scenario_and_seed_give_the_same_trace_and_figures():
    raw = line(6, 40.0, [{"kind": "crash", "nodes": [3], "at": 8.0, "recover_at": 16.0},
                         {"kind": "partition", "x": 800.0, "at": 20.0, "until": 28.0},
                         {"kind": "blackout", "links": [[4, 5]], "at": 30.0, "until": 34.0}],
               pairs=((1, 6), (6, 2)))

    def once() -> tuple[str, dict]:
        sim = Simulation(scenario_from_dict(raw))
        out = io.StringIO()
        sim.bus.subscribe(TraceWriter(out))
        r = sim.run()
        return out.getvalue(), {k: v for k, v in r.items() if k not in ("wall_s",
                                                                         "events_per_s")}

    (t1, r1), (t2, r2) = once(), once()
    assert t1 == t2 and r1 == r2
    assert [f["kind"] for f in r1["faults"]] == ["crash", "partition", "blackout"]


def test_the_shipped_faults_scenario_runs_and_reports_every_fault():
    r = Simulation(load_scenario("faults")).run()
    crash, partition, drain = r["faults"]
    assert [f["label"] for f in r["faults"]] == ["crash n3, n4", "partition x=750",
                                                 "drain n21 to 0%"]
    assert crash["pdr_outside"] > 0.95  # a connected cell: the faults are what loses packets
    for f in r["faults"]:
        assert f["pdr_during"] < f["pdr_outside"] and f["affected_flows"] >= 1
    # the crashed relays' flows come back (n3's own flow after recover_at), the drained
    # destination's never does
    assert crash["unrecovered_flows"] == 0 and crash["mean_after_end_s"] < 5.0
    assert partition["unrecovered_flows"] == 0
    assert partition["max_recovery_s"] >= 40.0  # cross traffic waited for the end
    assert drain["unrecovered_flows"] >= 1 and r["dead_nodes"] == 1
    assert not math.isnan(r["pdr"])


def test_the_tui_log_shows_faults_starting_and_ending():
    from meshnet.tui.log_format import EventFormatter
    from meshnet.tui.view import CATEGORY_OF

    _, events, _ = drive([Fault(0, "partition", 100.0, 160.0, line=("x", 750.0))],
                         lambda i, t: (300.0 * i, 0.0))
    fmt = EventFormatter({})
    lines = [(t, fmt.entry(t, kind, f).text, CATEGORY_OF[kind]) for t, kind, f in events]
    assert lines == [(100.0, "fault: partition x=750 from now", "nodes"),
                     (160.0, "fault over: partition x=750", "nodes")]
