"""A trace alone reproduces every node's position exactly: node_moved events are written at full
precision, with each node's starting state at t = 0 (replay depends on it)."""

from __future__ import annotations

import io
import json

from meshnet.events import TraceWriter
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


def test_positions_rebuilt_from_the_trace_equal_the_simulation_bit_for_bit():
    sim = Simulation(load_scenario("broch", ["scenario.duration=60"]))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    sim.run_until(30.0)
    sim.move("n7", 123.456789, 87.654321)  # a manual move is a course change too
    sim.run()
    legs: dict[str, list[dict]] = {}
    for line in out.getvalue().splitlines():
        ev = json.loads(line)
        if ev["ev"] == "node_moved":
            legs.setdefault(ev["node"], []).append(ev)
    assert len(legs) == sim.n and all(v[0]["t"] == 0.0 for v in legs.values())
    for t in (0.0, 4.2, 17.3, 29.99, 30.0, 41.7, 59.9):
        for node in sim.nodes:
            leg = [e for e in legs[node.name] if e["t"] <= t][-1]
            x = leg["x"] + leg["vx"] * (t - leg["t"])
            y = leg["y"] + leg["vy"] * (t - leg["t"])
            assert (x, y) == sim.position(node.index, t), (node.name, t)
