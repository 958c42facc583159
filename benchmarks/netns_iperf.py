"""Real ``iperf3 -u`` across 1 and 3 ZigBee hops of the netns channel, next to the simulator's
prediction for the same line and datagrams. Run as root:

    .venv/bin/python benchmarks/netns_iperf.py [--payload 400] [--seconds 3]
"""

from __future__ import annotations

import argparse

from meshnet.netns.emulation import Emulation
from meshnet.netns.plan import Plan
from meshnet.netns.throughput import iperf3_udp, line_scenario, sim_goodput
from meshnet.scenario import scenario_from_dict

LINES = ((1, 10.0), (3, 12.0))  # hops, spacing (m): indoor ZigBee, neighbours only


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--payload", type=int, default=400, help="UDP payload bytes (iperf3 -l)")
    ap.add_argument("--seconds", type=float, default=3.0, help="iperf3 -t")
    args = ap.parse_args()
    print(f"iperf3 -u -l {args.payload} -b 1M -t {args.seconds:g}, ZigBee indoor line")
    print(f"{'hops':>4} {'iperf3 (kb/s)':>14} {'simulator (kb/s)':>17} {'difference':>11}")
    for hops, spacing in LINES:
        raw = line_scenario(hops, spacing)
        predicted = sim_goodput(raw, args.payload)
        plan = Plan.from_scenario(scenario_from_dict(raw))
        with Emulation(plan, name="biperf") as emu:
            emu.install_static_routes()
            measured = iperf3_udp(emu, plan.names[0], plan.names[-1], args.payload,
                                  seconds=args.seconds)
        print(f"{hops:>4} {measured / 1e3:>14.1f} {predicted / 1e3:>17.1f} "
              f"{100 * (measured - predicted) / predicted:>+10.1f}%")


if __name__ == "__main__":
    main()
