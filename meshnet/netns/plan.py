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
from typing import Any

from .medium import RadioMedium, UnitDisk

ETHERNET_HEADER = 14


def address_of(index: int) -> str:
    k = index + 1
    return f"10.99.{k >> 8}.{k & 255}"


class RadioLink:
    """The radio model as :class:`~meshnet.netns.medium.RadioMedium` consumes it: a
    ``meshnet.radio`` profile, a propagation model and a transmit power.

    The MAC timing mirrors the simulator's MACs (``meshnet/sim/mac_*.py``) so that the same hop
    carries the same load on both backends: every fragment gets its own channel access (back-off,
    CCA, turnaround), its own ACK and retries, and the inter-frame space after it.
    """

    def __init__(self, profile: Any, propagation: Any, tx_power_dbm: float) -> None:
        p = self.profile = profile
        self.propagation = propagation
        self.tx_power_dbm = tx_power_dbm
        self.noise_floor_dbm = p.noise_floor_dbm
        self.sensitivity_dbm = p.sensitivity_dbm
        self.cca_threshold_dbm = getattr(p, "cs_threshold_dbm", p.sensitivity_dbm)
        floor = getattr(p, "interference_floor_dbm", p.noise_floor_dbm)
        self.interference_range_m = min(propagation.range_m(tx_power_dbm, floor), 1e5)
        self.mac = p.mac
        if p.mac == "dcf":
            self.max_retries = int(p.short_retry_limit) - 1  # the limit counts attempts
            self.max_backoffs = 1 << 30  # DCF defers, it never gives up on access
            self.turnaround_s = 0.0
            self.ack_s = p.sifs_s + p.airtime(p.ack_bytes)
        else:
            self.max_retries = int(p.max_frame_retries)
            self.max_backoffs = int(p.max_csma_backoffs) if p.mac == "csma-ca" else 4
            self.turnaround_s = p.turnaround_s
            self.ack_s = p.turnaround_s + p.airtime(p.ack_bytes)  # the gap, then the ACK
        self.cca_s = p.cca_s
        self.ack_wait_s = p.ack_wait_s
        self._fragments: dict[int, list[int]] = {}
        self._airtime: dict[int, float] = {}

    def rx_power_dbm(self, distance_m: float) -> float:
        return self.propagation.rx_power_dbm(self.tx_power_dbm, distance_m)

    def fragments(self, frame_len: int) -> list[int]:
        """PSDU sizes of the frames that carry an Ethernet frame's IP packet (memoised)."""
        sizes = self._fragments.get(frame_len)
        if sizes is None:
            sizes = self._fragments[frame_len] = self.profile.fragments(
                max(frame_len - ETHERNET_HEADER, 0))
        return sizes

    def frame_airtime(self, psdu: int) -> float:
        t = self._airtime.get(psdu)
        if t is None:
            t = self._airtime[psdu] = self.profile.airtime(psdu)
        return t

    def airtime(self, frame_len: int) -> float:
        """Air time of every fragment that carries the frame's IP packet (no MAC gaps)."""
        return sum(self.frame_airtime(n) for n in self.fragments(frame_len))

    def frame_error_rate(self, sinr_db: float, psdu: int) -> float:
        return self.profile.frame_error_rate(sinr_db, psdu)

    def access_delay(self, rng: random.Random, busy_count: int, retry: bool) -> float:
        """Time from "ready to send" to the CCA decision, as the simulator's MACs draw it.
        ``busy_count``: CCAs found busy so far for this attempt; ``retry``: after a missing
        ACK."""
        p = self.profile
        if p.mac == "csma-ca":  # unslotted CSMA-CA: random(2^BE - 1) unit periods, then CCA
            be = min(p.min_be + busy_count, p.max_be)
            return int(rng.random() * (1 << be)) * p.backoff_unit_s + p.cca_s
        if p.mac == "zwave":  # listen; a busy channel or a missing ACK: random 10-40 ms wait
            wait = rng.uniform(p.retransmit_min_s, p.retransmit_max_s)
            if busy_count:
                return wait
            return (wait if retry else 0.0) + p.cca_s
        cw = min((p.cw_min + 1) << (busy_count + retry), p.cw_max + 1)  # 802.11 DCF
        return p.difs_s + int(rng.random() * cw) * p.slot_s

    def ifs(self, psdu: int) -> float:
        """Gap a sender keeps after a frame (802.15.4 SIFS/LIFS)."""
        p = self.profile
        if p.mac != "csma-ca":
            return 0.0
        return p.sifs_s if psdu <= p.max_sifs_frame_bytes else p.lifs_s


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
