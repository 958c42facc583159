"""Multicast in scenarios and on the command line: [[groups]] and multicast flows validate with
one-line errors (exit status 2), the membership schedule is what the backends follow, the
built-in `multicast` scenario runs and reports multicast metrics, `meshnet protocols` lists SMF and
ODMRP as multicast protocols."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from meshnet.groups import build_groups
from meshnet.scenario import ScenarioError, load_scenario, scenario_from_dict
from meshnet.world import build_world

BASE = {
    "scenario": {"duration": 10},
    "nodes": {"count": 6, "placement": "line", "spacing": 100},
    "radio": {"propagation": "unit-disk", "range": 150},
    "protocol": {"name": "smf"},
    "groups": [{"name": "g1", "address": "239.1.1.1", "members": [3, "n5"],
                "joins": [{"node": 2, "at": 3}], "leaves": [{"node": 3, "at": 6}]}],
    "traffic": [{"group": "g1", "src": 1, "rate": 2}],
}


def _with(change) -> dict:
    raw = copy.deepcopy(BASE)
    change(raw)
    return raw


def test_membership_schedule():
    sc = scenario_from_dict(BASE)
    m = build_groups(sc, [f"n{i}" for i in range(1, 7)])
    g = m.by_name["g1"]
    assert g.members_at(0) == {2, 4}
    assert g.members_at(3) == {1, 2, 4}  # a change at t happened at t
    assert g.members_at(6) == {1, 4}
    assert m.groups_of(1, 2.9) == frozenset() and m.groups_of(1, 3) == {"239.1.1.1"}
    assert m.changes() == [(3.0, 1, "239.1.1.1", True), (6.0, 2, "239.1.1.1", False)]
    [flow] = build_world(sc).flows
    assert (flow.src, flow.dst, flow.group, flow.members) == (0, -1, "239.1.1.1", g)


@pytest.mark.parametrize("change, message", [
    (lambda r: r["groups"][0].update(address="224.0.0.251"),
     "groups.0.address = '224.0.0.251': expected an IPv4 multicast address"),
    (lambda r: r["groups"][0].update(address="239.1.1"), "expected an IPv4 multicast address"),
    (lambda r: r["groups"][0].update(name=""), "groups.0.name = '': expected a non-empty"),
    (lambda r: r["groups"][0].update(colour="red"), "unknown key groups.0.colour"),
    (lambda r: r["groups"].append(dict(r["groups"][0], address="239.2.2.2")),
     "groups.1.name = 'g1' is already used by groups.0"),
    (lambda r: r["groups"][0].update(joins=[{"node": 2}]), "expected {node = N, at = SECONDS}"),
    (lambda r: r["groups"][0].update(joins=[{"node": 2, "at": -1}]), "at must be a number"),
    (lambda r: r["groups"][0].update(members=[], joins=[]), "has no members and no joins"),
    (lambda r: r["groups"][0].update(members=[9]), "groups.0.members: node number 9 is not"),
    (lambda r: r["groups"][0].update(members=[3, 3]), "lists 3 twice"),
    (lambda r: r["groups"][0].update(joins=[{"node": 3, "at": 1}]), "is a member already"),
    (lambda r: r["groups"][0].update(leaves=[{"node": 1, "at": 1}]), "is not a member then"),
    (lambda r: r["traffic"][0].update(group="g9"), "no such [[groups]] entry (groups: 'g1')"),
    (lambda r: r["traffic"][0].pop("src"), "needs src = NODE"),
    (lambda r: r["traffic"][0].update(pairs=[[1, 2]]), "traffic.0.pairs does not apply"),
    (lambda r: r["traffic"][0].update(src=7), "traffic.0.src: node number 7 is not in 1..6"),
    (lambda r: r["traffic"][0].pop("group"), "traffic.0.src is for multicast flows"),
    (lambda r: r["traffic"][0].update(kind="ns2-cbrgen"), "kind 'cbr' or 'poisson'"),
    (lambda r: r.update(groups=5), "groups must be an array of tables"),
])
def test_bad_groups_and_multicast_flows_are_one_line_errors(change, message):
    with pytest.raises(ScenarioError) as err:
        build_world(scenario_from_dict(_with(change)))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_set_overrides_reach_groups():
    sc = load_scenario("multicast", ["groups.0.address=239.9.9.9", "scenario.duration=5"])
    assert sc.groups[0].address == "239.9.9.9"


def _meshnet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meshnet.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_bad_group_is_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[groups]]\nname = "g"\naddress = "10.0.0.1"\nmembers = [1]\n')
    out = _meshnet("run", str(bad))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "groups.0.address" in out.stderr
    assert "Traceback" not in out.stderr


def test_builtin_multicast_scenario_reports_multicast_metrics():
    out = _meshnet("run", "multicast", "--set", "scenario.duration=20", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    m = result["multicast"]
    assert result["protocol"] == "smf" and m["sent"] > 90  # 8/s and 2/s from t = 10 s
    assert 0.8 <= m["pdr"] <= 1.0 and m["duplicate_deliveries"] == 0
    for key in ("forwarding_overhead", "control_overhead", "duplicates_suppressed", "data_tx",
                "mean_delay_s", "expected", "late_deliveries"):
        assert key in m


def test_protocols_lists_smf_and_odmrp_as_multicast():
    out = _meshnet("protocols", "--json")
    records = {r["name"]: r for r in json.loads(out.stdout)}
    for name, port in (("smf", 61503), ("odmrp", 61504)):
        assert records[name]["kind"] == "multicast" and records[name]["port"] == port
        assert "unicast is not routed" in records[name]["description"]
    assert records["smf"]["params"]["relay"] == "e-cds"
