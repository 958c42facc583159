"""meshnet against ns-3 on the broch cell: CPU and wall seconds of both processes, per protocol.

The cell: 50 nodes in 1500 x 300 m, random waypoint 0-20 m/s (0.1-20 m/s on both sides: meshnet's
floor against stalled nodes) with no pause, 10 CBR flows of
4 x 64-byte packets/s starting at random in the first 90 % of the run, 802.11 DSSS 2 Mb/s
radios with two-ray ground propagation (250 m decode, 550 m carrier sense), 200 s.

Both simulators run as subprocesses, one at a time, measured the same way: CPU seconds
(user + system, from getrusage(RUSAGE_CHILDREN) deltas) and wall seconds of the whole process.
meshnet runs as ``meshnet run broch ... --json``; ns-3 runs `benchmarks/ns3_broch.py` with the
Python that has ns-3 (pip's ``ns3`` wheel, bindings through cppyy), from a spec built from the
same meshnet scenario: node count, area, start positions, speeds, flows (same pairs, start
times and rates), radio thresholds. ns-3 moves the nodes with its own random waypoint model,
so the two runs see different trajectories and need not deliver the same share of packets;
their PDRs are printed so one can see they do comparable work.

ns-3's process time includes importing the bindings (seconds of CPU, parsing C++ headers);
its ``Simulator::Run`` alone is reported too. AODV is compared twice: with link-layer failure
detection and no hellos (broch's setting; ns-3 EnableHello=false) and with 1 s hellos on both
sides (``aodv-hello``, ns-3's default). A protocol ns-3 lacks is compared with a labelled ns-3
reference workload, never presented as the same protocol; multicast and ZigBee/Z-Wave
protocols are not compared (see NOT_COMPARED).

Usage: python benchmarks/ns3_compare.py [--protocols aodv aodv-hello dsdv ... | all]
       [--seeds 1 2] [--duration 200 | --quick] [--ns3-python PATH] [--json FILE]
       [--verify-range]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS3_PROGRAM = HERE / "ns3_broch.py"
SCENARIO = "broch"
FLOWS = 10                  # as ns-3's manet-routing-compare (scenarios/broch.toml has 20)
JITTER_SHARE = 0.9          # flows start uniformly in the first 90 % (180 s of 200, as broch)
QUICK_DURATION = 30.0
INSTALL_HINT = ("ns-3 not found: install it with `python -m venv NS3VENV && "
                "NS3VENV/bin/pip install ns3==3.44.post0` and pass --ns3-python NS3VENV/bin/python")
# YansWifiChannel drops, before anything else (no decoding, no carrier sense, no interference),
# every signal under RxSensitivity + 10 log10(width / 20 MHz); a DSSS channel is 22 MHz wide.
NS3_YANS_WIDTH_DB = 10.0 * math.log10(22.0 / 20.0)
AODV_LL = {"EnableHello": False}  # link-layer feedback: ns-3 AODV always hooks WifiMac DroppedMpdu


@dataclass(frozen=True)
class Counterpart:
    """A row: the meshnet run (a protocol, with ``--set`` overrides for a variant), the ns-3
    run it is compared with, and what the comparison means."""

    ns3: str
    attributes: dict
    relation: str     # "same protocol", "same setting" or "reference"
    note: str
    meshnet: str = ""            # meshnet protocol, if not the row's name
    meshnet_set: tuple = ()      # --set overrides of the variant


COUNTERPARTS: dict[str, Counterpart] = {
    "aodv": Counterpart("aodv", AODV_LL, "same protocol",
                        "RFC 3561 both sides; hellos off, link-layer failure detection "
                        "(broch's setting)"),
    "aodv-hello": Counterpart("aodv", {}, "same protocol",
                              "RFC 3561 both sides; hellos every 1 s, 2 allowed losses (ns-3's "
                              "default setting)", meshnet="aodv",
                              meshnet_set=('protocol.link_detection="hello"',)),
    "dsdv": Counterpart("dsdv", {}, "same protocol",
                        "Perkins & Bhagwat; periodic dump 15 s, settling time 5 s both sides"),
    "none": Counterpart("none", {}, "same setting",
                        "no routing either side: every packet dropped at its source "
                        "(fixed cost: mobility, traffic, idle radios)"),
    "flooding": Counterpart("aodv", AODV_LL, "reference",
                            "ns-3 has no flooding; ns-3 AODV on the same traffic (flooding "
                            "rebroadcasts every data packet at every node: far more frames)"),
    "gpsr": Counterpart("olsr", {}, "reference",
                        "ns-3 has no geographic routing; ns-3 OLSR, also proactive periodic "
                        "one-hop beacons (HELLO 2 s vs GPSR's 1.5 s) with no discovery, plus "
                        "TC floods GPSR does not send"),
    "mtpr": Counterpart("aodv", AODV_LL, "reference",
                        "ns-3 has no power-aware routing; ns-3 AODV: the same kind of work "
                        "(on-demand RREQ flood, unicast RREP, route table)"),
    "mmbcr": Counterpart("aodv", AODV_LL, "reference",
                         "ns-3 has no power-aware routing; ns-3 AODV (on-demand, as MMBCR)"),
    "cmmbcr": Counterpart("aodv", AODV_LL, "reference",
                          "ns-3 has no power-aware routing; ns-3 AODV (on-demand, as CMMBCR)"),
}


NOT_COMPARED = {
    "odmrp": "multicast routing, and the broch cell's flows are unicast",
    "smf": "multicast forwarding, and the broch cell's flows are unicast",
    "zigbee-mesh": "written for ZigBee networks, not an 802.11 cell",
    "zigbee-tree": "written for ZigBee networks, not an 802.11 cell",
    "zwave": "written for Z-Wave networks, not an 802.11 cell",
}


class UsageError(Exception):
    """Bad input from the user: one line, exit status 2."""


class RunFailed(Exception):
    """A simulator process failed; the message says which and why."""


@dataclass(frozen=True)
class Measured:
    """One finished subprocess: its output and what it cost."""

    stdout: str
    stderr: str
    returncode: int
    cpu_s: float
    wall_s: float


def measure(cmd: list[str], timeout_s: float, label: str = "") -> Measured:
    """Run ``cmd`` to completion; CPU = user + system time of the child (and anything it
    waited for), from getrusage deltas, so run one at a time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{label or cmd[0]}: no result after {timeout_s:g} s") from None
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(p.stdout, p.stderr, p.returncode, cpu, wall)


