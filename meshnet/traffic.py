"""Application traffic: CBR and Poisson UDP flows between node pairs, or from a source to a
multicast group (``group = NAME`` and ``src = NODE`` in a ``[[traffic]]`` entry; the group's
members are in ``[[groups]]``, see :mod:`meshnet.groups`).

Flows are data (who sends to whom, how often, from when to when). Each backend turns them into
packets: the simulator schedules one event per packet; the netns backend can also run real
programs instead.

``kind = "ns2-cbrgen"`` takes the flows from a traffic file as ns-2's ``cbrgen.tcl`` writes it
(see :func:`parse_cbrgen`).
"""

from __future__ import annotations

import math
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .groups import Group, Membership, build_groups, node_index as _node_index
from .mobility.ns2 import parse_number
from .scenario import MAX_RATE, MAX_UDP_PAYLOAD, Scenario, ScenarioError


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
    spread: float = 0.0  # CBR only: each gap is uniform in (1 +- spread) / rate (ns-2's random_)
    group: str = ""  # a multicast flow: the group's address (``dst`` is then -1)
    members: Group | None = None  # ... and its membership schedule (who should receive it)

    @property
    def multicast(self) -> bool:
        return bool(self.group)

    def next_gap(self, rng: random.Random) -> float:
        """Time to the next packet: fixed for CBR (uniform around it with ``spread``),
        exponential for Poisson."""
        if self.kind == "poisson":
            return rng.expovariate(self.rate)
        gap = 1.0 / self.rate
        if self.spread:
            gap += gap * rng.uniform(-self.spread, self.spread)
        return gap


# --- ns-2 cbrgen traffic files ---------------------------------------------------------------

class TrafficFileError(ValueError):
    """A traffic file cannot be used; the message is one line, ``FILE:LINE: what is wrong``."""


@dataclass(frozen=True, slots=True)
class Ns2Cbr:
    """One CBR application of an ns-2 traffic file, as ns-2 would run it.

    ``src`` and ``dst`` are ns-2 node indices (0-based); ``interval`` is the mean gap in seconds;
    with ``random`` each gap is uniform in [0.5, 1.5] * interval; ``maxpkts`` packets at most;
    ``stop`` is inf unless the file stops it. ``where`` (and ``src_where``, ``dst_where``: the
    attach-agent lines) are ``FILE:LINE``."""

    name: str
    src: int
    dst: int
    size: int
    interval: float
    random: bool
    maxpkts: int
    start: float
    stop: float
    where: str
    src_where: str
    dst_where: str


# ns-default.tcl: Application/Traffic/CBR set rate_ 448Kb, packetSize_ 210, random_ 0,
# maxpkts_ 268435456
_CBR_DEFAULTS = {"rate": 448_000.0, "size": 210, "random": False, "maxpkts": 268435456}
_VAR = r"[A-Za-z_][A-Za-z0-9_]*(?:\([^()\s]*\))?"
_NEW = re.compile(rf"^set\s+(?P<var>{_VAR})\s+\[new\s+(?P<cls>[^\]\s]+)\s*\]$")
_CONNECTION = re.compile(rf"^set\s+(?P<var>{_VAR})\s+\[\$ns_\s+create-connection\s+(?P<what>\S+)")
_ATTACH_NODE = re.compile(
    rf"^\$ns_\s+attach-agent\s+\$node_\((?P<node>[^)]*)\)\s+\$(?P<agent>{_VAR})$")
_SET = re.compile(rf"^\$(?P<var>{_VAR})\s+set\s+(?P<key>\S+)\s+(?P<value>\S+)$")
_ATTACH_APP = re.compile(rf"^\$(?P<app>{_VAR})\s+attach-agent\s+\$(?P<agent>{_VAR})$")
_CONNECT = re.compile(rf"^\$ns_\s+connect\s+\$(?P<a>{_VAR})\s+\$(?P<b>{_VAR})$")
_AT = re.compile(rf'^\$ns_\s+at\s+(?P<time>\S+)\s+"\s*\$(?P<app>{_VAR})\s+(?P<verb>\S+)\s*"$')
_CLASSES = {"Agent/UDP": "udp", "Agent/Null": "null", "Application/Traffic/CBR": "cbr"}
_SYNTAX = ("expected a line as ns-2's cbrgen writes it (set udp_(0) [new Agent/UDP], "
           "$ns_ attach-agent $node_(1) $udp_(0), $cbr_(0) set interval_ 0.25, "
           "$ns_ connect $udp_(0) $null_(0), $ns_ at 2.5 \"$cbr_(0) start\", ...)")
