"""Functions the CLI calls: ``emulate``, ``list_nodes``, ``exec_in``, ``clean``.

They work from the run registry, so ``meshnet nodes`` and ``meshnet exec`` find a run started by
another process (``meshnet emulate`` in another terminal).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
from typing import Any, Callable, Sequence

from . import registry
from .emulation import DRAIN_S, Emulation, netns_argv, require_root
from .plan import Plan

REQUIRED_TOOLS = {"ip": "iproute2", "nsenter": "util-linux"}


class NetnsUsageError(ValueError):
    """Bad input for a netns command (exit status 2)."""


def missing_tool(name: str, package: str) -> str | None:
    return None if shutil.which(name) else f"{name} not found: apt install {package}"


def emulate(scenario: Any, duration: float | None = None, name: str = "mn",
            overrides: list[str] | None = None,
            status_callback: Callable[[Emulation, float], None] | None = None,
            status_interval: float = 1.0, drain: float = DRAIN_S) -> dict[str, Any]:
    """Run a scenario on namespaces until ``duration`` seconds of the emulation clock (default:
    the scenario's; 0 or inf = until Ctrl-C/SIGTERM), its traffic flows sent as real UDP.
    ``status_callback(emu, t)`` is called every ``status_interval``.

    A finite ``duration`` with a named scenario is also the scenario's duration (as ``meshnet
    run --duration`` sets it), so flows and trajectories are the simulator's for that length.
    Returns the simulator's metrics object (``Simulation.result()`` keys, ``"backend":
    "netns"``) plus run, up_s, ran_s, down_s, counters (channel and agents) and interrupted."""
    require_root()
    overrides = list(overrides or [])
    if (isinstance(scenario, str) and duration is not None and math.isfinite(duration)
            and duration > 0):
        overrides.append(f"scenario.duration={duration}")
    emu = Emulation(scenario, name=name, overrides=overrides)
    if duration is None:
        duration = emu.plan.duration or math.inf
    if duration <= 0:
        duration = math.inf
    interrupted = False
    with emu:
        up_s = round(emu.up_seconds, 4)
        wall0 = time.monotonic()
        try:
            while (t := emu.now) < duration:
                _publish_positions(emu)
                if status_callback is not None:
                    status_callback(emu, t)
                time.sleep(max(min(status_interval, duration - emu.now), 0.0))
        except KeyboardInterrupt:
            interrupted = True
        try:
            result = emu.finish(drain=drain, at=None if interrupted else duration)
        except KeyboardInterrupt:
            interrupted = True
            result = emu.finish(drain=0.0)
        ran_s = round(time.monotonic() - wall0, 3)
        counters = emu.counters()
    result.update({"run": name, "up_s": up_s, "ran_s": ran_s,
                   "down_s": round(emu.down_seconds, 4), "counters": counters,
                   "interrupted": interrupted})
    return result


def _publish_positions(emu: Emulation) -> None:
    """Keep positions in the run record so ``meshnet nodes`` in another process shows them."""
    rec = emu.record
    if rec is None:
        return
    for row, node in zip(rec.nodes, emu.nodes()):
        row["position"] = [round(node["position"][0], 2), round(node["position"][1], 2)]
    rec.save()


def _leftovers(records: list[registry.RunRecord], live: list[registry.RunRecord]) -> str:
    """'' or a hint naming what crashed runs left (what ``meshnet clean`` removes)."""
    owners = [f"{registry.NS_PREFIX}{r.run}-" for r in live]
    dead = [r.run for r in records if r not in live]
    orphans = [n for n in registry.list_netns() if n.startswith(registry.NS_PREFIX)
               and not any(n.startswith(owner) for owner in owners)]
    if not dead and not orphans:
        return ""
    what = (f"run {', '.join(map(repr, dead))}" if dead
            else f"{len(orphans)} namespace{'s' if len(orphans) > 1 else ''}")
    return f"; a crashed emulation left leftovers ({what}): remove them with: sudo meshnet clean"


def _live_record(run: str | None) -> registry.RunRecord:
    records = registry.load_records()
    live = [r for r in records if r.alive()]
    if run is not None:
        live = [r for r in live if r.run == run]
        if not live:
            raise NetnsUsageError(f"no running emulation named {run!r}"
                                  + _leftovers(records, [r for r in records if r.alive()]))
    if not live:
        raise NetnsUsageError("no emulation is running (start one with: meshnet emulate)"
                              + _leftovers(records, live))
    if len(live) > 1:
        raise NetnsUsageError("several emulations are running ("
                              + ", ".join(r.run for r in live) + "); choose one with --run")
    return live[0]


def list_nodes(run: str | None = None) -> list[dict[str, Any]]:
    """name, namespace, address, run and state ("up", or "starting" while its namespace is
    being made) of every node of a running emulation."""
    rec = _live_record(run)
    return [dict(n, run=rec.run, state="up" if rec.node_ready(i) else "starting")
            for i, n in enumerate(rec.nodes)]


def resolve_node(node: str, run: str | None = None) -> dict[str, Any]:
    """The node's row; a node that does not exist yet is an error that says so."""
    rows = list_nodes(run)
    for n in rows:
        if node in (n["name"], n["address"], n["namespace"]):
            if n["state"] == "starting":
                up = sum(r["state"] == "up" for r in rows)
                raise NetnsUsageError(f"node {n['name']} of run {n['run']!r} is still starting "
                                      f"({up} of {len(rows)} nodes up): try again in a moment")
            return n
    if not rows:
        raise NetnsUsageError("the running emulation is still starting: try again in a moment")
    raise NetnsUsageError(f"no node {node!r} in the running emulation")


def exec_in(node: str, argv: Sequence[str], run: str | None = None) -> int:
    """Run ``argv`` inside a node of a running emulation, attached to this terminal; returns
    its exit status."""
    require_root()
    if not argv:
        raise NetnsUsageError("nothing to run: meshnet exec NODE -- COMMAND ...")
    n = resolve_node(node, run)
    if shutil.which(argv[0]) is None and "/" not in argv[0]:
        raise NetnsUsageError(f"{argv[0]}: command not found")
    path = os.path.join("/run/netns", n["namespace"])
    if not os.path.exists(path):  # the run ended between the lookup and now
        raise NetnsUsageError(f"node {n['name']}: namespace {n['namespace']} is gone (the run "
                              f"{n['run']!r} has stopped)")
    return subprocess.call(netns_argv(path, list(argv)))


def clean() -> list[str]:
    """Remove leftovers of every run whose process is gone; returns what was removed."""
    require_root()
    return registry.clean()


__all__ = ["Emulation", "Plan", "emulate", "list_nodes", "exec_in", "clean", "NetnsUsageError",
           "missing_tool"]
