"""Bring-up and teardown time of the netns backend for 50, 100 and 250 nodes.

"Up" counts everything a run needs before traffic: namespaces, TAP/TUN devices, addresses,
routes to the TUN, the channel and one AODV agent per node with its UDP socket started.
"Down" is the removal of all of it. Run as root:  .venv/bin/python benchmarks/netns_scale.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from meshnet.netns.emulation import Emulation
from meshnet.netns.plan import Plan


def measure(n: int, protocol: str | None, repeat: int) -> tuple[float, float]:
    ups, downs = [], []
    for _ in range(repeat):
        plan = Plan.line(n, protocol=protocol)
        emu = Emulation(plan, name="bscale")
        emu.start()
        time.sleep(0.2)
        emu.stop()
        ups.append(emu.up_seconds)
        downs.append(emu.down_seconds)
    return statistics.median(ups), statistics.median(downs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="50,100,250")
    ap.add_argument("--protocol", default="aodv", help="aodv, dsdv, none ...")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    proto = None if args.protocol == "none" else args.protocol
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        up, down = measure(n, proto, args.repeat)
        rows.append({"nodes": n, "up_s": round(up, 3), "down_s": round(down, 3)})
    if args.json:
        print(json.dumps(rows))
        return
    print(f"netns bring-up/teardown, protocol {args.protocol}, median of {args.repeat}")
    print(f"{'nodes':>6} {'up (s)':>8} {'down (s)':>9} {'up/node (ms)':>13}")
    for r in rows:
        print(f"{r['nodes']:>6} {r['up_s']:>8.3f} {r['down_s']:>9.3f} "
              f"{1000 * r['up_s'] / r['nodes']:>13.2f}")


if __name__ == "__main__":
    main()
