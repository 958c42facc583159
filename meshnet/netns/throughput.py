"""Saturated UDP over a line: real ``iperf3`` on the emulation, and the simulator's prediction.

Both backends get the same scenario (a static line, a radio profile, a propagation preset without
shadowing) and the same packets: iperf3 datagrams of ``payload`` bytes are IP packets of
``payload + 28`` bytes, which the radio fragments the same way on both sides, and the simulator's
CBR source sends ``payload``-byte UDP payloads. Throughput is UDP payload bits per second at the
receiver, as iperf3 reports it.
"""

from __future__ import annotations

from typing import Any

from . import iperf3


def line_scenario(hops: int, spacing: float, profile: str = "zigbee",
                  propagation: str = "indoor", seconds: float = 10.0) -> dict[str, Any]:
    """A static ``hops``-hop line with no routing protocol (routes are installed by hand)."""
    return {
        "scenario": {"name": f"line{hops}", "duration": seconds, "seed": 1},
        "area": {"width": max(100.0, spacing * (hops + 2)), "height": 100},
        "nodes": {"count": hops + 1, "placement": "line", "spacing": spacing},
        "radio": {"profile": profile, "propagation": propagation, "sigma": 0.0},
        "mobility": {"model": "static"},
        "protocol": {"name": "none"},
    }


PROFILE_LINES = {  # profile -> propagation preset of its line (no shadowing)
    "zigbee": "indoor", "zwave-r3": "indoor", "wavelan": "two-ray"}


def line_spacing(profile: str, propagation: str) -> float:
    """Spacing of a line whose nodes hear only their direct neighbours: 60 % of the median
    range, so the next-but-one node (120 %) does not decode."""
    from meshnet.radio import get_profile, make_propagation

    p = get_profile(profile)
    prop = make_propagation(propagation, p, sigma_db=0.0)
    return round(0.6 * prop.range_m(p.tx_power_dbm, p.sensitivity_dbm), 1)


def saturating_rate(profile: str) -> str:
    """An ``iperf3 -b`` rate well above what one hop of ``profile`` carries."""
    from meshnet.radio import get_profile

    return f"{2 * get_profile(profile).bitrate_bps / 1e6:g}M"


def sim_goodput(raw: dict[str, Any], payload: int, seconds: float = 60.0,
                seeds: int = 3) -> float:
    """UDP payload bits/s that the simulator delivers end to end along the line ``raw`` when the
    first node sends far more than the channel carries (CBR at twice the PHY rate): the mean
    of ``seeds`` runs of ``seconds`` each, from the scenario's seed on. One emulated run is
    one draw of the MACs' random back-offs, so it is held to their expected figure, not to one
    seed's (three Z-Wave hops: 7.47 to 7.69 kb/s between seeds over 60 s)."""
    from meshnet.radio import get_profile
    from meshnet.scenario import scenario_from_dict
    from meshnet.sim import Simulation

    start = 0.5
    n = raw["nodes"]["count"]
    bitrate = get_profile(raw["radio"]["profile"]).bitrate_bps
    delivered = 0
    for k in range(seeds):
        run = dict(raw, scenario=dict(raw["scenario"], duration=start + seconds,
                                      seed=raw["scenario"]["seed"] + k))
        run["traffic"] = [{"kind": "cbr", "pairs": [[1, n]], "rate": 2 * bitrate / (8 * payload),
                           "size": payload, "start": start, "jitter": 0}]
        sim = Simulation(scenario_from_dict(run))
        for i, node in enumerate(sim.nodes):  # shortest path along the line
            for j, other in enumerate(sim.nodes):
                if i != j:
                    hop = sim.nodes[i + 1 if j > i else i - 1].address
                    node.routes.add(other.address, hop, abs(j - i))
        delivered += sim.run()["delivered"]
    return delivered * payload * 8 / (seconds * seeds)


def iperf3_udp(emu: Any, client: str, server: str, payload: int, seconds: float = 3.0,
               rate: str = "1M", timeout: float | None = None,
               attempts: int = iperf3.ATTEMPTS) -> float:
    """UDP payload bits/s that ``iperf3 -u`` from node ``client`` delivers to node ``server``
    in its steady state, sending at ``rate`` for ``seconds`` (see ``iperf3.py``: a test whose
    set-up datagrams were lost is run again)."""
    return iperf3.udp_throughput(emu, client, server, payload, seconds, rate, timeout,
                                 attempts).bps
