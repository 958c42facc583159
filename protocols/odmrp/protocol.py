"""ODMRP (draft-ietf-manet-odmrp-04) as a sans-I/O meshnet protocol.

- **Join Query.** A source with data for a group broadcasts a Join Query at once and every
  ``refresh_interval`` while it keeps sending (until ``source_timeout`` after its last
  packet). Every node relays the first copy of each (source, sequence number) once, after a
  random ``forward_jitter``, and remembers the node it came from: its upstream towards the
  source (backward learning).
- **Join Reply.** A member that receives a new Join Query answers with a Join Reply listing,
  per source, the sequence number and its upstream node. A node that finds itself named as a
  next hop in a Join Reply sets its FG_FLAG for the group (it joins the forwarding group for
  ``fg_timeout``) and broadcasts its own Join Reply naming its own upstream, once per
  (source, sequence number), until the replies reach the source. Replies wait a random
  ``reply_jitter`` so that several answers leave in one message.
- **Data.** The source transmits each packet; a node delivers the first copy to its
  applications (members take it) and relays it once if its FG_FLAG for the group is set.
  Everything else (duplicates, copies at nodes outside the forwarding group) stops there.
- **Soft state.** Forwarding groups, upstream entries and membership are refreshed by the
  periodic queries; a member that leaves stops replying and the forwarders it kept time out.
  A node that joins answers the latest query it relayed at once.

Departures from the draft: no data piggybacked on Join Queries (the first packets of a new
source reach only its neighbours until the first replies come back, a few milliseconds on a
fast radio), no passive acknowledgements, no mobility prediction, no unicast routing.
"""

from __future__ import annotations

from typing import Any

from meshnet.protocol_api import DuplicateCache, Packet, Protocol, Timers, multicast_id

from .params import ODMRPParams
from .wire import JoinQuery, JoinReply, ReplyEntry, decode, encode

SEQ_KEY = "odmrp_seq"


