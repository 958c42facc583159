"""What the netns backend needs from the rest of meshnet, in one place.

A :class:`Plan` is the netns view of a scenario: node names and addresses, trajectories, the
protocol class and parameters, the radio (profile, propagation, transmit power) and the medium
the channel process drives (``meshnet.medium``, the same code as the simulator's).
``Plan.from_scenario`` couples to ``meshnet.scenario`` / ``meshnet.world``; ``Plan.line`` builds
a unit-disk plan without them (tests, benchmarks) and ``with_radio`` puts a radio on any plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from meshnet.medium import Channel, Host, RadioChannel, UnitDiskChannel
from meshnet.mobility.trajectory import Trajectory

ETHERNET_HEADER = 14
UNIT_DISK_BITRATE = 1e9  # a unit-disk plan built by hand: serialisation is negligible


def address_of(index: int) -> str:
    k = index + 1
    return f"10.99.{k >> 8}.{k & 255}"


@dataclass
class Plan:
    names: list[str]
    addresses: list[str]
    initial: list[tuple[float, float]]
    trajectories: list[Any] | None = None
    protocol_cls: type | None = None
    protocol_params: Any = None
    range_m: float | None = 250.0  # unit-disk range (plans without a scenario)
    duration: float = 0.0
    seed: int = 1
    label: str = "custom"
    profile: Any = None            # meshnet.radio profile (None: unit disk without a radio)
    tx_power: float = 0.0          # dBm, every node's default
    queue_len: int = 50            # interface queue per node (frames)
    world: Any = None              # the meshnet.world.World this plan came from, if any
    medium_factory: Callable[[Host], Channel] | None = None

    def tracks(self) -> list[Any]:
        """Every node's trajectory; a plan without any keeps its nodes at ``initial``
        (fixed the first time this is asked, so ``initial`` may be edited until then)."""
        if self.trajectories is None:
            self.trajectories = [Trajectory.stationary(x, y) for x, y in self.initial]
        return self.trajectories

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def protocol_name(self) -> str:
        return getattr(self.protocol_cls, "name", "none") if self.protocol_cls else "none"

    @property
    def power_levels(self) -> tuple[float, ...]:
        return (self.profile.levels_with(self.tx_power) if self.profile is not None
                else (self.tx_power,))

    def check_tx_power(self, dbm: float) -> float:
        return self.profile.check_tx_power(dbm) if self.profile is not None else float(dbm)

    def positions(self, t: float) -> list[tuple[float, float]]:
        return [(float(x), float(y)) for x, y in (tr.position(t) for tr in self.tracks())]

    def move(self, i: int, x: float, y: float, t: float = 0.0) -> None:
        """Put node ``i`` at (x, y) from time ``t`` on (overrides its trajectory)."""
        self.tracks()[i].set_position(t, x, y)

    def make_medium(self, host: Host) -> Channel:
        """The medium the channel process drives, built on ``host`` (its clock and stations)."""
        if self.medium_factory is not None:
            return self.medium_factory(host)
        return UnitDiskChannel(host, float(self.range_m or 0.0), 0.0, UNIT_DISK_BITRATE)

    def with_radio(self, profile: Any, propagation: Any, tx_power: float | None = None,
                   mac: bool = True, shadowing: str = "link", battery_j: float = 0.0) -> "Plan":
        """Give this plan a radio medium (profile, propagation, MAC, shadowing, batteries)."""
        self.profile = profile
        self.tx_power = profile.tx_power_dbm if tx_power is None else float(tx_power)
        self.range_m = None
        self.medium_factory = lambda host: RadioChannel(host, profile, propagation, use_mac=mac,
                                                        shadowing=shadowing, battery_j=battery_j)
        return self

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
        from meshnet.medium import build_medium
        from meshnet.scenario import load_scenario
        from meshnet.world import build_world

        from meshnet.scenario import ScenarioError

        sc = load_scenario(scenario, overrides or []) if isinstance(scenario, str) else scenario
        if sc.attackers:  # attackers are protocol subclasses only the simulator places
            raise ScenarioError(f"{sc.source}: [[attackers]] run on the simulator only "
                                f"(meshnet run); the namespace backend does not place them")
        world = build_world(sc)
        range_m = float(sc.radio.range) if sc.radio.propagation == "unit-disk" else None
        pcls = world.protocol_cls
        if getattr(pcls, "name", "none") == "none":
            pcls = None
        return cls(list(world.names), list(world.addresses),
                   [tr.position(0.0) for tr in world.trajectories],
                   trajectories=list(world.trajectories), protocol_cls=pcls,
                   protocol_params=world.protocol_params, range_m=range_m,
                   duration=float(sc.scenario.duration), seed=int(sc.scenario.seed),
                   label=str(sc.scenario.name), profile=world.profile,
                   tx_power=float(world.tx_power), queue_len=int(sc.nodes.queue_len),
                   world=world,
                   medium_factory=lambda host: build_medium(host, sc, world.profile,
                                                            world.propagation))


def _protocol(protocol: str | type | None, params: dict) -> tuple[type | None, Any]:
    if protocol is None or protocol == "none":
        return None, None
    if isinstance(protocol, str):
        from meshnet.registry import load_protocol

        protocol = load_protocol(protocol)
    from meshnet.protocol_api import build_params

    return protocol, build_params(protocol, params)
