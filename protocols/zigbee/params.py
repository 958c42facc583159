"""Tunables of ``zigbee-tree`` and ``zigbee-mesh``. Names and defaults follow the ZigBee
specification's NIB attributes and constants where one exists (nwkMaxChildren, nwkLinkStatusPeriod
…); the tree defaults are the ZigBee 2006 home stack profile (Cm = 20, Rm = 6, Lm = 5). A 0 in a
derived field means "derive it", and the derived value is filled in at construction so that it
shows in ``meshnet protocols``.

Nodes are named by number (1-based, as in ``[[traffic]] pairs``) or by name (``"n7"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshnet.protocol_api import ProtocolConfigError

from .cskip import MAX_UNICAST, TreeShape

MAX_DEPTH = 15  # the beacon payload's depth field has 4 bits
MAX_SOURCE_ROUTE = 14  # relays that fit a 38-byte header (the IPv4 option on netns)


def node_number(value: Any, key: str) -> int:
    """1-based node number of ``7`` or ``"n7"``; ProtocolConfigError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        digits = value.strip().removeprefix("n")
        if digits.isdigit() and digits.isascii() and not digits.startswith("0"):
            return int(digits)
    raise ProtocolConfigError(f"protocol.{key}: {value!r} is not a node (use 1, 2 … or n1, n2 …)")


@dataclass
class TreeParams:
    # roles
    coordinator: int = 1  # node number of the ZigBee coordinator (address 0x0000)
    end_devices: list = field(default_factory=list)  # node numbers/names that are end devices
    end_device_fraction: float = 0.0  # other non-coordinator nodes become end devices with this probability
    # tree shape (stack profile)
    max_children: int = 20  # nwkMaxChildren, Cm
    max_routers: int = 6  # nwkMaxRouters, Rm
    max_depth: int = 5  # nwkMaxDepth, Lm
    # joining
    scan_duration: float = 0.5  # s a joining node collects beacons
    join_jitter: float = 1.0  # s, a node's first scan starts at a random time in [0, join_jitter]
    join_retry_interval: float = 2.0  # s between scans while no parent accepts
    max_parent_link_cost: int = 3  # §3.6.1.4.1.1: a parent's link cost must be at most 3
    # links
    link_status_period: float = 15.0  # nwkLinkStatusPeriod: s between link status frames
    router_age_limit: int = 3  # nwkRouterAgeLimit: link status periods before a neighbour is gone
    max_parent_failures: int = 3  # unicasts to the parent that fail in a row before a rejoin
    sensitivity_dbm: float = -95.0  # receiver sensitivity (the zigbee profile's CC2420)
    rssi_sigma_db: float = 4.0  # spread of a frame's power around the link mean (link cost)
    # broadcasts and buffering
    broadcast_jitter: float = 0.064  # nwkcMaxBroadcastJitter, s
    broadcast_radius: int = 0  # radius of network-wide broadcasts (0: 2 * max_depth, nwkMaxDepth * 2)
    broadcast_memory: float = 9.0  # s a broadcast transaction is remembered (nwkNetworkBroadcastDeliveryTime)
    address_timeout: float = 2.0  # s to wait for an address response
    address_retries: int = 2  # address requests after the first
    queue_len: int = 64  # packets buffered while joining or resolving (per node)
    queue_timeout: float = 30.0  # s a buffered packet may wait

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        self.coordinator = node_number(self.coordinator, "coordinator")
        if not isinstance(self.end_devices, (list, tuple)):
            raise bad("end_devices", "must be a list of nodes, e.g. [5, 8] or [\"n5\"]")
        self.end_devices = [node_number(v, "end_devices") for v in self.end_devices]
        if self.coordinator in self.end_devices:
            raise bad("end_devices", f"includes the coordinator (node {self.coordinator})")
        if not 0 <= self.end_device_fraction <= 1:
            raise bad("end_device_fraction", "must be in [0, 1]")
        if not 1 <= self.max_children <= 255:
            raise bad("max_children", "must be in 1..255")
        if not 0 <= self.max_routers <= self.max_children:
            raise bad("max_routers", f"must be in 0..max_children ({self.max_children})")
        if not 1 <= self.max_depth <= MAX_DEPTH:
            raise bad("max_depth", f"must be in 1..{MAX_DEPTH}")
        size = self.shape.size
        if size > MAX_UNICAST + 1:
            raise ProtocolConfigError(
                f"protocol.max_children/max_routers/max_depth = {self.max_children}/"
                f"{self.max_routers}/{self.max_depth}: the tree needs {size} addresses, "
                f"more than the {MAX_UNICAST + 1} 16-bit unicast addresses")
        for name in ("scan_duration", "join_retry_interval", "link_status_period",
                     "queue_timeout", "address_timeout", "broadcast_memory"):
            if not getattr(self, name) > 0:  # written so that NaN fails too
                raise bad(name, "must be > 0")
        for name in ("join_jitter", "broadcast_jitter", "rssi_sigma_db"):
            if not getattr(self, name) >= 0:
                raise bad(name, "must be >= 0")
        if not 1 <= self.max_parent_link_cost <= 7:
            raise bad("max_parent_link_cost", "must be in 1..7 (a ZigBee link cost)")
        for name in ("router_age_limit", "max_parent_failures", "queue_len"):
            if not getattr(self, name) >= 1:
                raise bad(name, "must be >= 1")
        if not 0 <= self.broadcast_radius <= 255:
            raise bad("broadcast_radius", "must be in 0..255 (0: 2 * max_depth)")
        if not -150 <= self.sensitivity_dbm <= 0:
            raise bad("sensitivity_dbm", "must be in -150..0 dBm")
        if self.broadcast_radius == 0:
            self.broadcast_radius = min(255, 2 * self.max_depth)

    @property
    def shape(self) -> TreeShape:
        return TreeShape(self.max_children, self.max_routers, self.max_depth)


