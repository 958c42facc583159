"""Benchmark suites: a base scenario, protocol variants, sweep axes and seeds, from a TOML file or
a built-in (``meshnet/bench/suites/*.toml``), and the plan of runs they expand to.

A suite file::

    [suite]
    name = "mine"
    description = "AODV against DSDV under mobility"
    scenario = "broch"              # a built-in scenario, or a TOML path (relative to this file)
    seeds = 3                       # 3 = seeds 1, 2, 3; or a list: [1, 5, 9]
    set = { "scenario.duration" = 200 }   # overrides on the base scenario (or ["k=v", ...])
    others = false                  # true: add every other installed protocol that fits
    exclude = ["none"]              # ... except these ("power-aware" names the power-aware group)
    metrics = ["pdr", "normalized_routing_load"]  # terminal table and plots (default: the five)

    [[protocols]]                   # or protocols = ["aodv", "dsdv"]
    label = "AODV-hello"
    name = "aodv"
    link_detection = "hello"        # any other key is a protocol parameter

    [sweep]                         # every combination of the axes is run
    "mobility.pause" = [0, 300, 900]
    "nodes.count" = [{ value = 100, set = { "area.width" = 2121 } }]   # linked keys

Everything is validated before anything runs (:meth:`Suite.plan`): each sweep point is loaded as
a scenario and its world built for every protocol, so a bad key or value fails at once, as one
line naming it (:class:`SuiteError`, exit status 2).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..registry import UnknownProtocolError, load_protocol, protocol_names
from ..scenario import ScenarioError, Scenario, builtin_names, load_scenario, parse_override

DEFAULT_METRICS = ("pdr", "normalized_routing_load", "mean_delay_s", "mean_hops", "energy_j")
POWER_AWARE = ("mtpr", "mmbcr", "cmmbcr")  # and any plug-in whose class says power_aware = True
RESERVED_KEYS = {"scenario.seed": "use seeds (--seeds) instead",
                 "protocol.name": "use the protocols list (--protocols) instead"}


class SuiteError(ScenarioError):
    """Bad suite input: one line for the user, exit status 2."""


class SuiteSkipped(Exception):
    """The suite cannot run here for a reason that is not an error (e.g. no power-aware protocol
    installed); the message says why."""


@dataclass(frozen=True)
class Variant:
    """One line of the comparison: a protocol plug-in with parameters, under a label."""

    label: str
    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def overrides(self) -> list[str]:
        return [f"protocol.{k}={toml_literal(v)}" for k, v in self.params]


@dataclass(frozen=True)
class Point:
    """One value of a sweep axis: the x value and the overrides it stands for."""

    value: Any
    overrides: tuple[str, ...]


@dataclass
class Axis:
    key: str
    points: list[Point]


@dataclass
class Job:
    """One run: its key (hash of the resolved scenario, seed and meshnet version), its place in
    the campaign, and the resolved scenario (raw tables and source) a worker rebuilds it from."""

    key: str
    protocol: str
    seed: int
    point: dict[str, Any]
    raw: dict[str, Any]
    source: str

    def describe(self) -> str:
        where = " ".join(f"{k}={_short(v)}" for k, v in self.point.items())
        return f"{self.protocol} {where} seed {self.seed}".replace("  ", " ")


@dataclass
class Suite:
    name: str
    source: str
    scenario: str
    description: str = ""
    overrides: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    axes: list[Axis] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [1])
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    workers: int | None = None
    others: bool = False
    exclude: list[str] = field(default_factory=list)
    power_aware: bool = False
    notes: list[str] = field(default_factory=list)  # what was left out and why
    resolved: list[Variant] | None = None  # the variants the last plan() ran

    # --- command-line adjustments --------------------------------------------------------------
    def select_protocols(self, spec: str) -> None:
        """``--protocols a,b``: suite labels (any case), installed plug-in names, or
        ``name:key=value:key=value`` for a plug-in with parameters."""
        chosen: list[Variant] = []
        installed = protocol_names()
        known = {v.label.lower(): v for v in self.variants}
        for item in (s.strip() for s in spec.split(",")):
            if not item:
                raise SuiteError(f"--protocols {spec!r}: empty protocol name")
            name, _, rest = item.partition(":")
            if not rest and item.lower() in known:
                chosen.append(known[item.lower()])
                continue
            if name not in installed:
                labels = ", ".join(v.label for v in self.variants)
                raise SuiteError(f"--protocols: unknown protocol {name!r}; suite {self.name} "
                                 f"has {labels or '(none)'}; installed: {', '.join(installed)}")
            params: list[tuple[str, Any]] = []
            for kv in filter(None, rest.split(":")):
                key, eq, value = kv.partition("=")
                if not eq or not key.strip():
                    raise SuiteError(f"--protocols {item!r}: parameters look like "
                                     f"name:key=value:key=value")
                params.append((key.strip(), parse_override(f"p.v={value}")[1]))
            chosen.append(Variant(item if params else auto_label(name), name, tuple(params)))
        self.variants = chosen
        self.others = False
        self.power_aware = False

    def set_sweep(self, specs: list[str]) -> None:
        """``--sweep key=v1,v2 ...`` replaces the suite's sweep."""
        axes = []
        for spec in specs:
            key, eq, values = spec.partition("=")
            key = key.strip()
            if not eq or not values.strip():
                raise SuiteError(f"--sweep {spec!r}: expected section.key=v1,v2,...")
            axes.append(Axis(key, [_point(key, v, f"--sweep {spec!r}")
                                   for v in _parse_values(values)]))
        self.axes = axes

    # --- the plan ------------------------------------------------------------------------------
    def resolved_variants(self) -> list[Variant]:
        """The suite's variants, plus the installed protocols it asks for (``others``,
        ``power_aware``) that load and fit the base scenario."""
        variants = list(self.variants)
        if not (self.others or self.power_aware):
            return variants
        listed = {v.name for v in variants}
        excluded = set(self.exclude)
        power = [n for n in protocol_names() if _is_power_aware(n)]
        if "power-aware" in excluded:
            excluded.update(power)
        candidates = power if self.power_aware and not self.others else protocol_names()
        found_power = []
        for name in candidates:
            if name in listed or name in excluded:
                continue
            try:
                if getattr(load_protocol(name), "multicast", False):  # SMF, ODMRP
                    self.notes.append(f"{name}: left out, it routes multicast only")
                    continue
                _build(load_scenario(self.scenario, self.overrides, protocol=name))
            except UnknownProtocolError as e:
                self.notes.append(f"{name}: left out ({e})")
                continue
            except ScenarioError as e:
                self.notes.append(f"{name}: left out, does not fit {self.scenario} ({e})")
                continue
            variants.append(Variant(auto_label(name), name))
            if name in power:
                found_power.append(name)
        if self.power_aware and not found_power:
            raise SuiteSkipped(
                f"suite {self.name}: no power-aware protocol is installed (looked for "
                f"{', '.join(POWER_AWARE)} and plug-ins with power_aware = True); nothing to run")
        return variants

    def plan(self) -> list[Job]:
        """Every run of the campaign, each sweep point validated for every protocol."""
        sc = self.scenario
        if not sc.endswith(".toml") and not Path(sc).exists() and sc not in builtin_names():
            message = (f"suite {self.name}: scenario {sc!r} is not a file, and built-in "
                       f"scenarios are {', '.join(builtin_names())}")
            raise (SuiteSkipped if self.power_aware else SuiteError)(message)
        try:
            load_scenario(self.scenario, self.overrides)
        except ScenarioError as e:
            raise SuiteError(f"suite {self.name}: base scenario: {e}") from None
        variants = self.resolved = self.resolved_variants()
        if not variants:
            raise SuiteError(f"suite {self.name}: no protocols to run")
        if not self.seeds:
            raise SuiteError(f"suite {self.name}: no seeds")
        for axis in self.axes:
            for key in (axis.key, *(o.split("=", 1)[0] for p in axis.points for o in p.overrides)):
                if key in RESERVED_KEYS:
                    raise SuiteError(f"sweep {key}: not a sweep axis; {RESERVED_KEYS[key]}")
            if not axis.points:
                raise SuiteError(f"sweep {axis.key}: no values")
        jobs: list[Job] = []
        seen: dict[str, str] = {}
        combos = list(itertools.product(*(a.points for a in self.axes)))
        for variant in variants:
            for combo in combos:
                point = {a.key: p.value for a, p in zip(self.axes, combo)}
                where = ", ".join(f"{k}={_short(v)}" for k, v in point.items())
                extra = [o for p in combo for o in p.overrides]
                for i, seed in enumerate(self.seeds):
                    overrides = [*self.overrides, *variant.overrides(), *extra,
                                 f"scenario.seed={seed}"]
                    try:
                        sc = load_scenario(self.scenario, overrides, protocol=variant.name)
                        if i == 0:  # parameters are checked when the run is built
                            _build(sc)
                    except ScenarioError as e:
                        at = f"sweep point {where}, " if where else ""
                        raise SuiteError(f"suite {self.name}: {at}protocol {variant.label}: "
                                         f"{e}") from None
                    key = run_key(sc)
                    label = f"{variant.label} {where} seed {seed}"
                    if key in seen:
                        raise SuiteError(f"suite {self.name}: {seen[key]} and {label} are the "
                                         f"same run (identical scenario); drop one")
                    seen[key] = label
                    jobs.append(Job(key, variant.label, seed, point, sc.raw, sc.source))
        # seed-major order: an interrupted campaign has whole seeds rather than whole protocols
        order = {s: i for i, s in enumerate(self.seeds)}
        jobs.sort(key=lambda j: order[j.seed])
        return jobs

    def describe(self) -> dict[str, Any]:
        """The campaign definition kept with its results."""
        return {"suite": self.name, "description": self.description, "scenario": self.scenario,
                "overrides": self.overrides, "seeds": self.seeds,
                "protocols": [v.label for v in (self.resolved or self.variants)],
                "axes": [{"key": a.key, "values": [p.value for p in a.points]} for a in self.axes],
                "metrics": self.metrics, "meshnet_version": __version__}


