"""Grey hole: an honest router in every respect but one: data it forwards is dropped with
``drop_probability`` (only that of the listed flows, when ``flows`` is given), counted under
``attack_greyhole``. Selective dropping is harder to notice than a black hole: routes through the
node work, just badly."""

from __future__ import annotations

from .base import Attacker


class Greyhole(Attacker):
    drop_reason = "attack_greyhole"

    def drops(self, packet) -> bool:
        flows = self.attack.flows
        if flows and packet.flow not in flows:
            return False
        return self.ctx.random.random() < self.attack.drop_probability
