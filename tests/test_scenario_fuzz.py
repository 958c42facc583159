"""Fuzzing every scenario key through the command line: any value (huge, tiny, negative, NaN,
infinite, strings, unicode, nested arrays) gives either one line and exit status 2, or a short
run that finishes in bounded time with its JSON result. Never a traceback, a hang or a
runaway."""

from __future__ import annotations

import dataclasses
import json
import math
import signal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from meshnet import cli
from meshnet.bench.suite import toml_literal
from meshnet.mobility.params import _PARAMS as MOBILITY_PARAMS
from meshnet.registry import load_protocol
from meshnet.scenario import (
    ATTACKER_SCHEMA,
    FAULT_SCHEMA,
    GROUP_SCHEMA,
    SCHEMA,
    TRAFFIC_SCHEMA,
)

RUN_SECONDS = 60  # wall-clock bound of one short run (1 simulated second, a handful of nodes)

# settings that give a key its meaning (a log-distance exponent needs that propagation ...)
CONTEXT = {
    "radio.exponent": ["radio.propagation=log-distance"],
    "radio.sigma": ["radio.propagation=log-distance"],
    "radio.shadowing": ["radio.propagation=log-distance"],
    "radio.tx_power": ["radio.propagation=friis"],
    "nodes.battery_j": ["radio.propagation=friis"],
    "nodes.file": ["nodes.placement=file"],
}
SKIP = {"scenario.backend"}  # netns is `meshnet emulate`'s: `run` refuses it in one line anyway


def _keys() -> list[tuple[str, list[str]]]:
    keys = []
    for section, table in SCHEMA.items():
        for key in table:
            if key != "*" and f"{section}.{key}" not in SKIP:
                name = f"{section}.{key}"
                keys.append((name, CONTEXT.get(name, [])))
    keys += [(f"traffic.0.{key}", []) for key in TRAFFIC_SCHEMA]
    keys += [(f"groups.0.{key}", []) for key in GROUP_SCHEMA]
    keys += [(f"faults.0.{key}", ["faults.0.kind=crash", "faults.0.at=0.5",
                                  "faults.0.nodes=[2]"]) for key in FAULT_SCHEMA]
    keys += [(f"attackers.0.{key}", ["attackers.0.role=blackhole", "attackers.0.nodes=[2]"])
             for key in ATTACKER_SCHEMA]
    for model, params in MOBILITY_PARAMS.items():
        keys += [(f"mobility.{key}", [f"mobility.model={model}"]) for key in params]
    for proto in ("aodv", "dsdv", "gpsr", "mtpr", "cmmbcr", "flooding"):
        fields = dataclasses.fields(load_protocol(proto).Params)
        keys += [(f"protocol.{f.name}", [f"protocol.name={proto}"]) for f in fields]
    return keys


KEYS = _keys()

# values a valid run would spend long on: kept out, the run must stay short
HEAVY = {
    "scenario.duration": lambda v: v > 1,
    "nodes.count": lambda v: v > 40,
    "traffic.0.flows": lambda v: v > 50,
    "traffic.0.rate": lambda v: v > 1000,
}

scalars = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, 1, -1, 2**63, 2**64 + 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e308, -1e308, 1e-9, 0.001, 1e8, 1e12]),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(["", "aodv", "\u00b2", "\u0661\u0662", "a\u0000b", "../../etc/passwd",
                     "/dev/full", "[", "x = 1"]),
)
# values a scenario might really hold, so that many runs go ahead and exercise the model
plausible = st.one_of(
    st.integers(min_value=0, max_value=12),
    st.floats(min_value=0.0, max_value=12.0),
    st.sampled_from(["log-distance", "friis", "frame", "link", "hello", "link-layer", "rng",
                     "gabriel", "none", "radiated", "poisson", "crash", "blackhole", "zigbee",
                     "239.1.1.1", "n2", "0:17.4,-25:8.5"]),
    st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3),
)
values = st.one_of(
    plausible,
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12),
)
nested = st.integers(min_value=30, max_value=3000).map(lambda d: "[" * d + "]" * d)


class RunTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise RunTooLong(f"a run took longer than {RUN_SECONDS} s")


def run_cli(capsys, args: list[str]) -> tuple[int, str, str]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(RUN_SECONDS)
    try:
        code = cli.main(args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return code, out, err


def check_outcome(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    if code == 0:
        result = json.loads(out)
        assert result["duration_s"] <= 1.0 + 1e-9
    else:
        assert code == 2, (code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("meshnet: error: "), err


BASE = ["run", "line", "--json", "-q", "--set", "nodes.count=4", "--set", "traffic.0.pairs=[[1, 4]]",
        "--set", "traffic.0.start=0"]


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(KEYS), values)
def test_any_value_for_any_key(capsys, key_context, value):
    key, context = key_context
    heavy = HEAVY.get(key)
    if heavy is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        assume(not (math.isfinite(value) and heavy(value)))
    args = list(BASE)
    for setting in context:
        args += ["--set", setting]
    args += ["--set", f"{key}={toml_literal(value)}"]
    if key != "scenario.duration":
        args += ["--duration", "1"]
    check_outcome(*run_cli(capsys, args))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(KEYS), nested)
def test_deeply_nested_values(capsys, key_context, text):
    key, _ = key_context
    check_outcome(*run_cli(capsys, [*BASE, "--duration", "1", "--set", f"{key}={text}"]))


@pytest.mark.parametrize("key, context", KEYS, ids=[k for k, _ in KEYS])
def test_every_key_is_fuzzed(key, context):
    """The list above covers every key the scenario schema, the mobility models and the
    shipped protocols know, so a new key is fuzzed the day it is added."""
    section = key.split(".")[0]
    assert section in SCHEMA or section in ("traffic", "groups", "faults", "attackers")
