"""Scenario files: TOML with a default for every field, strict validation, `--set` overrides.

A scenario is data only. Validation happens once, here, and every error names the file, the key,
the bad value and what is allowed, so the CLI can print one line and exit 2. Model-specific keys
(mobility parameters, protocol tunables) are validated by their owners when the world is built,
through the same :class:`ScenarioError`.
"""

from __future__ import annotations

import copy
import importlib.resources
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import MAX_DURATION, MAX_EXTENT, MAX_FLOWS, MIN_PERIOD

BACKENDS = ("sim", "netns")
MAX_NODES = 65534  # node i gets 10.99.x.y with x.y = i + 1
MAX_UDP_PAYLOAD = 65507  # IPv4 (65535) - IP header (20) - UDP header (8)
MAX_RATE = 100_000.0  # packets/s per flow
PLACEMENTS = ("line", "grid", "ring", "uniform", "clusters", "file")
TRAFFIC_KINDS = ("cbr", "poisson", "ns2-cbrgen")
MAX_SEED = 2**63 - 1
MAX_BATTERY_J = 1e12  # a grid-scale battery; a pair of AA cells holds ~2e4 J
MAX_QUEUE = 1_000_000  # packets
MAX_NESTING = 32  # arrays and tables inside each other (a scenario needs 4)


class ScenarioError(ValueError):
    """Bad scenario input: a one-line message for the user (exit status 2)."""


class _Any:
    """Marker for sections that accept model-specific keys validated elsewhere."""


def _nonneg(v: float) -> bool:
    return v >= 0


def _pos(v: float) -> bool:
    return v > 0


def _range(low: float, high: float, open_low: bool = False):
    """A check for ``low <= v <= high`` (``low < v`` with ``open_low``)."""
    if open_low:
        return lambda v: low < v <= high
    return lambda v: low <= v <= high


def _capacities(v: Any) -> list:
    """``nodes.battery_j`` as a list: one capacity for every node, or one per node."""
    return v if isinstance(v, list) else [v]


def _battery(v: Any) -> bool:
    return all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b)
               and 0 <= b <= MAX_BATTERY_J for b in _capacities(v))


# section -> key -> (types, default, check, what is allowed)
NUM = (int, float)
SCHEMA: dict[str, dict[str, tuple]] = {
    "scenario": {
        "name": (str, "default", None, "a string"),
        "duration": (NUM, 60.0, _range(0, MAX_DURATION, open_low=True),
                     f"seconds > 0 and <= {MAX_DURATION:g}"),
        "seed": (int, 1, _range(0, MAX_SEED), f"an integer in 0..{MAX_SEED}"),
        "backend": (str, "sim", BACKENDS, "one of " + ", ".join(BACKENDS)),
        "description": (str, "", None, "a string"),
    },
    "area": {
        "width": (NUM, 1000.0, _range(0, MAX_EXTENT, open_low=True),
                  f"metres > 0 and <= {MAX_EXTENT:g}"),
        "height": (NUM, 1000.0, _range(0, MAX_EXTENT, open_low=True),
                   f"metres > 0 and <= {MAX_EXTENT:g}"),
    },
    "nodes": {
        "count": (int, 30, lambda v: 1 <= v <= MAX_NODES,
                  f"an integer in 1..{MAX_NODES} (the 10.99.0.0/16 address plan)"),
        "placement": (str, "uniform", PLACEMENTS, "one of " + ", ".join(PLACEMENTS)),
        "spacing": (NUM, 100.0, _range(0, MAX_EXTENT, open_low=True),
                    f"metres > 0 and <= {MAX_EXTENT:g}"),
        "file": (str, "", None, "a path to a GraphML or edge-list file"),
        "battery_j": ((int, float, list), 0.0, _battery,
                      f"joules in [0, {MAX_BATTERY_J:g}] (0 = unlimited), or a list of them, one "
                      f"per node"),
        "queue_len": (int, 50, _range(1, MAX_QUEUE),
                      f"an integer in 1..{MAX_QUEUE} (interface queue, packets)"),
    },
    "radio": {
        "profile": (str, "wavelan", None, "a radio profile (see `meshnet radios`)"),
        "propagation": (str, "unit-disk", None,
                        "unit-disk, friis, two-ray, log-distance, outdoor or indoor"),
        "tx_power": (NUM, math.nan, _range(-100, 100),
                     "dBm in [-100, 100] (default: the profile's; the profile's own levels "
                     "apply too)"),
        "range": (NUM, 250.0, _range(0, MAX_EXTENT, open_low=True),
                  f"metres > 0 and <= {MAX_EXTENT:g} (unit-disk only)"),
        "delay": (NUM, 0.001, _range(0, 3600), "seconds in [0, 3600] (unit-disk per-hop delay)"),
        "bitrate": (NUM, 2e6, _range(1, 1e12), "bits/s in [1, 1e12] (unit-disk serialisation)"),
        "exponent": (NUM, math.nan, _range(1, 8),
                     "a path-loss exponent in [1, 8] (log-distance; 2 is free space)"),
        "sigma": (NUM, math.nan, _range(0, 30),
                  "a shadowing standard deviation in [0, 30] dB"),
        "mac": (bool, True, None, "true or false (false: no collisions/backoff)"),
        "shadowing": (str, "link", ("link", "frame"),
                      "link (one draw per link, held) or frame (a new draw per frame)"),
    },
    "mobility": {"model": (str, "static", None, "a mobility model"), "*": (_Any,)},
    "protocol": {"name": (str, "aodv", None, "a registered protocol (see `meshnet protocols`)"),
                 "*": (_Any,)},
    "trace": {
        "link_interval": (NUM, 1.0, _range(MIN_PERIOD, MAX_DURATION),
                          f"seconds in [{MIN_PERIOD:g}, {MAX_DURATION:g}] between link up/down "
                          f"checks"),
    },
}

