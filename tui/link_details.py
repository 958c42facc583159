"""The inspector's link figures on a live backend (simulator or namespaces), from the link meter
and the radio medium both share: distance, median received power and SNR, the medium's frame
error rate and the delivery the meter measured, each way."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from .link_meter import LinkMeter
from .view import LinkDetail, link_order


def measured_links(meter: LinkMeter, medium: Any, i: int, now: float,
                   position: Callable[[int], tuple[float, float]], names: list[str],
                   since: Mapping[tuple[int, int], float]) -> tuple[LinkDetail, ...]:
    """Every link of node ``i`` the medium applies now, in peer order."""
    meter.refresh()
    fer = meter.fer
    median = getattr(medium, "median_rx_dbm", None)
    noise = getattr(getattr(medium, "profile", None), "noise_floor_dbm", None)
    x, y = position(i)
    out = []
    for j in link_order(meter.pairs, i):
        xj, yj = position(j)
        rssi = median(j, i, now) if median is not None else None
        f_out, f_in = fer.get((i, j)), fer.get((j, i))
        out.append(LinkDetail(
            j, names[j], math.hypot(xj - x, yj - y), since.get((min(i, j), max(i, j))), rssi,
            None if rssi is None or noise is None else rssi - noise, f_out, f_in,
            meter.ratio(i, j, 1.0 - f_out) if f_out is not None else None,
            meter.ratio(j, i, 1.0 - f_in) if f_in is not None else None,
            meter.counts(i, j), meter.counts(j, i)))
    return tuple(out)


def radio_notes(medium: Any) -> list[str]:
    """What the link figures mean with this medium."""
    if getattr(medium, "median_rx_dbm", None) is None:
        return ["unit-disk radio: no received power; every link in range delivers"]
    sigma = getattr(getattr(medium, "propagation", None), "sigma_db", 0.0) or 0.0
    return ["RSSI/SNR: median power from the peer"
            + (f"; its shadowing (σ {sigma:g} dB) is in the FER" if sigma else "")]
