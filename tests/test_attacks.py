"""Attacker nodes (``[[attackers]]``, protocols/attacks, docs/security.md) on the simulator: a
black hole attracts the route and swallows the data unless authentication shuts it out, a grey
hole drops about its probability, replays are counted and rejected with authentication, an
RREQ flood raises the routing load while the victims' rate limit holds, and bad entries give
one clear line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import pytest

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation

# 3 x 3 grid, 200 m apart, 250 m radios: only horizontal and vertical links.
#    1 2 3
#    4 5 6     flow 1 -> 9 (4 hops on any shortest path); node 5 sits on the straight line
#    7 8 9     between them, with honest detours all around it.
GRID = ["nodes.placement=grid", "nodes.count=9", "area.width=1000", "area.height=1000",
        "scenario.duration=60", "traffic.pairs=[[1, 9]]", "traffic.start=1"]
BLACKHOLE = ["attackers.0.role=blackhole", "attackers.0.nodes=[5]"]


def sim(*overrides: str, base: list[str] = GRID) -> Simulation:
    return Simulation(load_scenario("line", base + list(overrides)))


def record(s: Simulation, *kinds: str) -> list[tuple[float, str, dict]]:
    seen: list[tuple[float, str, dict]] = []
    s.bus.subscribe(lambda t, kind, f: seen.append((t, kind, dict(f))), kinds)
    return seen


@pytest.mark.parametrize("protocol", ["aodv", "dsdv"])
def test_black_hole_attracts_the_route_and_drops_everything_without_auth(protocol):
    s = sim(f"protocol.name={protocol}", *BLACKHOLE)
    seen = record(s, "attack_started", "attack_forged")
    r = s.run()
    assert r["sent"] > 200 and r["delivered"] == 0
    assert r["drops"]["attack_blackhole"] >= r["sent"] - 5  # all but the few still in flight
    src_route = s.nodes[0].routes.lookup(s.nodes[8].address)
    assert src_route is not None
    assert src_route.next_hop in (s.nodes[1].address, s.nodes[3].address)  # towards node 5
    assert [f["role"] for _, k, f in seen if k == "attack_started"] == ["blackhole"]
    assert {f["message"] for _, k, f in seen if k == "attack_forged"} == {
        "rrep" if protocol == "aodv" else "update"}


@pytest.mark.parametrize("protocol", ["aodv", "dsdv"])
def test_with_auth_an_outsider_black_hole_is_shut_out_and_delivery_recovers(protocol):
    honest = sim(f"protocol.name={protocol}").run()
    r = sim(f"protocol.name={protocol}", "protocol.auth_key=s3cret", *BLACKHOLE).run()
    assert r["pdr"] >= 0.95 and honest["pdr"] >= 0.95
    assert "attack_blackhole" not in r["drops"]
    assert r["auth_failed"] > 0 and r["auth_reasons"] == {"auth_failed:missing": r["auth_failed"]}


def test_an_insider_with_the_key_still_black_holes():
    r = sim("protocol.auth_key=s3cret", *BLACKHOLE, "attackers.0.insider=true").run()
    assert r["delivered"] == 0 and r["auth_failed"] == 0
    assert r["drops"]["attack_blackhole"] > 200


def test_black_hole_is_honest_until_its_start_time():
    """Before 30 s node 5 is a router like any other; from then on it lies to every discovery.
    The route 1 -> 9 found before stays honest (nothing asks again on a static grid); flow 3 -> 7,
    which starts later, is swallowed."""
    s = sim(*BLACKHOLE, "attackers.0.start=30", "traffic.1.pairs=[[3, 7]]",
            "traffic.1.start=35")
    seen = record(s, "attack_started", "attack_forged", "data_delivered")
    r = s.run()
    assert [t for t, k, _ in seen if k == "attack_started"] == [30.0]
    assert min(t for t, k, _ in seen if k == "attack_forged") > 35
    delivered = defaultdict(int)
    for _, k, f in seen:
        if k == "data_delivered":
            delivered[f["flow"]] += 1
    assert delivered[0] > 220 and delivered[1] == 0
    assert r["drops"]["attack_blackhole"] > 90


def test_aodv_forged_rrep_claims_one_hop_and_a_far_higher_sequence_number():
    s = sim(*BLACKHOLE)
    replies = record(s, "route_found")
    s.run_until(5.0)
    src = s.nodes[0]
    found = [f for _, _, f in replies if f["node"] == src.name and f["dst"] == s.nodes[8].address]
    assert found and found[0]["hops"] == 3  # 2 hops to node 5, which claims to be 1 away
    entry = src.protocol.table.get(s.nodes[8].address)
    assert entry.seq >= 1_000_000  # the real destination's number is a handful


LINE3 = ["nodes.count=3", "scenario.duration=100", "traffic.pairs=[[1, 3]]", "traffic.rate=20"]


@pytest.mark.parametrize("protocol", ["aodv", "dsdv", "gpsr"])
def test_grey_hole_drops_about_its_probability(protocol):
    s = sim(f"protocol.name={protocol}", "attackers.0.role=greyhole", "attackers.0.nodes=[2]",
            "attackers.0.drop_probability=0.3", base=LINE3)
    r = s.run()
    share = r["drops"].get("attack_greyhole", 0) / r["sent"]
    assert r["sent"] > 1900
    assert 0.25 < share < 0.35  # binomial, n ~ 2000: sd ~ 0.01
    assert r["pdr"] > 0.6


def test_grey_hole_can_single_out_flows():
    s = sim("attackers.0.role=greyhole", "attackers.0.nodes=[2]", "attackers.0.flows=[0]",
            "attackers.0.drop_probability=1.0", "traffic.pairs=[[1, 3], [3, 1]]", base=LINE3)
    delivered = record(s, "data_delivered")
    r = s.run()
    flows = defaultdict(int)
    for _, _, f in delivered:
        flows[f["flow"]] += 1
    assert flows[0] == 0 and flows[1] > 1900
    assert r["drops"]["attack_greyhole"] > 1900


REPLAY = ["attackers.0.role=replay", "attackers.0.nodes=[5]", "attackers.0.delay=2"]


@pytest.mark.parametrize("protocol", ["aodv", "dsdv"])
def test_replayed_messages_are_rejected_with_auth_and_counted(protocol):
    s = sim(f"protocol.name={protocol}", "protocol.auth_key=s3cret", *REPLAY)
    seen = record(s, "attack_forged", "auth_replayed")
    r = s.run()
    replays = [f for _, k, f in seen if k == "attack_forged"]
    rejected = [f for _, k, f in seen if k == "auth_replayed"]
    assert len(replays) > 20 and all(f["message"] == "replay" for f in replays)
    assert r["auth_replayed"] == len(rejected) >= len(replays)  # each replay reaches >= 1 node
    assert {f["reason"] for f in rejected} == {"relayed"}
    assert {f["src"] for f in rejected} == {s.nodes[4].address}
    assert r["pdr"] >= 0.95


def test_without_auth_replays_are_taken_as_news():
    s = sim(*REPLAY)
    seen = record(s, "attack_forged")
    r = s.run()
    assert len([1 for _ in seen]) > 20
    assert "auth_replayed" in r and r["auth_replayed"] == 0  # nobody checks


def rreq_forwards(seen: list) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for t, _, f in seen:
        if f["forwarded"]:
            out[f["node"]].append(t)
    return out


def busiest_second(times: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_rreq_flood_raises_routing_load_and_victims_rate_limit_holds():
    quiet = sim("scenario.duration=30").run()
    s = sim("scenario.duration=30", "attackers.0.role=rreq-flood", "attackers.0.nodes=[5]",
            "attackers.0.rate=100")
    seen = record(s, "rreq_sent")
    forged = record(s, "attack_forged")
    r = s.run()
    assert len(forged) > 2500  # ~100 per second for 30 s, past the attacker's own limit
    assert r["normalized_routing_load"] > 10 * quiet["normalized_routing_load"]
    forwards = rreq_forwards(seen)
    forwards.pop(s.nodes[4].name, None)  # the attacker relays others' requests honestly
    assert len(forwards) == 8  # every other node relays the flood ...
    assert max(busiest_second(ts) for ts in forwards.values()) == 10  # ... at most 10 per second
    assert r["pdr"] >= 0.9  # the limit keeps the data flowing


def test_same_scenario_and_seed_give_identical_results():
    ov = [*BLACKHOLE[:1], "attackers.0.nodes=[5]", "attackers.1.role=greyhole",
          "attackers.1.nodes=[2, 4]"]
    runs = [sim(*ov).run() for _ in range(2)]
    for r in runs:
        r.pop("wall_s"), r.pop("events_per_s")
    assert runs[0] == runs[1]


@pytest.mark.parametrize("overrides, message", [
    (["attackers.0.role=wormhole", "attackers.0.nodes=[2]"],
     "attackers.0.role = 'wormhole': expected one of blackhole, greyhole, rreq-flood, replay"),
    (["attackers.0.nodes=[2]"], "attackers.0 needs role"),
    (["attackers.0.role=blackhole", "attackers.0.nodes=[11]"],
     "attackers.0.nodes: node number 11 is not in 1..10"),
    (["attackers.0.role=blackhole", "attackers.0.nodes=[\"n99\"]"], "unknown node 'n99'"),
    (["protocol.name=gpsr", "attackers.0.role=blackhole", "attackers.0.nodes=[2]"],
     "role 'blackhole' forges AODV route replies or DSDV updates; it does not apply to "
     "protocol 'gpsr'"),
    (["protocol.name=dsdv", "attackers.0.role=rreq-flood", "attackers.0.nodes=[2]"],
     "role 'rreq-flood' forges AODV route requests; it does not apply to protocol 'dsdv'"),
    (["attackers.0.role=blackhole", "attackers.0.nodes=[2]", "attackers.0.rate=5"],
     "attackers.0.rate applies only to role = 'rreq-flood'"),
    (["attackers.0.role=greyhole", "attackers.0.nodes=[2]", "attackers.0.drop_probability=1.5"],
     "drop_probability = 1.5: expected a probability in [0, 1]"),
    (["attackers.0.role=greyhole", "attackers.0.nodes=[2]", "attackers.0.flows=[3]"],
     "attackers.0.flows: 3 is not a flow id"),
    (["attackers.0.role=greyhole", "attackers.0.nodes=[2]", "attackers.1.role=replay",
      "attackers.1.nodes=[\"n2\"]"], "node n2 is already an attacker in attackers.0"),
    (["attackers.0.role=replay", "attackers.0.nodes=[2]", "attackers.0.delay=0"],
     "delay = 0: expected seconds > 0"),
    (["attackers.0.role=blackhole", "attackers.0.nodes=[2]", "attackers.0.colour=1"],
     "unknown key attackers.0.colour"),
])
def test_bad_attacker_entries_give_one_line_and_exit_status_2(overrides, message):
    args = [sys.executable, "-m", "meshnet.cli", "run", "line", "--json"]
    for ov in overrides:
        args += ["--set", ov]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_emulate_refuses_attackers_in_one_line():
    done = subprocess.run([sys.executable, "-m", "meshnet.cli", "emulate", "line", "--duration",
                           "2", "--set", "attackers.0.role=greyhole", "--set",
                           "attackers.0.nodes=[2]"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "simulator only" in done.stderr and len(done.stderr.strip().splitlines()) == 1
