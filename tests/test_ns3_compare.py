"""benchmarks/ns3_compare.py and the ns-3 program it drives (benchmarks/ns3_broch.py), without
ns-3: the skip path, bad input, and the spec that carries meshnet's broch cell to ns-3 (same
nodes, flows, speeds, radio thresholds), checked against meshnet's own scenario and simulator."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.world import build_world

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPT = BENCH / "ns3_compare.py"
PROGRAM = BENCH / "ns3_broch.py"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cmp = _load("ns3_compare")
prog = _load("ns3_broch")


def _run(*args: str, script: Path = SCRIPT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def aodv_spec() -> dict:
    return cmp.build_spec(cmp.load_cell("aodv", 200.0, 1), cmp.COUNTERPARTS["aodv"])


# --- skip path and bad input -----------------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("ns") is not None,
                    reason="this interpreter has ns-3, so the script would not skip")
def test_without_ns3_the_script_says_how_to_install_and_exits_0():
    p = _run("--protocols", "aodv")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("skipped: ns-3 not found")
    assert "pip install ns3==3.44.post0" in lines[0] and "--ns3-python" in lines[0]
    assert "Traceback" not in p.stderr


def test_an_interpreter_without_ns3_skips_with_its_error(tmp_path):
    fake = tmp_path / "python-without-ns3"
    fake.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'ns'\" >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    p = _run("--ns3-python", str(fake), "--quick")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1
    assert "pip install ns3" in p.stdout and "No module named 'ns'" in p.stdout


@pytest.mark.parametrize("args, words", [
    (["--protocols", "olsr"], "unknown olsr"),
    (["--protocols", "aodv", "smf"], "smf is not compared: multicast"),
    (["--duration", "-5"], "--duration"),
    (["--duration", "abc"], "--duration"),
    (["--seeds", "x"], "--seeds"),
    (["--json", "/no/such/dir/out.json"], "no such directory"),
    (["--ns3-python", "/no/such/python"], "no such executable"),
    (["--bogus"], "unrecognized"),
])
def test_bad_input_is_one_line_and_exit_2(args, words):
    p = _run(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and words in p.stderr
    assert "Traceback" not in p.stderr


def test_the_ns3_program_rejects_a_bad_spec_before_importing_ns3(tmp_path):
    bad = tmp_path / "spec.json"
    bad.write_text(json.dumps({"protocol": "aodv"}))
    p = _run(str(bad), script=PROGRAM)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "spec lacks" in p.stderr
    missing = _run(str(tmp_path / "absent.json"), script=PROGRAM)
    assert missing.returncode == 2 and "absent.json" in missing.stderr


# --- the spec: meshnet's cell as ns-3 gets it ----------------------------------------------

def test_spec_radio_gives_ns3_meshnets_ranges_and_thresholds(aodv_spec):
    r = aodv_spec["radio"]
    assert r["range_m"] == pytest.approx(250.0, abs=0.5)
    assert r["cs_range_m"] == pytest.approx(550.0, abs=0.5)
    assert r["decode_threshold_dbm"] == pytest.approx(-64.37, abs=0.01)  # ns-2 RXThresh_
    assert r["cs_threshold_dbm"] == pytest.approx(-78.07, abs=0.01)      # ns-2 CSThresh_
    # YansWifiChannel keeps signals above RxSensitivity + 10 log10(22/20): exactly the CS ones
    assert r["rx_sensitivity_dbm"] + 10 * math.log10(22 / 20) == pytest.approx(
        r["cs_threshold_dbm"])
    assert r["tx_power_dbm"] == 24.5 and r["frequency_hz"] == 914e6
    assert r["antenna_height_m"] == 1.5 and r["system_loss"] == 1.0
    assert r["tx_gain_db"] == r["rx_gain_db"] == 0.0
    assert r["data_mode"] == "DsssRate2Mbps"
    assert r["noise_figure_db"] == pytest.approx(10.0)
    assert r["queue_packets"] == 50


def test_spec_carries_meshnets_nodes_flows_and_speeds(aodv_spec):
    sc = cmp.load_cell("aodv", 200.0, 1)
    world = build_world(sc)
    assert aodv_spec["area"] == [1500.0, 300.0]
    assert aodv_spec["positions"] == [list(t.position(0.0)) for t in world.trajectories]
    assert len(aodv_spec["positions"]) == 50
    assert (aodv_spec["speed_min"], aodv_spec["speed_max"], aodv_spec["pause_s"]) == (0.1, 20, 0)
    flows = aodv_spec["flows"]
    assert len(flows) == cmp.FLOWS == 10
    assert [(f["src"], f["dst"], f["start"]) for f in flows] == \
        [(f.src, f.dst, f.start) for f in world.flows]
    assert all(f["interval"] == 0.25 and f["size"] == 64 and f["stop"] == 200.0 for f in flows)
    assert all(0.0 <= f["start"] <= 180.0 for f in flows)   # 90 % of the run, broch's 180 s
    assert prog.check_spec(aodv_spec) is aodv_spec


def test_spec_is_a_function_of_the_seed():
    cp = cmp.COUNTERPARTS["dsdv"]
    a = cmp.build_spec(cmp.load_cell("dsdv", 30.0, 3), cp)
    b = cmp.build_spec(cmp.load_cell("dsdv", 30.0, 3), cp)
    c = cmp.build_spec(cmp.load_cell("dsdv", 30.0, 4), cp)
    assert json.dumps(a) == json.dumps(b)
    assert a["positions"] != c["positions"] and a["seed"] == 3 and c["seed"] == 4
    assert a["flows"][0]["stop"] == 30.0 and max(f["start"] for f in a["flows"]) <= 27.0


def test_ns3_generates_exactly_the_packets_meshnet_sends():
    sc = cmp.load_cell("none", 40.0, 2)
    spec = cmp.build_spec(sc, cmp.COUNTERPARTS["none"])
    sent = Simulation(sc).run()["sent"]
    assert sent > 0
    assert sum(prog.generated_packets(f["start"], f["stop"], f["interval"])
               for f in spec["flows"]) == sent


def test_generated_packets_counts_the_udpclient_schedule():
    assert prog.generated_packets(0.0, 1.0, 0.25) == 4        # 0, .25, .5, .75
    assert prog.generated_packets(0.1, 1.0, 0.25) == 4        # .1, .35, .6, .85
    assert prog.generated_packets(0.3, 1.0, 0.25) == 3
    assert prog.generated_packets(5.0, 5.0, 0.25) == 0
    assert prog.generated_packets(6.0, 5.0, 0.25) == 0


def test_a_cell_ns3_cannot_model_is_refused():
    sc = load_scenario("broch", [*cmp.meshnet_overrides(30.0, 1), 'radio.propagation="unit-disk"',
                                 "radio.range=250"], protocol="aodv")
    with pytest.raises(cmp.UsageError, match="two-ray"):
        cmp.build_spec(sc, cmp.COUNTERPARTS["aodv"])


@pytest.mark.parametrize("change, words", [
    ({"protocol": "babel"}, "ns-3 side knows"),
    ({"positions": [[0, 0]]}, "at least 2 nodes"),
    ({"duration_s": 0}, "duration_s"),
    ({"flows": [{"src": 1, "dst": 1, "start": 0, "stop": 1, "interval": 1, "size": 64}]},
     "two different nodes"),
    ({"flows": [{"src": 0, "dst": 1, "start": 0, "stop": 1, "interval": 1, "size": 8}]},
     "header"),
    ({"flows": [{"src": 0, "dst": 1}]}, "lacks"),
])
def test_check_spec_names_what_is_wrong(aodv_spec, change, words):
    with pytest.raises(prog.SpecError, match=words):
        prog.check_spec({**aodv_spec, **change})


def test_every_protocol_has_a_labelled_ns3_counterpart():
    from meshnet.registry import protocol_names

    compared = {cmp.meshnet_run(row)[0] for row in cmp.COUNTERPARTS}
    assert compared | set(cmp.NOT_COMPARED) == set(protocol_names())
    assert not compared & set(cmp.NOT_COMPARED)
    for name, cp in cmp.COUNTERPARTS.items():
        assert cp.ns3 in prog.ROUTING
        assert cp.relation in ("same protocol", "same setting", "reference")
        assert (cp.relation == "same protocol") == (cmp.meshnet_run(name)[0] == cp.ns3 != "none")
        if cp.relation == "reference":
            assert "ns-3 has no" in cp.note
    assert cmp.COUNTERPARTS["aodv"].attributes == {"EnableHello": False}


def test_aodv_is_compared_with_and_without_hellos_on_both_sides(aodv_spec):
    hello = cmp.build_spec(cmp.load_cell("aodv-hello", 200.0, 1), cmp.COUNTERPARTS["aodv-hello"])
    assert aodv_spec["protocol_attributes"] == {"EnableHello": False}
    assert hello["protocol_attributes"] == {}          # ns-3's default: hellos on
    assert {**hello, "protocol_attributes": None} == {**aodv_spec, "protocol_attributes": None}
    assert cmp.load_cell("aodv", 30.0, 1).protocol.extra["link_detection"] == "link-layer"
    assert cmp.load_cell("aodv-hello", 30.0, 1).protocol.extra["link_detection"] == "hello"
    cmd = cmp.meshnet_command("aodv-hello", 30.0, 1)
    assert cmd[cmd.index("-p") + 1] == "aodv"
    assert 'protocol.link_detection="hello"' in cmd and "scenario.seed=1" in cmd
    assert cmp.ns3_label("aodv", {"EnableHello": False}) == "aodv EnableHello=false"
    assert cmp.ns3_label("dsdv", {}) == "dsdv"


def test_no_routing_means_no_on_link_subnet_in_ns3():
    assert prog.netmask("none") == "255.255.255.255"
    assert prog.netmask("aodv") == prog.netmask("dsdv") == "255.255.0.0"


# --- measuring and reporting -------------------------------------------------------------------

def test_measure_counts_the_childs_cpu_not_its_sleep():
    burn = cmp.measure([sys.executable, "-c",
                        "import time\nwhile time.process_time() < 0.3: pass"], 60)
    assert burn.returncode == 0 and burn.cpu_s >= 0.3 and burn.wall_s >= burn.cpu_s * 0.5
    nap = cmp.measure([sys.executable, "-c", "import time; time.sleep(0.3)"], 60)
    assert nap.wall_s >= 0.3 and nap.cpu_s < burn.cpu_s


def test_a_hung_process_is_a_clear_failure():
    with pytest.raises(cmp.RunFailed, match="sleeper: no result after 0.5 s"):
        cmp.measure([sys.executable, "-c", "import time; time.sleep(30)"], 0.5, "sleeper")


def test_a_run_that_prints_no_result_is_a_clear_failure():
    quiet = cmp.measure([sys.executable, "-c", "print('hello')"], 60, "quiet")
    with pytest.raises(cmp.RunFailed, match="quiet: no JSON result"):
        cmp._result(quiet, "quiet")
    failed = cmp.measure([sys.executable, "-c", "import sys; sys.exit('boom')"], 60)
    with pytest.raises(cmp.RunFailed, match="loud: boom"):
        cmp._result(failed, "loud")


def test_run_meshnet_measures_the_cli_run():
    r = cmp.run_meshnet("none", 5.0, 1, 120)
    assert r["cpu_s"] > 0 and r["wall_s"] > 0
    assert r["sent"] > 0 and r["delivered"] == 0 and r["pdr"] == 0.0


def test_last_json_line_skips_cppyy_noise():
    out = "[runStaticInitializersOnce]: Failed to materialize symbols: {}\n{\"pdr\": 0.5}\n"
    assert cmp.last_json_line(out) == {"pdr": 0.5}
    with pytest.raises(ValueError):
        cmp.last_json_line("nothing here\n")


def _ns3_result(run_cpu: float, total_cpu: float, pdr: float) -> dict:
    return {"process_cpu_s": total_cpu, "process_wall_s": total_cpu * 2,
            "cpu_s": {"import": 8.0, "build": 1.0, "run": run_cpu}, "pdr": pdr, "fm_pdr": pdr,
            "generated": 100, "mean_hops": 2.0, "events": 1000}


def _mesh_result(cpu: float, pdr: float) -> dict:
    return {"cpu_s": cpu, "wall_s": cpu, "pdr": pdr, "sent": 100, "mean_hops": 2.5,
            "events": 50}


def test_rows_give_ratios_and_average_over_seeds():
    rows = [cmp.comparison_row("gpsr", 1, 30.0, _mesh_result(1.0, 0.9),
                               _ns3_result(2.0, 12.0, 0.8)),
            cmp.comparison_row("gpsr", 2, 30.0, _mesh_result(2.0, 0.7),
                               _ns3_result(4.0, 14.0, 0.6))]
    assert rows[0]["ratio_cpu"] == 12.0 and rows[0]["ratio_run_cpu"] == 2.0
    assert rows[0]["ratio_wall"] == 24.0
    assert rows[0]["ns3_protocol"] == "olsr" and rows[0]["relation"] == "reference"
    (mean,) = cmp.mean_rows(rows)
    assert mean["seeds"] == [1, 2]
    assert mean["meshnet_cpu_s"] == 1.5 and mean["ns3_cpu_s"] == 13.0
    assert mean["meshnet_pdr"] == pytest.approx(0.8) and mean["ns3_pdr"] == pytest.approx(0.7)
    assert mean["protocol"] == "gpsr" and mean["note"] == rows[0]["note"]


def test_ratios_keep_two_digits_when_small():
    assert cmp.times(14.23) == "14.2x" and cmp.times(1.0) == "1.0x"
    assert cmp.times(0.0178) == "0.018x" and cmp.times(0.5) == "0.5x"


def test_range_check_verdict():
    def c(received, busy):
        return {"sent": 10, "received": received, "cca_busy_seen": busy}

    good = [c(10, True), c(0, True), c(0, True), c(0, False)]
    assert cmp.range_check_ok(good)
    assert not cmp.range_check_ok([c(10, True), c(3, True), c(0, True), c(0, False)])
    assert not cmp.range_check_ok([c(10, True), c(0, True), c(0, False), c(0, False)])
    assert not cmp.range_check_ok([c(10, True), c(0, True), c(0, True), c(0, True)])
    radio = {"range_m": 250.0, "cs_range_m": 550.0}
    assert prog.radio_distances(radio) == [247.5, 252.5, 544.5, 555.5]
