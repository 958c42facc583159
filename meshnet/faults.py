"""Faults injected at known times (a scenario's ``[[faults]]``), one schedule for both backends.

A scenario lists faults; :func:`build_faults` resolves their node references, and a
:class:`FaultSchedule` turns them into timed actions on a small interface that the simulator
and the netns emulation both implement (:class:`FaultActions`: kill, revive, cut, restore,
drain). The backend only supplies its clock (``install(call_at)``), so the same actions happen
at the same scenario times on both, and ``FaultSchedule.log`` records them for comparison.

Kinds:

- ``crash``: the nodes die at ``at`` (queues lost, protocol stopped, radio silent); with
  ``recover_at`` they come back with a fresh protocol instance (its ``ctx.persistent`` kept).
- ``blackout``: the listed links are silent both ways from ``at`` to ``until``.
- ``partition``: from ``at`` to ``until`` every link between two node sets is cut. The sets
  are ``groups = [[...], [...]]``, or the two sides of a line taken at ``at``: with ``x = 750``
  the nodes with x < 750 at that instant against those with x >= 750 (``y`` likewise). The
  sides are fixed for the whole fault: it separates nodes, not places, so a node that later
  moves across the line stays cut off from the other side.
- ``drain``: at ``at`` each node's battery drops to ``to_fraction`` of its capacity, or by
  ``by_joules``; an empty battery kills the node (reason ``battery``).

Overlapping faults compose: a link cut by two faults comes back when the last of them ends, a
node crashed by two faults comes back at the last ``recover_at``. Faults without an end (a
crash without ``recover_at``, a drain) last to the end of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from .groups import node_index
from .scenario import Scenario, ScenarioError

Position = Callable[[int, float], tuple[float, float]]


class FaultActions(Protocol):
    """What a backend does for a fault schedule (node indices are 0-based)."""

    def kill(self, i: int, reason: str) -> None: ...
    def revive(self, i: int) -> None: ...
    def cut(self, i: int, j: int) -> None: ...
    def restore(self, i: int, j: int) -> None: ...
    def drain(self, i: int, to_fraction: float | None, joules: float | None) -> None: ...


@dataclass(frozen=True)
class Fault:
    """One ``[[faults]]`` entry with node references resolved."""

    index: int
    kind: str
    at: float
    end: float | None                      # until / recover_at; None: to the end of the run
    nodes: tuple[int, ...] = ()            # crash, drain
    links: tuple[tuple[int, int], ...] = ()  # blackout
    line: tuple[str, float] | None = None  # partition by a line: ("x", 750.0)
    groups: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # partition by node sets
    to_fraction: float | None = None       # drain
    joules: float | None = None            # drain

    def label(self, names: Sequence[str]) -> str:
        """A short description for logs and the status bar, e.g. ``partition x=750``."""
        if self.kind in ("crash", "drain"):
            who = ", ".join(names[i] for i in self.nodes)
            if self.kind == "crash":
                return f"crash {who}"
            how = (f"to {self.to_fraction:.0%}" if self.to_fraction is not None
                   else f"by {self.joules:g} J")
            return f"drain {who} {how}"
        if self.kind == "blackout":
            return "blackout " + ", ".join(f"{names[a]}-{names[b]}" for a, b in self.links)
        if self.line is not None:
            return f"partition {self.line[0]}={self.line[1]:g}"
        a, b = self.groups
        return f"partition {len(a)} | {len(b)} nodes"

    def sides(self, position: Position, n: int) -> tuple[list[int], list[int]]:
        """A partition's two node sets (a line's sides at ``at``)."""
        if self.groups is not None:
            return list(self.groups[0]), list(self.groups[1])
        axis, value = self.line
        k = 0 if axis == "x" else 1
        below = [i for i in range(n) if position(i, self.at)[k] < value]
        low = set(below)
        return below, [i for i in range(n) if i not in low]


def _nodes(sc: Scenario, names: list[str], refs: list, where: str) -> tuple[int, ...]:
    out: list[int] = []
    for ref in refs:
        i = node_index(sc, names, ref, where)
        if i in out:
            raise ScenarioError(f"{sc.source}: {where} lists {ref!r} twice")
        out.append(i)
    return tuple(out)


def _optional(v: float) -> float | None:
    return None if isinstance(v, float) and math.isnan(v) else float(v)


def build_faults(sc: Scenario, names: list[str]) -> list[Fault]:
    """The scenario's faults with node references resolved and the checks that need node
    names: a blackout's links join two different nodes, a partition's groups do not share a
    node, a drained node has a battery."""
    out = []
    for k, f in enumerate(sc.faults):
        where = f"faults.{k}"
        end = _optional(f.until) if f.kind in ("blackout", "partition") else (
            _optional(f.recover_at) if f.kind == "crash" else None)
        kw: dict[str, Any] = {}
        if f.kind in ("crash", "drain"):
            kw["nodes"] = _nodes(sc, names, f.nodes, f"{where}.nodes")
        if f.kind == "blackout":
            links = []
            for a_ref, b_ref in f.links:
                a = node_index(sc, names, a_ref, f"{where}.links")
                b = node_index(sc, names, b_ref, f"{where}.links")
                if a == b:
                    raise ScenarioError(f"{sc.source}: {where}.links entry [{a_ref!r}, "
                                        f"{b_ref!r}]: a link joins two different nodes")
                links.append((a, b))
            kw["links"] = tuple(links)
        if f.kind == "partition":
            if f.groups:
                a = _nodes(sc, names, f.groups[0], f"{where}.groups")
                b = _nodes(sc, names, f.groups[1], f"{where}.groups")
                both = set(a) & set(b)
                if both:
                    raise ScenarioError(f"{sc.source}: {where}.groups: {names[min(both)]} is "
                                        f"in both groups")
                kw["groups"] = (a, b)
            else:
                axis = "x" if not math.isnan(f.x) else "y"
                kw["line"] = (axis, float(f.values[axis]))
        if f.kind == "drain":
            caps = sc.nodes.battery_j
            for i in kw["nodes"]:
                if (caps[i] if isinstance(caps, list) else caps) <= 0:
                    raise ScenarioError(f"{sc.source}: {where}.nodes: {names[i]} has no battery "
                                        f"(nodes.battery_j is 0 for it), so it cannot be drained")
            kw["to_fraction"] = _optional(f.to_fraction)
            kw["joules"] = _optional(f.by_joules)
        out.append(Fault(k, f.kind, float(f.at), end, **kw))
    return out


class FaultSchedule:
    """Applies faults at their times through a backend's :class:`FaultActions`.

    ``emit(kind, fields)`` publishes ``fault_started`` / ``fault_ended`` (the backend stamps
    the time); ``now()`` is the backend's clock, for the log. ``log`` holds one
    ``(scheduled time, action, node names)`` per action taken and ``applied_at`` the clock
    reading when it was taken (the same as the scheduled time on the simulator, a little later
    on netns)."""

    def __init__(self, faults: Sequence[Fault], names: Sequence[str], position: Position,
                 actions: FaultActions, emit: Callable[[str, dict], None],
                 now: Callable[[], float], duration: float = math.inf) -> None:
        self.faults = list(faults)
        self.names = list(names)
        self.position = position
        self.actions = actions
        self.emit = emit
        self.now = now
        self.duration = duration
        self.active: dict[int, str] = {}  # fault index -> label, while it lasts
        self.log: list[tuple[float, str, tuple[str, ...]]] = []
        self.applied_at: list[float] = []
        self._down: dict[int, int] = {}                 # node -> faults holding it down
        self._cut: dict[tuple[int, int], int] = {}       # link (i < j) -> faults cutting it
        self._sides: dict[int, tuple[list[int], list[int]]] = {}

    def __bool__(self) -> bool:
        return bool(self.faults)

    def steps(self) -> list[tuple[float, list[tuple[bool, Fault]]]]:
        """(time, [(starts?, fault) ...]) in time order; at one instant ends come before
        starts (a link that is restored and cut again at t ends up cut), then by index."""
        by_time: dict[float, list[tuple[int, int, bool, Fault]]] = {}
        for f in self.faults:
            by_time.setdefault(f.at, []).append((1, f.index, True, f))
            if f.end is not None:
                by_time.setdefault(f.end, []).append((0, f.index, False, f))
        return [(t, [(s, f) for _, _, s, f in sorted(by_time[t], key=lambda e: e[:2])])
                for t in sorted(by_time) if t <= self.duration]

    def install(self, call_at: Callable[..., Any]) -> None:
        """Schedule every step with the backend's ``call_at(t, fn, *args)`` (scenario time)."""
        for t, step in self.steps():
            call_at(t, self._run, t, step)

    def _run(self, t: float, step: list[tuple[bool, Fault]]) -> None:
        for starts, fault in step:
            (self.start if starts else self.end)(fault, t)

    # --- one fault -------------------------------------------------------------------------------
    def start(self, f: Fault, t: float) -> None:
        names = self.names
        label = f.label(names)
        sides: list[list[str]] = []
        if f.kind == "partition":
            a, b = self._sides[f.index] = f.sides(self.position, len(names))
            sides = [[names[i] for i in a], [names[i] for i in b]]
        if f.end is not None or f.kind == "crash":
            self.active[f.index] = label
        self.emit("fault_started", {
            "fault": f.index, "kind": f.kind, "label": label,
            "nodes": [names[i] for i in f.nodes],
            "links": [[names[a], names[b]] for a, b in f.links], "sides": sides})
        if f.kind == "crash":
            for i in f.nodes:
                self._hold(i, t)
        elif f.kind == "drain":
            for i in f.nodes:
                self._act(t, "drain", (i,), self.actions.drain, i, f.to_fraction, f.joules)
        else:
            for i, j in self._pairs(f):
                self._cut_link(i, j, t)

    def end(self, f: Fault, t: float) -> None:
        if f.kind == "crash":
            for i in f.nodes:
                self._release(i, t)
        else:
            for i, j in self._pairs(f):
                self._restore_link(i, j, t)
            self._sides.pop(f.index, None)
        self.active.pop(f.index, None)
        self.emit("fault_ended", {"fault": f.index, "kind": f.kind, "label": f.label(self.names)})

    def _pairs(self, f: Fault) -> list[tuple[int, int]]:
        if f.kind == "blackout":
            return [(min(a, b), max(a, b)) for a, b in f.links]
        a, b = self._sides[f.index]
        return sorted((min(i, j), max(i, j)) for i in a for j in b)

    # --- reference-counted actions ---------------------------------------------------------------
    def _hold(self, i: int, t: float) -> None:
        self._down[i] = self._down.get(i, 0) + 1
        if self._down[i] == 1:
            self._act(t, "kill", (i,), self.actions.kill, i, "crash")

    def _release(self, i: int, t: float) -> None:
        self._down[i] -= 1
        if not self._down[i]:
            del self._down[i]
            self._act(t, "revive", (i,), self.actions.revive, i)

    def _cut_link(self, i: int, j: int, t: float) -> None:
        key = (i, j)
        self._cut[key] = self._cut.get(key, 0) + 1
        if self._cut[key] == 1:
            self._act(t, "cut", key, self.actions.cut, i, j)

    def _restore_link(self, i: int, j: int, t: float) -> None:
        key = (i, j)
        self._cut[key] -= 1
        if not self._cut[key]:
            del self._cut[key]
            self._act(t, "restore", key, self.actions.restore, i, j)

    def _act(self, t: float, action: str, nodes: tuple[int, ...], fn: Callable[..., Any],
             *args: Any) -> None:
        self.log.append((t, action, tuple(self.names[i] for i in nodes)))
        self.applied_at.append(self.now())
        fn(*args)

    # --- views -----------------------------------------------------------------------------------
    def cut_links(self) -> set[tuple[int, int]]:
        """Links cut by faults now (i < j)."""
        return set(self._cut)

    def down(self) -> set[int]:
        """Nodes held down by crash faults now."""
        return set(self._down)


__all__ = ["Fault", "FaultActions", "FaultSchedule", "build_faults"]
