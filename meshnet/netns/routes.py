"""``ctx.routes`` on netns: the protocol's forwarding table mirrored into the node's kernel.

Host routes only: ``dst/32 via next_hop dev wlan0 onlink`` (or ``dst/32 dev wlan0`` for a direct
neighbour), installed with ``proto 77`` so ``ip route`` shows which routes meshnet owns. The
kernel is written only when the next hop changes; metric, sequence number and expiry live in
the Python mirror (Linux keys routes by priority, so a changing metric would duplicate them).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from meshnet.protocol_api import Route

from .netlink import NetlinkError, RtNetlink


class KernelRoutes:
    def __init__(self, rt: RtNetlink, oif: int,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._rt = rt
        self._oif = oif
        self._routes: dict[str, Route] = {}
        self._emit = on_event or (lambda kind, fields: None)
        self.errors = 0

    def add(self, dst: str, next_hop: str, metric: int = 1, seqno: int | None = None,
            expires: float | None = None) -> None:
        old = self._routes.get(dst)
        self._routes[dst] = Route(dst, next_hop, metric, seqno, expires)
        if old is None or old.next_hop != next_hop:
            try:
                self._rt.route_replace(dst, 32, gateway=None if next_hop == dst else next_hop,
                                       oif=self._oif)
            except (NetlinkError, OSError):
                self.errors += 1
        if old is None:
            self._emit("route_added", {"dst": dst, "next_hop": next_hop, "metric": metric})
        elif (old.next_hop, old.metric) != (next_hop, metric):
            self._emit("route_changed", {"dst": dst, "next_hop": next_hop, "metric": metric})

    def remove(self, dst: str) -> None:
        if self._routes.pop(dst, None) is None:
            return
        try:
            self._rt.route_delete(dst, 32)
        except (NetlinkError, OSError):
            self.errors += 1
        self._emit("route_removed", {"dst": dst})

    def lookup(self, dst: str) -> Route | None:
        return self._routes.get(dst)

    def __iter__(self) -> Iterator[Route]:
        return iter(list(self._routes.values()))

    def __len__(self) -> int:
        return len(self._routes)
