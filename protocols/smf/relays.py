"""Reduced relay sets of RFC 6621's appendices, as pure functions of the two-hop neighbourhood.

Addresses compare as dotted-quad strings only for equality; every order below uses the
numeric address, so all nodes given the same neighbourhood decide alike.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache


@lru_cache(maxsize=65536)
def _ip(address: str) -> int:
    a, b, c, d = (int(x) for x in address.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def select_mprs(two_hop: dict[str, set[str]]) -> set[str]:
    """MPRs covering every two-hop neighbour (S-MPR, RFC 6621 App. A; the greedy heuristic of
    RFC 3626 §8.3.1 / RFC 7181 App. B without willingness).

    ``two_hop`` maps each symmetric neighbour to the two-hop neighbours it reaches. First the
    neighbours that are the only way to some two-hop node, then, while any is uncovered, the
    neighbour covering most uncovered ones (ties: more two-hop neighbours in all, then the
    higher address). Finally an MPR whose every two-hop node is covered by another is dropped
    (lowest address first), so the set is minimal in that sense."""
    uncovered = set().union(*two_hop.values()) if two_hop else set()
    mprs: set[str] = set()
    for target in sorted(uncovered, key=_ip):
        via = [n for n, reach in two_hop.items() if target in reach]
        if len(via) == 1:
            mprs.add(via[0])
    for m in mprs:
        uncovered -= two_hop[m]
    while uncovered:
        best = max((n for n in two_hop if n not in mprs),
                   key=lambda n: (len(two_hop[n] & uncovered), len(two_hop[n]), _ip(n)))
        if not two_hop[best] & uncovered:
            break
        mprs.add(best)
        uncovered -= two_hop[best]
    for m in sorted(mprs, key=_ip):
        rest = set().union(*(two_hop[o] for o in mprs if o != m)) if len(mprs) > 1 else set()
        if two_hop[m] <= rest:
            mprs.discard(m)
    return mprs


def ecds_relay(me: str, my_priority: int, one_hop: set[str], priorities: dict[str, int],
               links: dict[str, set[str]]) -> bool:
    """Whether this node elects itself an E-CDS relay (RFC 6621 App. B, after Ogier's
    Essential CDS). Order: (router priority, address).

    1. With fewer than two symmetric neighbours: not a relay.
    2. With a larger order than every one- and two-hop neighbour: a relay.
    3. Otherwise, from Rmax (the one-hop neighbour of largest order) search the links among
       one- and two-hop neighbours, passing only through nodes of larger order than this
       node: if some one-hop neighbour cannot be reached so, this node is a relay."""
    if len(one_hop) < 2:
        return False

    def order(a: str) -> tuple[int, int]:
        return (priorities.get(a, 0), _ip(a))

    mine = (my_priority, _ip(me))
    others = set(priorities) | one_hop
    others.discard(me)
    if all(order(a) < mine for a in others):
        return True
    rmax = max(one_hop, key=order)
    seen = {rmax}
    queue = deque([rmax])
    while queue:
        u = queue.popleft()
        if u != rmax and order(u) < mine:
            continue  # reached, but not a node a path may pass through
        for v in links.get(u, ()):
            if v != me and v not in seen:
                seen.add(v)
                queue.append(v)
    return not one_hop <= seen
