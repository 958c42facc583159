"""Radio channel scaling benchmark.

1. Per-transmission cost at constant density: static ZigBee grids (60 m spacing, outdoor preset
   without shadowing: ~157 m range, ~284 m reach) of 50 to 1000 nodes, every fifth node sending
   one-hop CBR to its neighbour over static routes (no routing protocol, so the time measured is
   the channel and MAC). Cost = wall time / frames on the air (data and ACKs). The spatial grid
   keeps the nodes examined per frame constant, so the cost stays flat.
2. The 50-node ``broch`` scenario shortened to 200 s with the ``zigbee`` profile (two-ray,
   AODV): events/s and wall time, end to end.

Usage: python benchmarks/radio_scaling.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

from rich.console import Console
from rich.table import Table

from meshnet.scenario import load_scenario, scenario_from_dict
from meshnet.sim import Simulation

SPACING_M = 60.0


def per_transmission_us(n: int, seconds: float) -> tuple[int, int, float, float]:
    cols = math.ceil(math.sqrt(n))
    side = cols * SPACING_M + SPACING_M
    senders = [i for i in range(0, n, 5) if (i % cols) + 1 < cols and i + 1 < n]
    raw = {
        "scenario": {"name": f"grid-{n}", "duration": seconds, "seed": 1},
        "area": {"width": side, "height": side},
        "nodes": {"count": n, "placement": "grid", "spacing": SPACING_M},
        "radio": {"profile": "zigbee", "propagation": "outdoor", "sigma": 0.0},
        "mobility": {"model": "static"},
        "protocol": {"name": "none"},
        "traffic": [{"kind": "cbr", "pairs": [[i + 1, i + 2] for i in senders], "rate": 5,
                     "size": 50, "start": 0.0, "jitter": 1.0}],
    }
    sim = Simulation(scenario_from_dict(raw))
    for i in senders:
        dst = sim.nodes[i + 1].address
        sim.nodes[i].routes.add(dst, dst, 1)
    t0 = time.perf_counter()
    result = sim.run()
    wall = time.perf_counter() - t0
    frames = sim.channel.stats()["frames"]
    return len(senders), frames, wall, result["pdr"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seconds = 5.0 if args.quick else 20.0
    console = Console()
    table = Table(title=f"Per-transmission cost at constant density ({seconds:g} s, zigbee)")
    for col in ("nodes", "senders", "frames", "wall s", "us / frame", "PDR"):
        table.add_column(col, justify="right")
    for n in (50, 100, 250, 500, 1000):
        senders, frames, wall, pdr = per_transmission_us(n, seconds)
        table.add_row(str(n), str(senders), str(frames), f"{wall:.2f}",
                      f"{1e6 * wall / frames:.1f}", f"{pdr:.3f}")
    console.print(table)

    duration = 50 if args.quick else 200
    table = Table(title=f"broch, {duration} s, AODV")
    for col in ("profile", "events", "wall s", "events/s", "PDR", "frames"):
        table.add_column(col, justify="right")
    for profile in ("zigbee", "wavelan"):
        sim = Simulation(load_scenario("broch", [f"scenario.duration={duration}",
                                                 f"radio.profile={profile}"]))
        r = sim.run()
        table.add_row(profile, str(r["events"]), f"{r['wall_s']:.2f}",
                      str(r["events_per_s"]), f"{r['pdr']:.3f}",
                      str(sim.channel.stats()["frames"]))
    console.print(table)


if __name__ == "__main__":
    main()
