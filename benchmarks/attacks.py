"""Attacks against AODV and DSDV on the Broch scenario, with and without authenticated control
messages: packet delivery ratio, normalized routing load, data dropped by the attackers and
control messages dropped by authentication (docs/security.md holds the measured table).

Every run is ``broch`` (50 nodes, 1500 x 300 m, random waypoint 0-20 m/s, 20 CBR flows), pause 0,
shortened to ``--duration`` seconds. Attackers are drawn per seed among the nodes that are no
flow's source or destination, so an outsider that authenticated nodes shut out costs no flow its
endpoint; the same nodes serve every role. Outsiders (the default) lack the key; ``--insider``
gives it to them. Runs are independent and go to a process pool of ``--jobs`` workers.

Usage: python benchmarks/attacks.py [--duration 300] [--seeds 1 2 3] [--counts 1 2 5]
           [--protocols aodv dsdv] [--roles blackhole greyhole rreq-flood replay] [--jobs 1]
           [--insider] [--out FILE.jsonl]
       python benchmarks/attacks.py --table FILE.jsonl [FILE.jsonl ...]   (table of saved runs)

``--out`` gets each run as a JSON line the moment it ends, so runs split over several processes
(e.g. one per protocol) can be put in one table with ``--table``; with ``--resume`` the runs
already in ``--out`` are kept and not run again. Runs go smallest attacker count first, then the
largest, so an interrupted sweep still has both ends of every row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

ROLES = ("blackhole", "greyhole", "rreq-flood", "replay")
KEY = "benchmark passphrase"


def attacker_nodes(seed: int, count: int, duration: float) -> list[int]:
    """``count`` node numbers (1-based) that are no flow's endpoint, drawn from the seed;
    a larger count extends a smaller one's choice."""
    from meshnet.scenario import load_scenario
    from meshnet.world import build_world

    world = build_world(load_scenario("broch", [f"scenario.seed={seed}",
                                                f"scenario.duration={duration}"]))
    endpoints = {f.src for f in world.flows} | {f.dst for f in world.flows}
    spare = [i + 1 for i in range(world.n) if i not in endpoints]
    random.Random(f"{seed}:attackers").shuffle(spare)
    return sorted(spare[:count])


def overrides(protocol: str, role: str | None, nodes: list[int], auth: bool, insider: bool,
              seed: int, duration: float) -> list[str]:
    out = [f"scenario.seed={seed}", f"scenario.duration={duration}", "mobility.pause=0"]
    if auth:
        out.append(f"protocol.auth_key={KEY!r}")
    if role is not None:
        out += [f"attackers.0.role={role!r}", f"attackers.0.nodes={nodes}"]
        if insider:
            out.append("attackers.0.insider=true")
    return out


def one_run(protocol: str, role: str | None, count: int, auth: bool, insider: bool, seed: int,
            duration: float) -> dict:
    from meshnet.scenario import load_scenario
    from meshnet.sim import Simulation

    nodes = attacker_nodes(seed, count, duration) if role else []
    sc = load_scenario("broch", overrides(protocol, role, nodes, auth, insider, seed, duration),
                       protocol=protocol)
    r = Simulation(sc).run()
    return {"protocol": protocol, "role": role or "none", "attackers": count if role else 0,
            "auth": auth, "insider": insider, "seed": seed, "duration": duration, "nodes": nodes,
            "pdr": r["pdr"], "nrl": r["normalized_routing_load"], "sent": r["sent"],
            "control_packets": r["control_packets"],
            "attack_drops": sum(v for k, v in r["drops"].items() if k.startswith("attack_")),
            "auth_failed": r.get("auth_failed", 0), "auth_replayed": r.get("auth_replayed", 0),
            "drops": r["drops"], "wall_s": r["wall_s"]}


def key(run: tuple | dict) -> tuple:
    """What identifies a run: protocol, role, attackers, auth, insider, seed."""
    if isinstance(run, dict):
        return (run["protocol"], run["role"], run["attackers"], run["auth"], run["insider"],
                run["seed"])
    protocol, role, count, auth, insider, seed, _ = run
    return (protocol, role or "none", count, auth, insider, seed)


