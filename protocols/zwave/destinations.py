"""What a source knows about reaching one destination: the last working route, the ordered
alternatives (computed by the controller from its topology, or assigned to a node as return
routes), the routes that failed since, and whether the destination was found unreachable.

A Z-Wave source tries the last working route first, then the alternatives in order, skipping the
ones that failed; when none is left it sends an explorer frame. A route the destination
acknowledged becomes the last working route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Route = tuple[int, ...]


@dataclass(slots=True)
class Destination:
    node: int  # Z-Wave node ID
    address: str | None = None
    last_working: Route | None = None
    routes: list[Route] = field(default_factory=list)
    failed: set[Route] = field(default_factory=set)
    in_use: Route | None = None  # the route of the last frame sent (for route-change events)
    topology_version: int = -1  # controller: the topology the routes were computed from
    assigned: bool = False  # node: the controller assigned (or refused) routes
    explored: float = float("-inf")  # when the last explorer frame was sent to it
    rounds: int = 0  # times every route failed and all were tried again, since one worked
    too_far_hops: int = 0  # > 0: the shortest known route has this many hops (too many)

    def pick(self) -> tuple[Route, str] | None:
        """The route to try next and where it comes from (``last_working`` or ``table``)."""
        if self.last_working is not None and self.last_working not in self.failed:
            return self.last_working, "last_working"
        for route in self.routes:
            if route not in self.failed:
                return route, "table"
        return None

    def worked(self, route: Route) -> None:
        self.last_working = route
        self.failed.discard(route)
        self.rounds = 0

    def broke(self, route: Route) -> None:
        self.failed.add(route)
        if self.last_working == route:
            self.last_working = None

    def set_routes(self, routes: list[Route]) -> None:
        """New alternatives: routes that failed before are given another chance."""
        self.routes = list(routes)
        self.failed.clear()
