"""Distributed address assignment of the ZigBee cluster tree (ZigBee 2006 §3.6.1.6) and the
tree-routing decision built on it (§3.6.3.3). Pure arithmetic, shared by ``zigbee-tree`` and the
tree fallback of ``zigbee-mesh``.

A parent at depth d hands each router child a block of Cskip(d) addresses (the child's own
address and its descendants') and each end-device child one address after the router blocks::

    Cskip(d) = 1 + Cm (Lm - d - 1)                               if Rm = 1
    Cskip(d) = (1 + Cm - Rm - Cm Rm^(Lm - d - 1)) / (1 - Rm)     otherwise

    n-th router child (n = 1..Rm):        A_parent + 1 + Cskip(d) (n - 1)
    n-th end-device child (n = 1..Cm-Rm): A_parent + Cskip(d) Rm + n

Cm = nwkMaxChildren, Rm = nwkMaxRouters, Lm = nwkMaxDepth. A device at depth Lm has
Cskip = 0 and accepts no children.
"""

from __future__ import annotations

from dataclasses import dataclass

COORDINATOR_ADDRESS = 0x0000
MAX_UNICAST = 0xFFF7  # 0xFFF8..0xFFFF are reserved and broadcast addresses (§3.6.5)


@dataclass(frozen=True, slots=True)
class TreeShape:
    """The three stack-profile constants that fix every address in the tree."""

    max_children: int  # Cm
    max_routers: int  # Rm
    max_depth: int  # Lm

    def cskip(self, depth: int) -> int:
        """Size of the address block a parent at ``depth`` gives each router child."""
        cm, rm, lm = self.max_children, self.max_routers, self.max_depth
        if depth < 0:
            raise ValueError(f"depth {depth} < 0")
        if depth >= lm:
            return 0
        if rm == 1:
            return 1 + cm * (lm - depth - 1)
        return (1 + cm - rm - cm * rm ** (lm - depth - 1)) // (1 - rm)

    def block_size(self, depth: int) -> int:
        """Addresses owned by a router at ``depth`` (its own included); the coordinator's block
        is everything the tree can assign."""
        if depth == 0:
            return 1 + self.max_routers * self.cskip(0) + self.max_end_devices
        return self.cskip(depth - 1)

    @property
    def max_end_devices(self) -> int:
        return self.max_children - self.max_routers

    @property
    def size(self) -> int:
        """Addresses the whole tree can use (the coordinator's block)."""
        return self.block_size(0)

    def router_child(self, parent: int, depth: int, n: int) -> int:
        """Address of the ``n``-th router child (1-based) of the router ``parent`` at ``depth``."""
        if not 1 <= n <= self.max_routers:
            raise ValueError(f"router child {n} not in 1..{self.max_routers}")
        skip = self.cskip(depth)
        if skip == 0:
            raise ValueError(f"a router at depth {depth} accepts no children (Lm = {self.max_depth})")
        return parent + 1 + skip * (n - 1)

    def end_device_child(self, parent: int, depth: int, n: int) -> int:
        """Address of the ``n``-th end-device child (1-based) of ``parent`` at ``depth``."""
        if not 1 <= n <= self.max_end_devices:
            raise ValueError(f"end-device child {n} not in 1..{self.max_end_devices}")
        skip = self.cskip(depth)
        if skip == 0:
            raise ValueError(f"a router at depth {depth} accepts no children (Lm = {self.max_depth})")
        return parent + skip * self.max_routers + n

    def is_descendant(self, address: int, depth: int, dst: int) -> bool:
        """Whether ``dst`` lies in the block of the router ``address`` at ``depth``:
        A < D < A + Cskip(d - 1) (the coordinator owns every address)."""
        if depth == 0:
            return dst != address and 0 <= dst < self.size
        return address < dst < address + self.cskip(depth - 1)

    def child_toward(self, address: int, depth: int, dst: int) -> tuple[int, bool]:
        """For a descendant ``dst`` of the router ``address`` at ``depth``: the address of the
        child whose block holds it, and whether that child is an end device (then it is ``dst``
        itself)."""
        skip = self.cskip(depth)
        first = address + 1
        if dst >= first + self.max_routers * skip:
            return dst, True
        return first + (dst - first) // skip * skip, False