def plan(args: argparse.Namespace) -> list[tuple]:
    from meshnet.protocols.attacks import unsupported
    from meshnet.registry import load_protocol

    runs = []
    for protocol in args.protocols:
        cls = load_protocol(protocol)
        for auth in {"both": (False, True), "off": (False,), "on": (True,)}[args.auth]:
            for seed in args.seeds:
                runs.append((protocol, None, 0, auth, False, seed, args.duration))
            for role in args.roles:
                if unsupported(role, cls):
                    continue
                for count in args.counts:
                    for seed in args.seeds:
                        runs.append((protocol, role, count, auth, args.insider, seed,
                                     args.duration))
    counts = sorted(set(args.counts))
    first = {c: i for i, c in enumerate([counts[0], counts[-1], *counts[1:-1]])}
    return sorted(runs, key=lambda r: (first.get(r[2], -1), r[0], r[1] or "", r[3], r[5]))


def table(rows: list[dict]) -> str:
    """One markdown row per (protocol, role, attackers, auth), averaged over the seeds (a run
    saved twice, e.g. by two resumed sweeps, counts once)."""
    groups: dict[tuple, list[dict]] = {}
    for r in {key(r): r for r in rows}.values():
        groups.setdefault((r["protocol"], r["role"], r["attackers"], r["auth"]), []).append(r)
    order = {role: i for i, role in enumerate(("none", *ROLES))}
    lines = ["| protocol | attack | attackers | auth | PDR | norm. routing load | "
             "data dropped by attackers | auth_failed | auth_replayed |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for group in sorted(groups, key=lambda k: (k[0], order[k[1]], k[2], k[3])):
        g = groups[group]
        protocol, role, count, auth = group

        def mean(field: str) -> float:
            return statistics.fmean(r[field] for r in g)

        pdrs = [r["pdr"] for r in g]
        spread = f" ± {statistics.stdev(pdrs):.3f}" if len(pdrs) > 1 else ""
        lines.append(f"| {protocol} | {role} | {count} | {'on' if auth else 'off'} | "
                     f"{mean('pdr'):.3f}{spread} | {mean('nrl'):.2f} | {mean('attack_drops'):.0f} | "
                     f"{mean('auth_failed'):.0f} | {mean('auth_replayed'):.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=300.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--counts", type=int, nargs="+", default=[1, 2, 5])
    ap.add_argument("--protocols", nargs="+", default=["aodv", "dsdv"])
    ap.add_argument("--roles", nargs="+", default=list(ROLES), choices=ROLES)
    ap.add_argument("--insider", action="store_true", help="attackers hold the key")
    ap.add_argument("--auth", choices=("both", "off", "on"), default="both",
                    help="runs without authentication, with it, or both (default)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", help="write every run as a JSON line to this file")
    ap.add_argument("--resume", action="store_true",
                    help="keep the runs already in --out and run only the others")
    ap.add_argument("--table", nargs="+", metavar="FILE",
                    help="print the table of runs saved with --out, and run nothing")
    args = ap.parse_args(argv)
    if args.table:
        rows = [json.loads(line) for name in args.table for line in open(name) if line.strip()]
        print(table(rows))
        return 0
    if not (args.duration > 0 and args.jobs >= 1 and all(c >= 1 for c in args.counts)):
        print("attacks.py: --duration must be > 0, --jobs and --counts >= 1", file=sys.stderr)
        return 2
    runs = plan(args)
    rows = []
    if args.resume and args.out and os.path.exists(args.out):
        with open(args.out) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        done = {key(r) for r in rows if r["duration"] == args.duration}
        rows = [r for r in rows if key(r) in done]
        runs = [r for r in runs if key(r) not in done]
    load_before = os.getloadavg()
    wall = time.perf_counter()
    out = open(args.out, "a" if args.resume else "w") if args.out else None
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one_run, *run) for run in runs]
        for done, fut in enumerate(as_completed(futures), 1):
            rows.append(fut.result())
            if out is not None:
                out.write(json.dumps(rows[-1]) + "\n")
                out.flush()
            print(f"\r{done}/{len(runs)} runs", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if out is not None:
        out.close()
    load_after = os.getloadavg()
    print(table(rows))
    print(f"\n{len(runs)} runs of broch ({args.duration:g} s, pause 0, seeds "
          f"{' '.join(map(str, args.seeds))}) in {time.perf_counter() - wall:.0f} s wall with "
          f"{args.jobs} job(s); {os.cpu_count()} cores, load average (1 min) "
          f"{load_before[0]:.1f} before and {load_after[0]:.1f} after"
          + ("; attackers are insiders (they hold the key)" if args.insider else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
