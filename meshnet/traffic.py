"""Application traffic: CBR and Poisson UDP flows between node pairs.

Flows are data (who sends to whom, how often, from when to when). Each backend turns them into
packets: the simulator schedules one event per packet; the netns backend can also run real
programs instead.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .scenario import Scenario, ScenarioError


@dataclass(frozen=True, slots=True)
class Flow:
    id: int
    kind: str  # "cbr" | "poisson"
    src: int  # node index
    dst: int
    rate: float  # packets per second
    size: int  # payload bytes
    start: float
    stop: float
    ttl: int

    def next_gap(self, rng: random.Random) -> float:
        """Time to the next packet: fixed for CBR, exponential for Poisson."""
        if self.kind == "poisson":
            return rng.expovariate(self.rate)
        return 1.0 / self.rate


def _node_index(sc: Scenario, names: list[str], ref, where: str) -> int:
    n = len(names)
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 1 <= ref <= n:
            return ref - 1
        raise ScenarioError(f"{sc.source}: {where}: node number {ref} is not in 1..{n}")
    if isinstance(ref, str) and ref in names:
        return names.index(ref)
    raise ScenarioError(f"{sc.source}: {where}: unknown node {ref!r} (use 1..{n} or n1..n{n})")


def build_flows(sc: Scenario, names: list[str]) -> list[Flow]:
    """Expand every [[traffic]] entry into flows; random pairs are drawn from the scenario seed."""
    rng = random.Random(f"{sc.seed}:traffic")
    n = len(names)
    flows: list[Flow] = []
    for i, t in enumerate(sc.traffic):
        pairs: list[tuple[int, int]] = []
        for p in t.pairs:
            s = _node_index(sc, names, p[0], f"traffic.{i}.pairs")
            d = _node_index(sc, names, p[1], f"traffic.{i}.pairs")
            if s == d:
                raise ScenarioError(f"{sc.source}: traffic.{i}.pairs: {p!r} sends to itself")
            pairs.append((s, d))
        if t.flows:
            if n < 2:
                raise ScenarioError(f"{sc.source}: traffic.{i}.flows needs at least 2 nodes")
            for _ in range(t.flows):
                s = rng.randrange(n)
                d = rng.randrange(n - 1)
                pairs.append((s, d if d < s else d + 1))
        stop = min(t.stop, sc.duration) if math.isfinite(t.stop) else sc.duration
        for s, d in pairs:
            start = t.start + (rng.uniform(0, t.jitter) if t.jitter else 0.0)
            flows.append(Flow(len(flows), t.kind, s, d, float(t.rate), t.size, start, stop, t.ttl))
    return flows
