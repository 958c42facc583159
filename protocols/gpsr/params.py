"""GPSR tunables. Defaults follow Karp & Kung, "GPSR: Greedy Perimeter Stateless Routing for
Wireless Networks", MobiCom 2000 (beaconing, planarization, perimeter mode); a 0 in
a derived field means "derive it", and the derived value is filled in at construction so that it
shows in ``meshnet protocols``."""

from __future__ import annotations

from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

PLANARIZATIONS = ("gabriel", "rng", "none")

MAX_PERIMETER_HOPS = 255  # the header's one-byte counter
MAX_TIME = 1e6  # s, the longest timeout (11.6 days)


@dataclass
class GpsrParams:
    # beacons: each interval is drawn uniformly from [(1 - j) B, (1 + j) B]
    beacon_interval: float = 1.5  # s, B: mean time between position beacons
    beacon_jitter: float = 0.5  # fraction of B (paper: 50 %, against synchronised beacons)
    neighbor_timeout: float = 0.0  # s a neighbour lives without a beacon (0: 4.5 B, the paper's T)
    # forwarding
    perimeter: bool = True  # false: greedy only, a packet at a local maximum is dropped
    planarization: str = "gabriel"  # "gabriel" (GG), "rng" (relative neighbourhood graph), "none"
    link_layer_feedback: bool = True  # a failed unicast removes the neighbour and re-forwards
    max_perimeter_hops: int = MAX_PERIMETER_HOPS  # perimeter hops a packet may make (<= 255)

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        if self.planarization not in PLANARIZATIONS:
            raise ProtocolConfigError(
                f"protocol.planarization = {self.planarization!r}: allowed values are "
                + ", ".join(repr(v) for v in PLANARIZATIONS))
        # comparisons are written so that NaN fails them too
        if not 0.01 <= self.beacon_interval <= 3600:  # shorter: beacons only cost airtime
            raise bad("beacon_interval", "must be >= 0.01 and <= 3600")
        if not 0 <= self.beacon_jitter < 1:
            raise bad("beacon_jitter", "must be in [0, 1) (a fraction of beacon_interval)")
        if not (self.neighbor_timeout == 0 or 0.001 <= self.neighbor_timeout <= MAX_TIME):
            raise bad("neighbor_timeout",
                      f"must be >= 0.001 and <= {MAX_TIME:g} (0: 4.5 * beacon_interval)")
        if not 1 <= self.max_perimeter_hops <= MAX_PERIMETER_HOPS:
            raise bad("max_perimeter_hops", f"must be in 1..{MAX_PERIMETER_HOPS}")
        if self.neighbor_timeout == 0:
            self.neighbor_timeout = round(4.5 * self.beacon_interval, 9)
