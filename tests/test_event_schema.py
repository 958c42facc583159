"""The event schema (meshnet/event_schema.py) matches what producers emit and what consumers read.

* Real simulator runs: every emitted event is declared and its fields have the declared names
  and types.
* Producers, statically: every ``ctx.emit(kind, **fields)`` in protocols/ and every
  ``emit("kind", {...})`` with a literal dict in meshnet/ names a declared kind and its fields.
* Consumers, statically: metrics, the TUI and pcap read only fields declared for the kinds they
  handle; a ``fields["x"]`` read needs ``x`` to be a required field of every kind handled.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from meshnet.event_schema import (
    CORE,
    EVENTS,
    PROTOCOL_KINDS,
    RESERVED,
    EventSchemaError,
    SchemaChecker,
    check,
    markdown,
    matches,
    problems,
)
from meshnet.events import EventBus, TraceWriter
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation

ROOT = Path(__file__).resolve().parent.parent
CONSUMERS = [ROOT / "meshnet" / "metrics.py", ROOT / "meshnet" / "pcap.py",
             *sorted((ROOT / "tui").glob("*.py"))]


# --- the schema itself -----------------------------------------------------------------------
def test_every_kind_and_field_is_documented_and_well_formed():
    for kind, spec in EVENTS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", kind) and spec.kind == kind
        assert spec.meaning and spec.emitted_by
        names = [f.name for f in spec.fields]
        assert len(names) == len(set(names)), kind
        assert not RESERVED & set(names), f"{kind}: {RESERVED} are written by the trace"
        for f in spec.fields:
            assert f.meaning, f"{kind}.{f.name}"
            matches(None, f.type)  # a type the checker understands (raises otherwise)


def test_the_kinds_the_brief_contract_names_are_declared():
    assert EVENTS["protocol_error"].required == {"node", "error", "traceback"}
    moved = EVENTS["node_moved"]
    assert {f.name: f.type for f in moved.fields} == {"node": str, "x": float, "y": float,
                                                       "vx": float, "vy": float}


def test_docs_list_the_schema_as_declared():
    text = (ROOT / "docs" / "architecture.md").read_text()
    begin, end = "<!-- event-schema:begin -->\n", "<!-- event-schema:end -->"
    listed = text[text.index(begin) + len(begin):text.index(end)]
    assert listed == markdown(), "regenerate with: python -m meshnet.event_schema"


# --- validation ------------------------------------------------------------------------------
GOOD = {"node": "n1", "uid": 3, "hops": 2, "delay": 0.25, "flow": 0}


@pytest.mark.parametrize("kind, fields, expect", [
    ("data_delivered", GOOD, []),
    ("data_delivered", {**GOOD, "delay": 1}, []),  # an int is a float
    ("nosuch", {}, ["nosuch: undeclared event kind"]),
    ("data_delivered", {k: v for k, v in GOOD.items() if k != "hops"},
     ["data_delivered: missing field 'hops'"]),
    ("data_delivered", {**GOOD, "extra": 1}, ["data_delivered: undeclared field 'extra'"]),
    ("data_delivered", {**GOOD, "hops": True},
     ["data_delivered.hops: expected int, got bool True"]),
    ("data_delivered", {**GOOD, "delay": "0.2"},
     ["data_delivered.delay: expected float, got str '0.2'"]),
    ("rerr_sent", {"node": "n1", "dsts": ["10.0.0.2", 7], "to": "10.0.0.3", "no_delete": False},
     ["rerr_sent.dsts: expected list[str], got list ['10.0.0.2', 7]"]),
    ("route_removed", {"node": "n1", "dst": "10.0.0.2"}, []),  # netns: no next hop or metric
])
def test_problems_names_each_mismatch(kind, fields, expect):
    assert problems(kind, fields) == expect


def test_a_validating_bus_raises_at_the_producer_and_a_plain_bus_does_not_check():
    got = []
    bus = EventBus(validate=True)
    bus.subscribe(lambda t, k, f: got.append(k))
    bus.emit(0.0, "link_up", {"a": "n0", "b": "n1"})
    with pytest.raises(EventSchemaError, match="link_up: missing field 'b'"):
        bus.emit(0.0, "link_up", {"a": "n0"})
    with pytest.raises(EventSchemaError, match="undeclared event kind"):
        check("linkup", {"a": "n0", "b": "n1"})
    assert got == ["link_up"]
    plain = EventBus()
    plain.subscribe(lambda t, k, f: got.append(k))
    plain.emit(0.0, "anything", {"goes": 1})
    assert got == ["link_up", "anything"]


def test_the_checker_flags_time_going_backwards():
    c = SchemaChecker()
    c(2.0, "link_up", {"a": "n0", "b": "n1"})
    c(1.0, "link_down", {"a": "n0", "b": "n1"})
    assert list(c.problems) == ["link_down: time 1.0 after 2.0"]
    with pytest.raises(EventSchemaError):
        SchemaChecker(strict=True)(0.0, "link_up", {})


# --- real runs -------------------------------------------------------------------------------
def run_checked(name: str, protocol: str, duration: float = 20, poke=None) -> SchemaChecker:
    sc = load_scenario(name, [f"scenario.duration={duration}"], protocol=protocol)
    sim = Simulation(sc, bus=EventBus(validate=True))
    checker = SchemaChecker()
    sim.bus.subscribe(checker)  # subscribing to everything makes every producer emit
    if poke is not None:
        poke(sim)
    sim.run()
    assert dict(checker.problems) == {}
    # a schema error raised inside a protocol hook would be caught and reported this way
    assert "protocol_error" not in checker.seen
    return checker


@pytest.mark.parametrize("name, protocol, expect", [
    ("default", "aodv", {"data_sent", "data_tx", "data_delivered", "ctrl_tx", "route_added",
                         "route_removed", "node_moved", "link_up", "link_down", "rreq_sent",
                         "rrep_sent", "route_found", "route_discovery_started"}),
    ("default", "dsdv", {"route_added", "route_changed", "route_settled", "update_sent",
                         "route_broken", "data_dropped"}),
    ("default", "flooding", {"data_tx", "data_delivered", "data_dropped"}),
    ("line", "aodv", {"data_delivered", "rreq_sent"}),
    ("zigbee-home", "aodv", {"route_expired", "rerr_sent", "route_broken"}),
    ("zigbee-home", "dsdv", {"update_sent", "route_settled"}),
    ("zigbee-home", "flooding", {"data_tx"}),
])
def test_every_event_of_a_run_matches_the_schema(name, protocol, expect):
    checker = run_checked(name, protocol)
    assert expect <= set(checker.seen)


def test_events_of_interventions_match_the_schema():
    def poke(sim):
        sim.run_until(5.0)
        sim.move(1, 10.5, 20.25)
        sim.kill(2)
        sim.run_until(8.0)
        sim.revive(2)

    checker = run_checked("default", "aodv", 12, poke)
    assert {"node_moved", "node_died", "node_revived"} <= set(checker.seen)


def test_the_trace_of_a_checked_run_is_plain_json(tmp_path):
    import io
    import json

    sc = load_scenario("line", ["scenario.duration=3"], protocol="aodv")
    sim = Simulation(sc, bus=EventBus(validate=True))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    sim.run()
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        t, kind = record.pop("t"), record.pop("ev")
        assert t >= 0 and problems(kind, record) == []


# --- producers, statically -------------------------------------------------------------------
def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def protocol_emits(root: Path = ROOT / "protocols") -> list[tuple[str, str, str, set[str], bool]]:
    """(protocol package, where, kind, keyword names, has ``**kwargs``) of every
    ``.emit("kind", ...)``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        package = path.relative_to(root).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "emit" and node.args):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                kind = _str(node.args[0])
                assert kind is not None, f"{where}: emit with a computed kind"
                names = {k.arg for k in node.keywords if k.arg is not None}
                spread = any(k.arg is None for k in node.keywords)
                out.append((package, where, kind, names, spread))
    return out


