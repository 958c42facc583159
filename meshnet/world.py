"""Everything a backend needs from a scenario, built once and validated: node names and
addresses, trajectories, radio profile and propagation, the protocol class and its parameters,
and the traffic flows. Both backends start from a :class:`World`, so they agree on every detail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from . import mobility as mob
from .groups import Membership, build_groups
from .protocol_api import Protocol, ProtocolConfigError, build_params
from .registry import UnknownProtocolError, load_protocol
from .scenario import Scenario, ScenarioError
from .traffic import Flow, build_flows

MESH_PREFIX = "10.99.0.0/16"


def address_of(index: int) -> str:
    """Node ``index`` (0-based) gets 10.99.x.y with x.y = index + 1 (room for 65,534 nodes)."""
    k = index + 1
    return f"10.99.{k >> 8}.{k & 255}"


@dataclass
class World:
    scenario: Scenario
    names: list[str]
    addresses: list[str]
    trajectories: list
    profile: object
    propagation: object
    tx_power: float
    protocol_cls: type[Protocol]
    protocol_params: object
    flows: list[Flow]
    membership: Membership = field(default_factory=lambda: Membership([]))  # multicast groups

    @property
    def n(self) -> int:
        return len(self.names)

    def position(self, i: int, t: float) -> tuple[float, float]:
        return self.trajectories[i].position(t)


def build_radio(sc: Scenario):
    """(profile, propagation, tx_power_dbm) from the [radio] section."""
    from . import radio

    r = sc.radio
    try:
        profile = radio.get_profile(r.profile)
    except (KeyError, ValueError) as e:
        msg = e.args[0] if e.args else str(e)
        raise ScenarioError(f"{sc.source}: radio.profile = {r.profile!r}: {msg}") from None
    overrides = {}
    if r.propagation == "unit-disk":
        overrides["range_m"] = float(r.range)
    if not math.isnan(r.exponent):
        overrides["exponent"] = float(r.exponent)
    if not math.isnan(r.sigma):
        overrides["sigma_db"] = float(r.sigma)
    try:
        propagation = radio.make_propagation(r.propagation, profile, **overrides)
    except (KeyError, ValueError, TypeError) as e:
        msg = e.args[0] if e.args else str(e)
        raise ScenarioError(f"{sc.source}: radio.propagation = {r.propagation!r}: {msg}") from None
    tx_power = profile.tx_power_dbm if math.isnan(r.tx_power) else float(r.tx_power)
    try:
        profile.check_tx_power(tx_power)
    except ValueError as e:
        raise ScenarioError(f"{sc.source}: radio.tx_power = {r.tx_power!r}: {e}") from None
    return profile, propagation, tx_power


def build_world(sc: Scenario) -> World:
    from . import topologies

    n = sc.nodes.count
    area = (float(sc.area.width), float(sc.area.height))
    names = [f"n{i + 1}" for i in range(n)]
    file = str(sc.resolve_path(sc.nodes.file)) if sc.nodes.file else None
    try:
        positions = topologies.place(sc.nodes.placement, n, area, float(sc.nodes.spacing),
                                     random.Random(f"{sc.seed}:placement"), file=file)
    except (ValueError, OSError) as e:
        raise ScenarioError(f"{sc.source}: {e}") from None
    params = dict(sc.mobility.extra)
    if "trace" in params and isinstance(params["trace"], str):
        params["trace"] = str(sc.resolve_path(params["trace"]))
    try:
        trajectories = mob.build_trajectories(sc.mobility.model, params, positions, area,
                                              sc.duration, sc.seed)
    except mob.MobilityError as e:
        raise ScenarioError(f"{sc.source}: mobility: {e}") from None
    if len(trajectories) != n:
        raise ScenarioError(f"{sc.source}: mobility trace describes {len(trajectories)} nodes "
                            f"but nodes.count = {n}")
    profile, propagation, tx_power = build_radio(sc)
    try:
        protocol_cls = load_protocol(sc.protocol.name)
        protocol_params = build_params(protocol_cls, sc.protocol.extra)
    except (UnknownProtocolError, ProtocolConfigError) as e:
        raise ScenarioError(f"{sc.source}: protocol: {e}") from None
    membership = build_groups(sc, names)
    flows = build_flows(sc, names, membership)
    return World(sc, names, [address_of(i) for i in range(n)], trajectories, profile,
                 propagation, tx_power, protocol_cls, protocol_params, flows, membership)
