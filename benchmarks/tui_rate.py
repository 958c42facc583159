"""Screen updates per second of `meshnet tui` on a 100-node scenario at 1x real time.

Runs the app headless (Textual's test driver renders every update, only the terminal output is
discarded) for a few wall seconds and prints the achieved update rate and how well simulated
time kept up with real time. Goal: >= 10 updates per second with sim time keeping pace.

    .venv/bin/python benchmarks/tui_rate.py [--seconds 10] [--scenario broch] [--nodes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from meshnet.tui.app import MeshApp
from meshnet.tui.launch import sim_factory

GOAL_UPDATES_PER_S = 10.0


async def measure(scenario: str, nodes: int, seconds: float, size: tuple[int, int],
                  protocol: str | None) -> tuple[float, float, int]:
    app = MeshApp(sim_factory(scenario, [f"nodes.count={nodes}"], protocol=protocol))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(1.0)  # warm up: first layout and the first second of routing
        updates0, sim0, wall0 = app.updates, app.view.now, time.monotonic()
        await pilot.pause(seconds)
        wall = time.monotonic() - wall0
        rate = (app.updates - updates0) / wall
        sim_ratio = (app.view.now - sim0) / wall
        events = len(app.query_one("#log").entries)
        await pilot.press("q")
    return rate, sim_ratio, events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="broch")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--protocol", default=None)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="160x48", help="terminal size, COLSxROWS")
    args = ap.parse_args()
    cols, rows = (int(v) for v in args.size.split("x"))
    rate, sim_ratio, events = asyncio.run(
        measure(args.scenario, args.nodes, args.seconds, (cols, rows), args.protocol))
    ok = rate >= GOAL_UPDATES_PER_S and sim_ratio >= 0.9
    print(f"{args.scenario} with {args.nodes} nodes at 1x, {cols}x{rows}: "
          f"{rate:.1f} screen updates/s (goal >= {GOAL_UPDATES_PER_S:g}), "
          f"simulated/real time {sim_ratio:.2f}, {events} log events kept: "
          f"{'OK' if ok else 'BELOW GOAL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