def test_every_protocol_emit_names_a_declared_kind_and_its_fields():
    emits = protocol_emits()
    assert len(emits) >= 15
    bad = []
    emitted_by: dict[str, set[str]] = {}
    for package, where, kind, names, spread in emits:
        emitted_by.setdefault(kind, set()).add(package)
        spec = EVENTS.get(kind)
        if spec is None:
            bad.append(f"{where}: {kind} is not declared")
            continue
        if extra := names - spec.names:
            bad.append(f"{where}: {kind} fields {sorted(extra)} are not declared")
        if "node" in names:
            bad.append(f"{where}: {kind} passes node (the backend adds it)")
        if not spread and (missing := spec.required - names - {"node"}):
            bad.append(f"{where}: {kind} lacks required fields {sorted(missing)}")
        if package not in spec.emitted_by:
            bad.append(f"{where}: {kind} does not list {package} in emitted_by")
    assert bad == []
    # and no declaration is stale: each protocol kind is emitted by exactly the protocols it names
    assert {k: set(EVENTS[k].emitted_by) for k in PROTOCOL_KINDS} == {
        k: v for k, v in emitted_by.items() if k in PROTOCOL_KINDS}
    assert PROTOCOL_KINDS <= emitted_by.keys()


def core_emits(root: Path = ROOT / "meshnet") -> list[tuple[str, str, set[str]]]:
    """(where, kind, keys) of every call of an ``emit``, ``_emit``, ``on_event`` … that passes a
    str constant directly followed by a dict display with constant keys, e.g.
    ``bus.emit(t, "link_up", {"a": .., "b": ..})`` or
    ``self._emit("route_removed", {"dst": dst})``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        if path.name in ("event_schema.py", "events.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            func = getattr(node, "func", None)
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not (isinstance(node, ast.Call) and name.endswith(("emit", "event"))):
                continue
            for first, second in zip(node.args, node.args[1:]):
                kind = _str(first)
                if kind is not None and isinstance(second, ast.Dict):
                    keys = {_str(k) for k in second.keys}
                    if None not in keys:
                        out.append((f"{path.relative_to(ROOT)}:{node.lineno}", kind, keys))
    return out


def test_every_core_emit_with_a_literal_dict_matches_its_declaration():
    emits = core_emits()
    assert len(emits) >= 12
    bad = []
    for where, kind, keys in emits:
        spec = EVENTS.get(kind)
        if spec is None:
            bad.append(f"{where}: {kind} is not declared")
            continue
        if extra := keys - spec.names:
            bad.append(f"{where}: {kind} fields {sorted(extra)} are not declared")
        # on netns ``node`` travels beside the fields
        if missing := spec.required - keys - {"node"}:
            bad.append(f"{where}: {kind} lacks required fields {sorted(missing)}")
    assert bad == []
    core = {k for k, spec in EVENTS.items() if CORE in spec.emitted_by}
    produced = {kind for _, kind, _ in emits}
    assert core - produced == set(), "declared but never emitted (or only with a computed kind)"


# --- consumers, statically -------------------------------------------------------------------
@dataclass(frozen=True)
class Read:
    where: str
    field: str
    kinds: frozenset[str] | None  # None: a handler of any kind
    strict: bool  # fields["x"] (KeyError if absent), not fields.get("x") / "x" in fields


# Reads the scanner cannot tie to a field name, and why they are fine: {(file, line text): why}.
GENERIC_READS: dict[tuple[str, str], str] = {}


def _params(fn: ast.FunctionDef | ast.Lambda) -> list[str]:
    names = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    return names[1:] if names[:1] == ["self"] else names


def _subscribed_kinds(tree: ast.AST) -> dict[str, frozenset[str]]:
    """Handler name -> kinds, from ``bus.subscribe(self.handler, ("kind", ...))`` calls and from
    dispatch tables ``{"kind": self.handler, ...}``."""
    out: dict[str, frozenset[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                kind = _str(key) if key is not None else None
                if kind in EVENTS and isinstance(value, ast.Attribute):
                    out[value.attr] = out.get(value.attr, frozenset()) | {kind}
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "subscribe" and len(node.args) == 2
                and isinstance(node.args[1], (ast.Tuple, ast.List))):
            target = node.args[0]
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            kinds = [_str(e) for e in node.args[1].elts]
            if name and None not in kinds:
                out[name] = out.get(name, frozenset()) | frozenset(kinds)
    return out


def _handlers(tree: ast.AST) -> list[tuple[ast.AST, str, frozenset[str] | None]]:
    """(body, fields parameter, kinds) of every event handler:

    * a function or lambda taking ``(t, kind, fields)`` or ``(t, node, kind, fields)``: the kinds
      it is subscribed to, or any kind;
    * a one-argument lambda that is the value of a ``{"kind": lambda f: ...}`` dict entry."""
    subscribed = _subscribed_kinds(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            p = _params(node)
            if (len(p) == 3 and p[1] == "kind") or (len(p) == 4 and p[2] == "kind"):
                name = getattr(node, "name", None)
                out.append((node, p[-1], subscribed.get(name) if name else None))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                kind = _str(key) if key is not None else None
                if kind is not None and isinstance(value, ast.Lambda) and len(_params(value)) == 1:
                    out.append((value, _params(value)[0], frozenset({kind})))
    return out


def _constant_loop_values(tree: ast.AST, var: str) -> list[str] | None:
    """The str constants a comprehension variable ``var`` runs over (``for k in ("a", "b")``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension) and getattr(node.target, "id", None) == var:
            if isinstance(node.iter, (ast.Tuple, ast.List)):
                values = [_str(e) for e in node.iter.elts]
                if None not in values:
                    return values
    return None


