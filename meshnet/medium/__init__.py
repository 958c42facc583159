"""The one radio medium both backends drive: channel, MACs, reception and energy.

``build_medium(host, scenario, profile, propagation)`` picks the medium a scenario asks for. The
simulator passes itself as the host (virtual time); the netns channel process passes a host
whose scheduler runs against the wall clock (``meshnet/netns/channel.py``). See ``base.py``.
"""

from __future__ import annotations

from typing import Any

from .base import CTRL, DATA, IP_UDP_HEADER, Channel, Clock, Frame, Host, Mac, Station
from .radio import RadioChannel, Transmission
from .unit_disk import UnitDiskChannel


def build_medium(host: Host, scenario: Any, profile: Any, propagation: Any) -> Channel:
    """The medium of a scenario's ``[radio]`` section (``unit-disk`` or a propagation model
    with the profile's MAC), with the batteries of ``[nodes] battery_j``."""
    r = scenario.radio
    if r.propagation == "unit-disk":
        return UnitDiskChannel(host, float(r.range), float(r.delay), float(r.bitrate))
    return RadioChannel(host, profile, propagation, use_mac=bool(r.mac), shadowing=r.shadowing,
                        battery_j=scenario.nodes.battery_j or 0.0)


__all__ = ["CTRL", "DATA", "IP_UDP_HEADER", "Channel", "Clock", "Frame", "Host", "Mac",
           "RadioChannel", "Station", "Transmission", "UnitDiskChannel", "build_medium"]
