"""Every input is bounded: values that used to hang a run, grow memory without limit or end in a
traceback are refused with one line and exit status 2 (or, for a run-time stall, exit status 1),
and values at both ends of each documented range are accepted."""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import textwrap

import pytest

from meshnet import cli
from meshnet.protocol_api import ProtocolConfigError, build_params
from meshnet.registry import load_protocol
from meshnet.scenario import ScenarioError, load_scenario, scenario_from_dict
from meshnet.scheduler import Scheduler, SchedulerStalled


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_usage_error(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("meshnet: error: ")
    for word in words:
        assert word in lines[0], lines[0]


def run_bounded(*args: str, timeout: float = 60.0,
                memory: int = 1 << 30) -> subprocess.CompletedProcess:
    """The CLI in a child process with a CPU-time and address-space limit, so a regression shows
    as a failed test instead of a stuck or swapping machine."""
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (int(timeout), int(timeout) + 1))
    return subprocess.run([sys.executable, "-m", "meshnet.cli", *args], capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limits)


# --- A: values that hung a run or grew memory without limit ---------------------------------
@pytest.mark.parametrize("args, words", [
    (["--duration", "1e12"], ["scenario.duration", "1e+08"]),
    (["--set", "mobility.model=random-walk", "--set", "mobility.interval=1e308"],
     ["mobility.interval"]),
    (["--set", "mobility.model=random-walk", "--set", "mobility.max_speed=1e308"],
     ["mobility.max_speed"]),
    (["--set", "mobility.model=gauss-markov", "--set", "mobility.mean_speed=1e308"],
     ["mobility.mean_speed"]),
    (["--set", "traffic.flows=1180591620717411303424"], ["traffic.0.flows"]),
    (["--set", "trace.link_interval=1e-300"], ["trace.link_interval"]),
    (["--set", "protocol.hello_interval=1e-300"], ["protocol.hello_interval"]),
    (["--set", "protocol.broadcast_jitter=2"], ["protocol.broadcast_jitter", "hello_interval"]),
    (["-p", "dsdv", "--set", "protocol.periodic_update_interval=1e-300"],
     ["protocol.periodic_update_interval"]),
    (["-p", "gpsr", "--set", "protocol.beacon_interval=1e-300"], ["protocol.beacon_interval"]),
])
def test_values_that_hung_or_exhausted_memory_are_refused(capsys, args, words):
    code, _, err = run_cli(capsys, "run", "--json", *args)
    assert_one_line_usage_error(code, err, *words)


