import pytest

from meshnet.scenario import ScenarioError, builtin_names, load_scenario, scenario_from_dict


def test_builtins_exist_and_load():
    names = builtin_names()
    assert {"default", "broch", "line"} <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.duration > 0 and sc.nodes.count >= 1


def test_every_field_has_a_default():
    sc = scenario_from_dict({})
    assert sc.duration == 60.0
    assert sc.nodes.count == 30
    assert sc.protocol.name == "aodv"
    assert sc.traffic == []


def test_overrides_are_typed_and_reach_any_section():
    sc = load_scenario("broch", ["mobility.pause=300", "nodes.count=20", "traffic.rate=8",
                                 'protocol.name="dsdv"', "radio.profile=zigbee"])
    assert sc.mobility.extra["pause"] == 300
    assert sc.nodes.count == 20
    assert sc.traffic[0].rate == 8
    assert sc.protocol.name == "dsdv"
    assert sc.radio.profile == "zigbee"  # bare strings are accepted


@pytest.mark.parametrize("raw, words", [
    ({"nodes": {"cuont": 3}}, ["nodes.cuont", "allowed", "count"]),
    ({"nodes": {"count": 0}}, ["nodes.count = 0", "1..65534"]),
    ({"nodes": {"count": 70000}}, ["nodes.count = 70000", "address plan"]),
    ({"traffic": [{"flows": 1, "rate": float("inf")}]}, ["traffic.0.rate = inf", "finite"]),
    ({"traffic": [{"flows": 1, "size": 70000}]}, ["traffic.0.size", "65507"]),
    ({"traffic": [{"flows": 1, "ttl": 300}]}, ["traffic.0.ttl", "1..255"]),
    ({"area": {"width": float("nan")}}, ["area.width = nan"]),
    ({"radio": {"propagation": "two-ray", "range": 100}}, ["radio.range", "unit-disk"]),
    ({"radio": {"propagation": "unit-disk"}, "nodes": {"battery_j": 5}}, ["nodes.battery_j"]),
    ({"nodes": {"count": "ten"}}, ["nodes.count = 'ten'", "integer"]),
    ({"nodes": {"count": True}}, ["nodes.count = True"]),
    ({"scenario": {"duration": -5}}, ["scenario.duration = -5", "> 0"]),
    ({"scenario": {"backend": "ns3"}}, ["scenario.backend", "sim, netns"]),
    ({"radios": {}}, ["unknown section [radios]"]),
    ({"traffic": [{"kind": "cbr"}]}, ["traffic.0", "flows"]),
    ({"traffic": [{"flows": 1, "start": 10, "stop": 5}]}, ["traffic.0.stop"]),
    ({"nodes": {"placement": "file"}}, ["nodes.file"]),
])
def test_validation_errors_name_key_value_and_what_is_allowed(raw, words):
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(raw, "my.toml")
    msg = str(e.value)
    assert msg.startswith("my.toml: ")
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[nodes\ncount = 3")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(str(bad))
    with pytest.raises(ScenarioError, match="built-in scenarios are"):
        load_scenario("no-such-builtin")


def test_bad_override_syntax():
    with pytest.raises(ScenarioError, match="section.key=value"):
        load_scenario("default", ["nodes.count"])
    with pytest.raises(ScenarioError, match="section.key"):
        load_scenario("default", ["count=3"])


def test_switching_model_or_protocol_with_set_drops_the_old_keys():
    sc = load_scenario("default", ["mobility.model=static"])
    assert sc.mobility.model == "static" and sc.mobility.extra == {}
    sc = load_scenario("broch", ['protocol.name="dsdv"', "protocol.settling_time=3.0"])
    assert sc.protocol.extra == {"settling_time": 3.0}
    sc = load_scenario("broch", ["mobility.model=random-walk", "mobility.interval=5"])
    assert sc.mobility.extra == {"interval": 5}
