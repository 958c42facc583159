"""The primary controller's picture of the network, and the source routes it computes from it.

Every node reports the neighbours it found (range info). Two nodes are linked when either lists
the other: a node lists a neighbour only after that neighbour's answer reached it, so one report
already shows the link works both ways. A link a routed error or a failed transmission proved
broken is left out until a fresh report names it again.

Routes are computed here with the standard library only (protocol code stays free of third-party
imports, see docs/architecture.md): breadth-first search for the shortest route, Yen's algorithm
for the next ones, all limited to ``max_repeaters`` repeaters. Ties are broken by node ID, so
every node computes the same routes from the same facts.
"""

from __future__ import annotations

import heapq
from collections import deque

Route = tuple[int, ...]


class Topology:
    """Reported neighbour lists, links known to have failed, and node addresses."""

    def __init__(self) -> None:
        self.reports: dict[int, frozenset[int]] = {}
        self.reported: set[int] = set()  # nodes whose own range info arrived
        self.addresses: dict[int, str] = {}  # node ID -> IPv4 address
        self.ids: dict[str, int] = {}  # IPv4 address -> node ID
        self.failed: set[frozenset[int]] = set()
        self.version = 0  # bumped whenever the links change: routes computed before are stale
        self._adj: dict[int, list[int]] | None = None

    def _changed(self) -> None:
        self._adj = None
        self.version += 1

    def learn(self, node: int, address: str) -> None:
        old = self.addresses.get(node)
        if old is not None and old != address:
            self.ids.pop(old, None)
        self.addresses[node] = address
        self.ids[address] = node

    def report(self, node: int, neighbors: frozenset[int]) -> None:
        """``node`` found ``neighbors``: its links are what it says now, plus those other nodes
        report to it; links it names again are no longer taken as failed."""
        self.reports[node] = frozenset(neighbors) - {node}
        self.reported.add(node)
        self.failed -= {frozenset((node, other)) for other in neighbors}
        self._changed()

    def link(self, a: int, b: int) -> None:
        """A frame went from ``a`` to ``b`` (an explorer frame proved it): a working link."""
        if a == b or b in self.adjacency().get(a, ()):
            return
        self.reports[a] = self.reports.get(a, frozenset()) | {b}
        self.failed.discard(frozenset((a, b)))
        self._changed()

    def fail(self, a: int, b: int) -> bool:
        """The link a-b failed; True if it was part of the topology."""
        known = b in self.adjacency().get(a, ())
        if known:
            self.failed.add(frozenset((a, b)))
            self._changed()
        return known

    def adjacency(self) -> dict[int, list[int]]:
        """Node ID -> sorted neighbour IDs (symmetric), failed links left out."""
        if self._adj is None:
            adj: dict[int, set[int]] = {}
            for node, neighbors in self.reports.items():
                for other in neighbors:
                    if frozenset((node, other)) not in self.failed:
                        adj.setdefault(node, set()).add(other)
                        adj.setdefault(other, set()).add(node)
            self._adj = {node: sorted(nbrs) for node, nbrs in adj.items()}
        return self._adj

    def routes(self, src: int, dst: int, k: int, max_repeaters: int) -> list[Route]:
        """Up to ``k`` loop-free routes from ``src`` to ``dst`` with at most ``max_repeaters``
        repeaters, fewest repeaters first; each as the repeaters' IDs."""
        return [tuple(p[1:-1]) for p in k_shortest_paths(self.adjacency(), src, dst, k,
                                                         max_repeaters + 1)]

    def hops(self, src: int, dst: int) -> int | None:
        """Hops of the shortest route, however long; None if there is none."""
        path = shortest_path(self.adjacency(), src, dst)
        return None if path is None else len(path) - 1


def shortest_path(adj: dict[int, list[int]], src: int, dst: int, max_hops: int | None = None,
                  banned_nodes: frozenset[int] | set[int] = frozenset(),
                  banned_edges: set[tuple[int, int]] | frozenset = frozenset()
                  ) -> list[int] | None:
    """Breadth-first search; among equally short paths, the one first in node-ID order."""
    if src == dst:
        return [src]
    if src in banned_nodes or dst in banned_nodes:
        return None
    parent = {src: src}
    frontier = deque([(src, 0)])
    while frontier:
        node, depth = frontier.popleft()
        if max_hops is not None and depth >= max_hops:
            continue
        for nxt in adj.get(node, ()):
            if nxt in parent or nxt in banned_nodes or (node, nxt) in banned_edges:
                continue
            parent[nxt] = node
            if nxt == dst:
                path = [dst]
                while path[-1] != src:
                    path.append(parent[path[-1]])
                return path[::-1]
            frontier.append((nxt, depth + 1))
    return None


def k_shortest_paths(adj: dict[int, list[int]], src: int, dst: int, k: int,
                     max_hops: int) -> list[list[int]]:
    """Yen's algorithm (1971) on hop counts: the ``k`` shortest loop-free paths of at most
    ``max_hops`` hops, shortest first, ties in node-ID order."""
    if src == dst or k < 1:
        return []
    first = shortest_path(adj, src, dst, max_hops)
    if first is None:
        return []
    found = [first]
    candidates: list[tuple[int, list[int]]] = []
    seen = {tuple(first)}
    while len(found) < k:
        last = found[-1]
        for j in range(len(last) - 1):
            root = last[:j + 1]
            banned_edges = {(p[j], p[j + 1]) for p in found if p[:j + 1] == root}
            spur = shortest_path(adj, root[-1], dst, max_hops - j, set(root[:-1]), banned_edges)
            if spur is None:
                continue
            path = root[:-1] + spur
            if tuple(path) not in seen:
                seen.add(tuple(path))
                heapq.heappush(candidates, (len(path), path))
        if not candidates:
            break
        found.append(heapq.heappop(candidates)[1])
    return found
