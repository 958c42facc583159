"""Protocol parameters: absurd values are rejected up front with a message naming the key,
instead of hanging a run (NaN timers) or flooding it (zero update periods)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from meshnet.protocol_api import ProtocolConfigError, build_params
from meshnet.scenario import ScenarioError, load_scenario
from meshnet.sim import Simulation
from protocols.aodv.params import AodvParams
from protocols.aodv.protocol import AODV
from protocols.dsdv.protocol import DSDV, DsdvParams
from protocols.flooding import Flooding


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 10**400])
def test_non_finite_floats_are_rejected_naming_the_key(value):
    with pytest.raises(ProtocolConfigError, match=r"protocol\.hello_interval = .*finite"):
        build_params(AODV, {"hello_interval": value})


def test_an_int_is_still_accepted_for_a_float():
    assert build_params(AODV, {"hello_interval": 2}).hello_interval == 2.0


@pytest.mark.parametrize("key,value", [
    ("periodic_update_interval", 0), ("periodic_update_interval", float("nan")),
    ("settling_time", -1.0), ("weighted_factor", 1.5), ("weighted_factor", -0.1),
    ("holdtimes", 0),
])
def test_dsdv_rejects(key, value):
    with pytest.raises(ProtocolConfigError, match=rf"protocol\.{key} = "):
        DsdvParams(**{key: value})


def test_dsdv_accepts_its_boundaries():
    DsdvParams(settling_time=0, weighted_factor=0, holdtimes=1)
    DsdvParams(weighted_factor=1)


@pytest.mark.parametrize("key,value", [
    ("hello_interval", 0.0), ("active_route_timeout", 0.0), ("node_traversal_time", 0.0),
    ("queue_timeout", 0.0), ("hello_interval", float("nan")), ("delete_period", float("nan")),
    ("queue_len", 0), ("ttl_increment", 0), ("allowed_hello_loss", 0),
    ("ttl_start", 0), ("ttl_threshold", 0), ("net_diameter", 0), ("net_diameter", 256),
])
def test_aodv_rejects(key, value):
    with pytest.raises(ProtocolConfigError, match=rf"protocol\.{key}\b"):
        AodvParams(**{key: value})


@pytest.mark.parametrize("kw", [dict(ttl_start=8), dict(ttl_threshold=40),
                                dict(net_diameter=5)])
def test_aodv_ttls_must_be_ordered(kw):
    with pytest.raises(ProtocolConfigError, match="ttl_start .* <= .*ttl_threshold .* <= "
                                                  ".*net_diameter"):
        AodvParams(**kw)


def test_aodv_zero_derived_fields_are_still_derived():
    p = AodvParams(delete_period=0, my_route_timeout=0, net_traversal_time=0,
                   path_discovery_time=0, ttl_start=7, ttl_threshold=7, net_diameter=7)
    assert p.delete_period > 0 and p.my_route_timeout > 0 and p.path_discovery_time > 0


@pytest.mark.parametrize("proto,setting", [("aodv", "hello_interval=nan"),
                                           ("dsdv", "periodic_update_interval=0")])
def test_a_bad_parameter_is_a_scenario_error(proto, setting):
    key = setting.split("=")[0]
    with pytest.raises(ScenarioError, match=rf"protocol\.{key}"):
        Simulation(load_scenario("line", [f"protocol.name={proto}", f"protocol.{setting}"]))


def test_the_cli_prints_one_line_and_exits_2_for_a_nan_parameter():
    p = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "line", "--set",
                        "protocol.hello_interval=nan"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.startswith("meshnet: error: ") and p.stderr.count("\n") == 1, p.stderr
    assert "protocol.hello_interval" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("value", [0, -1])
def test_flooding_needs_a_duplicate_cache(value):
    # cache_size = 0 remembers no packet: every node forwards every copy again, without end
    with pytest.raises(ProtocolConfigError, match=rf"^protocol\.cache_size = {value}: must be "
                                                  r">= 1 \("):
        Flooding.Params(cache_size=value)
    with pytest.raises(ProtocolConfigError, match=r"^protocol\.cache_size = 0: must be >= 1"):
        build_params(Flooding, {"cache_size": 0})
    assert build_params(Flooding, {"cache_size": 1}).cache_size == 1


def test_the_cli_rejects_a_zero_flooding_cache_in_one_line():
    p = subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "line", "-p", "flooding",
                        "--set", "protocol.cache_size=0", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == "", (p.stdout, p.stderr)
    assert p.stderr.startswith("meshnet: error: ") and p.stderr.count("\n") == 1, p.stderr
    assert "protocol.cache_size = 0: must be >= 1" in p.stderr


def test_defaults_are_valid():
    assert DSDV.Params() == DsdvParams() and AodvParams().ttl_start == 1
