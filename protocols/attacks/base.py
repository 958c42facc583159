"""What every attacker role shares: honest until ``start``, then malicious until the node stops;
and, for the roles that drop data, a data plane the attacker decides packet by packet.

An attacker is an ordinary protocol instance of a subclass (see :mod:`.roles`): the backend only
picks the class for the node, and the node context is the same as any node's. Dropping data
needs a say over each packet the node forwards, so those roles run as per-packet protocols
(``per_packet = True``): ``forward`` drops or else returns what the honest protocol would use,
the next hop of the node's forwarding table (or the protocol's own ``forward``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from meshnet.protocol_api import Packet

from .spec import AttackSpec


class Attacker:
    """Mixin placed before the honest protocol class in the bases of an attacker class."""

    attack: ClassVar[AttackSpec]
    drop_reason: ClassVar[str] = ""  # data drops counted under this reason ("" drops nothing)
    honest_per_packet: ClassVar[bool] = False  # the honest class routes per packet itself

    ctx: Any
    attacking = False  # in the malicious phase now
    _attack_over = False  # stopped: the phase never starts again on this instance

    def start(self) -> None:
        super().start()  # type: ignore[misc]
        self.ctx.call_later(max(0.0, self.attack.start - self.ctx.now), self._begin_attack)

    def stop(self) -> None:
        self._attack_over = True
        self.attacking = False
        super().stop()  # type: ignore[misc]

    def _begin_attack(self) -> None:
        if self._attack_over or self.attacking:
            return
        self.attacking = True
        self.ctx.emit("attack_started", role=self.attack.role)
        self.attack_began()

    def attack_began(self) -> None:
        """Role hook: the malicious phase starts now (timers of flooding roles start here)."""

    def drops(self, packet: Packet) -> bool:
        """Role hook: whether to drop this data packet, which the node is asked to forward."""
        return False

    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        if prev_hop is not None and self.attacking and self.drops(packet):
            self.ctx.drop(packet, self.drop_reason)
            return None
        if self.honest_per_packet:
            return super().forward(packet, prev_hop)  # type: ignore[misc]
        route = self.ctx.routes.lookup(packet.dst)
        if route is not None:
            return route.next_hop
        self.on_no_route(packet)  # type: ignore[attr-defined]  # hold, discover or drop
        return None