class ODMRP(Protocol):
    name = "odmrp"
    port = 61504
    multicast = True
    description = ("On-Demand Multicast Routing Protocol (draft-ietf-manet-odmrp-04): Join "
                   "Query/Reply, soft-state forwarding group (multicast only; unicast is not "
                   "routed)")
    Params = ODMRPParams

    def __init__(self, ctx: Any, params: ODMRPParams | None = None) -> None:
        super().__init__(ctx, params)
        p = self.params
        self.timers = Timers(ctx)
        self.seen = DuplicateCache(p.dpd_lifetime)  # data packets
        self.queries = DuplicateCache(p.fg_lifetime)  # (source, seq) of Join Queries relayed
        self.answered = DuplicateCache(p.fg_lifetime)  # (group, source, seq) replied or passed on
        self.upstream: dict[tuple[str, str], tuple[str, int, float]] = {}
        # (group, source) -> (upstream node, seq, expiry)
        self.forwarding: dict[str, float] = {}  # group -> FG_FLAG expiry
        self.sending: dict[str, float] = {}  # group -> time of this source's last packet
        self._refresh: dict[str, Any] = {}  # group -> refresh timer
        self._pending: dict[str, dict[str, ReplyEntry]] = {}  # group -> source -> entry

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.timers.running = True

    def stop(self) -> None:
        self.timers.cancel_all()

    def _next_seq(self) -> int:
        seq = (self.ctx.persistent.get(SEQ_KEY, 0) + 1) & 0xFFFFFFFF
        self.ctx.persistent[SEQ_KEY] = seq  # survives a restart: neighbours' caches stay right
        return seq

    # --- sources -------------------------------------------------------------------------------
    def _query(self, group: str) -> None:
        ctx = self.ctx
        last = self.sending.get(group)
        if last is None or ctx.now - last > self.params.source_lifetime:
            self.sending.pop(group, None)
            self._refresh.pop(group, None)
            return
        seq = self._next_seq()
        self.queries.seen((ctx.address, seq), ctx.now)
        ctx.broadcast(encode(JoinQuery(group, seq, ctx.address, ctx.address,
                                       self.params.jq_ttl, 0)))
        ctx.emit("join_query_sent", group=group, source=ctx.address, seq=seq, forwarded=False)
        self._refresh[group] = self.timers.later(self.params.refresh_interval, self._query, group)

    # --- control -------------------------------------------------------------------------------
    def on_control(self, src: str, payload: bytes) -> None:
        msg = decode(payload)  # DecodeError: counted by the backend
        if isinstance(msg, JoinQuery):
            self._on_query(msg)
        else:
            self._on_reply(msg)

    def _on_query(self, q: JoinQuery) -> None:
        ctx = self.ctx
        now = ctx.now
        if q.source == ctx.address or self.queries.seen((q.source, q.seq), now):
            return
        self.upstream[(q.group, q.source)] = (q.prev_hop, q.seq, now + self.params.fg_lifetime)
        if q.group in ctx.groups():
            self._reply(q.group, ReplyEntry(q.source, q.seq, q.prev_hop))
        if q.ttl > 1:
            relayed = JoinQuery(q.group, q.seq, q.source, ctx.address, q.ttl - 1, q.hops + 1)
            self.timers.later(ctx.random.uniform(0, self.params.forward_jitter),
                              self._relay_query, relayed)

    def _relay_query(self, q: JoinQuery) -> None:
        self.ctx.broadcast(encode(q))
        self.ctx.emit("join_query_sent", group=q.group, source=q.source, seq=q.seq,
                      forwarded=True)

    def _on_reply(self, r: JoinReply) -> None:
        ctx = self.ctx
        now = ctx.now
        for e in r.entries:
            if e.next_hop != ctx.address or e.source == ctx.address:
                continue  # not for us, or it reached its source
            self._join_forwarding_group(r.group)
            up = self.upstream.get((r.group, e.source))
            if up is not None and up[2] > now:
                self._reply(r.group, ReplyEntry(e.source, e.seq, up[0]))

    def _reply(self, group: str, entry: ReplyEntry) -> None:
        """Queue ``entry`` for this group's next Join Reply (once per source and sequence)."""
        if self.answered.seen((group, entry.source, entry.seq), self.ctx.now):
            return
        pending = self._pending.get(group)
        if pending is None:
            pending = self._pending[group] = {}
            self.timers.later(self.ctx.random.uniform(0, self.params.reply_jitter),
                              self._send_reply, group)
        pending[entry.source] = entry

    def _send_reply(self, group: str) -> None:
        entries = self._pending.pop(group, {})
        if not entries:
            return
        ctx = self.ctx
        ordered = tuple(entries[s] for s in sorted(entries))
        for k in range(0, len(ordered), 255):
            ctx.broadcast(encode(JoinReply(group, ctx.address, ordered[k:k + 255])))
        ctx.emit("join_reply_sent", group=group, sources=[e.source for e in ordered])

    def _join_forwarding_group(self, group: str) -> None:
        now = self.ctx.now
        fresh = self.forwarding.get(group, 0.0) <= now
        self.forwarding[group] = now + self.params.fg_lifetime
        if fresh:
            self.ctx.emit("forwarding_group_joined", group=group)
            self.timers.later(self.params.fg_lifetime, self._fg_check, group)

    def _fg_check(self, group: str) -> None:
        expiry = self.forwarding.get(group)
        if expiry is None:
            return
        now = self.ctx.now
        if expiry <= now:
            del self.forwarding[group]
            self.ctx.emit("forwarding_group_left", group=group)
        else:
            self.timers.later(expiry - now, self._fg_check, group)

    # --- membership ----------------------------------------------------------------------------
    def on_join(self, group: str) -> None:
        """Answer the freshest query of every source of the group at once, not at its next
        refresh."""
        now = self.ctx.now
        for (g, source), (hop, seq, expiry) in sorted(self.upstream.items()):
            if g == group and expiry > now:
                self._reply(group, ReplyEntry(source, seq, hop))

    # --- data ----------------------------------------------------------------------------------
    def on_multicast(self, packet: Packet, prev_hop: str | None) -> None:
        ctx = self.ctx
        now = ctx.now
        group = packet.dst
        duplicate = self.seen.seen(multicast_id(packet, self.params.dpd), now)
        if prev_hop is None:
            self.sending[group] = now
            if group not in self._refresh:
                self._query(group)
            ctx.relay(packet)
            return
        if duplicate:
            ctx.emit("mcast_duplicate", uid=packet.uid, group=group)
            return
        ctx.deliver(packet)
        if self.forwarding.get(group, 0.0) > now:
            jitter = self.params.forward_jitter
            if jitter > 0:
                self.timers.later(ctx.random.uniform(0, jitter), ctx.relay, packet)
            else:
                ctx.relay(packet)

    # --- introspection -------------------------------------------------------------------------
    def in_forwarding_group(self, group: str) -> bool:
        return self.forwarding.get(group, 0.0) > self.ctx.now

    def table_rows(self) -> list[dict]:
        now = self.ctx.now
        rows = [{"dst": g, "next_hop": "forwarding group", "metric": 0, "seqno": None,
                 "expires": t, "state": "FG_FLAG"} for g, t in sorted(self.forwarding.items())
                if t > now]
        rows += [{"dst": f"{g} from {s}", "next_hop": hop, "metric": 0, "seqno": seq,
                  "expires": exp, "state": "upstream"}
                 for (g, s), (hop, seq, exp) in sorted(self.upstream.items()) if exp > now]
        return rows