TRAFFIC_SCHEMA: dict[str, tuple] = {
    "kind": (str, "cbr", TRAFFIC_KINDS, "one of " + ", ".join(TRAFFIC_KINDS)),
    "flows": (int, 0, _range(0, MAX_FLOWS),
              f"an integer in 0..{MAX_FLOWS} (random source/destination pairs)"),
    "pairs": (list, [], None, 'a list of [src, dst] node numbers or names, e.g. [[1, 10]]'),
    "rate": (NUM, 4.0, lambda v: 0 < v <= MAX_RATE, f"packets per second in (0, {MAX_RATE:g}]"),
    "size": (int, 64, lambda v: 1 <= v <= MAX_UDP_PAYLOAD,
             f"payload bytes in 1..{MAX_UDP_PAYLOAD} (one UDP datagram)"),
    "start": (NUM, 0.0, _range(0, MAX_DURATION), f"seconds in [0, {MAX_DURATION:g}]"),
    "stop": (NUM, math.inf, _nonneg, "seconds >= 0 (default: end of run)"),
    "jitter": (NUM, 1.0, _range(0, MAX_DURATION),
               f"seconds in [0, {MAX_DURATION:g}]: random start offset per flow"),
    "ttl": (int, 64, lambda v: 1 <= v <= 255, "an integer in 1..255"),
    "file": (str, "", None, "a path to a traffic file written by ns-2's cbrgen "
             "(kind = 'ns2-cbrgen')"),
}
TRAFFIC_SCHEMA.update({
    "group": (str, "", None, "the name of a [[groups]] entry: a multicast flow to that group"),
    "src": ((int, str), "", None, "the source node (number or name) of a multicast flow"),
})
MULTICAST_ONLY = ("group", "src")  # keys of a multicast flow; it has no pairs or random flows


def _multicast_address(v: str) -> bool:
    """A routable IPv4 multicast group: 224.0.1.0 .. 239.255.255.255 (224.0.0.0/24 is the
    link-local block of RFC 5771, left to link-local protocols such as mDNS and IGMP)."""
    parts = v.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        return False
    octets = [int(p) for p in parts]
    return all(o <= 255 for o in octets) and 224 <= octets[0] <= 239 and octets[:3] != [224, 0, 0]