def last_json_line(text: str) -> dict:
    """The last line of ``text`` that is a JSON object (cppyy writes noise before it)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON result in the output")


def probe_ns3(python: str) -> str | None:
    """None if ``python -c 'from ns import ns'`` works, else why not (one line). This first
    import also warms the file cache, so the first measured run does not pay for it."""
    try:
        p = subprocess.run([python, "-c", "from ns import ns"], capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        return f"{python}: importing ns-3 took more than 600 s"
    except OSError as e:
        return f"{python}: {e.strerror}"
    if p.returncode == 0:
        return None
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit status {p.returncode}"


# --- the scenario, shared by both sides --------------------------------------------------------

def meshnet_overrides(duration: float, seed: int, flows: int = FLOWS) -> list[str]:
    """``--set`` values that turn the broch scenario into the compared cell."""
    return [f"scenario.duration={duration!r}", f"scenario.seed={seed}",
            f"traffic.flows={flows}", f"traffic.jitter={JITTER_SHARE * duration!r}"]


def meshnet_run(row: str) -> tuple[str, list[str]]:
    """The meshnet protocol of a row and the row's own ``--set`` overrides."""
    cp = COUNTERPARTS[row]
    return cp.meshnet or row, list(cp.meshnet_set)


def load_cell(row: str, duration: float, seed: int):
    """meshnet's scenario for one run of a row (raises meshnet's ScenarioError on bad input)."""
    from meshnet.scenario import load_scenario

    protocol, extra = meshnet_run(row)
    return load_scenario(SCENARIO, meshnet_overrides(duration, seed) + extra, protocol=protocol)


