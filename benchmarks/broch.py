"""Reproduce the shape of Broch et al. (MobiCom 1998), Figures 3-5: packet delivery ratio,
routing overhead and delay of AODV and DSDV against pause time on the 50-node, 1500 x 300 m
random-waypoint scenario with 20 CBR sources and WaveLAN (two-ray, 250 m) radios.

Runs are independent and go to a process pool (one worker per core). Prints one table averaged
over the seeds, and optionally writes every run as JSON lines.

Usage: python benchmarks/broch.py [--pauses 0 900] [--seeds 1 2 3] [--duration 900] [--out FILE]
GPSR, not part of the paper, runs with ``--variants GPSR AODV-LL``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from rich.console import Console
from rich.table import Table

VARIANTS = {
    "AODV-LL": ("aodv", ['protocol.link_detection="link-layer"']),
    "AODV-hello": ("aodv", ['protocol.link_detection="hello"']),
    "DSDV": ("dsdv", []),
    "GPSR": ("gpsr", []),  # not in Broch et al.; beacons 1.5 s, oracle locations
}


def one_run(variant: str, pause: float, seed: int, duration: float) -> dict:
    from meshnet.scenario import load_scenario
    from meshnet.sim import Simulation

    proto, extra = VARIANTS[variant]
    sc = load_scenario("broch", [f"mobility.pause={pause}", f"scenario.seed={seed}",
                                 f"scenario.duration={duration}", *extra], protocol=proto)
    r = Simulation(sc).run()
    r["variant"] = variant
    r["pause"] = pause
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pauses", type=float, nargs="+", default=[0, 900])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration", type=float, default=900)
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                    default=[v for v in VARIANTS if v != "GPSR"])  # Broch's protocols
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", help="write every run as JSON lines")
    args = ap.parse_args()

    console = Console()
    jobs = [(v, p, s) for v in args.variants for p in args.pauses for s in args.seeds]
    results: list[dict] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one_run, v, p, s, args.duration) for v, p, s in jobs]
        for fut in as_completed(futures):
            r = fut.result()
            results.append(r)
            console.print(f"  {r['variant']:10s} pause {r['pause']:>5g} seed {r['seed']}: "
                          f"PDR {r['pdr']:.3f}  NRL {r['normalized_routing_load']:.2f}  "
                          f"wall {r['wall_s']:.1f} s", highlight=False)
    wall = time.perf_counter() - t0
    if args.out:
        with open(args.out, "w") as f:
            for r in sorted(results, key=lambda r: (r["variant"], r["pause"], r["seed"])):
                f.write(json.dumps(r) + "\n")

    table = Table(title=f"broch: 50 nodes, 1500x300 m, 20 CBR flows, {args.duration:g} s, "
                        f"mean of seeds {args.seeds}")
    for col in ("protocol", "pause s", "PDR", "PDR min", "norm. routing load", "mean delay ms",
                "mean hops", "wall s / run"):
        table.add_column(col, justify="right")
    for v in args.variants:
        for p in args.pauses:
            rs = [r for r in results if r["variant"] == v and r["pause"] == p]
            table.add_row(v, f"{p:g}", f"{statistics.mean(r['pdr'] for r in rs):.3f}",
                          f"{min(r['pdr'] for r in rs):.3f}",
                          f"{statistics.mean(r['normalized_routing_load'] for r in rs):.2f}",
                          f"{statistics.mean(r['mean_delay_s'] for r in rs) * 1000:.1f}",
                          f"{statistics.mean(r['mean_hops'] for r in rs):.2f}",
                          f"{statistics.mean(r['wall_s'] for r in rs):.1f}")
    console.print(table)
    console.print(f"{len(results)} runs in {wall:.0f} s wall with {args.workers} workers")


if __name__ == "__main__":
    main()
