"""Black holes: lie about having the best route to every destination, then drop the data that
the lie attracts (drop reason ``attack_blackhole``).

* AODV: every RREQ (for another node) is answered at once with a forged RREP that claims the
  destination one hop away (hop count 1) with a sequence number far above the one asked for,
  so it beats every honest reply; the RREQ is not forwarded.
* DSDV: every update the node sends advertises metric 1 to every destination it knows, with an
  even sequence number far above the real one, so neighbours switch to it at once (a newer
  sequence number always wins) and pass the lie on.
"""

from __future__ import annotations

from meshnet.protocol_api import BROADCAST

from ..aodv import wire as aodv_wire
from ..aodv.protocol import AODV
from ..aodv.routing_table import SEQ_MASK, seq_newer
from ..dsdv.protocol import DSDV, MAX_SEQNO
from ..dsdv.wire import Entry, Update
from .base import Attacker

AODV_SEQ_JUMP = 1_000_000  # far above any number a real node reaches in a run, below 2**31
DSDV_SEQ_JUMP = 1_000  # even; honest numbers grow by 2 per periodic update


class BlackholeAODV(Attacker, AODV):
    drop_reason = "attack_blackhole"

    def __init__(self, ctx, params=None) -> None:
        super().__init__(ctx, params)
        self._forged: dict[str, int] = {}  # destination -> the last sequence number claimed

    def drops(self, packet) -> bool:
        return True

    def _recv_rreq(self, src: str, msg: aodv_wire.RREQ) -> None:
        me = self.ctx.address
        if not self.attacking or me in (msg.dst, msg.orig) or BROADCAST in (msg.dst, msg.orig):
            super()._recv_rreq(src, msg)
            return
        self._heard_from(src)
        if self.rreq_seen.seen((msg.orig, msg.rreq_id), self.ctx.now):
            return
        seq = self._forged_seq(msg.dst, msg.dst_seq)
        rrep = aodv_wire.RREP(dst=msg.dst, dst_seq=seq, orig=msg.orig, hop_count=1,
                              lifetime_ms=int(self.params.my_route_timeout * 1000))
        self._send(src, aodv_wire.encode(rrep))
        self.ctx.emit("attack_forged", role=self.attack.role, message="rrep", dst=msg.dst)

    def _forged_seq(self, dst: str, asked: int) -> int:
        """Far above what the RREQ asked for, and never below an earlier lie about ``dst``."""
        seq = (asked + AODV_SEQ_JUMP) & SEQ_MASK or 1
        last = self._forged.get(dst)
        if last is not None and not seq_newer(seq, last):
            seq = last
        self._forged[dst] = seq
        return seq


class BlackholeDSDV(Attacker, DSDV):
    drop_reason = "attack_blackhole"

    def __init__(self, ctx, params=None) -> None:
        super().__init__(ctx, params)
        self._forged: dict[str, int] = {}  # destination -> the last sequence number claimed

    def drops(self, packet) -> bool:
        return True

    def _send(self, update: Update) -> None:
        if not self.attacking:
            super()._send(update)
            return
        me = self.ctx.address
        known = {e.dst: e.seqno for e in update.entries}
        for entry in self.table:
            known[entry.dst] = max(known.get(entry.dst, 0), entry.seqno)
        entries = [Entry(me, self.seqno, 0)]
        for dst, seqno in sorted(known.items()):
            if dst != me:
                entries.append(Entry(dst, self._forged_seq(dst, seqno), 1))
        super()._send(Update(update.full, tuple(entries)))
        self.ctx.emit("attack_forged", role=self.attack.role, message="update", dst=BROADCAST)

    def _forged_seq(self, dst: str, seqno: int) -> int:
        seq = min((seqno + DSDV_SEQ_JUMP) & ~1, MAX_SEQNO & ~1)
        seq = max(seq, self._forged.get(dst, 0))
        self._forged[dst] = seq
        return seq