def radio_spec(world) -> dict:
    """ns-3 PHY settings for the scenario's radio, with ns-2's two thresholds: frames are
    decoded above the power meshnet's propagation model gives at its decode range and sensed
    (carrier sense, interference) above the power at its carrier-sense range. ns-3's
    TwoRayGroundPropagationLossModel uses the same formula (ns-2's), so the ranges match.

    In ns-3 a signal must pass RxSensitivity to be seen at all, so RxSensitivity goes at the
    carrier-sense power and the decode threshold is the preamble detection model's MinimumRssi
    (weaker frames are sensed and interfere but are not received)."""
    profile, prop, tx = world.profile, world.propagation, world.tx_power
    if prop.name != "two-ray" or profile.mac != "dcf":
        raise UsageError(f"the ns-3 cell models 802.11 DCF over two-ray ground, not "
                         f"{profile.name} over {prop.name}")
    if prop.tx_height_m != prop.rx_height_m:
        raise UsageError("ns-3's TwoRayGround model takes one antenna height for both ends")
    rx_range = prop.range_m(tx, profile.sensitivity_dbm)
    cs_range = prop.range_m(tx, profile.cs_threshold_dbm)
    noise_figure = profile.noise_floor_dbm - thermal_noise_dbm(22e6)
    return {
        "frequency_hz": profile.frequency_hz, "tx_power_dbm": tx,
        "antenna_height_m": prop.tx_height_m, "system_loss": prop.system_loss,
        "tx_gain_db": prop.tx_gain_dbi, "rx_gain_db": prop.rx_gain_dbi,
        "decode_threshold_dbm": prop.rx_power_dbm(tx, rx_range),
        "cs_threshold_dbm": prop.rx_power_dbm(tx, cs_range),
        "rx_sensitivity_dbm": prop.rx_power_dbm(tx, cs_range) - NS3_YANS_WIDTH_DB,
        "noise_figure_db": round(noise_figure, 6),
        "data_mode": dsss_mode(profile.bitrate_bps),
        "queue_packets": world.scenario.nodes.queue_len,
        "range_m": rx_range, "cs_range_m": cs_range,
    }


def thermal_noise_dbm(bandwidth_hz: float) -> float:
    """kTB at 290 K, the noise ns-3's PHY adds its noise figure to."""
    return -174.0 + 10.0 * math.log10(bandwidth_hz)


def dsss_mode(bitrate_bps: float) -> str:
    """ns-3's 802.11b mode name for a DSSS/CCK bit rate."""
    modes = {1e6: "DsssRate1Mbps", 2e6: "DsssRate2Mbps", 5.5e6: "DsssRate5_5Mbps",
             11e6: "DsssRate11Mbps"}
    if bitrate_bps not in modes:
        raise UsageError(f"no 802.11b mode at {bitrate_bps / 1e6:g} Mb/s")
    return modes[bitrate_bps]


def build_spec(sc, counterpart: Counterpart) -> dict:
    """The JSON spec `ns3_broch.py` runs: the meshnet scenario ``sc`` as ns-3 needs it."""
    from meshnet.mobility import resolve_params
    from meshnet.mobility.random_models import _speed_range  # the speed floor meshnet applies
    from meshnet.world import build_world

    if sc.mobility.model != "random-waypoint":
        raise UsageError(f"the ns-3 cell models random waypoint, not {sc.mobility.model}")
    world = build_world(sc)
    mob = resolve_params("random-waypoint", sc.mobility.extra)
    v_lo, v_hi = _speed_range(mob["min_speed"], mob["max_speed"])
    flows = [{"src": f.src, "dst": f.dst, "start": f.start, "stop": f.stop,
              "interval": 1.0 / f.rate, "size": f.size}
             for f in world.flows if f.kind == "cbr" and not f.multicast]
    if len(flows) != len(world.flows):
        raise UsageError("the ns-3 cell models unicast CBR flows only")
    return {
        "protocol": counterpart.ns3, "protocol_attributes": dict(counterpart.attributes),
        "seed": sc.seed, "duration_s": float(sc.duration),
        "area": [float(sc.area.width), float(sc.area.height)],
        "positions": [list(t.position(0.0)) for t in world.trajectories],
        "speed_min": v_lo, "speed_max": v_hi, "pause_s": float(mob["pause"]),
        "radio": radio_spec(world), "flows": flows,
    }


# --- running both sides ------------------------------------------------------------------------

