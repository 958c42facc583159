"""RREQ flooding (AODV): the node originates ``rate`` route requests per second, network-wide
(TTL NET_DIAMETER), each with a new RREQ ID so that nobody discards it as a duplicate, for
destinations drawn at random: half among the addresses it knows, half anywhere in its /16
(mostly nodes that do not exist, so no reply ever stops the flood). Its own RREQ rate limit is
bypassed; every other node still forwards at most ``rreq_rate_limit`` RREQs per second, which is
what keeps the flood from taking the whole network."""

from __future__ import annotations

from ..aodv import wire as aodv_wire
from ..aodv.protocol import AODV
from ..aodv.routing_table import seq_next
from .base import Attacker


class RreqFloodAODV(Attacker, AODV):
    def attack_began(self) -> None:
        self._flood_tick()

    def _flood_tick(self) -> None:
        if not self.attacking:
            return
        dst = self._flood_target()
        self.seq = seq_next(self.seq)
        self.rreq_id = (self.rreq_id + 1) & 0xFFFFFFFF
        p = self.params
        rreq = aodv_wire.RREQ(rreq_id=self.rreq_id, dst=dst, dst_seq=0, unknown_seq=True,
                              orig=self.ctx.address, orig_seq=self.seq,
                              extensions=(aodv_wire.ttl_extension(p.net_diameter),))
        self.rreq_seen.seen((self.ctx.address, self.rreq_id), self.ctx.now)
        self._broadcast_now(aodv_wire.encode(rreq))  # past our own rate limit
        self.ctx.emit("attack_forged", role=self.attack.role, message="rreq", dst=dst)
        self._timers.later(1.0 / self.attack.rate, self._flood_tick)

    def _flood_target(self) -> str:
        r = self.ctx.random
        me = self.ctx.address
        known = sorted(e.dst for e in self.table if e.dst != me)
        if known and r.random() < 0.5:
            return known[r.randrange(len(known))]
        a, b = me.split(".")[:2]
        while True:
            dst = f"{a}.{b}.{r.randrange(256)}.{r.randrange(1, 255)}"
            if dst != me:
                return dst
