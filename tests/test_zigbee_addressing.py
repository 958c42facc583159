"""ZigBee distributed addresses (protocols/zigbee/cskip.py): Cskip and child addresses against
values worked out by hand from the formulas of ZigBee 2006 §3.6.1.6, and, for random tree shapes,
a fully populated tree whose address blocks never overlap and whose tree routing (§3.6.3.3) takes
every packet along the tree path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from meshnet.protocol_api import ProtocolConfigError, build_params
from meshnet.protocols.zigbee import MeshParams, TreeParams, TreeShape, ZigbeeMesh, ZigbeeTree


def test_cskip_cm4_rm4_lm3():
    # Cskip(d) = (1 + 4 - 4 - 4 * 4^(3-d-1)) / (1 - 4) = (4^(3-d) - 1) / 3
    shape = TreeShape(4, 4, 3)
    assert [shape.cskip(d) for d in range(5)] == [21, 5, 1, 0, 0]
    assert [shape.router_child(0, 0, n) for n in (1, 2, 3, 4)] == [1, 22, 43, 64]
    assert [shape.router_child(22, 1, n) for n in (1, 2, 3, 4)] == [23, 28, 33, 38]
    assert [shape.router_child(23, 2, n) for n in (1, 2, 3, 4)] == [24, 25, 26, 27]
    assert shape.max_end_devices == 0 and shape.size == 85  # 1 + 4 * 21


def test_cskip_cm6_rm4_lm3_with_end_devices():
    # Cskip(d) = (1 + 6 - 4 - 6 * 4^(2-d)) / (1 - 4) = 2 * 4^(2-d) - 1
    shape = TreeShape(6, 4, 3)
    assert [shape.cskip(d) for d in range(4)] == [31, 7, 1, 0]
    assert [shape.router_child(0, 0, n) for n in (1, 2, 3, 4)] == [1, 32, 63, 94]
    assert [shape.end_device_child(0, 0, n) for n in (1, 2)] == [125, 126]  # 0 + 31 * 4 + n
    assert [shape.router_child(32, 1, n) for n in (1, 2, 3, 4)] == [33, 40, 47, 54]
    assert [shape.end_device_child(32, 1, n) for n in (1, 2)] == [61, 62]  # 32 + 7 * 4 + n
    assert shape.is_descendant(32, 1, 62) and not shape.is_descendant(32, 1, 63)
    assert shape.child_toward(32, 1, 45) == (40, False)
    assert shape.child_toward(32, 1, 61) == (61, True)
    assert shape.child_toward(0, 0, 126) == (126, True)


def test_cskip_with_one_router_per_parent():
    # Rm = 1: Cskip(d) = 1 + Cm (Lm - d - 1) = 1 + 3 (3 - d)
    shape = TreeShape(3, 1, 4)
    assert [shape.cskip(d) for d in range(5)] == [10, 7, 4, 1, 0]
    assert shape.router_child(0, 0, 1) == 1
    assert [shape.end_device_child(0, 0, n) for n in (1, 2)] == [11, 12]
    assert [shape.end_device_child(1, 1, n) for n in (1, 2)] == [9, 10]  # 1 + 7 + n


def test_home_stack_profile_defaults():
    # ZigBee 2006 stack profile 1: Cm 20, Rm 6, Lm 5
    shape = TreeParams().shape
    assert shape == TreeShape(20, 6, 5)
    assert shape.cskip(0) == 5181  # (1 + 20 - 6 - 20 * 6^4) / (1 - 6)
    assert shape.size == 1 + 6 * 5181 + 14


def test_depth_limit_and_bad_slots():
    shape = TreeShape(4, 2, 2)
    with pytest.raises(ValueError, match="accepts no children"):
        shape.router_child(5, 2, 1)
    with pytest.raises(ValueError, match="not in 1..2"):
        shape.router_child(0, 0, 3)


def _populate(shape: TreeShape):
    """Every address of a full tree: {address: (depth, parent address or None, is router)}."""
    nodes = {0: (0, None, True)}
    stack = [(0, 0)]
    while stack:
        address, depth = stack.pop()
        if shape.cskip(depth) == 0:
            continue
        for n in range(1, shape.max_routers + 1):
            child = shape.router_child(address, depth, n)
            assert child not in nodes, f"router address {child} handed out twice"
            nodes[child] = (depth + 1, address, True)
            stack.append((child, depth + 1))
        for n in range(1, shape.max_end_devices + 1):
            child = shape.end_device_child(address, depth, n)
            assert child not in nodes, f"end-device address {child} handed out twice"
            nodes[child] = (depth + 1, address, False)
    return nodes


def _ancestors(nodes, address):
    out = []
    while address is not None:
        out.append(address)
        address = nodes[address][1]
    return out


def _tree_route(shape: TreeShape, nodes, src: int, dst: int) -> list[int]:
    path = [src]
    here = src
    while here != dst:
        depth, parent, router = nodes[here]
        if router and shape.is_descendant(here, depth, dst):
            here, _ = shape.child_toward(here, depth, dst)
        else:
            here = parent
        assert here is not None and len(path) <= 2 * shape.max_depth, path
        path.append(here)
    return path


shapes = st.tuples(st.integers(1, 6), st.integers(0, 6), st.integers(1, 4)).filter(
    lambda t: t[1] <= t[0]).map(lambda t: TreeShape(*t)).filter(lambda s: s.size <= 1500)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, data=st.data())
def test_blocks_never_overlap_and_tree_routes_follow_the_tree(shape, data):
    nodes = _populate(shape)
    assert len(nodes) <= shape.size and all(0 <= a < shape.size for a in nodes)
    for address, (depth, parent, router) in nodes.items():
        if parent is not None:  # a child's block lies inside its parent's, and nothing else does
            assert shape.is_descendant(parent, nodes[parent][0], address)
        if router and depth > 0:
            inside = {a for a in nodes if shape.is_descendant(address, depth, a)}
            below = {a for a in nodes if address in _ancestors(nodes, a)[1:]}
            assert inside == below
    addresses = sorted(nodes)
    for _ in range(10):
        src = data.draw(st.sampled_from(addresses))
        dst = data.draw(st.sampled_from(addresses))
        up, down = _ancestors(nodes, src), _ancestors(nodes, dst)
        common = next(a for a in up if a in down)
        expected = up[:up.index(common) + 1] + list(reversed(down[:down.index(common)]))
        assert _tree_route(shape, nodes, src, dst) == expected


@pytest.mark.parametrize("values, message", [
    ({"max_depth": 0}, "max_depth"), ({"max_depth": 16}, "max_depth"),
    ({"max_routers": 9, "max_children": 8}, "max_routers"), ({"max_children": 0}, "max_children"),
    ({"max_children": 40, "max_routers": 20, "max_depth": 6}, "16-bit unicast addresses"),
    ({"end_devices": [1]}, "coordinator"), ({"end_devices": ["x3"]}, "not a node"),
    ({"end_devices": 3}, "list of nodes"), ({"end_device_fraction": 1.5}, "end_device_fraction"),
    ({"link_status_period": 0.0}, "link_status_period"), ({"max_parent_link_cost": 8}, "1..7"),
    ({"sensitivity_dbm": 10.0}, "sensitivity_dbm"), ({"scan_duration": float("nan")}, "finite"),
    ({"colour": 1}, "unknown parameter"),
])
def test_bad_tree_parameters_are_refused_naming_the_key(values, message):
    with pytest.raises(ProtocolConfigError, match=message):
        build_params(ZigbeeTree, values)


@pytest.mark.parametrize("values, message", [
    ({"max_source_route": 15}, "max_source_route"), ({"concentrator_interval": 0.0}, "> 0"),
    ({"concentrator": 4, "end_devices": [4]}, "end device"), ({"max_forwards": 0}, ">= 1"),
    ({"tree_fallback": 1}, "expected bool"),
])
def test_bad_mesh_parameters_are_refused_naming_the_key(values, message):
    with pytest.raises(ProtocolConfigError, match=message):
        build_params(ZigbeeMesh, values)


def test_derived_parameters_and_node_names():
    p = build_params(ZigbeeMesh, {"end_devices": ["n4", 7], "max_depth": 4})
    assert p.end_devices == [4, 7] and p.broadcast_radius == 8 and p.concentrator_radius == 8
    assert isinstance(p, MeshParams) and build_params(ZigbeeMesh, {"concentrator": 0}).concentrator == 0