GROUP_SCHEMA: dict[str, tuple] = {
    "name": (str, "", lambda v: v.strip() != "", "a non-empty group name"),
    "address": (str, "", _multicast_address,
                "an IPv4 multicast address in 224.0.1.0-239.255.255.255, e.g. 239.1.1.1"),
    "members": (list, [], None, "a list of node numbers or names (members from t = 0)"),
    "joins": (list, [], None, "a list of {node = N, at = SECONDS} (a node joins at a time)"),
    "leaves": (list, [], None, "a list of {node = N, at = SECONDS} (a node leaves at a time)"),
}

FAULT_KINDS = ("crash", "blackout", "partition", "drain")
FAULT_SCHEMA: dict[str, tuple] = {
    "kind": (str, "", FAULT_KINDS, "one of " + ", ".join(FAULT_KINDS)),
    "at": (NUM, math.nan, _nonneg, "seconds >= 0 (when the fault starts)"),
    "until": (NUM, math.nan, _nonneg, "seconds > at (when a blackout or partition ends)"),
    "recover_at": (NUM, math.nan, _nonneg, "seconds > at (when crashed nodes come back)"),
    "nodes": (list, [], None, "a list of node numbers or names, e.g. [7, 12]"),
    "links": (list, [], None, "a list of [a, b] node pairs, e.g. [[3, 4], [4, 5]]"),
    "x": (NUM, math.nan, None, "metres: a vertical line inside the area (0 < x < area.width)"),
    "y": (NUM, math.nan, None, "metres: a horizontal line inside the area (0 < y < area.height)"),
    "groups": (list, [], None, "two lists of nodes, e.g. [[1, 2, 3], [4, 5, 6]]"),
    "to_fraction": (NUM, math.nan, lambda v: 0 <= v <= 1,
                    "a battery level in [0, 1] (0 = empty: the node dies)"),
    "by_joules": (NUM, math.nan, _pos, "joules > 0 taken from the battery"),
}
# the keys each fault kind takes besides kind and at
FAULT_KEYS = {
    "crash": ("nodes", "recover_at"),
    "blackout": ("links", "until"),
    "partition": ("x", "y", "groups", "until"),
    "drain": ("nodes", "to_fraction", "by_joules"),
}

ATTACK_ROLES = ("blackhole", "greyhole", "rreq-flood", "replay")
ATTACKER_SCHEMA: dict[str, tuple] = {
    "role": (str, "", ATTACK_ROLES, "one of " + ", ".join(ATTACK_ROLES)),
    "nodes": (list, [], lambda v: len(v) > 0, "a non-empty list of node numbers or names"),
    "start": (NUM, 0.0, _nonneg, "seconds >= 0 (honest until then)"),
    "insider": (bool, False, None, "true or false (true: the node holds protocol.auth_key)"),
    "drop_probability": (NUM, 0.5, lambda v: 0 <= v <= 1, "a probability in [0, 1]"),
    "flows": (list, [], None, "a list of flow ids (0-based, as in the trace) whose data it drops"),
    "rate": (NUM, 20.0, lambda v: 0 < v <= 1000, "forged RREQs per second in (0, 1000]"),
    "delay": (NUM, 5.0, _pos, "seconds > 0 from hearing a message to re-sending it"),
}
ATTACKER_ROLE_KEYS = {"drop_probability": "greyhole", "flows": "greyhole", "rate": "rreq-flood",
                      "delay": "replay"}

# what an ns2-cbrgen file gives (endpoints, sizes, rates, start times) cannot also be set
NS2_CBRGEN_FROM_FILE = ("flows", "pairs", "rate", "size", "start", "jitter")


@dataclass
class Section:
    """Attribute access to one validated section; ``extra`` holds model-specific keys."""

    values: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass
class Scenario:
    source: str
    raw: dict[str, Any]
    scenario: Section
    area: Section
    nodes: Section
    radio: Section
    mobility: Section
    protocol: Section
    trace: Section
    traffic: list[Section]
    groups: list[Section] = field(default_factory=list)
    faults: list[Section] = field(default_factory=list)
    attackers: list[Section] = field(default_factory=list)  # [[attackers]] (meshnet/attacks.py)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def duration(self) -> float:
        return float(self.scenario.duration)

    @property
    def seed(self) -> int:
        return self.scenario.seed

    def resolve_path(self, p: str) -> Path:
        """Paths in a scenario are relative to the scenario file."""
        path = Path(p)
        if path.is_absolute() or self.source.startswith("<"):
            return path
        return Path(self.source).parent / path

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SCHEMA:
            sec: Section = getattr(self, name)
            out[name] = {**sec.values, **sec.extra}
        out["traffic"] = [dict(t.values) for t in self.traffic]
        out["groups"] = [dict(g.values) for g in self.groups]
        out["faults"] = [dict(f.values) for f in self.faults]
        out["attackers"] = [dict(a.values) for a in self.attackers]
        return out


def builtin_names() -> list[str]:
    folder = importlib.resources.files("meshnet.scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_scenario(spec: str | None = None, overrides: list[str] | None = None,
                  protocol: str | None = None) -> Scenario:
    """Load a scenario by built-in name or path, apply ``section.key=value`` overrides, validate.

    ``protocol`` switches the routing protocol; the scenario's tunables meant for another protocol
    are dropped (e.g. AODV's ``link_detection`` when running ``broch`` with DSDV), while explicit
    ``--set protocol.KEY=...`` overrides still apply to the new one.
    """
    spec = spec or "default"
    if "\x00" in spec:
        raise ScenarioError(f"{_show(spec)}: a scenario path cannot contain a NUL character")
    if protocol is not None:
        raw_overrides = list(overrides or [])
        base = load_scenario(spec)
        raw = copy.deepcopy(base.raw)
        table = raw.setdefault("protocol", {})
        if table.get("name", SCHEMA["protocol"]["name"][1]) != protocol:
            raw["protocol"] = {"name": protocol}
        return scenario_from_dict(raw, base.source, raw_overrides)
    path = Path(spec)
    if spec.endswith(".toml") or path.exists():
        source = str(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ScenarioError(f"{source}: no such scenario file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError(f"{source}: cannot read: {e}") from None
    else:
        names = builtin_names()
        if spec not in names:
            raise ScenarioError(
                f"unknown scenario {spec!r}: not a file, and built-in scenarios are "
                + ", ".join(names))
        source = f"<builtin:{spec}>"
        text = (importlib.resources.files("meshnet.scenarios") / f"{spec}.toml").read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: arrays or tables nested too deeply (at most "
                            f"{MAX_NESTING} levels)") from None
    return scenario_from_dict(raw, source, overrides or [])


def parse_override(text: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (["section", "key"], value). The value is read as TOML when it
    parses (numbers, booleans, arrays, quoted strings) and as a bare string otherwise."""
    if "\n" in text or "\r" in text:
        raise ScenarioError(f"--set {_show(text)}: must be one line (a line break would add "
                            f"TOML lines of its own)")
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected section.key=value")
    key, value = text.split("=", 1)
    parts = key.strip().split(".")
    if len(parts) < 2 or not all(parts):
        raise ScenarioError(f"--set {text!r}: the key must look like section.key "
                            f"(e.g. nodes.count=10, traffic.0.rate=8)")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    except RecursionError:
        raise ScenarioError(f"--set {_show(text)}: arrays nested too deeply (at most "
                            f"{MAX_NESTING} levels)") from None
    _check_structure(parsed, f"--set {_show(text)}", 1)
    return parts, parsed


def _check_structure(value: Any, where: str, depth: int = 0) -> None:
    """Reject what no scenario needs and later code could choke on: nesting deeper than
    ``MAX_NESTING`` (recursion in copies and messages) and NUL characters (no path or name
    holds one). Iterative, so any depth is safe to examine."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ScenarioError(f"{where}: {_show(item)} contains a NUL character")
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level >= MAX_NESTING:
            raise ScenarioError(f"{where}: arrays or tables nested too deeply (at most "
                                f"{MAX_NESTING} levels)")
        stack.extend((child, level + 1) for child in children)


def _show(value: Any) -> str:
    """A value for an error message: its repr on one short line, for any value (a huge
    integer has no decimal repr, a deep list none within the recursion limit)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<a {value.bit_length()}-bit integer>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def scenario_from_dict(raw: dict[str, Any], source: str = "<dict>",
                       overrides: list[str] | None = None) -> Scenario:
    _check_structure(raw, source)
    raw = copy.deepcopy(raw)
    parsed = [(parse_override(ov), ov) for ov in overrides or []]
    for (parts, value), _ in parsed:
        # switching the mobility model or the protocol drops the file's keys meant for the old one
        for section, key in (("mobility", "model"), ("protocol", "name")):
            table = raw.get(section)
            if parts == [section, key] and isinstance(table, dict) and table.get(key) != value:
                raw[section] = {}
    for (parts, value), ov in parsed:
        _apply_override(raw, parts, value, ov)
    for section in raw:
        if section not in SCHEMA and section not in ARRAYS:
            raise ScenarioError(f"{source}: unknown section [{section}]; allowed: "
                                + ", ".join([*SCHEMA, *ARRAYS]))
    sections: dict[str, Section] = {}
    for name, schema in SCHEMA.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: [{name}] must be a table")
        sections[name] = _validate_table(source, name, table, schema)
    traffic_raw = raw.get("traffic", [])
    if isinstance(traffic_raw, dict):
        traffic_raw = [traffic_raw]
    if not isinstance(traffic_raw, list):
        raise ScenarioError(f"{source}: traffic must be an array of tables ([[traffic]])")
    traffic = []
    for i, t in enumerate(traffic_raw):
        if not isinstance(t, dict):
            raise ScenarioError(f"{source}: traffic.{i} must be a table")
        traffic.append(_validate_table(source, f"traffic.{i}", t, TRAFFIC_SCHEMA))
    groups = _validate_array(source, raw, "groups", GROUP_SCHEMA)
    faults = _validate_array(source, raw, "faults", FAULT_SCHEMA)
    attackers = _validate_array(source, raw, "attackers", ATTACKER_SCHEMA)
    sc = Scenario(source=source, raw=raw, traffic=traffic, groups=groups, faults=faults,
                  attackers=attackers,
                  **sections)
    _cross_checks(sc)
    return sc


def _validate_array(source: str, raw: dict, name: str, schema: dict) -> list[Section]:
    """An array of tables (``[[name]]``), each validated against ``schema``."""
    items = raw.get(name, [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ScenarioError(f"{source}: {name} must be an array of tables ([[{name}]])")
    out = []
    for i, table in enumerate(items):
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: {name}.{i} must be a table")
        out.append(_validate_table(source, f"{name}.{i}", table, schema))
    return out


ARRAYS = ("traffic", "groups", "faults", "attackers")  # arrays of tables ([[traffic]] ...)


def _apply_override(raw: dict, parts: list[str], value: Any, text: str) -> None:
    if parts[0] in ARRAYS:
        flows = raw.setdefault(parts[0], [])
        if isinstance(flows, dict):
            flows = raw[parts[0]] = [flows]
        if len(parts) == 3 and parts[1].isascii() and parts[1].isdigit():
            idx = int(parts[1])
            if idx > len(flows):
                raise ScenarioError(f"--set {text!r}: {parts[0]} has {len(flows)} entries")
            if idx == len(flows):
                flows.append({})
            flows[idx][parts[2]] = value
            return
        if len(parts) == 2:  # traffic.rate=8 applies to every traffic entry
            if not flows:
                flows.append({})
            for f in flows:
                f[parts[1]] = value
            return
        raise ScenarioError(f"--set {text!r}: use {parts[0]}.KEY or {parts[0]}.N.KEY")
    if len(parts) != 2:
        raise ScenarioError(f"--set {text!r}: the key must be section.key")
    table = raw.setdefault(parts[0], {})
    if not isinstance(table, dict):
        raise ScenarioError(f"--set {text!r}: [{parts[0]}] is not a table")
    table[parts[1]] = value


def _validate_table(source: str, name: str, table: dict, schema: dict) -> Section:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in table.items():
        spec = schema.get(key)
        if spec is None:
            if "*" in schema:
                extra[key] = value
                continue
            allowed = ", ".join(k for k in schema if k != "*")
            raise ScenarioError(f"{source}: unknown key {name}.{key}; allowed: {allowed}")
        types, _default, check, what = spec
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise ScenarioError(f"{source}: {name}.{key} = {_show(value)}: expected {what}")
        if not isinstance(value, types):
            raise ScenarioError(f"{source}: {name}.{key} = {_show(value)}: expected {what}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"{source}: {name}.{key} = {_show(value)}: expected {what} "
                                f"(a finite number)")
        if isinstance(check, tuple):
            if value not in check:
                raise ScenarioError(f"{source}: {name}.{key} = {_show(value)}: expected {what}")
        elif check is not None and not check(value):
            raise ScenarioError(f"{source}: {name}.{key} = {_show(value)}: expected {what}")
        values[key] = value
    for key, spec in schema.items():
        if key != "*" and key not in values:
            values[key] = copy.copy(spec[1])
    return Section(values, extra)


def _cross_checks(sc: Scenario) -> None:
    src = sc.source
    given = sc.raw.get("radio", {})
    total = sum(t.flows for t in sc.traffic)
    if total > MAX_FLOWS:
        raise ScenarioError(f"{src}: traffic asks for {total} random flows in all; at most "
                            f"{MAX_FLOWS}")
    if sc.radio.propagation == "unit-disk":
        if any(b > 0 for b in _capacities(sc.nodes.battery_j)):
            raise ScenarioError(f"{src}: nodes.battery_j needs a radio propagation model (energy "
                                f"is not modelled with radio.propagation = 'unit-disk')")
        for key in ("exponent", "sigma", "shadowing"):
            if key in given:
                raise ScenarioError(f"{src}: radio.{key} has no effect with radio.propagation = "
                                    f"'unit-disk'")
    else:
        for key in ("range", "delay", "bitrate"):
            if key in given:
                raise ScenarioError(
                    f"{src}: radio.{key} applies only to radio.propagation = 'unit-disk' "
                    f"(got {sc.radio.propagation!r}, whose range follows from the profile)")
    if isinstance(sc.nodes.battery_j, list) and len(sc.nodes.battery_j) != sc.nodes.count:
        raise ScenarioError(f"{src}: nodes.battery_j lists {len(sc.nodes.battery_j)} capacities "
                            f"but nodes.count = {sc.nodes.count} (one per node, 0 = unlimited)")
    if sc.nodes.placement == "file" and not sc.nodes.file:
        raise ScenarioError(f"{src}: nodes.placement = 'file' needs nodes.file = PATH")
    given_traffic = sc.raw.get("traffic", [])
    if isinstance(given_traffic, dict):
        given_traffic = [given_traffic]
    _check_groups(sc)
    _check_faults(sc)
    _check_attackers(sc)
    for i, t in enumerate(sc.traffic):
        if t.group or t.src != "":
            _check_multicast_flow(sc, i, given_traffic[i])
            continue
        if t.kind == "ns2-cbrgen":
            if not t.file:
                raise ScenarioError(f"{src}: traffic.{i}: kind = 'ns2-cbrgen' needs file = PATH "
                                    f"(a traffic file written by ns-2's cbrgen)")
            for key in NS2_CBRGEN_FROM_FILE:
                if key in given_traffic[i]:
                    raise ScenarioError(
                        f"{src}: traffic.{i}.{key} does not apply to kind = 'ns2-cbrgen': the "
                        f"file gives every flow's endpoints, size, rate and start time")
            continue
        if t.file:
            raise ScenarioError(f"{src}: traffic.{i}.file applies only to kind = 'ns2-cbrgen'")
        if t.stop < t.start:
            raise ScenarioError(f"{src}: traffic.{i}.stop = {t.stop!r} is before start = {t.start!r}")
        for p in t.pairs:
            if not (isinstance(p, list) and len(p) == 2):
                raise ScenarioError(f"{src}: traffic.{i}.pairs entry {p!r}: expected [src, dst]")
        if t.flows == 0 and not t.pairs:
            raise ScenarioError(f"{src}: traffic.{i} has neither flows > 0 nor pairs")


def _check_groups(sc: Scenario) -> None:
    """Group names and addresses are unique; joins and leaves are {node, at} tables. Node
    references and the order of joins and leaves are checked when the world is built
    (``meshnet.groups``), where node names are known."""
    src = sc.source
    names: dict[str, int] = {}
    addresses: dict[str, int] = {}
    for i, g in enumerate(sc.groups):
        for seen, value, key in ((names, g.name, "name"), (addresses, g.address, "address")):
            if value in seen:
                raise ScenarioError(f"{src}: groups.{i}.{key} = {value!r} is already used by "
                                    f"groups.{seen[value]}")
            seen[value] = i
        for key in ("joins", "leaves"):
            for entry in g.values[key]:
                if not (isinstance(entry, dict) and set(entry) == {"node", "at"}):
                    raise ScenarioError(f"{src}: groups.{i}.{key} entry {entry!r}: expected "
                                        f"{{node = N, at = SECONDS}}")
                at = entry["at"]
                if (isinstance(at, bool) or not isinstance(at, (int, float))
                        or not math.isfinite(at) or at < 0):
                    raise ScenarioError(f"{src}: groups.{i}.{key} entry {entry!r}: at must be "
                                        f"a number of seconds >= 0")
        if not (g.members or g.joins):
            raise ScenarioError(f"{src}: groups.{i} ({g.name!r}) has no members and no joins")


def _check_attackers(sc: Scenario) -> None:
    """Each attacker entry names a role and gives only that role's parameters. Node references,
    flow ids and whether the role applies to the protocol are checked when the world is built
    (meshnet/attacks.py)."""
    given = sc.raw.get("attackers", [])
    if isinstance(given, dict):
        given = [given]
    for i, a in enumerate(sc.attackers):
        if "role" not in given[i]:
            raise ScenarioError(f"{sc.source}: attackers.{i} needs role = one of "
                                + ", ".join(ATTACK_ROLES))
        for key, role in ATTACKER_ROLE_KEYS.items():
            if key in given[i] and a.role != role:
                raise ScenarioError(f"{sc.source}: attackers.{i}.{key} applies only to role = "
                                    f"{role!r} (this entry is {a.role!r})")
        if sc.scenario.backend != "sim":
            raise ScenarioError(f"{sc.source}: attackers.{i}: attackers run on the simulator "
                                f"only (scenario.backend = 'sim')")


def _check_faults(sc: Scenario) -> None:
    """Each fault has the keys of its kind and times inside the run. Node references, the
    partition's groups and the batteries a drain needs are checked when the faults are built
    (``meshnet.faults``), where node names are known."""
    src = sc.source
    given_faults = sc.raw.get("faults", [])
    if isinstance(given_faults, dict):
        given_faults = [given_faults]
    for i, f in enumerate(sc.faults):
        where = f"{src}: faults.{i}"
        given = given_faults[i]
        if "kind" not in given:
            raise ScenarioError(f"{where}: kind is missing (one of {', '.join(FAULT_KINDS)})")
        if "at" not in given:
            raise ScenarioError(f"{where}: at is missing (when the {f.kind} starts, in seconds)")
        allowed = FAULT_KEYS[f.kind]
        for key in given:
            if key not in ("kind", "at") and key not in allowed:
                raise ScenarioError(f"{where}.{key} does not apply to kind = {f.kind!r} "
                                    f"(it takes: at, {', '.join(allowed)})")
        if f.at > sc.duration:
            raise ScenarioError(f"{where}.at = {f.at!r} is after the end of the run "
                                f"(scenario.duration = {sc.duration:g})")
        for key in ("until", "recover_at"):
            if key in given:
                if not f.values[key] > f.at:
                    raise ScenarioError(f"{where}.{key} = {f.values[key]!r} must be after "
                                        f"at = {f.at!r}")
                if f.values[key] > sc.duration:
                    raise ScenarioError(f"{where}.{key} = {f.values[key]!r} is after the end of "
                                        f"the run (scenario.duration = {sc.duration:g})")
        if f.kind in ("blackout", "partition") and "until" not in given:
            raise ScenarioError(f"{where}: a {f.kind} needs until = SECONDS (when it ends)")
        if f.kind in ("crash", "drain") and not f.nodes:
            raise ScenarioError(f"{where}: a {f.kind} needs nodes = [N, ...]")
        if f.kind == "blackout":
            if not f.links:
                raise ScenarioError(f"{where}: a blackout needs links = [[a, b], ...]")
            for link in f.links:
                if not (isinstance(link, list) and len(link) == 2):
                    raise ScenarioError(f"{where}.links entry {link!r}: expected [a, b]")
        if f.kind == "partition":
            _check_partition(sc, where, f, given)
        if f.kind == "drain":
            if ("to_fraction" in given) == ("by_joules" in given):
                raise ScenarioError(f"{where}: a drain needs exactly one of to_fraction = LEVEL "
                                    f"(0..1) or by_joules = J")
            if sc.radio.propagation == "unit-disk" or not any(
                    b > 0 for b in _capacities(sc.nodes.battery_j)):
                raise ScenarioError(f"{where}: a drain needs batteries (nodes.battery_j > 0 "
                                    f"and a radio propagation model other than unit-disk)")


def _check_partition(sc: Scenario, where: str, f: Section, given: dict) -> None:
    """Exactly one of x, y or groups; a line lies strictly inside the area."""
    forms = [k for k in ("x", "y", "groups") if k in given]
    if len(forms) != 1:
        raise ScenarioError(f"{where}: a partition needs exactly one of x = METRES, "
                            f"y = METRES or groups = [[...], [...]]"
                            + (f" (got {', '.join(forms)})" if forms else ""))
    form = forms[0]
    if form == "groups":
        if len(f.groups) != 2 or not all(isinstance(g, list) and g for g in f.groups):
            raise ScenarioError(f"{where}.groups = {f.groups!r}: expected two non-empty lists "
                                f"of nodes, e.g. [[1, 2], [3, 4]]")
        return
    side = float(sc.area.width if form == "x" else sc.area.height)
    value = f.values[form]
    if not 0 < value < side:
        raise ScenarioError(f"{where}.{form} = {value!r}: the line must lie inside the area "
                            f"(0 < {form} < {side:g})")


def _check_multicast_flow(sc: Scenario, i: int, given: dict) -> None:
    src = sc.source
    t = sc.traffic[i]
    if not t.group:
        raise ScenarioError(f"{src}: traffic.{i}.src is for multicast flows: set "
                            f"traffic.{i}.group too (unicast flows use pairs or flows)")
    if t.src == "":
        raise ScenarioError(f"{src}: traffic.{i}: a multicast flow (group = {t.group!r}) needs "
                            f"src = NODE")
    if t.kind not in ("cbr", "poisson"):
        raise ScenarioError(f"{src}: traffic.{i}: a multicast flow is kind 'cbr' or 'poisson' "
                            f"(got {t.kind!r})")
    for key in ("pairs", "flows", "file"):
        if key in given:
            raise ScenarioError(f"{src}: traffic.{i}.{key} does not apply to a multicast flow "
                                f"(group = {t.group!r}, src = {t.src!r})")
    if t.group not in {g.name for g in sc.groups}:
        known = ", ".join(repr(g.name) for g in sc.groups) or "none"
        raise ScenarioError(f"{src}: traffic.{i}.group = {t.group!r}: no such [[groups]] entry "
                            f"(groups: {known})")
    if t.stop < t.start:
        raise ScenarioError(f"{src}: traffic.{i}.stop = {t.stop!r} is before start = {t.start!r}")
