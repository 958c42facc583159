"""Saturation benchmark: one hop, back-to-back packets, measured goodput vs the analytical bound.

For every radio profile, two static nodes 10 m apart (indoor preset without shadowing, so the
link is clean) and a CBR source far above capacity: the interface queue never empties and the
MAC sends back to back. Goodput counts IP packets delivered (100 bytes, or the largest that fits
one frame). The bound is the time one packet costs a lone saturated sender, with mean backoff:

* 802.15.4 CSMA-CA: mean initial backoff (2^minBE - 1)/2 units + CCA + turnaround + frame +
  turnaround + ACK + SIFS/LIFS (Latre et al., "Maximum throughput of IEEE 802.15.4", 2005);
* Z-Wave: CCA + turnaround + frame + turnaround + ACK (no backoff without contention);
* 802.11 DCF: DIFS + CWmin/2 slots + frame + SIFS + ACK (Bianchi 2000 with one station).

Usage: python benchmarks/radio_saturation.py [--seconds 20]
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from meshnet.radio import PROFILE_NAMES, get_profile
from meshnet.scenario import scenario_from_dict
from meshnet.sim import Simulation
from meshnet.medium import IP_UDP_HEADER


def bound_bps(p, ip_bytes: int) -> float:
    psdu = ip_bytes + p.mac_header_bytes
    frame, ack = p.airtime(psdu), p.airtime(p.ack_bytes)
    if p.mac == "csma-ca":
        ifs = p.lifs_s if psdu > p.max_sifs_frame_bytes else p.sifs_s
        t = ((2 ** p.min_be - 1) / 2 * p.backoff_unit_s + p.cca_s + p.turnaround_s + frame
             + p.turnaround_s + ack + ifs)
    elif p.mac == "zwave":
        t = p.cca_s + p.turnaround_s + frame + p.turnaround_s + ack
    else:
        t = p.difs_s + p.cw_min / 2 * p.slot_s + frame + p.sifs_s + ack
    return ip_bytes * 8 / t


def measure(profile: str, seconds: float) -> tuple[int, float, float]:
    p = get_profile(profile)
    ip_bytes = min(100, p.max_payload_bytes)
    rate = 2 * p.bitrate_bps / (8 * ip_bytes)  # twice what the PHY could carry
    raw = {
        "scenario": {"name": "saturation", "duration": seconds + 0.5, "seed": 1},
        "area": {"width": 100, "height": 100},
        "nodes": {"count": 2, "placement": "line", "spacing": 10},
        "radio": {"profile": profile, "propagation": "indoor", "sigma": 0.0},
        "mobility": {"model": "static"},
        "protocol": {"name": "none"},
        "traffic": [{"kind": "cbr", "pairs": [[1, 2]], "rate": rate,
                     "size": ip_bytes - IP_UDP_HEADER, "start": 0.5, "jitter": 0}],
    }
    sim = Simulation(scenario_from_dict(raw))
    dst = sim.nodes[1].address
    sim.nodes[0].routes.add(dst, dst, 1)
    result = sim.run()
    return ip_bytes, result["delivered"] * ip_bytes * 8 / seconds, bound_bps(p, ip_bytes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    table = Table(title=f"One-hop saturation goodput ({args.seconds:g} s per profile)")
    for col in ("profile", "MAC", "PHY kb/s", "packet B", "goodput kb/s", "bound kb/s",
                "error %"):
        table.add_column(col, justify="right" if col not in ("profile", "MAC") else "left")
    for name in PROFILE_NAMES:
        ip_bytes, goodput, bound = measure(name, args.seconds)
        p = get_profile(name)
        table.add_row(name, p.mac, f"{p.bitrate_bps / 1e3:g}", str(ip_bytes),
                      f"{goodput / 1e3:.2f}", f"{bound / 1e3:.2f}",
                      f"{100 * (goodput - bound) / bound:+.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
