"""ZigBee link cost (ZigBee PRO §3.6.3.1): C{l} = min(7, round(1 / p_l^4)), where p_l is the
probability that a frame sent over link l is delivered.

The specification leaves the estimate of p_l to the implementation ("for example from the LQI").
meshnet estimates it from the received signal strength of the neighbour's frames: a frame's power
varies around the link's mean by small-scale fading and interference, taken as log-normal with
``sigma_db``, and a frame is received when its power reaches the receiver's sensitivity, so::

    p = P[RSSI_frame >= sensitivity] = Phi((RSSI_mean - sensitivity) / sigma)

A link at the sensitivity delivers half of its frames (cost 7), one 4 dB above it (with sigma =
4 dB) 84 % (cost 2), one 6 dB or more above it costs 1. Without received powers (the unit-disk
medium) every link costs 1 and paths are chosen by hop count.
"""

from __future__ import annotations

import math

MAX_COST = 7


def delivery_probability(rssi_dbm: float, sensitivity_dbm: float, sigma_db: float) -> float:
    """Probability that a frame heard on average at ``rssi_dbm`` reaches ``sensitivity_dbm``."""
    if sigma_db <= 0:
        return 1.0 if rssi_dbm >= sensitivity_dbm else 0.0
    z = (rssi_dbm - sensitivity_dbm) / sigma_db
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def link_cost(p: float) -> int:
    """The spec's cost of a link that delivers a fraction ``p`` of its frames: 1 (best) .. 7."""
    if not p > 0:
        return MAX_COST
    return max(1, min(MAX_COST, round(1.0 / p ** 4)))


def cost_from_rssi(rssi_dbm: float | None, sensitivity_dbm: float, sigma_db: float) -> int:
    """Link cost of a neighbour heard at ``rssi_dbm`` (None: no power known, cost 1)."""
    if rssi_dbm is None:
        return 1
    return link_cost(delivery_probability(rssi_dbm, sensitivity_dbm, sigma_db))
