"""SMF, Simplified Multicast Forwarding (RFC 6621), as a sans-I/O meshnet protocol.

Every multicast data packet that a node originates or hears goes through ``on_multicast``:

1. Duplicate packet detection (RFC 6621 §6): the packet's key (``meshnet.protocol_api.
   multicast_id``: H-DPD hash or I-DPD identification, parameter ``dpd``) is looked up in a
   cache kept for ``dpd_lifetime``. The first copy is handed to local applications (members
   take it); a later copy is a duplicate.
2. The forwarding decision (parameter ``relay``):
   - ``flood``: classic flooding, every node relays every new packet once;
   - ``s-mpr``: source-specific MPR (App. A): relay a packet at most once, when a copy came
     from a neighbour that selected this node as MPR;
   - ``e-cds``: essential connected dominating set (App. B): a node that elects itself relay
     forwards every new packet once.
   A relay waits uniform [0, ``relay_jitter``] before sending its copy, so that neighbours
   that heard the same transmission do not all send at once. The source always transmits.
3. A copy neither delivered nor relayed because it was seen before is reported as
   ``mcast_duplicate``.

S-MPR and E-CDS need the two-hop neighbourhood: every node broadcasts a HELLO every
``hello_interval`` (jittered) listing its neighbours, their status and its MPR choices
(``neighbors.py``, ``wire.py``). ``flood`` needs none and sends no control traffic.

Departures from RFC 6621, and why: no NHDP/RFC 5444 encoding (a fixed HELLO layout carrying
the same information, see ``wire.py``); relay sets are recomputed whenever the neighbourhood
changes instead of on NHDP's triggers; no per-interface handling (one interface per node);
IPv4 only.

Multicast only: unicast packets are not routed (they end as ``no_route``); run a unicast
protocol in other namespaces' daemons (netns) or pick one per run.
"""

from __future__ import annotations

from typing import Any

from meshnet.protocol_api import DuplicateCache, Packet, Protocol, Timers, multicast_id

from .neighbors import Neighbourhood
from .params import SMFParams
from .relays import ecds_relay, select_mprs
from .wire import HEARD, SYMMETRIC, Hello, Link, decode_hello, encode_hello


