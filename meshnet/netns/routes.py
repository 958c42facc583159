"""``ctx.routes`` on netns: the protocol's forwarding table mirrored into the node's kernel.

Host routes only: ``dst/32 via next_hop dev wlan0 onlink`` (or ``dst/32 dev wlan0`` for a direct
neighbour), installed with ``proto 77`` so ``ip route`` shows which routes meshnet owns. The
kernel is written only when the next hop changes; metric, sequence number and expiry live in
the Python mirror (Linux keys routes by priority, so a changing metric would duplicate them).

Protocols call ``add``/``remove`` synchronously from loop callbacks, while pyroute2's requests
are coroutines on that same loop: changes are queued and one writer task per node applies them,
so the kernel always ends in the state of the last call. The queue holds one pending change per
destination (the newest wins) and the writer skips a change that leaves the kernel as it is (a
route added and removed again before it was written): when the loop falls behind, a busy
protocol's churn (AODV's reverse routes) folds into at most one request per destination instead
of a backlog that grows without end (22,000 changes queued across 250 nodes after 30 s,
before). Data a protocol forwards itself (``ctx.send_packet``) uses the mirror, so it never
waits for the kernel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Callable, Iterator

from meshnet.protocol_api import Route

from .rtnl import NamespaceRtnl, NetlinkError

log = logging.getLogger(__name__)


class KernelRoutes:
    def __init__(self, rt: NamespaceRtnl, oif: int, loop: asyncio.AbstractEventLoop,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._rt = rt
        self._oif = oif
        self._loop = loop
        self._routes: dict[str, Route] = {}
        self._emit = on_event or (lambda kind, fields: None)
        self._pending: OrderedDict[str, str | None] = OrderedDict()  # dst -> hop (None: delete)
        self._kernel: dict[str, str] = {}          # dst -> next hop the kernel has from us
        self._writer: asyncio.Task | None = None
        self.errors = 0

    def add(self, dst: str, next_hop: str, metric: int = 1, seqno: int | None = None,
            expires: float | None = None) -> None:
        old = self._routes.get(dst)
        self._routes[dst] = Route(dst, next_hop, metric, seqno, expires)
        if old is None or old.next_hop != next_hop:
            self._queue(dst, next_hop)
        if old is None:
            self._emit("route_added", {"dst": dst, "next_hop": next_hop, "metric": metric})
        elif (old.next_hop, old.metric) != (next_hop, metric):
            self._emit("route_changed", {"dst": dst, "next_hop": next_hop, "metric": metric})

    def remove(self, dst: str) -> None:
        if self._routes.pop(dst, None) is None:
            return
        self._queue(dst, None)
        self._emit("route_removed", {"dst": dst})

    def lookup(self, dst: str) -> Route | None:
        return self._routes.get(dst)

    def __iter__(self) -> Iterator[Route]:
        return iter(list(self._routes.values()))

    def __len__(self) -> int:
        return len(self._routes)

    # -- the kernel side -------------------------------------------------------------------------
    def _queue(self, dst: str, next_hop: str | None) -> None:
        self._pending[dst] = next_hop  # a change still queued for dst is superseded
        if self._writer is None:
            self._writer = self._loop.create_task(self._write())

    async def _write(self) -> None:
        pending, kernel = self._pending, self._kernel
        try:
            while pending:
                dst, next_hop = pending.popitem(last=False)
                if kernel.get(dst) == next_hop:
                    continue  # the kernel already has it (or, for None, never had it)
                try:
                    if next_hop is None:
                        kernel.pop(dst, None)
                        await self._rt.route_delete(dst, 32)
                    else:
                        await self._rt.route_replace(
                            dst, 32, gateway=None if next_hop == dst else next_hop,
                            oif=self._oif)
                        kernel[dst] = next_hop
                except (NetlinkError, OSError) as exc:  # a failed replace keeps the old route
                    self.errors += 1
                    log.debug("route %s via %s: %s", dst, next_hop, exc)
        finally:
            self._writer = None

    def cancel(self) -> None:
        """Drop queued changes (shutdown: the namespace goes away with its table)."""
        self._pending.clear()
        if self._writer is not None:
            self._writer.cancel()

    async def flush(self) -> None:
        """Wait until every queued change is in the kernel (tests, shutdown)."""
        while self._writer is not None:
            await asyncio.shield(self._writer)