@pytest.mark.parametrize("model, params", [
    ("random-waypoint", {"max_speed": 20.0}),
    ("random-walk", {"max_speed": 5.0, "interval": 10.0}),
    ("gauss-markov", {"mean_speed": 5.0, "interval": 10.0}),
])
def test_trajectories_are_planned_as_time_advances(model, params):
    """Building a long run's trajectories holds no legs beyond the start; asking for later
    positions plans only that far, in any order; and the legs and maximum speed are those of
    the plan run to its end."""
    import tracemalloc

    from meshnet.mobility import build_trajectories

    starts = [(10.0 * i, 5.0 * i) for i in range(5)]
    area = (1000.0, 500.0)
    tracemalloc.start()
    try:
        long_run = build_trajectories(model, params, starts, area, 2e5, 4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # planned up front: ~20,000 legs per node, several MB
    assert all("planned on demand" in repr(t) for t in long_run)
    times = (0.0, 7.5, 300.0, 1000.0, 50.0)  # also backwards
    first = [[a.position(t) for a in long_run] for t in times]
    again = build_trajectories(model, params, starts, area, 2e5, 4)
    assert first == [[b.position(t) for b in again] for t in reversed(times)][::-1]
    whole = [t.segments for t in build_trajectories(model, params, starts, area, 1000.0, 4)]
    lazy = build_trajectories(model, params, starts, area, 1000.0, 4)
    assert [t.max_speed for t in lazy] == [max(s.speed for s in segs) for segs in whole]
    assert [t.segments for t in lazy] == whole


def test_trajectories_shared_between_threads_plan_safely():
    """A UI thread and an engine thread may both ask a planned trajectory for positions."""
    import threading

    from meshnet.mobility import build_trajectories

    def build():
        return build_trajectories("random-walk", {"max_speed": 50.0, "interval": 0.5},
                                  [(1.0, 1.0)] * 6, (100.0, 100.0), 3000.0, 3)

    shared, alone = build(), build()
    errors: list[Exception] = []

    def ask(offset: float) -> None:
        try:
            for t in range(0, 3000, 5):
                for track in shared:
                    track.position(t + offset)
        except Exception as exc:  # noqa: BLE001 (any failure fails the test below)
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(k * 1e-3,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [t.segments for t in shared] == [t.segments for t in alone]


def test_a_manual_move_ends_the_plan():
    from meshnet.mobility import build_trajectories

    (track,) = build_trajectories("random-waypoint", {"max_speed": 20.0}, [(1.0, 1.0)],
                                  (1000.0, 1000.0), 1e6, 1)
    before = track.position(30.0)
    track.set_position(40.0, 5.0, 6.0)
    assert track.position(30.0) == before
    assert track.position(1e5) == (5.0, 6.0)
    assert track.segments[-1].t0 == 40.0 and "planned" not in repr(track)


def test_a_long_simulation_runs_its_first_seconds_in_little_memory():
    from meshnet.sim import Simulation

    sc = load_scenario("broch", ["scenario.duration=200000", "traffic.flows=2"])
    sim = Simulation(sc)
    sim.run_until(5.0)
    assert sim.now == 5.0
    assert sim.sched.pending() < 500  # one pending course change per node, not the run's legs


def test_random_walk_at_the_largest_interval_and_speed_runs():
    sc = load_scenario("default", ["mobility.model=random-walk", "mobility.interval=1e8",
                                   "mobility.max_speed=1000", "scenario.duration=2",
                                   "nodes.count=5", "traffic.flows=1"])
    from meshnet.sim import Simulation
    result = Simulation(sc).run()
    assert result["duration_s"] == 2.0


def test_a_timer_that_keeps_firing_at_its_own_instant_stops_the_scheduler():
    sched = Scheduler()
    fired = []

    def again() -> None:
        fired.append(sched.now)
        sched.call_later(0.0, again)

    sched.call_at(1.5, again)
    with pytest.raises(SchedulerStalled) as info:
        sched.run_until(10.0)
    assert "t = 1.5" in str(info.value) and "again" in str(info.value)
    assert set(fired) == {1.5}


def test_many_events_at_one_instant_are_not_a_stall():
    sched = Scheduler()
    count = []
    for _ in range(200_000):
        sched.call_at(0.0, count.append, 1)
    sched.run_until(1.0)
    assert len(count) == 200_000 and sched.now == 1.0


# --- B: tracebacks where one line and exit status 2 are due ---------------------------------
def test_deeply_nested_toml_is_one_line(capsys, tmp_path):
    f = tmp_path / "deep.toml"
    f.write_text("[scenario]\nname = " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = run_cli(capsys, "run", str(f))
    assert_one_line_usage_error(code, err, str(f), "nested")


def test_deeply_nested_set_value_is_one_line(capsys):
    code, _, err = run_cli(capsys, "run", "--set", "scenario.name=" + "[" * 5000 + "]" * 5000)
    assert_one_line_usage_error(code, err, "--set", "nested")


def test_unicode_digit_in_an_ns2_node_index_is_one_line(capsys, tmp_path):
    trace = tmp_path / "t.tcl"
    trace.write_text("$node_(\u00b2) set X_ 1.0\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", "--set", "mobility.model=ns2-trace",
                           "--set", f"mobility.trace={trace}")
    assert_one_line_usage_error(code, err, "t.tcl:1", "node index")


def test_unicode_digit_in_a_set_traffic_index_is_one_line(capsys):
    code, _, err = run_cli(capsys, "run", "--set", "traffic.\u00b2.rate=3")
    assert_one_line_usage_error(code, err, "traffic.\u00b2.rate")


@pytest.mark.parametrize("table", [
    "[nodes]\nplacement = 'file'\nfile = \"a\\u0000b\"\n",
    "[mobility]\nmodel = 'ns2-trace'\ntrace = \"a\\u0000b\"\n",
    "[[traffic]]\nkind = 'ns2-cbrgen'\nfile = \"a\\u0000b\"\n",
])
def test_nul_in_a_file_path_is_one_line(capsys, tmp_path, table):
    f = tmp_path / "s.toml"
    f.write_text(table)
    code, _, err = run_cli(capsys, "run", str(f))
    assert_one_line_usage_error(code, err, "NUL")


@pytest.mark.parametrize("spec", ["a\x00b.toml", "a\x00b"])
def test_nul_in_the_scenario_path_is_one_line(capsys, spec):
    code, _, err = run_cli(capsys, "run", spec)
    assert_one_line_usage_error(code, err, "NUL")


def test_nul_in_an_output_path_is_one_line(capsys):
    code, _, err = run_cli(capsys, "run", "line", "--trace", "/tmp/a\x00b")
    assert_one_line_usage_error(code, err, "--trace", "NUL")


def test_graphml_with_an_unknown_encoding_is_one_line(capsys, tmp_path):
    f = tmp_path / "g.graphml"
    f.write_text('<?xml version="1.0" encoding="no-such-codec"?>\n<graphml></graphml>\n')
    code, _, err = run_cli(capsys, "run", "--set", "nodes.placement=file",
                           "--set", f"nodes.file={f}")
    assert_one_line_usage_error(code, err, "g.graphml")


def test_graphml_warnings_do_not_reach_stderr(tmp_path):
    f = tmp_path / "g.graphml"
    f.write_text(textwrap.dedent("""\
        <?xml version="1.0" encoding="UTF-8"?>
        <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
          <key id="x" for="node" attr.name="x"/>
          <key id="y" for="node" attr.name="y" attr.type="double"/>
          <graph edgedefault="undirected">
            <node id="a"><data key="x">0</data><data key="y">0</data><port name="p"/></node>
            <node id="b"><data key="x">100</data><data key="y">0</data></node>
          </graph>
        </graphml>
    """))
    p = run_bounded("run", "--set", "nodes.placement=file", "--set", f"nodes.file={f}",
                    "--set", "nodes.count=2", "--set", "traffic.0.flows=1", "--duration", "2",
                    "--json", "-q")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


@pytest.mark.parametrize("args, words", [
    (["--set", "radio.propagation=two-ray", "--set", "radio.tx_power=10000"],
     ["radio.tx_power"]),
    (["--set", "radio.propagation=log-distance", "--set", "radio.exponent=0.001"],
     ["radio.exponent"]),
    (["--set", "radio.propagation=log-distance", "--set", "radio.sigma=1e308"],
     ["radio.sigma"]),
    (["--set", "protocol.active_route_timeout=1e308"], ["protocol.active_route_timeout"]),
    (["--set", "protocol.delete_period=1e308"], ["protocol.delete_period"]),
    (["--set", "protocol.node_traversal_time=1e308"], ["protocol.node_traversal_time"]),
    (["--set", "protocol.queue_timeout=1e308"], ["protocol.queue_timeout"]),
    (["--seed", str(10 ** 30)], ["scenario.seed"]),
])
def test_values_that_overflowed_are_refused(capsys, args, words):
    code, _, err = run_cli(capsys, "run", "--json", *args)
    assert_one_line_usage_error(code, err, *words)


def test_json_to_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "line", "--duration",
                            "1", "--json"], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=120)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert "stdout" in p.stderr and "No space left" in p.stderr


def test_summary_to_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "line", "--duration",
                            "1"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


# --- C: both ends of every range --------------------------------------------------------------
# (key, lowest allowed, highest allowed, just below, just above); None: no such end to test
SCENARIO_RANGES = [
    ("scenario.duration", 1e-3, 1e8, 0, 1.0000001e8),
    ("scenario.seed", 0, 2 ** 63 - 1, -1, 2 ** 63),
    ("area.width", 1e-3, 1e6, 0, 1.000001e6),
    ("area.height", 1e-3, 1e6, 0, 1.000001e6),
    ("nodes.count", 1, 65534, 0, 65535),
    ("nodes.spacing", 1e-3, 1e6, 0, 1.000001e6),
    ("nodes.battery_j", 0, 1e12, -1, 1.000001e12),
    ("nodes.queue_len", 1, 1_000_000, 0, 1_000_001),
    ("radio.tx_power", -100, 100, -100.001, 100.001),
    ("radio.range", 1e-3, 1e6, 0, 1.000001e6),
    ("radio.delay", 0, 3600, -1e-9, 3600.001),
    ("radio.bitrate", 1, 1e12, 0.999, 1.000001e12),
    ("radio.exponent", 1, 8, 0.999, 8.001),
    ("radio.sigma", 0, 30, -0.001, 30.001),
    ("trace.link_interval", 1e-3, 1e8, 0.000999, 1.0000001e8),
    ("traffic.0.flows", 0, 100_000, -1, 100_001),
    ("traffic.0.rate", 1e-6, 100_000, 0, 100_000.1),
    ("traffic.0.size", 1, 65507, 0, 65508),
    ("traffic.0.start", 0, 1e8, -1e-9, 1.0000001e8),
    ("traffic.0.stop", 0, 1e308, -1e-9, None),  # any finite time: flows end with the run
    ("traffic.0.jitter", 0, 1e8, -1e-9, 1.0000001e8),
    ("traffic.0.ttl", 1, 255, 0, 256),
]

# keys that only apply with another setting
CONTEXT = {
    "radio.tx_power": {"radio": {"propagation": "friis", "profile": "wavelan"}},
    "radio.exponent": {"radio": {"propagation": "log-distance"}},
    "radio.sigma": {"radio": {"propagation": "log-distance"}},
    "nodes.battery_j": {"radio": {"propagation": "friis"}},
}


def _scenario(key: str, value) -> dict:
    raw: dict = {"traffic": [{"flows": 1}]}
    for section, table in CONTEXT.get(key, {}).items():
        raw.setdefault(section, {}).update(table)
    parts = key.split(".")
    if parts[0] == "traffic":
        raw["traffic"][0][parts[2]] = value
        if parts[2] == "flows" and value == 0:
            raw["traffic"][0]["pairs"] = [[1, 2]]
    else:
        raw.setdefault(parts[0], {})[parts[1]] = value
    return raw


@pytest.mark.parametrize("key, low, high, below, above", SCENARIO_RANGES,
                         ids=[r[0] for r in SCENARIO_RANGES])
def test_scenario_key_ranges(key, low, high, below, above):
    for value in (low, high):
        scenario_from_dict(_scenario(key, value))
    for value in (below, above):
        if value is None:
            continue
        with pytest.raises(ScenarioError) as info:
            scenario_from_dict(_scenario(key, value))
        assert key in str(info.value) and "\n" not in str(info.value)


def test_tx_power_range_also_bounds_unit_disk_runs():
    with pytest.raises(ScenarioError, match="radio.tx_power"):
        scenario_from_dict({"radio": {"tx_power": 1e300}})


def test_total_flows_are_bounded_across_entries():
    raw = {"traffic": [{"flows": 100_000}, {"flows": 100_000}]}
    with pytest.raises(ScenarioError, match="flows"):
        scenario_from_dict(raw)


# (mobility model, key, lowest, highest, below, above)
MOBILITY_RANGES = [
    ("random-waypoint", "min_speed", 0, 1000, -0.001, 1000.001),
    ("random-waypoint", "max_speed", 0, 1000, -0.001, 1000.001),
    ("random-waypoint", "pause", 0, 1e8, -0.001, 1.0000001e8),
    ("random-walk", "max_speed", 0, 1000, -0.001, 1000.001),
    ("random-walk", "interval", 0.1, 1e8, 0.0999, 1.0000001e8),
    ("gauss-markov", "mean_speed", 0, 1000, -0.001, 1000.001),
    ("gauss-markov", "alpha", 0, 1, -0.001, 1.001),
    ("gauss-markov", "interval", 0.1, 1e8, 0.0999, 1.0000001e8),
    ("gauss-markov", "sigma_speed", 0, 1000, -0.001, 1000.001),
    ("gauss-markov", "sigma_dir", 0, 100, -0.001, 100.001),
    ("gauss-markov", "edge_margin", 0, 1e6, -0.001, 1.000001e6),
]


@pytest.mark.parametrize("model, key, low, high, below, above", MOBILITY_RANGES,
                         ids=[f"{m}.{k}" for m, k, *_ in MOBILITY_RANGES])
def test_mobility_parameter_ranges(model, key, low, high, below, above):
    from meshnet.mobility import MobilityError, build_trajectories

    def build(value):
        params = {key: value}
        if key == "min_speed":
            params["max_speed"] = 1000
        if model == "gauss-markov" and key == "mean_speed":
            params["sigma_speed"] = 0
        return build_trajectories(model, params, [(1.0, 1.0)], (100.0, 100.0), 5.0, 1)

    for value in (low, high):
        build(value)
    for value in (below, above):
        with pytest.raises(MobilityError) as info:
            build(value)
        assert f"mobility.{key}" in str(info.value)


def test_waypoints_faster_than_the_speed_limit_are_refused():
    from meshnet.mobility import MobilityError, build_trajectories

    with pytest.raises(MobilityError, match="points"):
        build_trajectories("waypoints", {"points": [[[1e-300, 50.0, 0.0]]]}, [(0.0, 0.0)],
                           (100.0, 100.0), 5.0, 1)


def test_ns2_speed_above_the_limit_is_refused(tmp_path):
    from meshnet.mobility import MobilityError, parse_ns2_trace

    trace = tmp_path / "t.tcl"
    trace.write_text('$node_(0) set X_ 1\n$node_(0) set Y_ 1\n'
                     '$ns_ at 1.0 "$node_(0) setdest 5 5 1e308"\n')
    with pytest.raises(MobilityError, match="t.tcl:3"):
        parse_ns2_trace(trace)


# (protocol, key, lowest, highest, below, above); None: that end is open
PROTOCOL_RANGES = [
    ("aodv", "hello_interval", 0.01, 3600, 0.0099, 3600.1),
    ("aodv", "allowed_hello_loss", 1, 255, 0, 256),
    ("aodv", "active_route_timeout", 0.001, 1e6, 0.00099, 1.000001e6),
    ("aodv", "node_traversal_time", 1e-6, 60, 0.9e-6, 60.001),
    ("aodv", "net_diameter", 1, 255, 0, 256),
    ("aodv", "rreq_retries", 0, 255, -1, 256),
    ("aodv", "rreq_rate_limit", 0, 1_000_000, -1, 1_000_001),
    ("aodv", "rerr_rate_limit", 0, 1_000_000, -1, 1_000_001),
    ("aodv", "ttl_start", 1, 7, 0, None),
    ("aodv", "ttl_increment", 1, 255, 0, 256),
    ("aodv", "ttl_threshold", 1, 35, 0, 36),
    ("aodv", "timeout_buffer", 0, 255, -1, 256),
    ("aodv", "my_route_timeout", 0, 1e6, -0.001, 1.000001e6),
    ("aodv", "delete_period", 0, 1e6, -0.001, 1.000001e6),
    ("aodv", "path_discovery_time", 0, 1e6, -0.001, 1.000001e6),
    ("aodv", "net_traversal_time", 0, 1e6, -0.001, 1.000001e6),
    ("aodv", "queue_len", 1, 1_000_000, 0, 1_000_001),
    ("aodv", "queue_timeout", 0.001, 1e6, 0.00099, 1.000001e6),
    ("aodv", "broadcast_jitter", 0, 0.999, -0.001, 1.0),
    ("aodv", "auth_window", 0, 1e6, -0.001, 1.000001e6),
    ("dsdv", "periodic_update_interval", 0.01, 86400, 0.0099, 86400.1),
    ("dsdv", "settling_time", 0, 1e6, -0.001, 1.000001e6),
    ("dsdv", "holdtimes", 1, 1000, 0, 1001),
    ("dsdv", "weighted_factor", 0, 1, -0.001, 1.001),
    ("dsdv", "route_aggregation_time", 0, 3600, -0.001, 3600.1),
    ("dsdv", "max_queue_len", 1, 1_000_000, 0, 1_000_001),
    ("dsdv", "max_queued_per_dst", 1, 1_000_000, 0, 1_000_001),
    ("dsdv", "max_queue_time", 0, 1e6, -0.001, 1.000001e6),
    ("dsdv", "auth_window", 0, 1e6, -0.001, 1.000001e6),
    ("gpsr", "beacon_interval", 0.01, 3600, 0.0099, 3600.1),
    ("gpsr", "beacon_jitter", 0, 0.99, -0.001, 1.0),
    ("gpsr", "neighbor_timeout", 0, 1e6, -0.001, 1.000001e6),
    ("gpsr", "max_perimeter_hops", 1, 255, 0, 256),
    ("mtpr", "sensitivity_dbm", -199, 49, -200, 50),
    ("mtpr", "margin_db", 0, 100, -0.001, 100.1),
    ("mtpr", "rx_current_ma", 0, 10_000, -0.001, 10_000.1),
    ("mtpr", "reply_wait", 0, 60, -0.001, 60.1),
    ("mtpr", "max_forwards", 1, 255, 0, 256),
    ("mtpr", "forward_jitter", 0, 60, -0.001, 60.1),
    ("mtpr", "net_diameter", 1, 255, 0, 256),
    ("mtpr", "discovery_timeout", 0.001, 3600, 0.00099, 3600.1),
    ("mtpr", "rreq_retries", 0, 32, -1, 33),
    ("mtpr", "request_memory", 0.001, 1e6, 0.00099, 1.000001e6),
    ("mtpr", "active_route_timeout", 0.001, 1e6, 0.00099, 1.000001e6),
    ("mtpr", "refresh_interval", 0, 1e6, -0.001, 1.000001e6),
    ("mtpr", "queue_len", 1, 1_000_000, 0, 1_000_001),
    ("mtpr", "queue_timeout", 0.001, 1e6, 0.00099, 1.000001e6),
    ("cmmbcr", "gamma", 0, 1, -0.001, 1.001),
    ("flooding", "cache_size", 1, 10_000_000, 0, 10_000_001),
]


# other parameters an end needs (the checks that relate parameters to each other)
PROTOCOL_CONTEXT = {
    ("aodv", "hello_interval"): {"broadcast_jitter": 0.0},
    ("aodv", "net_diameter"): {"ttl_threshold": 1},
}


@pytest.mark.parametrize("proto, key, low, high, below, above", PROTOCOL_RANGES,
                         ids=[f"{p}.{k}" for p, k, *_ in PROTOCOL_RANGES])
def test_protocol_parameter_ranges(proto, key, low, high, below, above):
    cls = load_protocol(proto)
    context = PROTOCOL_CONTEXT.get((proto, key), {})
    for value in (low, high):
        build_params(cls, {**context, key: value})
    for value in (below, above):
        if value is None:
            continue
        with pytest.raises(ProtocolConfigError) as info:
            build_params(cls, {**context, key: value})
        assert f"protocol.{key}" in str(info.value) and "\n" not in str(info.value)


def test_aodv_jitter_must_stay_below_the_hello_interval():
    build_params(load_protocol("aodv"), {"hello_interval": 0.5, "broadcast_jitter": 0.49})
    with pytest.raises(ProtocolConfigError, match="broadcast_jitter .*hello_interval"):
        build_params(load_protocol("aodv"), {"hello_interval": 0.5, "broadcast_jitter": 0.5})


def test_refresh_interval_between_zero_and_its_minimum_is_refused():
    with pytest.raises(ProtocolConfigError, match="refresh_interval"):
        build_params(load_protocol("mtpr"), {"refresh_interval": 1e-300})


def test_power_current_table_values_are_bounded():
    with pytest.raises(ProtocolConfigError, match="tx_current_ma"):
        build_params(load_protocol("mtpr"), {"tx_current_ma": "0:1e308"})
    with pytest.raises(ProtocolConfigError, match="tx_current_ma"):
        build_params(load_protocol("mtpr"), {"tx_current_ma": "1e300:10"})
