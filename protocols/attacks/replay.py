"""Replay: the node records the control messages it hears and, ``delay`` seconds later,
broadcasts each one again byte for byte (once per distinct message), as a node that copies
frames off the air would. Without authentication neighbours take the stale news at face
value; with it, the copy still carries its signer's tag and counter, and is dropped as
``auth_replayed``."""

from __future__ import annotations

from meshnet.protocol_api import BROADCAST

from .base import Attacker


class Replay(Attacker):
    def __init__(self, ctx, params=None) -> None:
        super().__init__(ctx, params)
        self._replays: set[bytes] = set()  # heard, not re-sent yet

    def on_control(self, src: str, payload: bytes) -> None:
        if self.attacking and src != self.ctx.address:
            data = bytes(payload)
            if data not in self._replays:
                self._replays.add(data)
                self.ctx.call_later(self.attack.delay, self._replay, data)
        super().on_control(src, payload)  # type: ignore[misc]

    def _replay(self, data: bytes) -> None:
        self._replays.discard(data)
        if self.attacking:
            self.ctx.broadcast(data)
            self.ctx.emit("attack_forged", role=self.attack.role, message="replay", dst=BROADCAST)
