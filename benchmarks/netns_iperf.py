"""Real ``iperf3 -u`` across 1 and 3 hops of the netns channel, for ZigBee, Z-Wave R3 and
WaveLAN, next to the simulator's prediction for the same line and datagrams (both backends run
the same medium code). Run as root:

    .venv/bin/python benchmarks/netns_iperf.py [--payload 400] [--seconds 10]
"""

from __future__ import annotations

import argparse

from meshnet.netns.emulation import Emulation
from meshnet.netns.plan import Plan
from meshnet.netns.throughput import (PROFILE_LINES, iperf3_udp, line_scenario, line_spacing,
                                      saturating_rate, sim_goodput)
from meshnet.scenario import scenario_from_dict


def measure(profile: str, hops: int, payload: int, seconds: float) -> tuple[float, float]:
    """(iperf3 b/s on netns, simulator b/s) for a ``hops``-hop line of ``profile``."""
    propagation = PROFILE_LINES[profile]
    raw = line_scenario(hops, line_spacing(profile, propagation), profile, propagation)
    predicted = sim_goodput(raw, payload)
    plan = Plan.from_scenario(scenario_from_dict(raw))
    with Emulation(plan, name="biperf") as emu:
        emu.install_static_routes()
        measured = iperf3_udp(emu, plan.names[0], plan.names[-1], payload, seconds=seconds,
                              rate=saturating_rate(profile))
    return measured, predicted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--payload", type=int, default=400, help="UDP payload bytes (iperf3 -l)")
    ap.add_argument("--seconds", type=float, default=10.0, help="iperf3 -t")
    ap.add_argument("--profiles", default=",".join(PROFILE_LINES))
    args = ap.parse_args()
    print(f"iperf3 -u -l {args.payload} -t {args.seconds:g} at twice the PHY rate")
    print(f"{'profile':<9} {'hops':>4} {'iperf3 (kb/s)':>14} {'simulator (kb/s)':>17} "
          f"{'difference':>11}")
    for profile in args.profiles.split(","):
        for hops in (1, 3):
            measured, predicted = measure(profile, hops, args.payload, args.seconds)
            print(f"{profile:<9} {hops:>4} {measured / 1e3:>14.1f} {predicted / 1e3:>17.1f} "
                  f"{100 * (measured - predicted) / predicted:>+10.1f}%", flush=True)


if __name__ == "__main__":
    main()
