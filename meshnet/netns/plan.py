"""What the netns backend needs from the rest of meshnet, in one place.

A :class:`Plan` is the netns view of a scenario: node names and addresses, positions as a
function of time, the protocol class and parameters, and a factory for the channel's medium.
``Plan.from_scenario`` couples to ``meshnet.scenario`` / ``meshnet.world`` / ``meshnet.radio``;
``Plan.line`` builds a plan without them (tests, benchmarks). If those modules change names,
this is the only file to adapt.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from .medium import RadioMedium, UnitDisk

ETHERNET_HEADER = 14


def address_of(index: int) -> str:
    k = index + 1
    return f"10.99.{k >> 8}.{k & 255}"


class RadioLink:
    """The radio model as :class:`~meshnet.netns.medium.RadioMedium` consumes it: a
    ``meshnet.radio`` profile, a propagation model and a transmit power."""

    def __init__(self, profile: Any, propagation: Any, tx_power_dbm: float) -> None:
        self.profile = profile
        self.propagation = propagation
        self.tx_power_dbm = tx_power_dbm
        self.noise_floor_dbm = profile.noise_floor_dbm
        self.sensitivity_dbm = profile.sensitivity_dbm
        self.cca_threshold_dbm = getattr(profile, "cs_threshold_dbm", profile.sensitivity_dbm)
        floor = getattr(profile, "interference_floor_dbm", profile.noise_floor_dbm)
        self.interference_range_m = min(propagation.range_m(tx_power_dbm, floor), 1e5)
        self.max_retries = int(getattr(profile, "max_frame_retries", 3))
        self.max_backoffs = int(getattr(profile, "max_csma_backoffs", 0) or 4)
        self._airtime: dict[int, float] = {}

    def rx_power_dbm(self, distance_m: float) -> float:
        return self.propagation.rx_power_dbm(self.tx_power_dbm, distance_m)

    def _payload(self, frame_len: int) -> int:
        return max(frame_len - ETHERNET_HEADER, 0)

    def airtime(self, frame_len: int) -> float:
        """Air time of every fragment that carries the frame's IP packet (memoised by size)."""
        t = self._airtime.get(frame_len)
        if t is None:
            t = self.profile.packet_airtime(self._payload(frame_len))
            self._airtime[frame_len] = t
        return t

    def frame_error_rate(self, sinr_db: float, frame_len: int) -> float:
        """Losing one fragment loses the packet."""
        ok = 1.0
        for psdu in self.profile.fragments(self._payload(frame_len)):
            ok *= 1.0 - self.profile.frame_error_rate(sinr_db, psdu)
        return 1.0 - ok

    def backoff(self, rng: random.Random, step: int) -> float:
        p = self.profile
        if p.mac == "csma-ca":  # 802.15.4 unslotted CSMA-CA: random(2^BE - 1) unit periods
            be = min(p.min_be + step, p.max_be)
            return rng.randrange(1 << be) * p.backoff_unit_s + p.cca_s
        if p.mac == "zwave":  # G.9959: random retransmit delay after a failure
            return rng.uniform(p.retransmit_min_s, p.retransmit_max_s) if step else p.cca_s
        cw = min((p.cw_min + 1) << step, p.cw_max + 1)  # 802.11 DCF
        return p.difs_s + rng.randrange(cw) * p.slot_s

    def ack_time(self, unicast: bool) -> float:
        if not unicast:
            return 0.0
        p = self.profile
        return p.turnaround_s + p.airtime(p.ack_bytes)


@dataclass
class Plan:
    names: list[str]
    addresses: list[str]
    initial: list[tuple[float, float]]
    trajectories: list[Any] | None = None
    protocol_cls: type | None = None
    protocol_params: Any = None
    range_m: float | None = 250.0  # unit-disk range; None with a radio link
    radio: RadioLink | None = None
    duration: float = 0.0
    seed: int = 1
    label: str = "custom"
    moved: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def protocol_name(self) -> str:
        return getattr(self.protocol_cls, "name", "none") if self.protocol_cls else "none"

    def positions(self, t: float) -> list[tuple[float, float]]:
        if self.trajectories is None:
            base = self.initial
        else:
            base = [tr.position(t) for tr in self.trajectories]
        if self.moved:
            base = [self.moved.get(i, p) for i, p in enumerate(base)]
        return [(float(x), float(y)) for x, y in base]

    def move(self, i: int, x: float, y: float) -> None:
        """Pin node ``i`` at (x, y) from now on (overrides its trajectory)."""
        self.moved[i] = (float(x), float(y))

    def make_medium(self, out: Any, clock: Any, rng: random.Random) -> Any:
        if self.radio is None:
            return UnitDisk(self.n, self.range_m or 0.0, out)
        return RadioMedium(self.n, self.radio, out, clock, rng=rng)

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def line(cls, n: int, spacing: float = 100.0, range_m: float = 150.0,
             protocol: str | type | None = None, **params: Any) -> "Plan":
        """``n`` static nodes on a line, unit-disk radios: with range < 2 × spacing each node
        hears only its direct neighbours."""
        pcls, pparams = _protocol(protocol, params)
        return cls([f"n{i + 1}" for i in range(n)], [address_of(i) for i in range(n)],
                   [(i * spacing, 0.0) for i in range(n)], protocol_cls=pcls,
                   protocol_params=pparams, range_m=range_m, label=f"line{n}")

    @classmethod
    def from_scenario(cls, scenario: Any, overrides: list[str] | None = None) -> "Plan":
        """From a scenario name/path (``meshnet.scenario.load_scenario``) or a loaded one."""
        from meshnet.scenario import load_scenario
        from meshnet.world import build_world

        sc = load_scenario(scenario, overrides or []) if isinstance(scenario, str) else scenario
        world = build_world(sc)
        prop = world.propagation
        range_m = getattr(prop, "disk_m", None)
        radio = None if range_m is not None else RadioLink(world.profile, prop, world.tx_power)
        pcls = world.protocol_cls
        if getattr(pcls, "name", "none") == "none":
            pcls = None
        return cls(list(world.names), list(world.addresses),
                   [tr.position(0.0) for tr in world.trajectories],
                   trajectories=list(world.trajectories), protocol_cls=pcls,
                   protocol_params=world.protocol_params, range_m=range_m, radio=radio,
                   duration=float(sc.scenario.duration), seed=int(sc.scenario.seed),
                   label=str(sc.scenario.name))


def _protocol(protocol: str | type | None, params: dict) -> tuple[type | None, Any]:
    if protocol is None or protocol == "none":
        return None, None
    if isinstance(protocol, str):
        from meshnet.registry import load_protocol

        protocol = load_protocol(protocol)
    from meshnet.protocol_api import build_params

    return protocol, build_params(protocol, params)


def positions_changed(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    return len(a) != len(b) or any(math.dist(p, q) > 1e-6 for p, q in zip(a, b))
