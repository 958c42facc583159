"""Import of ns-2 ``setdest`` / BonnMotion ns-2 movement traces."""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from meshnet.geometry import Area, Point, distance, inside
from meshnet.limits import MAX_SPEED

from .errors import MobilityError
from .motion import PathBuilder
from .params import AREA_TOLERANCE, check_initial
from .trajectory import Trajectory

# Warnings reach the user on stderr (logging's last-resort handler when nothing else is set up),
# so they never mix with the JSON that ``--json`` prints on stdout.
log = logging.getLogger("meshnet.mobility")


@dataclass(frozen=True, slots=True)
class Ns2Move:
    """One ``$ns_ at T "$node_(i) setdest X Y SPEED"`` command; ``where`` is ``FILE:LINE``."""

    t: float
    x: float
    y: float
    speed: float
    where: str


_NODE_SET = re.compile(r"^\$node_\((?P<node>[^)]*)\)\s+set\s+(?P<axis>\S+)\s+(?P<value>\S+)$")
_NS_AT = re.compile(r'^\$ns_\s+at\s+(?P<time>\S+)\s+"(?P<command>[^"]*)"$')
_NODE_COMMAND = re.compile(r"^\$node_\((?P<node>[^)]*)\)\s+(?P<verb>\S+)\s*(?P<args>.*)$")
# ns-2's GOD (General Operations Director) object: setdest writes its shortest-path hints as
# "$god_ set-dist A B HOPS", timed ones inside "$ns_ at T \"...\"", and scene files written for
# ns-2 create it with "set god_ [God instance]" (or [create-god N]). None of it moves a node.
_GOD = re.compile(r"^(?:set\s+god_(?:\s|$)|\$god_(?:\s|$))")
_NODE_SET_SYNTAX = "expected '$node_(i) set X_|Y_|Z_ VALUE'"
_NS_AT_SYNTAX = "expected '$ns_ at TIME \"$node_(i) setdest X Y SPEED\"'"