def consumer_reads(path: Path) -> tuple[list[Read], list[str]]:
    """Every read of an event field in ``path``, and the reads the scanner could not resolve."""
    source = path.read_text()
    tree = ast.parse(source, str(path))
    lines = source.splitlines()
    reads, unresolved = [], []
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    for body, var, kinds in _handlers(tree):
        def is_var(n: ast.AST) -> bool:
            return isinstance(n, ast.Name) and n.id == var

        for node in ast.walk(body):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Subscript) and is_var(node.value):
                name = _str(node.slice)
                if name is not None:
                    reads.append(Read(where, name, kinds, True))
                    continue
                loop = (_constant_loop_values(body, node.slice.id)
                        if isinstance(node.slice, ast.Name) else None)
                if loop is not None:  # fields[k] for k in ("a", "b") if k in fields
                    reads.extend(Read(where, n, kinds, False) for n in loop)
                elif (rel, lines[node.lineno - 1].strip()) not in GENERIC_READS:
                    unresolved.append(f"{where}: {ast.unparse(node)}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and is_var(node.func.value) and node.func.attr == "get"):
                name = _str(node.args[0]) if node.args else None
                if name is not None:
                    reads.append(Read(where, name, kinds, False))
                elif (rel, lines[node.lineno - 1].strip()) not in GENERIC_READS:
                    unresolved.append(f"{where}: {ast.unparse(node)}")
            elif (isinstance(node, ast.Compare) and len(node.ops) == 1
                  and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_var(node.comparators[0])
                  and _str(node.left) is not None):
                reads.append(Read(where, _str(node.left), kinds, False))
    return reads, unresolved


def read_problems(reads: list[Read]) -> list[str]:
    out = []
    for r in reads:
        if r.kinds is None:  # a handler of any kind
            if r.strict and any(r.field not in spec.required for spec in EVENTS.values()):
                out.append(f"{r.where}: fields[{r.field!r}] for any kind, but not every kind "
                           f"has it")
            elif not any(r.field in spec.names for spec in EVENTS.values()):
                out.append(f"{r.where}: {r.field!r} is no field of any kind")
            continue
        for kind in sorted(r.kinds):
            spec = EVENTS.get(kind)
            if spec is None:
                out.append(f"{r.where}: handles {kind}, which is not declared")
            elif r.field not in spec.names:
                out.append(f"{r.where}: reads {r.field!r}, which {kind} never has")
            elif r.strict and r.field not in spec.required:
                out.append(f"{r.where}: fields[{r.field!r}] but it is optional in {kind}")
    return sorted(set(out))


def test_the_consumer_scan_finds_bad_reads(tmp_path):
    src = tmp_path / "c.py"
    src.write_text(
        "class C:\n"
        "    def __init__(self, bus):\n"
        "        bus.subscribe(self._ctrl, ('ctrl_tx',))\n"
        "        self.fmt = {'link_up': lambda f: f['a'] + f.get('c', ''),\n"
        "                    'route_removed': lambda f: f['next_hop']}\n"
        "    def _ctrl(self, t, kind, f):\n"
        "        return f['bytes'] + f['proto'] + ('x' in f)\n"
        "    def any(self, t, kind, fields):\n"
        "        return fields['node'], [fields[k] for k in ('dst', 'zz') if k in fields]\n")
    reads, unresolved = consumer_reads(src)
    assert unresolved == []
    assert [p.split(": ", 1)[1] for p in read_problems(reads)] == [
        "reads 'c', which link_up never has",
        "fields['next_hop'] but it is optional in route_removed",
        "reads 'proto', which ctrl_tx never has",
        "reads 'x', which ctrl_tx never has",
        "'zz' is no field of any kind",
        "fields['node'] for any kind, but not every kind has it",
    ]


def test_consumers_read_only_declared_fields():
    reads, unresolved = [], []
    for path in CONSUMERS:
        r, u = consumer_reads(path)
        reads += r
        unresolved += u
    assert unresolved == [], "add a field-name read, or allowlist it in GENERIC_READS with a reason"
    assert read_problems(reads) == []
    # the scan sees what it should (a refactor must not make it pass by finding nothing)
    by_file: dict[str, set[str]] = {}
    for r in reads:
        by_file.setdefault(r.where.split(":")[0], set()).add(r.field)
    assert {"size", "flow", "uid", "delay", "hops", "reason",
            "bytes"} <= by_file["meshnet/metrics.py"]
    assert {"node", "dst", "next_hop", "hops", "metric", "ttl", "to", "dsts", "src", "a", "b",
            "neighbor", "reason"} <= by_file["tui/log_format.py"]


def test_consumers_handle_and_subscribe_to_declared_kinds_only():
    from meshnet.metrics import KINDS
    from meshnet.tui.view import ALL_LOG_KINDS

    assert set(KINDS) - EVENTS.keys() == set()
    assert set(ALL_LOG_KINDS) - EVENTS.keys() == set()
    for path in CONSUMERS:
        tree = ast.parse(path.read_text())
        for kinds in _subscribed_kinds(tree).values():
            assert kinds <= EVENTS.keys(), path
