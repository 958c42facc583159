"""Tunables of the power-aware protocols (MTPR, MMBCR, CMMBCR), with their defaults.

The radio figures (``sensitivity_dbm``, ``tx_current_ma``, ``rx_current_ma``) default to the
``zigbee`` profile (TI CC2420): the node context does not expose the receiver's sensitivity or
the supply currents, so a node is told them here, as firmware is told its radio's datasheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

HOP_COSTS = ("supply", "radiated")
# CC2420 datasheet: supply current (mA) at each PA level (dBm)
CC2420_TX_MA = "0:17.4,-1:16.5,-3:15.2,-5:13.9,-7:12.5,-10:11.2,-15:9.9,-25:8.5"


MAX_TIME = 1e6  # s, the longest timeout (11.6 days)
MAX_COUNT = 1_000_000  # packets in a queue
MIN_REFRESH = 0.1  # s: a shorter refresh would rediscover routes back to back
# name -> (lowest, highest); docs/protocols.md lists them
RANGES: dict[str, tuple[float, float]] = {
    "margin_db": (0.0, 100.0),
    "rx_current_ma": (0.0, 10_000.0),
    "reply_wait": (0.0, 60.0),
    "max_forwards": (1, 255),
    "forward_jitter": (0.0, 60.0),
    "net_diameter": (1, 255),
    "discovery_timeout": (0.001, 3600.0),
    "rreq_retries": (0, 32),  # the timeout doubles on each retry
    "request_memory": (0.001, MAX_TIME),
    "active_route_timeout": (0.001, MAX_TIME),
    "refresh_interval": (0.0, MAX_TIME),
    "queue_len": (1, MAX_COUNT),
    "queue_timeout": (0.001, MAX_TIME),
}
MAX_DBM = 100.0  # |dBm| of a current table entry
MAX_MA = 10_000.0  # mA of a current table entry


@dataclass
class PowerParams:
    # --- link power (what the previous hop needs, from the RSSI of its frame)
    sensitivity_dbm: float = -95.0  # receiver sensitivity (zigbee / CC2420)
    margin_db: float = 3.0  # kept above sensitivity on every hop (fading, interference)
    # --- MTPR's hop cost: "supply" = what the two radios draw for the frame (transmitter's
    # current at the hop's level + receiver's current); "radiated" = the transmit power in mW
    # (Toh 2001's P(ni, nj) taken literally; it favours many short hops)
    hop_cost: str = "supply"
    tx_current_ma: str = CC2420_TX_MA  # "dBm:mA,..." supply current per PA level
    rx_current_ma: float = 18.8  # receiver's supply current (CC2420)
    # --- discovery
    reply_wait: float = 0.5  # s the destination collects RREQ copies before it answers
    max_forwards: int = 3  # RREQ copies (first + better ones) a node forwards per discovery
    forward_jitter: float = 0.1  # s, random delay before forwarding an RREQ, so that
    # neighbours that cannot hear each other rarely collide (ZigBee's own broadcast jitter is
    # 64 ms); a better copy arriving meanwhile replaces the pending one
    net_diameter: int = 16  # TTL of an RREQ
    discovery_timeout: float = 1.0  # s to wait for an RREP; doubled on each retry
    rreq_retries: int = 2  # RREQs after the first before the discovery fails
    request_memory: float = 5.0  # s a node keeps per-RREQ state (best copy, reverse hop)
    # --- routes
    active_route_timeout: float = 3.0  # s a route stays valid without data
    refresh_interval: float = 20.0  # s: a source rediscovers a route in use this often, so
    # that the choice follows the batteries and recovers from a flood that lost the best copy
    # (0: only when the route breaks)
    # --- discovery buffer
    queue_len: int = 64  # packets buffered while discovering (per node)
    queue_timeout: float = 30.0  # s a buffered packet may wait

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        if self.hop_cost not in HOP_COSTS:
            raise bad("hop_cost", "allowed values are " + ", ".join(repr(v) for v in HOP_COSTS))
        if not (math.isfinite(self.sensitivity_dbm) and -200 < self.sensitivity_dbm < 50):
            raise bad("sensitivity_dbm", "must be a level in dBm (e.g. -95)")
        for name, (low, high) in RANGES.items():  # written so that NaN fails too
            if not low <= getattr(self, name) <= high:
                raise bad(name, f"must be >= {low:g} and <= {high:g}")
        if 0 < self.refresh_interval < MIN_REFRESH:
            raise bad("refresh_interval", f"must be 0 (off) or >= {MIN_REFRESH:g}")
        self.tx_table = parse_current_table(self.tx_current_ma)

    def tx_ma(self, dbm: float) -> float:
        """Supply current (mA) at ``dbm``, interpolated in ``tx_current_ma``."""
        table = self.tx_table
        if dbm <= table[0][0]:
            return table[0][1]
        for (p0, i0), (p1, i1) in zip(table, table[1:]):
            if dbm <= p1:
                return i0 + (i1 - i0) * (dbm - p0) / (p1 - p0)
        return table[-1][1]


def parse_current_table(text: str) -> tuple[tuple[float, float], ...]:
    """``"0:17.4,-25:8.5"`` -> ((-25.0, 8.5), (0.0, 17.4)), sorted by power."""
    points = {}
    try:
        for item in text.split(","):
            dbm, ma = item.split(":")
            points[float(dbm)] = float(ma)
    except ValueError:
        raise ProtocolConfigError(
            f"protocol.tx_current_ma = {text!r}: expected \"dBm:mA,dBm:mA,...\"") from None
    if not points or not all(-MAX_DBM <= p <= MAX_DBM and 0 <= i <= MAX_MA
                             for p, i in points.items()):
        raise ProtocolConfigError(
            f"protocol.tx_current_ma = {text!r}: expected dBm:mA pairs with dBm in "
            f"[-{MAX_DBM:g}, {MAX_DBM:g}] and mA in [0, {MAX_MA:g}]")
    return tuple(sorted(points.items()))


@dataclass
class CmmbcrParams(PowerParams):
    gamma: float = 0.5  # battery fraction every relay of a route must keep for MTPR's choice

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.gamma <= 1.0:
            raise ProtocolConfigError(f"protocol.gamma = {self.gamma!r}: must be in 0..1")
