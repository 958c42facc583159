"""ns-2 cbrgen traffic files as [[traffic]] kind = "ns2-cbrgen": ns-2's CBR semantics (interval,
rate units, random_, maxpkts_, stop), 0-based node indices, and one-line FILE:LINE errors."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from meshnet.scenario import ScenarioError, scenario_from_dict
from meshnet.traffic import TrafficFileError, build_flows, parse_cbrgen

NAMES = [f"n{i + 1}" for i in range(10)]

ONE = """\
#
# 1 connecting to 2 at time 2.5
#
set udp_(0) [new Agent/UDP]
$ns_ attach-agent $node_(1) $udp_(0)
set null_(0) [new Agent/Null]
$ns_ attach-agent $node_(2) $null_(0)
set cbr_(0) [new Application/Traffic/CBR]
{settings}
$cbr_(0) attach-agent $udp_(0)
$ns_ connect $udp_(0) $null_(0)
$ns_ at 2.5 "$cbr_(0) start"
"""

CBRGEN_SETTINGS = """\
$cbr_(0) set packetSize_ 512
$cbr_(0) set interval_ 0.25
$cbr_(0) set random_ 1
$cbr_(0) set maxpkts_ 10000"""


def write(tmp_path, text, name="cbr.tcl"):
    path = tmp_path / name
    path.write_text(text)
    return path


def flows_of(tmp_path, text, duration=60, count=10, **entry):
    write(tmp_path, text)
    sc = scenario_from_dict({"scenario": {"duration": duration}, "nodes": {"count": count},
                             "traffic": [{"kind": "ns2-cbrgen", "file": "cbr.tcl", **entry}]},
                            str(tmp_path / "s.toml"))
    return build_flows(sc, NAMES[:count])


def packet_times(flow, seed=1):
    rng, t, times = random.Random(seed), flow.start, []
    while t < flow.stop:
        times.append(t)
        t += flow.next_gap(rng)
    return times


def test_cbrgen_flow_is_node_1_to_2_as_n2_to_n3(tmp_path):
    (flow,) = flows_of(tmp_path, ONE.format(settings=CBRGEN_SETTINGS), ttl=32)
    assert (flow.kind, flow.src, flow.dst, flow.size, flow.rate) == ("cbr", 1, 2, 512, 4.0)
    assert (flow.start, flow.stop, flow.ttl, flow.spread) == (2.5, 60.0, 32, 0.5)
    gaps = [b - a for a, b in zip(packet_times(flow), packet_times(flow)[1:])]
    assert all(0.125 <= g <= 0.375 for g in gaps)  # random_ 1: interval_ * (1 +- 0.5)
    assert sum(gaps) / len(gaps) == pytest.approx(0.25, rel=0.05)


@pytest.mark.parametrize("settings, size, interval", [
    ("", 210, 210 * 8 / 448_000),  # ns-2's defaults: 210 bytes at 448Kb
    ("$cbr_(0) set packetSize_ 512\n$cbr_(0) set interval_ 0.5", 512, 0.5),
    # interval_ fixes the rate for the size given so far; a later size changes the interval
    ("$cbr_(0) set interval_ 0.25\n$cbr_(0) set packetSize_ 420", 420, 0.5),
    ("$cbr_(0) set packetSize_ 512\n$cbr_(0) set rate_ 64Kb", 512, 0.064),
    ("$cbr_(0) set packetSize_ 1000\n$cbr_(0) set rate_ 1MB", 1000, 0.001),
    ("$cbr_(0) set packetSize_ 100\n$cbr_(0) set interval_ 20ms", 100, 0.02),
])
def test_interval_follows_ns2s_rules(tmp_path, settings, size, interval):
    (cbr,) = parse_cbrgen(write(tmp_path, ONE.format(settings=settings)))
    assert cbr.size == size and cbr.interval == pytest.approx(interval, rel=1e-12)
    assert cbr.random is False


def test_maxpkts_and_stop_end_the_flow(tmp_path):
    settings = "$cbr_(0) set interval_ 1.0\n$cbr_(0) set maxpkts_ 3"
    (flow,) = flows_of(tmp_path, ONE.format(settings=settings))
    assert packet_times(flow) == [2.5, 3.5, 4.5]  # ns-2 sends maxpkts_ packets
    stopped = ONE.format(settings="$cbr_(0) set interval_ 1.0") + '$ns_ at 6.0 "$cbr_(0) stop"\n'
    (flow,) = flows_of(tmp_path, stopped)
    assert packet_times(flow) == [2.5, 3.5, 4.5, 5.5]
    (flow,) = flows_of(tmp_path, stopped, stop=4.0)  # traffic.stop still applies
    assert packet_times(flow) == [2.5, 3.5]


def test_an_application_never_started_sends_nothing(tmp_path):
    text = ONE.format(settings="").replace('$ns_ at 2.5 "$cbr_(0) start"\n', "")
    assert flows_of(tmp_path, text) == []


@pytest.mark.parametrize("edit, line, fragment", [
    (lambda t: t.replace("set udp_(0) [new Agent/UDP]",
                         "set tcp_(0) [$ns_ create-connection \\\n  TCP $node_(1) TCPSink "
                         "$node_(2) 0]"), 4, "TCP connections (cbrgen -type tcp) are not supported"),
    (lambda t: t.replace("[new Agent/UDP]", "[new Agent/TCP]"), 4, "unsupported object Agent/TCP"),
    (lambda t: t + "puts hello\n", 13, "unrecognised line"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set burst_time_ 1"), 9,
     "unsupported CBR setting burst_time_"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set packetSize_ 0"), 9, "packetSize_ 0"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set packetSize_ 70000"), 9, "1..65507"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set interval_ 0"), 9, "interval_ 0 is not > 0"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set interval_ soon"), 9, "is not a time"),
    (lambda t: t.replace("{settings}", "$cbr_(0) set interval_ 0.000001"), 9,
     "sends 1e+06 packets per second"),
    (lambda t: t.replace("at 2.5", "at -1"), 12, "time -1 is negative"),
    (lambda t: t.replace("$node_(1)", "$node_(x)"), 5, "node index 'x'"),
    (lambda t: t.replace("$ns_ attach-agent $node_(2) $null_(0)",
                         "$ns_ attach-agent $node_(2) $nul_(0)"), 7, "$nul_(0) is not created"),
    (lambda t: t.replace("$ns_ connect $udp_(0) $null_(0)",
                         "$ns_ connect $null_(0) $udp_(0)"), 11, "$null_(0) is not an Agent/UDP"),
    (lambda t: t.replace("$cbr_(0) attach-agent $udp_(0)\n", ""), 11,
     "$cbr_(0) is attached to no agent"),
    (lambda t: t.replace("$ns_ connect $udp_(0) $null_(0)\n", ""), 11,
     "connected to no Null agent"),
    (lambda t: t.replace("$ns_ attach-agent $node_(2) $null_(0)\n", ""), 11,
     "$null_(0) is attached to no node"),
    (lambda t: t + '$ns_ at 3 "$cbr_(0) start"\n', 13, "started twice"),
    (lambda t: t + '$ns_ at 3 "$cbr_(0) pause"\n', 13, "unsupported command 'pause'"),
])
def test_bad_lines_name_file_and_line(tmp_path, edit, line, fragment):
    path = write(tmp_path, edit(ONE).replace("{settings}", ""))
    with pytest.raises(TrafficFileError) as info:
        parse_cbrgen(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ") and fragment in message
    assert "\n" not in message


def test_unreadable_file_names_it(tmp_path):
    with pytest.raises(TrafficFileError, match=r"nope\.tcl: cannot read traffic file"):
        parse_cbrgen(tmp_path / "nope.tcl")


def test_ns2_node_indices_are_0_based_and_checked_against_the_scenario(tmp_path):
    text = ONE.format(settings="").replace("$node_(2)", "$node_(10)")
    with pytest.raises(ScenarioError) as info:
        flows_of(tmp_path, text)
    assert str(info.value) == (
        f"{tmp_path / 's.toml'}: traffic.0: {tmp_path / 'cbr.tcl'}:7: $node_(10) is not in the "
        "scenario: nodes.count = 10, and ns-2 numbers nodes from 0 ($node_(0) is n1)")
    with pytest.raises(ScenarioError, match=r"cbr\.tcl:7: \$cbr_\(0\) sends from \$node_\(1\) to "
                                            "itself"):
        flows_of(tmp_path, ONE.format(settings="").replace("$node_(2)", "$node_(1)"))


@pytest.mark.parametrize("entry, fragment", [
    ({"kind": "ns2-cbrgen"}, "traffic.0: kind = 'ns2-cbrgen' needs file = PATH"),
    ({"kind": "ns2-cbrgen", "file": "c.tcl", "pairs": [[1, 2]]},
     "traffic.0.pairs does not apply to kind = 'ns2-cbrgen'"),
    ({"kind": "ns2-cbrgen", "file": "c.tcl", "rate": 8},
     "traffic.0.rate does not apply to kind = 'ns2-cbrgen'"),
    ({"kind": "cbr", "pairs": [[1, 2]], "file": "c.tcl"},
     "traffic.0.file applies only to kind = 'ns2-cbrgen'"),
    ({"kind": "ns2-cbrgen", "file": 3}, "traffic.0.file = 3: expected a path"),
])
def test_scenario_keys_of_the_traffic_kind_are_checked(entry, fragment):
    with pytest.raises(ScenarioError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        scenario_from_dict({"traffic": [entry]})


@pytest.mark.parametrize("text, fragment", [
    (None, "cbr.tcl: cannot read traffic file"),
    (ONE.replace("{settings}", "$cbr_(0) set packetSize_ -1"), "cbr.tcl:9: packetSize_ -1"),
])
def test_cli_reports_a_bad_traffic_file_in_one_line_exit_2(tmp_path, text, fragment):
    if text is not None:
        write(tmp_path, text)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[nodes]\ncount = 3\n[[traffic]]\nkind = "ns2-cbrgen"\nfile = "cbr.tcl"\n')
    done = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", str(scenario), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"meshnet: error: {scenario}: traffic.0: ")
    assert fragment in done.stderr