_UNITS = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_BANDWIDTH = re.compile(r"^(?P<num>[0-9.]+(?:[eE][+-]?[0-9]+)?)(?P<unit>[kKmMgG]?)(?P<b>[bB]?)$")
_DELAY = re.compile(r"^(?P<num>[0-9.]+(?:[eE][+-]?[0-9]+)?)(?P<unit>s|ms|us|ns|ps)?$")
_SECONDS = {None: 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


def _number(text: str, what: str, where: str) -> float:
    return parse_number(text, what, where, TrafficFileError)


def _parse_rate(text: str, where: str) -> float:
    """rate_ in bits/s, with ns-2's units (448Kb, 1Mb, 64KB = bytes)."""
    match = _BANDWIDTH.match(text)
    if not match:
        raise TrafficFileError(f"{where}: rate_ {text!r} is not a bit rate (e.g. 64000, 448Kb)")
    value = _number(match["num"], "rate_", where) * _UNITS[match["unit"].lower()]
    return value * 8 if match["b"] == "B" else value


def _parse_interval(text: str, where: str) -> float:
    match = _DELAY.match(text)
    if not match:
        raise TrafficFileError(f"{where}: interval_ {text!r} is not a time (e.g. 0.25, 10ms)")
    return _number(match["num"], "interval_", where) * _SECONDS[match["unit"]]


def _node(text: str, where: str) -> int:
    if not text.strip().isdigit():
        raise TrafficFileError(f"{where}: node index {text!r} is not a non-negative integer")
    return int(text)


def _logical_lines(text: str):
    """(line number, line) with Tcl's backslash-newline continuations joined."""
    pending, first = "", 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not pending:
            first = lineno
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        yield first, (pending + raw).strip()
        pending = ""
    if pending:
        yield first, pending.strip()


def parse_cbrgen(path: str | os.PathLike) -> list[Ns2Cbr]:
    """Read an ns-2 traffic file as ``cbrgen.tcl -type cbr`` writes it::

        set udp_(0) [new Agent/UDP]
        $ns_ attach-agent $node_(1) $udp_(0)
        set null_(0) [new Agent/Null]
        $ns_ attach-agent $node_(2) $null_(0)
        set cbr_(0) [new Application/Traffic/CBR]
        $cbr_(0) set packetSize_ 512
        $cbr_(0) set interval_ 0.25
        $cbr_(0) set random_ 1
        $cbr_(0) set maxpkts_ 10000
        $cbr_(0) attach-agent $udp_(0)
        $ns_ connect $udp_(0) $null_(0)
        $ns_ at 2.5568388786897245 "$cbr_(0) start"

    Blank lines and ``#`` comments are skipped; ``$ns_ at T "$cbr_(i) stop"`` and ``rate_``
    (ns-2 units) are understood too; settings take ns-2's defaults and its rules (``interval_``
    sets the rate for the packet size given so far). Returns the started CBR applications in
    file order (one that is never started sends nothing, as in ns-2). Anything else -- TCP
    connections (``-type tcp``), an unknown line or setting, an application without a UDP agent
    connected to a Null agent on a node -- raises :class:`TrafficFileError`, ``FILE:LINE: ...``.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TrafficFileError(f"{name}: cannot read traffic file: {reason}") from None
    kinds: dict[str, str] = {}  # variable -> udp | null | cbr
    created: dict[str, str] = {}  # variable -> FILE:LINE
    nodes: dict[str, tuple[int, str]] = {}  # agent -> (node, FILE:LINE)
    apps: dict[str, dict] = {}  # cbr -> settings
    agent_of: dict[str, str] = {}  # cbr -> udp agent
    peer: dict[str, str] = {}  # udp agent -> null agent
    starts: dict[str, tuple[float, str]] = {}
    stops: dict[str, float] = {}

    def known(var: str, kind: str | None, where: str) -> str:
        if var not in kinds:
            raise TrafficFileError(f"{where}: ${var} is not created before this line")
        if kind is not None and kinds[var] != kind:
            wanted = {"udp": "an Agent/UDP", "null": "an Agent/Null",
                      "cbr": "an Application/Traffic/CBR"}[kind]
            raise TrafficFileError(f"{where}: ${var} is not {wanted}")
        return var

    for lineno, line in _logical_lines(text):
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{lineno}"
        if (m := _NEW.match(line)):
            kind = _CLASSES.get(m["cls"])
            if kind is None:
                raise TrafficFileError(
                    f"{where}: unsupported object {m['cls']}: only Agent/UDP, Agent/Null and "
                    "Application/Traffic/CBR (UDP constant bit rate traffic) are understood")
            kinds[m["var"]] = kind
            created[m["var"]] = where
            if kind == "cbr":
                apps[m["var"]] = dict(_CBR_DEFAULTS)
        elif (m := _CONNECTION.match(line)):
            raise TrafficFileError(
                f"{where}: {m['what']} connections (cbrgen -type tcp) are not supported: "
                "meshnet's traffic is UDP (generate the file with -type cbr)")
        elif (m := _ATTACH_NODE.match(line)):
            agent = known(m["agent"], None, where)
            if kinds[agent] == "cbr":
                raise TrafficFileError(f"{where}: ${agent} is an application, not an agent")
            nodes[agent] = (_node(m["node"], where), where)
        elif (m := _SET.match(line)):
            app = known(m["var"], None, where)
            if kinds[app] != "cbr":
                raise TrafficFileError(f"{where}: unsupported setting {m['key']} of ${app}: "
                                       "only CBR applications have settings here")
            key, value, settings = m["key"], m["value"], apps[app]
            if key == "packetSize_":
                size = _number(value, "packetSize_", where)
                if size != int(size) or not 1 <= size <= MAX_UDP_PAYLOAD:
                    raise TrafficFileError(f"{where}: packetSize_ {value} is not an integer in "
                                           f"1..{MAX_UDP_PAYLOAD} (bytes in one UDP datagram)")
                settings["size"] = int(size)
            elif key == "interval_":
                interval = _parse_interval(value, where)
                if interval <= 0:
                    raise TrafficFileError(f"{where}: interval_ {value} is not > 0")
                settings["rate"] = settings["size"] * 8.0 / interval
                settings["rate_where"] = where
            elif key == "rate_":
                settings["rate"] = _parse_rate(value, where)
                settings["rate_where"] = where
            elif key == "random_":
                settings["random"] = _number(value, "random_", where) != 0
            elif key == "maxpkts_":
                count = _number(value, "maxpkts_", where)
                if count != int(count):
                    raise TrafficFileError(f"{where}: maxpkts_ {value} is not an integer")
                settings["maxpkts"] = int(count)
            else:
                raise TrafficFileError(f"{where}: unsupported CBR setting {key}: expected "
                                       "packetSize_, interval_, rate_, random_ or maxpkts_")
        elif (m := _ATTACH_APP.match(line)):
            app = known(m["app"], "cbr", where)
            agent_of[app] = known(m["agent"], "udp", where)
        elif (m := _CONNECT.match(line)):
            agent = known(m["a"], "udp", where)
            peer[agent] = known(m["b"], "null", where)
        elif (m := _AT.match(line)):
            t = _number(m["time"], "time", where)
            if t < 0:
                raise TrafficFileError(f"{where}: time {m['time']} is negative")
            app = known(m["app"], "cbr", where)
            if m["verb"] == "start":
                if app in starts:
                    raise TrafficFileError(f"{where}: ${app} is started twice (first at "
                                           f"{starts[app][1]})")
                starts[app] = (t, where)
            elif m["verb"] == "stop":
                stops[app] = min(t, stops.get(app, math.inf))
            else:
                raise TrafficFileError(f"{where}: unsupported command {m['verb']!r} for ${app}: "
                                       "expected start or stop")
        else:
            raise TrafficFileError(f"{where}: unrecognised line: {_SYNTAX}")

    result = []
    for app, settings in apps.items():
        if app not in starts:
            continue
        t, where = starts[app]
        agent = agent_of.get(app)
        if agent is None:
            raise TrafficFileError(f"{where}: ${app} is attached to no agent "
                                   f"('${app} attach-agent $udp_(i)')")
        sink = peer.get(agent)
        if sink is None:
            raise TrafficFileError(f"{where}: ${agent} (the agent of ${app}) is connected to no "
                                   f"Null agent ('$ns_ connect ${agent} $null_(i)')")
        for end in (agent, sink):
            if end not in nodes:
                raise TrafficFileError(f"{where}: ${end} is attached to no node "
                                       f"('$ns_ attach-agent $node_(i) ${end}')")
        rate_where = settings.get("rate_where", where)
        if settings["rate"] <= 0:
            raise TrafficFileError(f"{rate_where}: the rate of ${app} is not > 0")
        interval = settings["size"] * 8.0 / settings["rate"]
        if 1.0 / interval > MAX_RATE:
            raise TrafficFileError(f"{rate_where}: ${app} sends {1.0 / interval:g} packets per "
                                   f"second: at most {MAX_RATE:g} are allowed")
        (src, src_where), (dst, dst_where) = nodes[agent], nodes[sink]
        result.append(Ns2Cbr(app, src, dst, settings["size"], interval, settings["random"],
                             settings["maxpkts"], t, stops.get(app, math.inf), where,
                             src_where, dst_where))
    return result


def _cbrgen_flows(sc: Scenario, names: list[str], i: int, first_id: int) -> list[Flow]:
    t = sc.traffic[i]
    path = sc.resolve_path(t.file)
    try:
        cbrs = parse_cbrgen(path)
    except TrafficFileError as exc:
        raise ScenarioError(f"{sc.source}: traffic.{i}: {exc}") from None
    n = len(names)
    end = min(t.stop, sc.duration) if math.isfinite(t.stop) else sc.duration
    flows = []
    for c in cbrs:
        for node, where in ((c.src, c.src_where), (c.dst, c.dst_where)):
            if node >= n:
                raise ScenarioError(
                    f"{sc.source}: traffic.{i}: {where}: $node_({node}) is not in the scenario: "
                    f"nodes.count = {n}, and ns-2 numbers nodes from 0 ($node_(0) is n1)")
        if c.src == c.dst:
            raise ScenarioError(f"{sc.source}: traffic.{i}: {c.dst_where}: ${c.name} sends from "
                                f"$node_({c.src}) to itself")
        # ns-2 sends maxpkts_ packets, one every interval_ from the start (the first at it)
        last = c.start + (max(c.maxpkts, 1) - 0.5) * c.interval
        stop = min(end, c.stop, last)
        flows.append(Flow(first_id + len(flows), "cbr", c.src, c.dst, 1.0 / c.interval, c.size,
                          c.start, stop, t.ttl, 0.5 if c.random else 0.0))
    return flows


def build_flows(sc: Scenario, names: list[str],
                membership: Membership | None = None) -> list[Flow]:
    """Expand every [[traffic]] entry into flows; random pairs are drawn from the scenario seed.
    ``membership``: the scenario's groups, if already built (multicast flows carry theirs)."""
    if membership is None and any(t.group for t in sc.traffic):
        membership = build_groups(sc, names)
    rng = random.Random(f"{sc.seed}:traffic")
    n = len(names)
    flows: list[Flow] = []
    for i, t in enumerate(sc.traffic):
        if t.kind == "ns2-cbrgen":
            flows += _cbrgen_flows(sc, names, i, len(flows))
            continue
        if t.group:
            flows.append(_multicast_flow(sc, names, i, len(flows), rng, membership))
            continue
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


def _multicast_flow(sc: Scenario, names: list[str], i: int, flow_id: int,
                    rng: random.Random, membership: Membership) -> Flow:
    t = sc.traffic[i]
    src = _node_index(sc, names, t.src, f"traffic.{i}.src")
    group = membership.by_name[t.group]
    stop = min(t.stop, sc.duration) if math.isfinite(t.stop) else sc.duration
    start = t.start + (rng.uniform(0, t.jitter) if t.jitter else 0.0)
    return Flow(flow_id, t.kind, src, -1, float(t.rate), t.size, start, stop, t.ttl,
                group=group.address, members=group)