class SMF(Protocol):
    name = "smf"
    port = 61503
    multicast = True
    description = ("Simplified Multicast Forwarding, RFC 6621: duplicate detection + flooding, "
                   "S-MPR or E-CDS relays (multicast only; unicast is not routed)")
    Params = SMFParams

    def __init__(self, ctx: Any, params: SMFParams | None = None) -> None:
        super().__init__(ctx, params)
        p = self.params
        self.timers = Timers(ctx)
        self.seen = DuplicateCache(p.dpd_lifetime)  # packets handled (delivered) once
        self.relayed = DuplicateCache(p.dpd_lifetime)  # packets sent on once
        self.nbrs = Neighbourhood(ctx.address)
        self.mprs: set[str] = set()  # S-MPR: neighbours this node selected
        self.is_relay = p.relay == "flood"  # E-CDS: elected; flood: always
        self._dirty = False  # the neighbourhood changed since the relay set was computed
        self._selectors: set[str] = set()  # S-MPR: neighbours that selected this node
        self._expiry = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.timers.running = True
        if self.params.relay != "flood":
            p = self.params
            self.timers.later(self.ctx.random.uniform(0, p.hello_interval * p.hello_jitter),
                              self._hello)

    def stop(self) -> None:
        self.timers.cancel_all()

    # --- neighbourhood -------------------------------------------------------------------------
    def _hello(self) -> None:
        p, ctx = self.params, self.ctx
        now = ctx.now
        self._update_relays()
        sym = self.nbrs.symmetric(now)
        links = tuple(Link(n.address, SYMMETRIC if n.address in sym else HEARD,
                           n.address in self.mprs, n.priority)
                      for n in self.nbrs.heard_neighbours(now))
        ctx.broadcast(encode_hello(Hello(p.router_priority, p.validity, links,
                                         self.is_relay and p.relay == "e-cds")))
        gap = p.hello_interval * (1 - ctx.random.uniform(0, p.hello_jitter))
        self.timers.later(gap, self._hello)

    def on_control(self, src: str, payload: bytes) -> None:
        hello = decode_hello(payload)  # DecodeError: counted by the backend
        if self.params.relay == "flood":
            return
        now = self.ctx.now
        if self.nbrs.heard(src, hello, now):
            self._dirty = True
        self._arm_expiry()

    def _arm_expiry(self) -> None:
        nxt = self.nbrs.next_expiry()
        if nxt is None or (self._expiry is not None and self._expiry[0] <= nxt):
            return
        if self._expiry is not None:
            self.timers.cancel(self._expiry[1])
        self._expiry = (nxt, self.timers.later(nxt - self.ctx.now, self._expire))

    def _expire(self) -> None:
        self._expiry = None
        if self.nbrs.expire(self.ctx.now):
            self._dirty = True
        self._arm_expiry()

    def _update_relays(self) -> None:
        """Recompute the relay set if the neighbourhood changed; done when a decision needs it
        (a HELLO to send, a packet to forward), not at every HELLO heard."""
        if not self._dirty:
            return
        self._dirty = False
        now = self.ctx.now
        if self.params.relay == "s-mpr":
            self.mprs = select_mprs(self.nbrs.two_hop(now))
            self._selectors = self.nbrs.mpr_selectors(now)
        elif self.params.relay == "e-cds":
            sym = self.nbrs.symmetric(now)
            self.is_relay = ecds_relay(self.ctx.address, self.params.router_priority, set(sym),
                                       self.nbrs.priorities(now), self.nbrs.links_among(now))

    # --- forwarding ----------------------------------------------------------------------------
    def on_multicast(self, packet: Packet, prev_hop: str | None) -> None:
        ctx = self.ctx
        now = ctx.now
        key = multicast_id(packet, self.params.dpd)
        duplicate = self.seen.seen(key, now)
        if prev_hop is None:  # originated here: the source always transmits
            self.relayed.seen(key, now)
            ctx.relay(packet)
            return
        if not duplicate:
            ctx.deliver(packet)
        if self._forwards(prev_hop, duplicate) and not self.relayed.seen(key, now):
            jitter = self.params.relay_jitter
            if jitter > 0:
                self.timers.later(ctx.random.uniform(0, jitter), ctx.relay, packet)
            else:
                ctx.relay(packet)
        elif duplicate:
            ctx.emit("mcast_duplicate", uid=packet.uid, group=packet.dst)

    def _forwards(self, prev_hop: str, duplicate: bool) -> bool:
        relay = self.params.relay
        self._update_relays()
        if relay == "s-mpr":
            return prev_hop in self._selectors
        return self.is_relay and not duplicate

    # --- introspection -------------------------------------------------------------------------
    def relay_state(self) -> dict[str, Any]:
        """What this node's forwarding decision rests on (tests, the TUI)."""
        now = self.ctx.now
        self._update_relays()
        return {"relay": self.is_relay, "mprs": sorted(self.mprs),
                "mpr_selectors": sorted(self.nbrs.mpr_selectors(now)),
                "symmetric": sorted(self.nbrs.symmetric(now))}

    def table_rows(self) -> list[dict]:
        now = self.ctx.now
        sym = self.nbrs.symmetric(now)
        selectors = self.nbrs.mpr_selectors(now)
        rows = []
        for n in self.nbrs.heard_neighbours(now):
            state = "symmetric" if n.address in sym else "heard"
            if n.address in self.mprs:
                state += ", MPR"
            if n.address in selectors:
                state += ", selector"
            rows.append({"dst": n.address, "next_hop": n.address, "metric": 1, "seqno": None,
                         "expires": n.valid_until, "state": state})
        return rows
