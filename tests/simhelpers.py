"""Helpers shared by simulator tests: build and run scenarios, check invariants."""

from __future__ import annotations

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


def make_sim(spec: str = "line", *overrides: str) -> Simulation:
    return Simulation(load_scenario(spec, list(overrides)))


def assert_conserved(result: dict) -> None:
    """Every generated packet is delivered, dropped with a reason, or still queued."""
    assert result["sent"] == result["delivered"] + result["dropped"] + result["queued"], result
    assert result["unaccounted"] == 0, result
    assert sum(result["drops"].values()) == result["dropped"], result


def next_hop_path(sim: Simulation, src: int, dst: int, limit: int = 1000) -> list[int] | None:
    """Follow route-table next hops from src to dst; None if a hop has no route.
    Raises AssertionError on a loop."""
    dst_addr = sim.nodes[dst].address
    path = [src]
    seen = {src}
    cur = src
    while cur != dst:
        route = sim.nodes[cur].routes.lookup(dst_addr)
        if route is None:
            return None
        cur = sim.index_of[route.next_hop]
        assert cur not in seen, f"routing loop toward {dst_addr}: {path + [cur]}"
        seen.add(cur)
        path.append(cur)
        assert len(path) <= limit
    return path
