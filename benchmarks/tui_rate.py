"""`meshnet tui` under load: screen updates per second, the simulated speed achieved against the
one asked for, and how long a key takes to show on screen.

The scenario is busy on purpose: Broch's area with 100 nodes and all 20 flows sending from the
start (``traffic.0.jitter=0``). The app runs headless (Textual's test driver renders every
update; only the terminal output is discarded) at each requested speed for a few wall seconds,
while a `tab` is delivered every half second the way a terminal delivers keys; the key latency
is the time from the key to the first picture drawn with the new node selected.

Goals at x1: >= 10 updates/s and key latency under 100 ms (median).

    .venv/bin/python benchmarks/tui_rate.py [--seconds 10] [--speeds 1,10] [--nodes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

from textual import events

from meshnet.tui.app import MeshApp
from meshnet.tui.launch import sim_factory

GOAL_UPDATES_PER_S = 10.0
GOAL_KEY_LATENCY_S = 0.1
KEY_EVERY_S = 0.5


async def measure(scenario: str, overrides: list[str], speed: float, seconds: float,
                  size: tuple[int, int], protocol: str | None) -> dict:
    app = MeshApp(sim_factory(scenario, overrides, protocol=protocol), speed=speed)
    latencies: list[float] = []
    async with app.run_test(size=size) as pilot:
        while app.last_picture is None or app.last_picture.now < 1.0:  # warm up
            await pilot.pause(0.05)
        updates0, sim0, wall0 = app.updates, app.last_picture.now, time.monotonic()
        n = app.header.node_count
        while time.monotonic() - wall0 < seconds:
            want = (app.selected + 1) % n
            start = time.monotonic()
            app.post_message(events.Key("tab", None))
            while app.last_picture.selected != want and time.monotonic() - start < 10.0:
                await asyncio.sleep(0.002)
            latencies.append(time.monotonic() - start)
            await asyncio.sleep(max(0.0, KEY_EVERY_S - (time.monotonic() - start)))
        wall = time.monotonic() - wall0
        result = {
            "speed": speed,
            "updates_per_s": (app.updates - updates0) / wall,
            "actual_speed": (app.last_picture.now - sim0) / wall,
            "key_median_s": statistics.median(latencies),
            "key_max_s": max(latencies),
            "keys": len(latencies),
            "log_entries": len(app.log_panel.entries),
        }
        app.exit()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="broch")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--protocol", default=None)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--speeds", default="1,10", help="requested speeds, comma-separated")
    ap.add_argument("--size", default="160x48", help="terminal size, COLSxROWS")
    args = ap.parse_args()
    cols, rows = (int(v) for v in args.size.split("x"))
    overrides = [f"nodes.count={args.nodes}", "traffic.0.jitter=0"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.scenario}, {args.nodes} nodes, 20 flows from t=0, {cols}x{rows}, "
          f"{args.seconds:g} s per speed, load average {load:.2f} on {os.cpu_count()} CPUs")
    ok = True
    for speed in (float(s) for s in args.speeds.split(",")):
        r = asyncio.run(measure(args.scenario, overrides, speed, args.seconds, (cols, rows),
                                args.protocol))
        line = (f"  x{speed:g}: {r['updates_per_s']:.1f} updates/s, simulated x"
                f"{r['actual_speed']:.2f} ({r['actual_speed'] / speed:.0%} of requested), "
                f"key latency median {1000 * r['key_median_s']:.0f} ms, "
                f"max {1000 * r['key_max_s']:.0f} ms ({r['keys']} keys)")
        if speed == 1.0:
            good = (r["updates_per_s"] >= GOAL_UPDATES_PER_S
                    and r["key_median_s"] < GOAL_KEY_LATENCY_S)
            ok = ok and good
            line += ": OK" if good else ": BELOW GOAL"
        print(line)
    print(f"goals at x1: >= {GOAL_UPDATES_PER_S:g} updates/s, "
          f"key latency < {1000 * GOAL_KEY_LATENCY_S:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
