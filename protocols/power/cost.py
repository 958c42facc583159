"""What a hop costs, what power it needs, and how the three protocols rank routes.

A route is described by three numbers, all known hop by hop from the RREQ:

* ``cost``: the sum of the hop costs (MTPR's total transmission power, in integer micro-units);
* ``hops``;
* ``battery``: the lowest remaining battery among the relays, quantised to 0..65535 (the
  originator and the destination are on every candidate route, so they do not count).

Each protocol orders routes by a key, smaller is better. Every key is strictly worse for a longer
route (cost and hops grow, the minimum battery can only fall), so following the reverse hops of
the best copies never loops.

* MTPR: ``(cost, hops)`` (batteries play no part; among equal routes the first copy stays);
* MMBCR: ``(-battery, cost, hops)``: Toh's battery cost ``f(c) = 1/c`` of the weakest relay,
  minimised, is the same order as the weakest battery maximised;
* CMMBCR: routes whose relays all keep at least ``gamma`` come first, ordered as MTPR; the
  others after them, ordered as MMBCR: ``(0, cost, hops)`` or ``(1, -battery, cost, hops)``.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from .params import PowerParams
from .wire import BATTERY_FULL, COST_MAX

Key = tuple[int, ...]


def quantise_battery(fraction: float) -> int:
    """Remaining fraction -> 0..65535, rounded down (so only a full battery reads 65535)."""
    if not fraction > 0:
        return 0
    return min(BATTERY_FULL, int(fraction * BATTERY_FULL))


def needed_power(path_loss_db: float, params: PowerParams) -> float:
    """dBm a frame needs to arrive ``margin_db`` above the sensitivity across ``path_loss_db``.

    ``path_loss_db`` is ``tx_power - rssi`` of a frame heard on the link, so this is
    ``tx_power - (rssi - sensitivity - margin)``."""
    return path_loss_db + params.sensitivity_dbm + params.margin_db


def required_level(need_dbm: float, levels: Sequence[float]) -> float:
    """The lowest of ``levels`` (highest first) at or above ``need_dbm``; the highest level if
    none is."""
    best = levels[0]
    for level in levels:
        if level >= need_dbm - 1e-9:
            best = level
        else:
            break
    return best


def hop_cost(level: float, params: PowerParams) -> int:
    """MTPR's cost of one hop sent at ``level`` dBm, in integer micro-units."""
    if params.hop_cost == "radiated":
        value = 10.0 ** (level / 10.0) * 1e6  # nW
    else:
        value = (params.tx_ma(level) + params.rx_current_ma) * 1e3  # µA
    return min(COST_MAX, max(1, int(round(value))))


def add_cost(a: int, b: int) -> int:
    return min(COST_MAX, a + b)


def mtpr_key(cost: int, hops: int, battery: int) -> Key:
    return (cost, hops)


def mmbcr_key(cost: int, hops: int, battery: int) -> Key:
    return (-battery, cost, hops)


def cmmbcr_key(gamma: float) -> Callable[[int, int, int], Key]:
    threshold = math.ceil(gamma * BATTERY_FULL - 1e-9)

    def key(cost: int, hops: int, battery: int) -> Key:
        if battery >= threshold:
            return (0, cost, hops)
        return (1, -battery, cost, hops)
    return key


__all__ = ["Key", "add_cost", "cmmbcr_key", "hop_cost", "mmbcr_key", "mtpr_key", "needed_power",
           "quantise_battery", "required_level"]
