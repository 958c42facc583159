"""Shared by the ZigBee simulator tests: run a scenario with every event recorded and checked
against the schema, and read packet paths and the tree back from the run."""

from __future__ import annotations

from collections import defaultdict

from meshnet.event_schema import SchemaChecker
from meshnet.events import EventBus
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[float, str, dict]] = []

    def __call__(self, t: float, kind: str, fields: dict) -> None:
        self.events.append((t, kind, dict(fields)))

    def of(self, kind: str) -> list[dict]:
        return [f for _, k, f in self.events if k == kind]


def run(spec: str, *overrides: str, until: float | None = None, poke=None):
    """(simulation, recorder, checker) after running ``spec`` with ``overrides``."""
    sim = Simulation(load_scenario(spec, list(overrides)), bus=EventBus())
    rec, checker = Recorder(), SchemaChecker()
    sim.bus.subscribe(rec)
    sim.bus.subscribe(checker)
    if poke is not None:
        poke(sim)
    if until is None:
        sim.run()
    else:
        sim.run_until(until)
    assert not checker.problems, checker.problems
    assert not rec.of("protocol_error"), rec.of("protocol_error")[:1]
    return sim, rec, checker


def packet_paths(sim, rec: Recorder) -> dict[int, list[int]]:
    """Node indices each delivered packet passed, source first and destination last."""
    idx = {n.name: n.index for n in sim.nodes}
    hops: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in rec.of("data_tx"):
        hops[f["uid"]].append((idx[f["node"]], sim.index_of[f["next_hop"]]))
    paths = {}
    for f in rec.of("data_delivered"):
        chain = hops[f["uid"]]
        path = [chain[0][0]] + [nxt for _, nxt in chain]
        paths[f["uid"]] = path
    return paths


def tree_path(sim, src: int, dst: int) -> list[int]:
    """The path between two nodes along the parent links the protocols hold now."""
    def up(i: int) -> list[int]:
        out = [i]
        while sim.nodes[out[-1]].protocol.parent is not None:
            out.append(sim.index_of[sim.nodes[out[-1]].protocol.parent])
        return out

    a, b = up(src), up(dst)
    common = next(x for x in a if x in b)
    return a[:a.index(common) + 1] + list(reversed(b[:b.index(common)]))