def meshnet_command(row: str, duration: float, seed: int) -> list[str]:
    """``meshnet run broch -p PROTOCOL --set ... --json`` for a row, with the console script of
    this interpreter."""
    script = Path(sys.executable).with_name("meshnet")
    head = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from meshnet.cli import main; sys.exit(main())"]
    protocol, extra = meshnet_run(row)
    cmd = head + ["run", SCENARIO, "-p", protocol, "--json", "-q"]
    for s in meshnet_overrides(duration, seed) + extra:
        cmd += ["--set", s]
    return cmd


def run_meshnet(row: str, duration: float, seed: int, timeout_s: float) -> dict:
    label = f"meshnet {row} seed {seed}"
    m = measure(meshnet_command(row, duration, seed), timeout_s, label)
    r = _result(m, label)
    return {"cpu_s": m.cpu_s, "wall_s": m.wall_s, "pdr": r["pdr"], "sent": r["sent"],
            "delivered": r["delivered"], "mean_delay_s": r["mean_delay_s"],
            "mean_hops": r["mean_hops"], "events": r["events"], "run_wall_s": r["wall_s"],
            "control_packets": r["control_packets"]}


def run_ns3(python: str, spec: dict, timeout_s: float, verify: bool = False) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="ns3-broch-",
                                     delete=False) as f:
        json.dump(spec, f)
    try:
        cmd = [python, str(NS3_PROGRAM)] + (["--verify-range"] if verify else []) + [f.name]
        label = f"ns-3 {'range check' if verify else spec['protocol']} seed {spec['seed']}"
        m = measure(cmd, timeout_s, label)
    finally:
        os.unlink(f.name)
    r = _result(m, label)
    r["process_cpu_s"], r["process_wall_s"] = m.cpu_s, m.wall_s
    return r


def _result(m: Measured, label: str) -> dict:
    """The JSON result a finished run printed, or RunFailed with its last error line."""
    if m.returncode != 0:
        raise RunFailed(f"{label}: {_tail(m.stderr)}")
    try:
        return last_json_line(m.stdout)
    except ValueError as e:
        raise RunFailed(f"{label}: {e}") from None


def _tail(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines()
             if ln.strip() and "Failed to materialize symbols" not in ln]
    return lines[-1] if lines else "failed without a message"


def comparison_row(protocol: str, seed: int, duration: float, mesh: dict, ns3: dict) -> dict:
    """One table row: both processes' cost, ratios (ns-3 / meshnet) and both PDRs."""
    cp = COUNTERPARTS[protocol]
    return {
        "protocol": protocol, "meshnet_set": list(cp.meshnet_set), "ns3_protocol": cp.ns3,
        "ns3_attributes": dict(cp.attributes), "relation": cp.relation, "note": cp.note,
        "seed": seed, "duration_s": duration,
        "meshnet_cpu_s": mesh["cpu_s"], "meshnet_wall_s": mesh["wall_s"],
        "ns3_cpu_s": ns3["process_cpu_s"], "ns3_wall_s": ns3["process_wall_s"],
        "ns3_run_cpu_s": ns3["cpu_s"]["run"], "ns3_import_cpu_s": ns3["cpu_s"]["import"],
        "ratio_cpu": ns3["process_cpu_s"] / mesh["cpu_s"],
        "ratio_run_cpu": ns3["cpu_s"]["run"] / mesh["cpu_s"],
        "ratio_wall": ns3["process_wall_s"] / mesh["wall_s"],
        "meshnet_pdr": mesh["pdr"], "ns3_pdr": ns3["pdr"], "ns3_flowmonitor_pdr": ns3["fm_pdr"],
        "meshnet_sent": mesh["sent"], "ns3_generated": ns3["generated"],
        "meshnet_mean_hops": mesh["mean_hops"], "ns3_mean_hops": ns3["mean_hops"],
        "meshnet_events": mesh["events"], "ns3_events": ns3["events"],
    }


def mean_rows(rows: list[dict]) -> list[dict]:
    """Average the rows of each protocol over its seeds (in first-seen order)."""
    out = []
    for proto in dict.fromkeys(r["protocol"] for r in rows):
        group = [r for r in rows if r["protocol"] == proto]
        avg = dict(group[0])
        for k, v in group[0].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seed":
                vals = [r[k] for r in group if r[k] is not None]
                avg[k] = sum(vals) / len(vals) if vals else None
        avg["seeds"] = [r["seed"] for r in group]
        out.append(avg)
    return out


