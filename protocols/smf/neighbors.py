"""The two-hop neighbourhood SMF's reduced relay sets need, learnt from HELLOs: a simplified
NHDP (RFC 6130).

- A neighbour is *heard* while its last HELLO is valid, and *symmetric* while, in addition,
  that HELLO listed this node (the link works both ways).
- Its symmetric links, as that HELLO lists them, give the two-hop neighbourhood: every node a
  symmetric neighbour lists as SYMMETRIC that is neither this node nor a one-hop neighbour.
- A neighbour that listed this node with the MPR bit is an *MPR selector* (S-MPR forwards what
  its selectors send).

Simplified from NHDP: no link quality, no separate link and neighbour tuples (one interface per
node), no lost-link advertisement; a link ages out with the validity of the last HELLO.
Everything is computed from the HELLOs on demand at ``now``, so nothing has to be swept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .wire import SYMMETRIC, Hello


@dataclass
class Neighbour:
    address: str
    priority: int
    valid_until: float
    symmetric: bool  # its last HELLO listed us
    selects_us: bool  # ... with the MPR bit
    links: dict[str, tuple[int, int]] = field(default_factory=dict)  # addr -> (status, priority)


class Neighbourhood:
    def __init__(self, address: str) -> None:
        self.address = address
        self._nbrs: dict[str, Neighbour] = {}

    def heard(self, src: str, hello: Hello, now: float) -> bool:
        """Record ``src``'s HELLO; True if what this node knows of its neighbourhood changed
        (a new neighbour, a link status, an MPR selection or the two-hop links)."""
        me = next((link for link in hello.links if link.address == self.address), None)
        links = {link.address: (link.status, link.priority) for link in hello.links
                 if link.address != self.address}
        old = self._nbrs.get(src)
        nbr = Neighbour(src, hello.priority, now + hello.validity, me is not None,
                        me is not None and me.mpr, links)
        self._nbrs[src] = nbr
        return (old is None or old.valid_until <= now or old.symmetric != nbr.symmetric
                or old.selects_us != nbr.selects_us or old.links != nbr.links
                or old.priority != nbr.priority)

    def expire(self, now: float) -> bool:
        """Forget neighbours whose HELLO is no longer valid; True if any was forgotten."""
        gone = [a for a, n in self._nbrs.items() if n.valid_until <= now]
        for a in gone:
            del self._nbrs[a]
        return bool(gone)

    def next_expiry(self) -> float | None:
        return min((n.valid_until for n in self._nbrs.values()), default=None)

    def heard_neighbours(self, now: float) -> list[Neighbour]:
        return sorted((n for n in self._nbrs.values() if n.valid_until > now),
                      key=lambda n: n.address)

    def symmetric(self, now: float) -> dict[str, Neighbour]:
        return {a: n for a, n in self._nbrs.items() if n.valid_until > now and n.symmetric}

    def mpr_selectors(self, now: float) -> set[str]:
        return {a for a, n in self.symmetric(now).items() if n.selects_us}

    def two_hop(self, now: float) -> dict[str, set[str]]:
        """Symmetric neighbour -> the two-hop neighbours it covers."""
        sym = self.symmetric(now)
        return {a: {b for b, (status, _) in n.links.items()
                    if status == SYMMETRIC and b != self.address and b not in sym}
                for a, n in sym.items()}

    def priorities(self, now: float) -> dict[str, int]:
        """Router priority of every one- and two-hop neighbour (the one-hop ones' own word)."""
        out: dict[str, int] = {}
        sym = self.symmetric(now)
        for n in sym.values():
            for b, (status, prio) in n.links.items():
                if status == SYMMETRIC and b != self.address:
                    out.setdefault(b, prio)
        for a, n in sym.items():
            out[a] = n.priority
        return out

    def links_among(self, now: float) -> dict[str, set[str]]:
        """Undirected symmetric links between one- and two-hop neighbours that this node's
        one-hop neighbours report (its own links left out)."""
        adj: dict[str, set[str]] = {}
        for a, n in self.symmetric(now).items():
            adj.setdefault(a, set())
            for b, (status, _) in n.links.items():
                if status == SYMMETRIC and b != self.address:
                    adj[a].add(b)
                    adj.setdefault(b, set()).add(a)
        return adj
