"""A routing protocol that does nothing.

On the netns backend a third-party daemon (babeld, bird2, olsrd …) can run inside every node and
manage the kernel tables itself; meshnet then only moves frames. Selecting ``name = "none"`` keeps
meshnet's own routing out of its way.
"""

from __future__ import annotations

from meshnet.protocol_api import Protocol


class NoRouting(Protocol):
    """No control traffic, no routes: packets without a route are dropped as ``no_route``."""

    name = "none"
    port = 0
    reactive = False
    description = "No routing: leaves the forwarding tables to external daemons (netns backend)"


__all__ = ["NoRouting"]