def render_table(rows: list[dict], title: str):
    from rich.table import Table

    t = Table(title=title)
    columns = ("protocol", "ns-3 counterpart", "meshnet CPU s", "ns-3 CPU s", "ns-3 Run() CPU s",
               "ratio CPU", "ratio Run()", "ratio wall", "meshnet PDR", "ns-3 PDR")
    for col in columns:
        t.add_column(col, justify="left" if col in columns[:2] else "right")
    for r in rows:
        t.add_row(r["protocol"], f"{ns3_label(r['ns3_protocol'], r['ns3_attributes'])} "
                                 f"({r['relation']})",
                  f"{r['meshnet_cpu_s']:.2f}", f"{r['ns3_cpu_s']:.2f}", f"{r['ns3_run_cpu_s']:.2f}",
                  times(r["ratio_cpu"]), times(r["ratio_run_cpu"]), times(r["ratio_wall"]),
                  f"{r['meshnet_pdr']:.3f}", f"{r['ns3_pdr']:.3f}")
    return t


def times(ratio: float) -> str:
    """A ratio as '12.3x', with two significant digits below 1 ('0.018x')."""
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def ns3_label(protocol: str, attributes: dict) -> str:
    """``aodv EnableHello=false``: the ns-3 protocol and the attributes set away from default."""
    settings = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                        for k, v in attributes.items())
    return f"{protocol} {settings}".strip()


TABLE_NOTES = (
    "CPU s: user + system seconds of the whole process; ratios are ns-3 / meshnet.",
    "ns-3 Run() CPU s: Simulator::Run alone, without importing the bindings and building the "
    "network; 'ratio Run()' sets it against meshnet's whole process (a lower bound).",
    "PDR: packets delivered / packets generated, on both sides (ns-3: FlowMonitor rxPackets "
    "over UdpClient's schedule; FlowMonitor's own rx/tx is in the JSON).",
)


def range_check_ok(checks: list[dict]) -> bool:
    """True if ns-3 decoded frames just inside the decode range and not just outside, and
    sensed them just inside the carrier-sense range and not just outside (the order of
    `ns3_broch.radio_distances`)."""
    inside, outside, sensed, unsensed = checks
    return (inside["received"] == inside["sent"] and outside["received"] == 0
            and outside["cca_busy_seen"] and sensed["received"] == 0
            and sensed["cca_busy_seen"] and not unsensed["cca_busy_seen"])


