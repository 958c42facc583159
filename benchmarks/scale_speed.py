"""Simulator speed as networks grow: per-frame and per-reception cost, and peak memory.

1. ``broch`` at Broch's density (50 nodes per 1500 x 300 m, the area grown with the node count),
   random waypoint 0-20 m/s, pause 0, AODV, min(n/2, 50) CBR flows starting in the first 10 s,
   WaveLAN two-ray: wall and CPU seconds, events, frames and receptions per second, microseconds
   per frame, per reception (a node locked onto a frame: decoded or lost) and per reached node
   (every node a frame's power reaches above the interference floor, whose carrier sense and
   interference the medium updates at the frame's start and end), peak RSS.
2. A static ZigBee grid of 10,000 nodes (60 m spacing, outdoor, AODV with link-layer feedback,
   five flows across the grid): time and memory.

Every run is a separate process (so peak RSS is that run's) started with the interpreter and
``PYTHONPATH`` given; ``--before DIR`` runs each case a second time on another install of meshnet
(``pip install --no-deps --target DIR <older checkout>``), alternating, for a before/after table
in one session on the same machine.

Usage: python benchmarks/scale_speed.py [--nodes 50,250,1000] [--duration 30] [--before DIR]
       [--protocol aodv] [--flows 50] [--grid 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

BROCH_AREA_PER_NODE = 1500 * 300 / 50  # m^2


def broch_overrides(n: int, duration: float, flows: int = 50) -> list[str]:
    height = math.sqrt(n * BROCH_AREA_PER_NODE / 5)  # the 5:1 shape of Broch's field
    return [f"scenario.duration={duration}", f"nodes.count={n}",
            f"area.width={round(5 * height)}", f"area.height={round(height)}",
            f"traffic.0.flows={min(n // 2, flows)}", "traffic.0.jitter=10"]


def grid_raw(n: int, duration: float) -> dict:
    cols = math.ceil(math.sqrt(n))
    side = (cols + 1) * 60.0
    pairs = [[1 + k * (n // 5), 1 + k * (n // 5) + 3 * cols] for k in range(5)]
    return {
        "scenario": {"name": f"zigbee-grid-{n}", "duration": duration, "seed": 1},
        "area": {"width": side, "height": side},
        "nodes": {"count": n, "placement": "grid", "spacing": 60.0},
        "radio": {"profile": "zigbee", "propagation": "outdoor"},
        "mobility": {"model": "static"},
        "protocol": {"name": "aodv", "link_detection": "link-layer"},  # no hellos
        "traffic": [{"kind": "cbr", "pairs": pairs, "rate": 1, "size": 50, "start": 1.0,
                     "jitter": 1.0}],
    }


# The measured program, run in a child process: prints one JSON line.
CHILD = r"""
import json, resource, sys, time
from meshnet.scenario import load_scenario, scenario_from_dict
from meshnet.sim import Simulation
spec = json.loads(sys.argv[1])
t_wall = time.perf_counter(); t_cpu = time.process_time()
if spec["kind"] == "broch":
    sc = load_scenario("broch", spec["overrides"], protocol=spec.get("protocol"))
else:
    sc = scenario_from_dict(spec["raw"])
sim = Simulation(sc)
build_s = time.perf_counter() - t_wall
r = sim.run()
st = sim.channel.stats()
print(json.dumps({
    "wall_s": time.perf_counter() - t_wall, "cpu_s": time.process_time() - t_cpu,
    "build_s": build_s, "events": r["events"], "frames": st["frames"],
    "receptions": st["rx_ok"] + st["rx_lost_collision"] + st["rx_lost_noise"],
    "reached": getattr(sim.channel, "reached", None),
    "pdr": r["pdr"], "delivered": r["delivered"], "drops": r["drops"],
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(spec: dict, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    args = [sys.executable]
    if pythonpath:  # an older install: keep the editable checkout out of sys.path
        env["PYTHONPATH"] = pythonpath + os.pathsep + _site_packages()
        args.append("-S")
    out = subprocess.run([*args, "-c", CHILD, json.dumps(spec)], env=env, check=True,
                         capture_output=True, text=True, cwd="/")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _site_packages() -> str:
    import sysconfig
    return sysconfig.get_paths()["purelib"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", default="50,250,1000")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--protocol", default="aodv", help="routing protocol of the broch runs")
    ap.add_argument("--flows", type=int, default=50, help="CBR flows (at most n/2)")
    ap.add_argument("--grid", type=int, default=10_000, help="static ZigBee grid size; 0: skip")
    ap.add_argument("--grid-duration", type=float, default=60.0)
    ap.add_argument("--before", metavar="DIR", help="an older meshnet install to compare with")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    console.print(f"load average at start: {os.getloadavg()}")
    cases = [(f"broch {n} {args.protocol}",
              {"kind": "broch", "protocol": args.protocol,
               "overrides": broch_overrides(int(n), args.duration, args.flows)})
             for n in args.nodes.split(",") if n]
    if args.grid:
        cases.append((f"zigbee grid {args.grid}",
                      {"kind": "grid", "raw": grid_raw(args.grid, args.grid_duration)}))
    versions = [("now", None)] + ([("before", args.before)] if args.before else [])
    rows = []
    for name, spec in cases:
        for label, path in reversed(versions):  # the older one first, then the current one
            t = time.perf_counter()
            res = run_case(spec, path)
            res.update(case=name, version=label, outer_wall_s=time.perf_counter() - t)
            rows.append(res)
            console.print(f"{name} [{label}]: {res['wall_s']:.1f} s wall, "
                          f"{res['peak_rss_mib']:.0f} MiB")
    console.print(f"load average at end: {os.getloadavg()}")
    table = Table(title=f"Simulator speed ({args.duration:g} s mobile, "
                        f"{args.grid_duration:g} s grid)")
    for col in ("case", "version", "wall s", "CPU s", "events", "frames", "frames/s",
                "receptions/s", "reached/frame", "us/frame", "us/reception", "us/reached",
                "peak MiB", "PDR"):
        table.add_column(col, justify="right")
    for r in rows:
        reached = r.get("reached")
        table.add_row(r["case"], r["version"], f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}",
                      f"{r['events']:,}", f"{r['frames']:,}",
                      f"{r['frames'] / r['cpu_s']:,.0f}", f"{r['receptions'] / r['cpu_s']:,.0f}",
                      f"{reached / max(r['frames'], 1):.1f}" if reached else "-",
                      f"{1e6 * r['cpu_s'] / max(r['frames'], 1):.0f}",
                      f"{1e6 * r['cpu_s'] / max(r['receptions'], 1):.1f}",
                      f"{1e6 * r['cpu_s'] / reached:.2f}" if reached else "-",
                      f"{r['peak_rss_mib']:.0f}", f"{r['pdr']:.3f}")
    console.print(table)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