def auto_label(name: str) -> str:
    """Acronyms in capitals, as in the papers (gpsr -> GPSR); longer names as they are."""
    return name.upper() if len(name) <= 6 else name


def _build(sc: Scenario) -> None:
    """Build the run without running it: the world (mobility and protocol parameters are
    checked by their owners) and every node's protocol instance."""
    from ..sim import Simulation

    Simulation(sc)


def _is_power_aware(name: str) -> bool:
    if name in POWER_AWARE:
        return True
    try:
        return bool(getattr(load_protocol(name), "power_aware", False))
    except UnknownProtocolError:
        return False


# --- keys ------------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """Integral floats as ints, so ``pause = 0`` and ``pause = 0.0`` are the same run."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def run_key(sc: Scenario) -> str:
    """Hash of the full resolved scenario (every default filled in), the seed and the meshnet
    version: the identity of a run's result."""
    text = json.dumps({"scenario": _canonical(sc.to_dict()), "seed": sc.seed,
                       "meshnet": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- values ----------------------------------------------------------------------------------
# A TOML basic string holds any character raw except the quote, the backslash, the C0 controls
# and DEL (TOML 1.0, "String"): those are escaped, with TOML's short escapes where it has one.
# Everything else, non-BMP characters included, is written as itself: a \uXXXX pair for a
# surrogate half, as JSON writes it, is not a character to TOML and is rejected.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                  "\f": "\\f", "\r": "\\r"}
_BASIC_STRING = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in (*range(0x20), 0x7F)},
                               **_SHORT_ESCAPES})


