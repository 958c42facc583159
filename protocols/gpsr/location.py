"""Where is the destination? GPSR needs a location service; this package ships an oracle.

:class:`LocationService` is the interface the forwarding code uses. :class:`OracleLocationService`
answers from the backend's ground truth (``ctx.location_of``): the exact current position of any
node, at no cost in messages or delay, as the GPSR paper's simulations assume. A real service
(GLS, a home-region scheme, positions learnt from traffic) can replace it by passing
``location_service=`` to :class:`~.protocol.GPSR`; its messages would then have to travel through
the node context like any other control traffic.
"""

from __future__ import annotations

from typing import Any, Protocol as _TypingProtocol


class LocationService(_TypingProtocol):
    def locate(self, address: str) -> tuple[float, float] | None:
        """The position (metres) of the node with ``address``, or None if unknown."""


class OracleLocationService:
    """Exact positions from the backend: an oracle, not a protocol."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def locate(self, address: str) -> tuple[float, float] | None:
        return self._ctx.location_of(address)