# --- command line ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = _Parser(prog="ns3_compare.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocols", nargs="+", default=["aodv", "dsdv"],
                    help=f"rows: meshnet protocols or variants ({', '.join(COUNTERPARTS)}) "
                         "or 'all'")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--duration", type=float, default=200.0, help="simulated seconds")
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_DURATION:g} simulated seconds (overrides --duration)")
    ap.add_argument("--ns3-python", default=sys.executable,
                    help="Python interpreter that can `from ns import ns` (default: this one)")
    ap.add_argument("--json", metavar="FILE", help="write every run and the means as JSON")
    ap.add_argument("--verify-range", action="store_true",
                    help="also check in ns-3 that frames decode inside 250 m and are sensed "
                         "inside 550 m")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per process")
    args = ap.parse_args(argv)
    if args.quick:
        args.duration = QUICK_DURATION
    if not 0 < args.duration <= 100_000:
        raise UsageError(f"--duration {args.duration:g}: expected seconds in (0, 100000]")
    if args.protocols == ["all"]:
        args.protocols = list(COUNTERPARTS)
    for p in args.protocols:
        if p in NOT_COMPARED:
            raise UsageError(f"--protocols: {p} is not compared: {NOT_COMPARED[p]}")
    unknown = [p for p in args.protocols if p not in COUNTERPARTS]
    if unknown:
        raise UsageError(f"--protocols: unknown {', '.join(unknown)}; choose from "
                         f"{', '.join(COUNTERPARTS)} or all")
    if any(s < 0 for s in args.seeds):
        raise UsageError("--seeds: expected integers >= 0")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise UsageError(f"--json {args.json}: no such directory")
    if args.timeout <= 0:
        raise UsageError("--timeout: expected seconds > 0")
    if shutil.which(args.ns3_python) is None:
        raise UsageError(f"--ns3-python {args.ns3_python}: no such executable")
    return args


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def run_all(args: argparse.Namespace, console) -> tuple[list[dict], list[dict] | None]:
    """Every (seed, protocol): meshnet, then its ns-3 counterpart (once per seed when several
    protocols share a reference); first, if asked, the ns-3 range check."""
    rows: list[dict] = []
    ns3_runs: dict[tuple, dict] = {}
    checks = None
    for seed in args.seeds:
        for proto in args.protocols:
            cp = COUNTERPARTS[proto]
            spec = build_spec(load_cell(proto, args.duration, seed), cp)
            if args.verify_range and checks is None:
                checks = run_ns3(args.ns3_python, spec, args.timeout, verify=True)["verify_range"]
                print_checks(console, checks, spec["radio"])
            mesh = run_meshnet(proto, args.duration, seed, args.timeout)
            key = (cp.ns3, json.dumps(cp.attributes, sort_keys=True), seed)
            if key not in ns3_runs:
                ns3_runs[key] = run_ns3(args.ns3_python, spec, args.timeout)
            row = comparison_row(proto, seed, args.duration, mesh, ns3_runs[key])
            rows.append(row)
            console.print(f"  {proto:8s} seed {seed}: meshnet {row['meshnet_cpu_s']:.2f} s CPU "
                          f"(PDR {row['meshnet_pdr']:.3f}), ns-3 {cp.ns3} {row['ns3_cpu_s']:.2f} s "
                          f"CPU (PDR {row['ns3_pdr']:.3f})", highlight=False)
    return rows, checks


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    reason = probe_ns3(args.ns3_python)
    if reason is not None:
        print(f"skipped: {INSTALL_HINT} ({reason})")
        return 0
    from rich.console import Console

    from meshnet.scenario import ScenarioError

    console = Console() if sys.stdout.isatty() else Console(width=170)
    load_start = os.getloadavg()
    console.print(f"start: {load_line()}", highlight=False)
    try:
        rows, checks = run_all(args, console)
    except (UsageError, ScenarioError) as e:
        print(f"ns3_compare.py: {e}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(f"ns3_compare.py: {e}", file=sys.stderr)
        return 1
    load_end = os.getloadavg()
    means = mean_rows(rows)
    console.print(render_table(means, f"{SCENARIO} cell: 50 nodes, {FLOWS} CBR flows, "
                                      f"{args.duration:g} s, mean of seeds {args.seeds}"))
    for line in TABLE_NOTES:
        console.print(f"  {line}", highlight=False)
    for r in means:
        other = ns3_label(r["ns3_protocol"], r["ns3_attributes"])
        console.print(f"  {r['protocol']} vs ns-3 {other}: {r['note']}", highlight=False)
    console.print(f"end: {load_line()}", highlight=False)
    if args.json:
        record = {"scenario": SCENARIO, "flows": FLOWS, "duration_s": args.duration,
                  "seeds": args.seeds, "load_start": load_start, "load_end": load_end,
                  "cpu_count": os.cpu_count(), "range_checks": checks,
                  "runs": rows, "means": means}
        try:
            Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
        except OSError as e:
            print(f"ns3_compare.py: --json {args.json}: {e.strerror}", file=sys.stderr)
            return 1
    return 0


def print_checks(console, checks: list[dict], radio: dict) -> None:
    """The ns-3 range check, one line per distance, and the verdict."""
    console.print(f"ns-3 range check (meshnet: decode {radio['range_m']:.1f} m, carrier sense "
                  f"{radio['cs_range_m']:.1f} m):", highlight=False)
    for c in checks:
        console.print(f"  {c['distance_m']:7.1f} m: {c['rx_power_dbm']:7.2f} dBm, decoded "
                      f"{c['received']}/{c['sent']}, medium sensed busy: "
                      f"{'yes' if c['cca_busy_seen'] else 'no'}", highlight=False)
    verdict = "as meshnet" if range_check_ok(checks) else "NOT as meshnet"
    console.print(f"  ns-3 ranges: {verdict}", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
