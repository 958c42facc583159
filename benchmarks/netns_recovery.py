"""Traffic outage after a silent link loss: meshnet's AODV with hellos, AODV with link-layer
feedback from the channel, and unmodified babeld (1 s hellos), on the same line with a backup
path (``meshnet.netns.outage``). Run as root:

    .venv/bin/python benchmarks/netns_recovery.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from meshnet.netns.emulation import Emulation
from meshnet.netns.outage import diamond, measure_outage

BABELD = ["babeld", "-I", "", "-S", "", "-h", "1", "-H", "1",
          "-C", "redistribute local ip 10.99.0.0/16 allow", "-C", "redistribute local deny",
          "wlan0"]


def once(kind: str) -> float | None:
    plan = diamond() if kind == "babeld" else diamond("aodv", link_detection=kind)
    with Emulation(plan, name="brec") as emu:
        if kind == "babeld":
            for i in range(1, 5):
                emu.node(f"n{i}").popen(BABELD, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            if not emu.wait_converged(60):
                return None
            time.sleep(5)  # let babeld learn the backup path too
        return measure_outage(emu, window=20)["outage_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"outage after a silent cut of n1's next hop (ping every 50 ms), {args.repeat} runs")
    print(f"{'routing':<28} {'median (s)':>10}  runs (s)")
    for kind, label in (("hello", "AODV, hellos (1 s, loss 2)"),
                        ("link-layer", "AODV, link-layer feedback"),
                        ("babeld", "babeld, 1 s hellos")):
        runs = [once(kind) for _ in range(args.repeat)]
        done = [r for r in runs if r is not None]
        median = f"{statistics.median(done):.2f}" if done else "-"
        shown = ", ".join("none" if r is None else f"{r:.2f}" for r in runs)
        print(f"{label:<28} {median:>10}  {shown}")


if __name__ == "__main__":
    main()
