"""What every radio MAC shares: the interface queue, fragmentation, ACKs and retries, and how a
finished (or abandoned) frame is reported to the node.

A subclass only decides *when* to transmit (``_access`` for a new fragment, ``_retry`` after a
missing ACK) and may react to success and failure (contention windows). One packet is in service
at a time: its fragments (``profile.fragments``) are sent in order, each with its own channel
access, ACK and retries; losing one fragment loses the packet.

Reporting: a broadcast is reported once, after its last fragment, with the nodes that received
every fragment (reason ``collision`` when nobody did and interference was to blame, otherwise
``out_of_range``). A unicast is handed to its receiver when the last fragment is decoded (before
the ACK, duplicates filtered as 802.11/802.15.4 sequence numbers do) and reported to the sender
when the ACK arrives, or as ``mac_retries`` when the retries run out. A unicast whose data got
through but whose ACKs were all lost counts as delivered: the receiver has the packet. When the
MAC cannot even access the channel (802.15.4 CSMA failure, Z-Wave busy), the packet is dropped as
``channel_busy`` without link-failure feedback, because the link itself is fine.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from .base import CTRL, DATA, Frame, Mac


class RadioMac(Mac):
    max_retries = 0      # retransmissions after the first attempt
    ack_gap_s = 0.0      # receiver's delay before its ACK (SIFS / turnaround)

    def __init__(self, channel: Any, node) -> None:
        self.channel = channel
        self.node = node
        self.i = node.index
        self.host = channel.host
        self.sched = channel.host.sched
        self.profile = p = channel.profile
        self.limit = node.queue_len
        self.rng = random.Random(f"{channel.host.seed}:mac:{node.index}")
        self.ctrl: deque[Frame] = deque()  # control frames go first, as in ns-2's PriQueue
        self.data: deque[Frame] = deque()
        self.cur: Frame | None = None
        self.frags: list[int] = []
        self.frag = 0
        self.retries = 0
        self.heard: list[int] | None = None
        self.collided = False
        self.delivered = False
        self.pending = None               # the Transmission (data or its ACK) we wait for
        self.timer = None
        self.ready_at = 0.0               # earliest start of the next frame (IFS)
        self.seq = 0                      # sequence number of the packet in service
        self.last_rx: dict[int, tuple[int, int]] = {}  # sender -> (seq, fragment) last taken
        self.ack_s = self.ack_gap_s + p.airtime(p.ack_bytes)  # ACK occupies gap + airtime
        self.retransmissions = 0
        self.gave_up = 0
        self.access_failures = 0

    # ------------------------------------------------------------------ Mac interface
    def enqueue(self, frame: Frame) -> bool:
        if len(self.ctrl) + len(self.data) >= self.limit:
            return False
        (self.ctrl if frame.kind == CTRL else self.data).append(frame)
        if self.cur is None:
            if self.channel.alive_since[self.i] is None:
                self.channel.node_started(self.i)  # revived
            self._next()
        return True

    def queued(self) -> list[Frame]:
        out = [*self.ctrl, *self.data]
        if self.cur is not None:
            out.insert(0, self.cur)
        return out

    def flush(self) -> list[Frame]:
        out = [*self.ctrl, *self.data]
        self.ctrl.clear()
        self.data.clear()
        if self.cur is not None and not self.delivered:
            out.insert(0, self.cur)
        self.cur = None
        self.pending = None
        self._cancel_timers()
        self.channel.node_stopped(self.i)
        return out

    # ------------------------------------------------------------------ hooks
    def _access(self, not_before: float) -> None:
        """Get the channel for the current fragment, no earlier than ``not_before``."""
        raise NotImplementedError

    def _retry(self, not_before: float) -> None:
        self._access(not_before)

    def _succeeded(self) -> None:
        """A fragment got through (ACKed, or a broadcast sent)."""

    def _failed(self) -> None:
        """An attempt got no ACK; a retry follows."""

    def _reset(self) -> None:
        """The MAC gave up on a packet."""

    def _ifs(self, psdu: int) -> float:
        return 0.0

    def _cancel_timers(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # ------------------------------------------------------------------ service
    def _next(self) -> None:
        frame = self.ctrl.popleft() if self.ctrl else self.data.popleft()
        self.cur = frame
        self.seq += 1
        self.frags = self.channel.fragments(frame.size)
        self.frag = 0
        self.retries = 0
        self.heard = None
        self.collided = False
        self.delivered = False
        now = self.sched.now
        self._access(self.ready_at if self.ready_at > now else now)

    def _after(self) -> None:
        if self.cur is None and (self.ctrl or self.data) and self.node.alive:
            self._next()

    def _cca_done(self) -> None:
        """Clear channel assessment finished (the MACs that sample the medium): transmit after
        the rx-to-tx turnaround, or let the subclass back off (``_channel_busy``)."""
        self.timer = None
        if self.cur is None:
            return
        now = self.sched.now
        if self.channel.cca_busy(self.i, now, self.cca):
            self._channel_busy(now)
            return
        self.timer = self.sched.call_at(now + self.turnaround, self._transmit)

    def _channel_busy(self, now: float) -> None:
        raise NotImplementedError

    def _transmit(self) -> None:
        """Start the current fragment now (after an ACK this node is still sending)."""
        self.timer = None
        if self.cur is None:
            return
        ch = self.channel
        busy = ch.transmitting[self.i]
        if busy is not None:
            self.timer = self.sched.call_at(busy.end, self._transmit)
            return
        self.pending = self._put_on_air(self.frags[self.frag], self.cur.dst_index)
        if ch.air_taps and self.frag == 0:  # a sniffer sees each attempt (its first fragment)
            ch.on_air(self.i, self.cur)

    def _put_on_air(self, psdu: int, dst: int) -> Any:
        return self.channel.start_tx(self.i, psdu, dst, self._tx_done,
                                     tx_power=self.cur.tx_power)

    def _tx_done(self, tx: Any, decoded: list[int]) -> None:
        if tx is not self.pending:
            return  # the node died meanwhile
        frame = self.cur
        dst = frame.dst_index
        if dst < 0:
            heard = self.heard
            self.heard = decoded if heard is None else [j for j in heard if j in decoded]
            if tx.lost_collision:
                self.collided = True
            self._fragment_done(tx)
            return
        self._overheard(tx, decoded, dst)
        if dst not in decoded:
            self._attempt_failed(tx.end + self.profile.ack_wait_s)
            return
        ch = self.channel
        last = self.frag == len(self.frags) - 1
        ch.acks += 1
        self.pending = ch.start_tx(dst, self.profile.ack_bytes, self.i, self._ack_done,
                                   duration=self.ack_s)
        if ch.macs[dst]._accept(frame, self.seq, self.frag, last, self.i) and last:
            self.delivered = True

    def _overheard(self, tx: Any, decoded: list[int], dst: int) -> None:
        """Nodes other than the addressee decoded a unicast (802.11 sets their NAV)."""

    def _accept(self, frame: Frame, seq: int, k: int, last: bool, sender: int) -> bool:
        """Receiver side: fragment ``k`` of ``frame`` (the sender's packet number ``seq``)
        decoded. False for a duplicate: a retry whose ACK was lost. Only the numbers are kept,
        as 802.11 and 802.15.4 keep sequence numbers, so a receiver holds no old frames."""
        key = (seq, k)
        if self.last_rx.get(sender) == key:
            return False
        self.last_rx[sender] = key
        if last:
            self.node.on_frame(frame)
        return True

    def _ack_done(self, tx: Any, decoded: list[int]) -> None:
        if tx is not self.pending:
            return
        if self.i in decoded:
            self._fragment_done(tx)
        else:
            self._attempt_failed(tx.start + self.profile.ack_wait_s)

    def _fragment_done(self, tx: Any) -> None:
        self._succeeded()
        self.retries = 0
        self.frag += 1
        now = self.sched.now
        self.ready_at = now + self._ifs(self.frags[self.frag - 1])
        if self.frag < len(self.frags):
            self._access(self.ready_at)
        else:
            self._finish()

    def _attempt_failed(self, not_before: float) -> None:
        self.pending = None
        self.retries += 1
        if self.retries > self.max_retries:
            if self.delivered:
                self._finish()
            else:
                self._give_up("mac_retries")
            return
        self.retransmissions += 1
        self._failed()
        self._retry(not_before)

    def _finish(self) -> None:
        frame = self.cur
        self.cur = None
        self.pending = None
        node = self.node
        if frame.dst_index < 0:
            nodes = self.host.nodes
            receivers = [j for j in self.heard or () if nodes[j].alive]
            reason = "" if receivers else ("collision" if self.collided else "out_of_range")
            node.on_tx_end(frame, receivers, True, reason)
            for j in receivers:
                nodes[j].on_frame(frame)
        else:
            node.on_tx_end(frame, [frame.dst_index], True, "")
        self._after()

    def _give_up(self, reason: str) -> None:
        frame = self.cur
        self.cur = None
        self.pending = None
        self.gave_up += 1
        self._reset()
        self.node.on_tx_end(frame, [], False, reason)
        self._after()

    def _access_failed(self) -> None:
        """Channel access failure: the frame never went on air."""
        frame = self.cur
        self.cur = None
        self.pending = None
        self.access_failures += 1
        self._reset()
        if frame.kind == DATA:
            self.host.drop(self.node, frame.packet, "channel_busy")
        else:
            self.host.count_control_drop(self.node, "channel_busy")
        self._after()


class IdealMac(RadioMac):
    """``radio.mac = false``: frames leave back to back at the PHY rate; no carrier sense,
    backoff, interference, ACK or retry. A unicast its receiver did not decode fails at once
    (``out_of_range``), which still gives routing its link-layer feedback."""

    def _access(self, not_before: float) -> None:
        now = self.sched.now
        if not_before > now:
            self.timer = self.sched.call_at(not_before, self._transmit)
        else:
            self._transmit()

    def _put_on_air(self, psdu: int, dst: int) -> Any:
        return self.channel.ideal_tx(self.i, psdu, dst, self._tx_done,
                                     tx_power=self.cur.tx_power)

    def _tx_done(self, tx: Any, decoded: list[int]) -> None:
        if tx is not self.pending:
            return
        frame = self.cur
        dst = frame.dst_index
        if dst < 0:
            heard = self.heard
            self.heard = decoded if heard is None else [j for j in heard if j in decoded]
            self._fragment_done(tx)
        elif dst in decoded:
            last = self.frag == len(self.frags) - 1
            if self.channel.macs[dst]._accept(frame, self.seq, self.frag, last, self.i) and last:
                self.delivered = True
            self._fragment_done(tx)
        else:
            self._give_up("out_of_range")


__all__ = ["RadioMac", "IdealMac"]
