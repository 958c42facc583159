"""Multicast groups of a scenario: who is a member of which group, and when.

A ``[[groups]]`` entry names a group, gives its IPv4 multicast address, the nodes that are
members from the start and the times at which nodes join or leave::

    [[groups]]
    name = "g1"
    address = "239.1.1.1"
    members = [3, 7, 12]
    joins = [{node = 5, at = 30}]
    leaves = [{node = 3, at = 60}]

Membership belongs to a node's applications, not to its routing protocol: both backends give
the same schedule to the protocol (``ctx.groups()``, ``on_join`` / ``on_leave``) and to the
application side (the simulator's delivery check; on netns, the receiving sockets that join and
leave the group in the kernel). Node references are resolved here, where names are known.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenario import Scenario, ScenarioError


def node_index(sc: Scenario, names: list[str], ref, where: str) -> int:
    """A node reference of a scenario (number 1..n or name) as a 0-based index."""
    n = len(names)
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 1 <= ref <= n:
            return ref - 1
        raise ScenarioError(f"{sc.source}: {where}: node number {ref} is not in 1..{n}")
    if isinstance(ref, str) and ref in names:
        return names.index(ref)
    raise ScenarioError(f"{sc.source}: {where}: unknown node {ref!r} (use 1..{n} or n1..n{n})")


@dataclass(frozen=True, slots=True)
class Change:
    """Node ``node`` (index) joins (``join`` True) or leaves the group at time ``at``."""

    at: float
    node: int
    join: bool


@dataclass(frozen=True)
class Group:
    """One multicast group: its members from t = 0 and every later change, in time order."""

    name: str
    address: str
    initial: frozenset[int]
    changes: tuple[Change, ...]

    def members_at(self, t: float) -> frozenset[int]:
        """Members at time ``t`` (a change at exactly ``t`` has happened)."""
        members = set(self.initial)
        for c in self.changes:
            if c.at > t:
                break
            (members.add if c.join else members.discard)(c.node)
        return frozenset(members)

    def is_member(self, node: int, t: float) -> bool:
        member = node in self.initial
        for c in self.changes:
            if c.at > t:
                break
            if c.node == node:
                member = c.join
        return member

    def ever_members(self) -> frozenset[int]:
        return self.initial | {c.node for c in self.changes}


class Membership:
    """Every group of a run, by address, with the per-node queries the backends make."""

    def __init__(self, groups: list[Group]) -> None:
        self.groups = list(groups)
        self.by_address = {g.address: g for g in groups}
        self.by_name = {g.name: g for g in groups}

    def __bool__(self) -> bool:
        return bool(self.groups)

    def groups_of(self, node: int, t: float) -> frozenset[str]:
        """Addresses of the groups ``node`` is a member of at time ``t``."""
        return frozenset(g.address for g in self.groups if g.is_member(node, t))

    def is_member(self, node: int, address: str, t: float) -> bool:
        g = self.by_address.get(address)
        return g is not None and g.is_member(node, t)

    def members_at(self, address: str, t: float) -> frozenset[int]:
        g = self.by_address.get(address)
        return frozenset() if g is None else g.members_at(t)

    def changes(self) -> list[tuple[float, int, str, bool]]:
        """Every (at, node, group address, join) in time order, as the backends schedule them."""
        out = [(c.at, c.node, g.address, c.join) for g in self.groups for c in g.changes]
        return sorted(out, key=lambda c: (c[0], c[1], c[2]))


def build_groups(sc: Scenario, names: list[str]) -> Membership:
    """The scenario's groups with node references resolved and the order of each node's joins
    and leaves checked (a node joins only when it is not a member, leaves only when it is)."""
    groups = []
    for i, g in enumerate(sc.groups):
        where = f"groups.{i}"
        initial = []
        for ref in g.members:
            k = node_index(sc, names, ref, f"{where}.members")
            if k in initial:
                raise ScenarioError(f"{sc.source}: {where}.members lists {ref!r} twice")
            initial.append(k)
        changes = []
        for key, join in (("joins", True), ("leaves", False)):
            for entry in g.values[key]:
                node = node_index(sc, names, entry["node"], f"{where}.{key}")
                changes.append(Change(float(entry["at"]), node, join))
        changes.sort(key=lambda c: (c.at, not c.join, c.node))
        member = {k: True for k in initial}
        for c in changes:
            now = member.get(c.node, False)
            if c.join and now:
                raise ScenarioError(f"{sc.source}: {where}.joins: {names[c.node]} joins "
                                    f"{g.name!r} at {c.at:g} s but is a member already")
            if not c.join and not now:
                raise ScenarioError(f"{sc.source}: {where}.leaves: {names[c.node]} leaves "
                                    f"{g.name!r} at {c.at:g} s but is not a member then")
            member[c.node] = c.join
        groups.append(Group(g.name, g.address, frozenset(initial), tuple(changes)))
    return Membership(groups)


__all__ = ["Change", "Group", "Membership", "build_groups", "node_index"]