@dataclass
class MeshParams(TreeParams):
    tree_fallback: bool = False  # nwkUseTreeRouting: route along the tree when discovery fails
    concentrator: int = 1  # node number of the many-to-one concentrator (0: none)
    concentrator_interval: float = 30.0  # nwkConcentratorDiscoveryTime: s between many-to-one requests
    concentrator_radius: int = 0  # nwkConcentratorRadius (0: broadcast_radius)
    max_source_route: int = 12  # nwkMaxSourceRoute: relays in a source route
    discovery_timeout: float = 1.0  # s to wait for a route reply before retrying
    rreq_retries: int = 2  # nwkcRREQRetries: route requests after the first
    route_timeout: float = 120.0  # s an unused route stays in the routing table
    discovery_memory: float = 10.0  # nwkcRouteDiscoveryTime: s a route discovery entry lives
    max_forwards: int = 3  # copies of one route request a router relays (better costs only)

    def __post_init__(self) -> None:
        super().__post_init__()

        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        if not (isinstance(self.concentrator, int) and self.concentrator == 0):
            self.concentrator = node_number(self.concentrator, "concentrator")
        if self.concentrator in self.end_devices:
            raise bad("concentrator", "is an end device (a concentrator routes)")
        for name in ("concentrator_interval", "discovery_timeout", "route_timeout",
                     "discovery_memory"):
            if not getattr(self, name) > 0:
                raise bad(name, "must be > 0")
        if not 0 <= self.concentrator_radius <= 255:
            raise bad("concentrator_radius", "must be in 0..255 (0: broadcast_radius)")
        if not 0 <= self.max_source_route <= MAX_SOURCE_ROUTE:
            raise bad("max_source_route", f"must be in 0..{MAX_SOURCE_ROUTE} (0: no source routes)")
        if not self.max_forwards >= 1:
            raise bad("max_forwards", "must be >= 1")
        if self.concentrator_radius == 0:
            self.concentrator_radius = self.broadcast_radius