def _toml_string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SuiteError(f"cannot use {text!r} as a scenario value: it holds a lone surrogate "
                         f"(U+D800..U+DFFF), which is not a character TOML can hold") from None
    return '"' + text.translate(_BASIC_STRING) + '"'


def toml_literal(value: Any) -> str:
    """A Python value as the one-line TOML text ``--set`` parses back to exactly it
    (``tomllib.loads(f"v = {toml_literal(x)}")["v"] == x``); tuples come back as lists.
    Raises SuiteError for what TOML cannot hold (None, a lone surrogate, a non-string key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise SuiteError(f"cannot use {value!r} as a scenario value: key {key!r} is "
                                 f"not a string (TOML keys are)")
        return "{" + ", ".join(f"{_toml_string(k)} = {toml_literal(v)}"
                               for k, v in value.items()) + "}"
    raise SuiteError(f"cannot use {value!r} as a scenario value")


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _parse_values(text: str) -> list[Any]:
    """``0,300,900`` or ``"a","b"`` or ``zigbee,wavelan``: TOML values, bare words as strings."""
    try:
        return list(tomllib.loads(f"v = [{text}]")["v"])
    except tomllib.TOMLDecodeError:
        return [parse_override(f"x.v={item}")[1] for item in text.split(",")]


def _check_key(key: str, where: str) -> None:
    try:
        parse_override(f"{key}=0")
    except ScenarioError:
        raise SuiteError(f"{where}: {key!r} is not a scenario key (section.key, e.g. "
                         f"mobility.pause or traffic.0.flows)") from None
    if key in RESERVED_KEYS:
        raise SuiteError(f"{where}: {key} cannot be swept; {RESERVED_KEYS[key]}")


def _point(key: str, value: Any, where: str) -> Point:
    _check_key(key, where)
    if isinstance(value, dict):
        if "value" not in value:
            raise SuiteError(f"{where}: a linked point is {{ value = X, set = {{ KEY = V }} }}")
        unknown = set(value) - {"value", "set"}
        if unknown:
            raise SuiteError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} in a point "
                             f"(allowed: value, set)")
        linked = _overrides(value.get("set", {}), where)
        return Point(value["value"], (f"{key}={toml_literal(value['value'])}", *linked))
    return Point(value, (f"{key}={toml_literal(value)}",))


def _overrides(table: Any, where: str) -> list[str]:
    if isinstance(table, dict):
        out = []
        for k, v in table.items():
            _check_key(k, where)
            out.append(f"{k}={toml_literal(v)}")
        return out
    if isinstance(table, list) and all(isinstance(s, str) for s in table):
        for s in table:
            parse_override(s)
        return list(table)
    raise SuiteError(f"{where}: set must be a table {{ \"section.key\" = value }} or a list of "
                     f"\"section.key=value\" strings")


def parse_seeds(value: Any, where: str = "seeds") -> list[int]:
    """``3`` -> [1, 2, 3]; ``[4, 7]`` or ``"4,7"`` -> [4, 7]."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if "," not in text else [int(s) for s in text.split(",") if s]
        except ValueError:
            raise SuiteError(f"{where} = {value!r}: expected a count N (seeds 1..N) or a list "
                             f"of seeds like 1,4,7") from None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise SuiteError(f"{where} = {value}: expected a count >= 1 or a list of seeds")
        return list(range(1, value + 1))
    if (isinstance(value, list) and value
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
        if len(set(value)) != len(value):
            raise SuiteError(f"{where} = {value!r}: a seed is listed twice")
        return list(value)
    raise SuiteError(f"{where} = {value!r}: expected a count >= 1 or a list of seeds >= 0")


# --- loading ---------------------------------------------------------------------------------
SUITE_KEYS = {"name", "description", "scenario", "seeds", "set", "others", "exclude",
              "metrics", "workers", "power_aware"}


def builtin_suites() -> list[str]:
    folder = importlib.resources.files("meshnet.bench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_suite(spec: str) -> Suite:
    """A built-in suite by name, or a suite TOML file."""
    path = Path(spec)
    if spec.endswith(".toml") or path.exists():
        source = str(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise SuiteError(f"{source}: no such suite file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise SuiteError(f"{source}: cannot read: {e}") from None
        base_dir: Path | None = path.parent
    else:
        names = builtin_suites()
        if spec not in names:
            if spec in builtin_names():
                return scenario_suite(spec, spec)
            raise SuiteError(f"unknown suite {spec!r}: not a file, a built-in suite ("
                             + ", ".join(names) + ") or a built-in scenario ("
                             + ", ".join(builtin_names()) + ")")
        source = f"<suite:{spec}>"
        text = (importlib.resources.files("meshnet.bench") / "suites" / f"{spec}.toml").read_text()
        base_dir = None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SuiteError(f"{source}: not valid TOML: {e}") from None
    if base_dir is not None and not set(data) & {"suite", "protocols", "sweep"}:
        return scenario_suite(source, path.stem)  # a scenario file: compare on it
    return suite_from_dict(data, source, base_dir, default_name=path.stem)


def scenario_suite(scenario: str, name: str) -> Suite:
    """An ad hoc suite on a scenario: its own protocol, one seed, no sweep (the command line
    adds --protocols, --sweep and --seeds)."""
    try:
        sc = load_scenario(scenario)
    except ScenarioError as e:
        raise SuiteError(str(e)) from None
    return Suite(name=name, source=f"<scenario:{scenario}>", scenario=scenario,
                 description=f"ad hoc campaign on scenario {sc.name}",
                 variants=[Variant(auto_label(sc.protocol.name), sc.protocol.name)])


def suite_from_dict(data: dict[str, Any], source: str = "<suite>",
                    base_dir: Path | None = None, default_name: str = "suite") -> Suite:
    data = copy.deepcopy(data)
    unknown = set(data) - {"suite", "protocols", "sweep"}
    if unknown:
        raise SuiteError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; allowed: "
                         f"[suite], [[protocols]], [sweep]")
    head = data.get("suite", {})
    if not isinstance(head, dict):
        raise SuiteError(f"{source}: [suite] must be a table")
    bad = set(head) - SUITE_KEYS
    if bad:
        raise SuiteError(f"{source}: unknown key(s) suite.{', suite.'.join(sorted(bad))}; "
                         f"allowed: {', '.join(sorted(SUITE_KEYS))}")

    def get(key: str, types: type | tuple, default: Any) -> Any:
        value = head.get(key, default)
        if not isinstance(value, types) or (isinstance(value, bool) and types in (int,)):
            raise SuiteError(f"{source}: suite.{key} = {value!r} has the wrong type")
        return value

    scenario = get("scenario", str, "default")
    if base_dir is not None and (scenario.endswith(".toml") or (base_dir / scenario).exists()):
        scenario = str(base_dir / scenario)
    workers = head.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)
                                or workers < 1):
        raise SuiteError(f"{source}: suite.workers = {workers!r}: expected an integer >= 1")
    metrics = get("metrics", list, list(DEFAULT_METRICS))
    if not all(isinstance(m, str) for m in metrics):
        raise SuiteError(f"{source}: suite.metrics must list metric names")
    exclude = get("exclude", list, [])
    suite = Suite(name=get("name", str, default_name), source=source, scenario=scenario,
                  description=get("description", str, ""),
                  overrides=_overrides(head.get("set", {}), f"{source}: suite.set"),
                  seeds=parse_seeds(head.get("seeds", 1), f"{source}: suite.seeds"),
                  metrics=list(metrics), workers=workers, others=get("others", bool, False),
                  exclude=[str(e) for e in exclude], power_aware=get("power_aware", bool, False))
    suite.variants = _variants(data.get("protocols", []), source)
    sweep = data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise SuiteError(f"{source}: [sweep] must be a table of key = [values]")
    for key, values in sweep.items():
        where = f"{source}: sweep {key}"
        if not isinstance(values, list) or not values:
            raise SuiteError(f"{where}: expected a non-empty list of values")
        suite.axes.append(Axis(key, [_point(key, v, where) for v in values]))
    return suite


def _variants(entries: Any, source: str) -> list[Variant]:
    if not isinstance(entries, list):
        raise SuiteError(f"{source}: protocols must be a list of names or [[protocols]] tables")
    installed = protocol_names()
    out: list[Variant] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise SuiteError(f"{source}: protocols.{i} needs name = \"PLUGIN\"")
        name = entry.pop("name")
        label = str(entry.pop("label", name))
        if name not in installed:
            raise SuiteError(f"{source}: protocols.{i}: unknown protocol {name!r}; installed: "
                             + ", ".join(installed))
        if any(v.label.lower() == label.lower() for v in out):
            raise SuiteError(f"{source}: protocol label {label!r} is used twice")
        out.append(Variant(label, name, tuple(entry.items())))
    return out
