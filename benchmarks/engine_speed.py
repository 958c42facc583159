"""Engine speed benchmark.

1. Raw scheduler throughput: timers that reschedule themselves (the engine's inner loop).
2. The 50-node `broch` scenario shortened to 200 s with flooding (and AODV), end to end.
(The spatial index's per-transmission cost from 50 to 1000 nodes is benchmarks/radio_scaling.py.)

Usage: python benchmarks/engine_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.scheduler import Scheduler


def scheduler_events_per_s(n_events: int = 1_000_000, n_timers: int = 1000) -> float:
    s = Scheduler()

    def tick(k: int) -> None:
        s.call_later(1.0 + (k % 7) * 0.001, tick, k)

    for k in range(n_timers):
        s.call_at(k * 1e-3, tick, k)
    t0 = time.perf_counter()
    horizon = n_events / n_timers
    s.run_until(horizon)
    wall = time.perf_counter() - t0
    return s.executed / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    console = Console()

    eps = scheduler_events_per_s(200_000 if args.quick else 1_000_000)
    console.print(f"scheduler: [bold]{eps:,.0f}[/] events/s (goal >= 300,000)")

    t = Table(title="broch, 50 nodes, 200 s simulated, pause 0")
    for c in ("protocol", "radio", "PDR", "events", "wall s", "events/s"):
        t.add_column(c, justify="right")
    cases = [("flooding", "wavelan", "two-ray"), ("aodv", "wavelan", "two-ray"),
             ("flooding", "zigbee", "outdoor")]
    for proto, profile, prop in cases:
        sc = load_scenario("broch", ["scenario.duration=200", f'radio.profile="{profile}"',
                                     f'radio.propagation="{prop}"'], protocol=proto)
        r = Simulation(sc).run()
        t.add_row(proto, f"{profile}/{prop}", f"{r['pdr']:.3f}", f"{r['events']:,}",
                  f"{r['wall_s']:.2f}", f"{r['events_per_s']:,}")
    console.print(t)

    console.print("per-transmission cost against the node count: "
                  "python benchmarks/radio_scaling.py")


if __name__ == "__main__":
    main()
