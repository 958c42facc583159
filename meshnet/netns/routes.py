"""``ctx.routes`` on netns: the protocol's forwarding table mirrored into the node's kernel.

Host routes only: ``dst/32 via next_hop dev wlan0 onlink`` (or ``dst/32 dev wlan0`` for a direct
neighbour), installed with ``proto 77`` so ``ip route`` shows which routes meshnet owns. The
kernel is written only when the next hop changes; metric, sequence number and expiry live in
the Python mirror (Linux keys routes by priority, so a changing metric would duplicate them).

Protocols call ``add``/``remove`` synchronously from loop callbacks, while pyroute2's requests
are coroutines on that same loop: changes are queued and one writer task per node applies them
in order, so the kernel always ends in the state of the last call. Data a protocol forwards
itself (``ctx.send_packet``) uses the mirror, so it never waits for the kernel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
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
        self._pending: deque[tuple[str, str | None]] = deque()  # (dst, next hop or None = delete)
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
        self._pending.append((dst, next_hop))
        if self._writer is None:
            self._writer = self._loop.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._pending:
                dst, next_hop = self._pending.popleft()
                try:
                    if next_hop is None:
                        await self._rt.route_delete(dst, 32)
                    else:
                        await self._rt.route_replace(
                            dst, 32, gateway=None if next_hop == dst else next_hop,
                            oif=self._oif)
                except (NetlinkError, OSError) as exc:
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
