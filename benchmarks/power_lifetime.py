"""Network lifetime under power-aware routing: AODV (hop count, link-layer feedback), MTPR, MMBCR
and CMMBCR on the same scenario and seeds (default: the built-in ``power-relay``, ZigBee
sensors whose flows cross a central relay with half the others' battery, or an eight-hop
detour).

For each protocol: when the first node and half of the nodes ran out of battery, packets
delivered, delivery ratio, and energy per delivered packet (all radio energy, idle included, over
the packets delivered), for the whole run and for the part of it before the first death (while
every node lives, the routes and not the deaths decide). A run that ends before half of the nodes
died counts as reaching it at the end ("> duration"). Runs are independent and go to a process
pool (one worker per core).

Usage: python benchmarks/power_lifetime.py [--seeds 1 2 3] [--duration 600] [--gammas 0.5]
       [--scenario power-relay] [--set section.key=value ...] [--radiated] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from rich.console import Console
from rich.table import Table


def variants(gammas: list[float], radiated: bool) -> dict[str, tuple[str, list[str]]]:
    out = {
        "AODV-LL": ("aodv", ['protocol.link_detection="link-layer"']),
        "MTPR": ("mtpr", []),
    }
    if radiated:  # Toh's P(ni, nj) taken literally: radiated power in mW
        out["MTPR-radiated"] = ("mtpr", ['protocol.hop_cost="radiated"'])
    out["MMBCR"] = ("mmbcr", [])
    for g in gammas:
        out[f"CMMBCR g={g:g}"] = ("cmmbcr", [f"protocol.gamma={g}"])
    return out


def one_run(scenario: str, variant: str, proto: str, extra: list[str], seed: int,
            duration: float | None, overrides: list[str]) -> dict:
    from meshnet.scenario import load_scenario
    from meshnet.sim import Simulation

    sets = [f"scenario.seed={seed}", *overrides, *extra]
    if duration is not None:
        sets.append(f"scenario.duration={duration}")
    sim = Simulation(load_scenario(scenario, sets, protocol=proto))
    counts = {"data_sent": 0, "data_delivered": 0}
    alive: dict[str, float] = {}

    def count(t: float, kind: str, fields: dict) -> None:
        if kind != "node_died":
            counts[kind] += 1
        elif not alive:  # the first death: what every node alive achieved
            alive.update(sent=counts["data_sent"], delivered=counts["data_delivered"],
                         energy_j=sim.channel.total_energy_j())

    sim.bus.subscribe(count, ("data_sent", "data_delivered", "node_died"))
    r = sim.run()
    if not alive:
        alive.update(sent=r["sent"], delivered=r["delivered"], energy_j=r["energy_j"])
    r["variant"] = variant
    r["mj_per_packet"] = _mj(r["energy_j"], r["delivered"])
    r["alive_pdr"] = alive["delivered"] / alive["sent"] if alive["sent"] else 0.0
    r["alive_mj_per_packet"] = _mj(alive["energy_j"], alive["delivered"])
    return r


def _mj(energy_j: float, delivered: float) -> float:
    return 1000 * energy_j / delivered if delivered else math.inf


def _time(values: list[float | None], end: float) -> str:
    """Mean over the seeds; a run that never got there counts as its end (shown with '>')."""
    reached = [v for v in values if v is not None]
    if not reached:
        return f"> {end:g}"
    mean = statistics.mean(v if v is not None else end for v in values)
    return f"{mean:.0f}" if len(reached) == len(values) else f"> {mean:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="power-relay")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration", type=float, help="seconds (default: the scenario's)")
    ap.add_argument("--gammas", type=float, nargs="+", default=[0.5],
                    help="CMMBCR battery thresholds to run (fractions)")
    ap.add_argument("--radiated", action="store_true",
                    help="also run MTPR pricing hops by radiated power (Toh's literal metric)")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="KEY=VALUE", help="scenario override for every run (repeatable)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", help="write every run as JSON lines")
    args = ap.parse_args()

    console = Console()
    table_of = variants(args.gammas, args.radiated)
    jobs = [(v, s) for v in table_of for s in args.seeds]
    results: list[dict] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one_run, args.scenario, v, *table_of[v], s, args.duration,
                               args.overrides) for v, s in jobs]
        for fut in as_completed(futures):
            r = fut.result()
            results.append(r)
            console.print(f"  {r['variant']:14s} seed {r['seed']}: first death "
                          f"{_time([r['first_death_s']], r['duration_s'])} s, PDR {r['pdr']:.3f}, "
                          f"{r['mj_per_packet']:.2f} mJ/packet, wall {r['wall_s']:.1f} s",
                          highlight=False)
    wall = time.perf_counter() - t0
    if args.out:
        with open(args.out, "w") as f:
            for r in sorted(results, key=lambda r: (r["variant"], r["seed"])):
                f.write(json.dumps(r) + "\n")

    first = results[0]
    table = Table(title=f"{args.scenario}: {first['nodes']} nodes, {first['radio']}/"
                        f"{first['propagation']}, {first['duration_s']:g} s, "
                        f"mean of seeds {args.seeds}")
    for col in ("protocol", "first death s", "half dead s", "dead at end", "delivered", "PDR",
                "mJ / packet", "PDR before 1st death", "mJ / packet before 1st death",
                "control packets", "mean hops"):
        table.add_column(col, justify="right")
    for v in table_of:
        rs = [r for r in results if r["variant"] == v]
        end = rs[0]["duration_s"]
        table.add_row(v, _time([r["first_death_s"] for r in rs], end),
                      _time([r["half_death_s"] for r in rs], end),
                      f"{statistics.mean(r['dead_nodes'] for r in rs):.1f}",
                      f"{statistics.mean(r['delivered'] for r in rs):.0f}",
                      f"{statistics.mean(r['pdr'] for r in rs):.3f}",
                      f"{statistics.mean(r['mj_per_packet'] for r in rs):.2f}",
                      f"{statistics.mean(r['alive_pdr'] for r in rs):.3f}",
                      f"{statistics.mean(r['alive_mj_per_packet'] for r in rs):.2f}",
                      f"{statistics.mean(r['control_packets'] for r in rs):.0f}",
                      f"{statistics.mean(r['mean_hops'] for r in rs):.2f}")
    console.print(table)
    console.print(f"{len(results)} runs in {wall:.0f} s wall with {args.workers} workers")


if __name__ == "__main__":
    main()