def _read_trace(text_or_path: str | os.PathLike) -> tuple[str, str]:
    """``(name, text)``: a path is read; a string that looks like trace content is used as is."""
    if isinstance(text_or_path, os.PathLike):
        path = Path(text_or_path)
    else:
        text = str(text_or_path)
        stripped = text.strip()
        if not stripped or "\n" in stripped or stripped.startswith(("$", "#")):
            return ("<trace>", text)
        path = Path(stripped)
    try:
        return (str(path), path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MobilityError(f"{path}: cannot read trace: {reason}") from None


def parse_number(text: str, what: str, where: str,
                 error: type[Exception] = MobilityError) -> float:
    """A finite number from an ns-2 file, or ``error`` naming ``where`` (FILE:LINE)."""
    try:
        value = float(text)
    except ValueError:
        raise error(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise error(f"{where}: {what} {text!r} is not a finite number")
    return value


def _trace_node(text: str, where: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise MobilityError(f"{where}: node index {text!r} is not a non-negative integer")
    return int(text)


def parse_ns2_trace(
    text_or_path: str | os.PathLike,
) -> tuple[dict[int, Point], dict[int, list[Ns2Move]]]:
    """Parse an ns-2 ``setdest`` / BonnMotion ns-2 movement trace.

    Understood lines::

        $node_(0) set X_ 150.0          (also Y_; Z_ is accepted and ignored)
        $ns_ at 2.5 "$node_(0) setdest 120.0 80.0 3.5"

    ``#`` starts a comment; blank lines and GOD lines in any form (``set god_ [God instance]``,
    ``$god_ set-dist 0 1 2``, ``$ns_ at 3.0 "$god_ set-dist 0 1 2"``: setdest's connectivity
    hints) are skipped, so a file exactly as ns-2's ``setdest`` writes it is accepted.
    Returns ``(initial, moves)``: the initial ``(x, y)`` per node index and, per node, its
    setdest commands sorted by time (file order among equal times). Anything else -- a malformed
    line, a negative time or speed, a setdest for a node without an initial position -- raises
    :class:`MobilityError` as ``"FILE:LINE: what is wrong"``.
    """
    name, text = _read_trace(text_or_path)
    coords: dict[int, dict[str, float]] = {}
    first_seen: dict[int, str] = {}
    moves: dict[int, list[Ns2Move]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}:{lineno}"
        if _GOD.match(line):
            continue
        if line.startswith("$node_"):
            match = _NODE_SET.match(line)
            if not match:
                raise MobilityError(f"{where}: {_NODE_SET_SYNTAX}")
            node = _trace_node(match["node"], where)
            axis = match["axis"]
            if axis not in ("X_", "Y_", "Z_"):
                raise MobilityError(f"{where}: unknown coordinate {axis!r}: expected X_, Y_ or Z_")
            coords.setdefault(node, {})[axis] = parse_number(match["value"], axis, where)
            first_seen.setdefault(node, where)
        elif line.startswith("$ns_"):
            match = _NS_AT.match(line)
            if not match:
                raise MobilityError(f"{where}: {_NS_AT_SYNTAX}")
            t = parse_number(match["time"], "time", where)
            if t < 0.0:
                raise MobilityError(f"{where}: time {t:g} is negative")
            command = match["command"].strip()
            if _GOD.match(command):
                continue
            cmd = _NODE_COMMAND.match(command)
            if not cmd:
                raise MobilityError(f"{where}: {_NS_AT_SYNTAX}")
            node = _trace_node(cmd["node"], where)
            if cmd["verb"] != "setdest":
                raise MobilityError(
                    f"{where}: unsupported timed command {cmd['verb']!r}: "
                    "only setdest is understood"
                )
            args = cmd["args"].split()
            if len(args) != 3:
                raise MobilityError(f"{where}: setdest needs X Y SPEED, got {len(args)} values")
            x = parse_number(args[0], "x", where)
            y = parse_number(args[1], "y", where)
            speed = parse_number(args[2], "speed", where)
            if speed < 0.0:
                raise MobilityError(f"{where}: speed {speed:g} is negative")
            if speed > MAX_SPEED:
                raise MobilityError(f"{where}: speed {speed:g} is above {MAX_SPEED:g} m/s")
            moves.setdefault(node, []).append(Ns2Move(t, x, y, speed, where))
        else:
            raise MobilityError(
                f"{where}: unrecognised line: {_NODE_SET_SYNTAX} or {_NS_AT_SYNTAX[9:]}"
            )
    initial: dict[int, Point] = {}
    for node in sorted(coords):
        axes = coords[node]
        for axis in ("X_", "Y_"):
            if axis not in axes:
                raise MobilityError(f"{first_seen[node]}: node {node} has no initial {axis}")
        initial[node] = (axes["X_"], axes["Y_"])
    for node in sorted(moves):
        if node not in initial:
            raise MobilityError(
                f"{moves[node][0].where}: setdest for unknown node {node} "
                f"(no '$node_({node}) set X_/Y_' in the trace)"
            )
        moves[node].sort(key=lambda move: move.t)
    return initial, moves


def _replay_ns2(start: Point, moves: Sequence[Ns2Move]) -> Trajectory:
    """Replay setdest commands; a new one takes over from wherever the node is at that time."""
    path = PathBuilder(*start)
    arrival: tuple[float, float, float] | None = None
    for move in moves:
        if arrival is not None and arrival[0] <= move.t:
            path.add(*arrival, 0.0, 0.0)
        arrival = None
        here = path.segments[-1].position(move.t)
        dest = (move.x, move.y)
        length = distance(here, dest)
        if move.speed == 0.0 or length == 0.0:
            path.add(move.t, here[0], here[1], 0.0, 0.0)
            continue
        travel = length / move.speed
        path.add(
            move.t,
            here[0],
            here[1],
            (dest[0] - here[0]) / travel,
            (dest[1] - here[1]) / travel,
        )
        arrival = (move.t + travel, dest[0], dest[1])
    if arrival is not None:
        path.add(*arrival, 0.0, 0.0)
    return path.trajectory()


def ns2_trajectories(
    trace: Any, initial: Sequence[Sequence[float]], area: Area
) -> list[Trajectory]:
    """Trajectories replayed from a trace; the trace's start positions override ``initial``.

    Nodes the trace does not mention stay at their ``initial`` position; a warning on the
    ``meshnet.mobility`` logger names them."""
    starts_given, moves = parse_ns2_trace(trace)
    count = len(initial) if initial else (max(starts_given) + 1 if starts_given else 0)
    starts = check_initial(initial, area) if initial else []
    for node, position in starts_given.items():
        if node >= count:
            raise MobilityError(
                f"{trace}: the trace moves node {node} but the scenario has {count} nodes"
            )
        if not inside(position, area, AREA_TOLERANCE):
            raise MobilityError(
                f"{trace}: initial position of node {node} ({position[0]:g}, {position[1]:g}) "
                f"lies outside the area {area[0]:g} x {area[1]:g}"
            )
    for node_moves in moves.values():
        for move in node_moves:
            if not inside((move.x, move.y), area, AREA_TOLERANCE):
                raise MobilityError(
                    f"{move.where}: destination ({move.x:g}, {move.y:g}) lies outside the area "
                    f"{area[0]:g} x {area[1]:g}"
                )
    absent = [node for node in range(count) if node not in starts_given]
    if absent:
        names = ", ".join(f"n{node + 1}" for node in absent[:5]) + (", ..." if absent[5:] else "")
        log.warning(
            "meshnet: warning: %s: the trace describes %d of the scenario's %d nodes; the other "
            "%d (%s) never move: they stay where nodes.placement put them",
            trace, count - len(absent), count, len(absent), names,
        )
    trajectories = []
    for node in range(count):
        if node in starts_given:
            start = starts_given[node]
        elif node < len(starts):
            start = starts[node]
        else:
            raise MobilityError(f"{trace}: the trace gives no position for node {node}")
        trajectories.append(_replay_ns2(start, moves.get(node, ())))
    return trajectories
