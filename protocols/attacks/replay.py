"""Replay: the node records the control messages it hears and, ``delay`` seconds later,
broadcasts each one again byte for byte (once per distinct message), as a node that copies
frames off the air would. Without authentication neighbours take the stale news at face
value; with it, the copy still carries its signer's tag and counter, and is dropped as
``auth_replayed``."""

from __future__ import annotations

from meshnet.protocol_api import BROADCAST

from .base import Attacker


class Replay(Attacker):
    def on_control(self, src: str, payload: bytes) -> None:
        if getattr(self, "attacking", False) and src != self.ctx.address:
            data = bytes(payload)
            pending = self.__dict__.setdefault("_replays", set())
            if data not in pending:
                pending.add(data)
                self.ctx.call_later(self.attack.delay, self._replay, data)
        super().on_control(src, payload)  # type: ignore[misc]

    def _replay(self, data: bytes) -> None:
        self._replays.discard(data)
        if self.attacking:
            self.ctx.broadcast(data)
            self.ctx.emit("attack_forged", role=self.attack.role, message="replay", dst=BROADCAST)
