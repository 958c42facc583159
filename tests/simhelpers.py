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


def walk_next_hops(tables, index_of: dict[str, int], src: int, dst: int,
                   dst_addr: str) -> list[int] | None:
    """Follow route-table next hops from ``src`` toward ``dst_addr`` (``tables[i]`` is node i's
    table, a list or a dict); None if a hop has no route. Raises AssertionError on a loop."""
    path = [src]
    cur = src
    while cur != dst:
        route = tables[cur].lookup(dst_addr)
        if route is None:
            return None
        cur = index_of[route.next_hop]
        assert cur not in path, f"routing loop toward {dst_addr}: {path + [cur]}"
        path.append(cur)
    return path


def next_hop_path(sim: Simulation, src: int, dst: int) -> list[int] | None:
    """:func:`walk_next_hops` over a simulation's nodes."""
    return walk_next_hops([n.routes for n in sim.nodes], sim.index_of, src, dst,
                          sim.nodes[dst].address)
