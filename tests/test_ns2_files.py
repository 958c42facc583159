"""Files exactly as ns-2's own generators write them (tests/data/): a movement file from
``setdest`` replays to the positions ns-2 itself computes, and runs as a scenario.

tests/data/setdest-10n.tcl   setdest -v 1 -n 10 -p 0 -M 20 -t 60 -x 500 -y 300   (ns-2.35)
tests/data/setdest-10n.positions   every node's position at chosen times, as ns-2.35 computes it
                                   when it replays that file (tests/data/ns2-positions.tcl)
tests/data/cbrgen-10n.tcl    ns cbrgen.tcl -type cbr -nn 10 -seed 1 -mc 5 -rate 4.0   (ns-2.35)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshnet.mobility import build_trajectories, parse_ns2_trace
from meshnet.traffic import parse_cbrgen
from meshnet.world import address_of

DATA = Path(__file__).resolve().parent / "data"
SETDEST = DATA / "setdest-10n.tcl"
POSITIONS = DATA / "setdest-10n.positions"
CBRGEN = DATA / "cbrgen-10n.tcl"
AREA = (500.0, 300.0)


def reference_positions(text: str) -> list[tuple[float, int, float, float]]:
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            t, node, x, y = line.split()
            rows.append((float(t), int(node), float(x), float(y)))
    return rows


def test_real_setdest_file_imports_with_every_node_and_move():
    text = SETDEST.read_text()
    assert "$god_ set-dist" in text and '"$god_ set-dist' in text  # as setdest writes it
    initial, moves = parse_ns2_trace(SETDEST)
    assert sorted(initial) == list(range(10))
    assert sum(len(m) for m in moves.values()) == text.count(" setdest ")
    assert initial[0] == (421.685982661015, 32.221700251595)


def test_positions_equal_ns2s_own_replay_of_the_file():
    rows = reference_positions(POSITIONS.read_text())
    assert len(rows) == 300 and max(t for t, *_ in rows) == 70.0
    trajectories = build_trajectories("ns2-trace", {"trace": str(SETDEST)}, [], AREA, 60.0, 1)
    worst = max(
        max(abs(px - x), abs(py - y))
        for t, node, x, y in rows
        for px, py in [trajectories[node].position(t)]
    )
    assert worst < 1e-6


@pytest.mark.skipif(shutil.which("ns") is None, reason="ns-2 (Debian package ns2) not installed")
def test_ns2_still_computes_the_stored_positions(tmp_path):
    rows = reference_positions(POSITIONS.read_text())
    times = sorted({t for t, *_ in rows})
    out = subprocess.run(
        ["ns", str(DATA / "ns2-positions.tcl"), str(SETDEST), "10", "500", "300",
         *[repr(t) for t in times]],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=True,
    ).stdout
    fresh = reference_positions("\n".join(line for line in out.splitlines()
                                          if line[:1].isdigit()))
    assert len(fresh) == len(rows)
    for (t, node, x, y), (t2, node2, x2, y2) in zip(rows, fresh):
        assert (t, node) == (t2, node2)
        assert abs(x - x2) < 1e-6 and abs(y - y2) < 1e-6


def run_cli(tmp_path, toml: str) -> subprocess.CompletedProcess:
    scenario = tmp_path / "s.toml"
    scenario.write_text(toml)
    return subprocess.run([sys.executable, "-m", "meshnet.cli", "run", str(scenario), "--json"],
                          capture_output=True, text=True, timeout=300)


SCENARIO = f"""\
[scenario]
duration = 60
[area]
width = 500
height = 300
[nodes]
count = {{count}}
[radio]
propagation = "unit-disk"
[mobility]
model = "ns2-trace"
trace = "{SETDEST}"
[protocol]
name = "aodv"
[[traffic]]
pairs = [[1, 2]]
"""


def test_a_scenario_with_more_nodes_than_the_trace_runs_and_warns_on_stderr(tmp_path):
    done = run_cli(tmp_path, SCENARIO.format(count=12))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # stdout is the JSON object alone
    assert result["nodes"] == 12 and result["sent"] > 0
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"meshnet: warning: {SETDEST}: the trace describes 10 of the scenario's 12 nodes; "
        "the other 2 (n11, n12) never move: they stay where nodes.placement put them"
    ]
    done = run_cli(tmp_path, SCENARIO.format(count=10))
    assert done.returncode == 0 and "warning" not in done.stderr


def cbrgen_comments() -> tuple[float, list[tuple[int, int, float]]]:
    """What cbrgen says in its own comments: the send interval and, per connection,
    "# SRC connecting to DST at time T" (ns-2 node indices)."""
    text = CBRGEN.read_text()
    interval = float(re.search(r"send rate: (\S+),", text)[1])
    made = [(int(a), int(b), float(t))
            for a, b, t in re.findall(r"# (\d+) connecting to (\d+) at time (\S+)", text)]
    return interval, made


def test_real_cbrgen_file_gives_the_connections_it_announces():
    interval, made = cbrgen_comments()
    cbrs = parse_cbrgen(CBRGEN)
    assert len(made) == 5 and interval == 0.25
    assert [(c.src, c.dst, c.start) for c in cbrs] == made
    assert {(c.size, c.interval, c.random, c.maxpkts) for c in cbrs} == {(512, 0.25, True, 10000)}


BOTH = f"""\
[scenario]
duration = 150
[area]
width = 500
height = 300
[nodes]
count = 10
[radio]
propagation = "unit-disk"
[mobility]
model = "ns2-trace"
trace = "{SETDEST}"
[protocol]
name = "aodv"
[[traffic]]
kind = "ns2-cbrgen"
file = "{CBRGEN.name}"
"""


def test_a_scenario_with_both_real_files_runs_their_flows(tmp_path):
    shutil.copy(CBRGEN, tmp_path / CBRGEN.name)  # a relative file is next to the scenario
    scenario = tmp_path / "s.toml"
    scenario.write_text(BOTH)
    trace = tmp_path / "t.jsonl"
    done = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", str(scenario), "--json",
                           "--trace", str(trace)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    result = json.loads(done.stdout)
    sent = [json.loads(line) for line in trace.read_text().splitlines()]
    sent = [e for e in sent if e["ev"] == "data_sent"]
    assert result["sent"] == len(sent) and result["delivered"] > 0
    interval, made = cbrgen_comments()
    assert sorted({e["flow"] for e in sent}) == list(range(len(made)))
    for flow, (src, dst, start) in enumerate(made):
        packets = [e for e in sent if e["flow"] == flow]
        # ns-2 node k is meshnet's n{k+1}, address 10.99.0.{k+1}
        assert {(e["node"], e["src"], e["dst"]) for e in packets} == {
            (f"n{src + 1}", address_of(src), address_of(dst))}
        assert {e["size"] for e in packets} == {512}
        times = [e["t"] for e in packets]
        assert times[0] == pytest.approx(start, abs=1e-9)  # the first packet at the start
        gaps = [b - a for a, b in zip(times, times[1:])]
        # random_ 1: every gap uniform in [0.5, 1.5] x interval_, so the rate is 1 / interval_
        assert all(0.5 * interval - 1e-9 <= g <= 1.5 * interval + 1e-9 for g in gaps)
        expected = (150 - start) / interval  # the sum of n gaps has sd sqrt(n / 12) intervals
        assert abs(len(packets) - expected) <= 3 * (expected / 12) ** 0.5 + 2
        if len(gaps) > 100:
            assert sum(gaps) / len(gaps) == pytest.approx(interval, rel=0.05)
