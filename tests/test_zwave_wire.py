"""Z-Wave frames (protocols/zwave/wire.py): byte layouts, round trips, and malformed input that
raises DecodeError only, also through the protocol's on_control and forward."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.protocol_api import DecodeError, Packet
from meshnet.protocols.zwave import ZWave, wire

from .fakes import FakeContext

ids = st.integers(1, 232)
addresses = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "%d.%d.%d.%d" % t)


@st.composite
def routes(draw, exclude=(), max_len=4):
    pool = [i for i in range(1, 233) if i not in exclude]
    return tuple(draw(st.lists(st.sampled_from(pool), max_size=max_len, unique=True)))


@st.composite
def bodies(draw):
    kind = draw(st.integers(1, 8))
    if kind == 1:
        nbrs = draw(st.lists(st.tuples(ids, addresses), max_size=20, unique_by=lambda x: x[0]))
        return wire.RangeInfo(draw(addresses), tuple(sorted(nbrs)))
    if kind == 2:
        dst = draw(ids)
        return wire.AssignRoutes(dst, draw(addresses),
                                 tuple(draw(st.lists(routes(exclude=(dst,)), max_size=4))))
    if kind == 3:
        return wire.RouteRequest(draw(addresses))
    if kind == 4:
        return wire.Unreachable(draw(addresses), draw(st.booleans()), draw(st.integers(0, 255)))
    if kind == 5:
        return wire.Ack()
    if kind == 6:
        return wire.Error(draw(ids), draw(ids))
    return wire.Nop() if kind == 7 else wire.NeighborUpdate()


@st.composite
def frames(draw):
    kind = draw(st.integers(1, 4))
    if kind == 1:
        return wire.FindNodes(draw(ids))
    if kind == 2:
        return wire.NodeInRange(draw(ids))
    orig = draw(ids)
    target = draw(ids.filter(lambda t: t != orig))
    route = draw(routes(exclude=(orig, target)))
    if kind == 3:
        return wire.Routed(orig, target, draw(st.integers(0, 255)), route, draw(bodies()),
                           draw(st.integers(0, len(route) + 1)), draw(st.booleans()))
    limit = draw(st.integers(len(route), 4))
    return wire.Explorer(orig, target, draw(st.integers(0, 255)), limit, route, draw(bodies()))


@st.composite
def headers(draw):
    src = draw(ids)
    dst = draw(ids.filter(lambda t: t != src))
    route = draw(routes(exclude=(src, dst)))
    return wire.DataHeader(src, dst, draw(st.integers(0, 255)), route,
                           draw(st.integers(0, len(route) + 1)))


@settings(max_examples=400, deadline=None)
@given(frames())
def test_frames_round_trip(frame):
    assert wire.decode(wire.encode(frame)) == frame


@settings(max_examples=300, deadline=None)
@given(headers())
def test_data_headers_round_trip(header):
    raw = wire.encode_header(header)
    assert len(raw) == 5 + len(header.repeaters)
    assert wire.decode_header(raw) == header


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=80))
def test_arbitrary_bytes_raise_only_decode_error(data):
    for decoder in (wire.decode, wire.decode_header):
        try:
            decoder(data)
        except DecodeError:
            pass


@settings(max_examples=300, deadline=None)
@given(frames(), st.data())
def test_corrupted_frames_raise_only_decode_error(frame, data):
    raw = bytearray(wire.encode(frame))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for blob in (bytes(raw), bytes(raw[:cut])):
        try:
            wire.decode(blob)
        except DecodeError:
            pass


def test_byte_layouts():
    assert wire.encode(wire.FindNodes(7)) == b"\x01\x07"
    assert wire.encode(wire.NodeInRange(232)) == b"\x02\xe8"
    routed = wire.Routed(1, 9, 42, (3, 5), wire.Ack(), hop=3, inbound=True)
    assert wire.encode(routed) == bytes([3, 1, 9, 42, 1, 0x23, 3, 5, 5])
    explorer = wire.Explorer(4, 1, 7, 4, (2,), wire.Nop())
    assert wire.encode(explorer) == bytes([4, 4, 1, 7, 0x41, 2, 7])
    header = wire.DataHeader(1, 6, 200, (2, 3, 4, 5), hop=2)
    assert wire.encode_header(header) == bytes([0x10, 1, 6, 200, 0x42, 2, 3, 4, 5])
    info = wire.RangeInfo("10.99.0.3", ((2, "10.99.0.2"), (9, "10.99.0.9")))
    raw = wire.encode_body(info)
    assert raw[:5] == bytes([1, 10, 99, 0, 3])
    assert raw[5:5 + 29] == bytes([0x02 | 0x00, 0x01]) + bytes(27)  # IDs 2 and 9
    assert raw[34:] == bytes([10, 99, 0, 2, 10, 99, 0, 9])


@pytest.mark.parametrize("raw, why", [
    (b"", "empty"),
    (b"\x09\x01", "unknown Z-Wave frame type 9"),
    (b"\x01\x00", "node ID 0"),
    (b"\x01\xe9", "node ID 233"),
    (bytes([3, 1, 1, 0, 0, 0, 5]), "to itself"),
    (bytes([3, 1, 9, 0, 0, 0x50, 2, 3, 4, 5, 6, 5]), "5 repeaters"),
    (bytes([3, 1, 9, 0, 0, 0x22, 3, 3, 5]), "repeats a node"),
    (bytes([3, 1, 9, 0, 0, 0x24, 3, 4, 5]), "hop index 4"),
    (bytes([3, 1, 9, 0, 2, 0x00, 5]), "reserved flag"),
    (bytes([4, 1, 9, 0, 0x25, 2, 3, 7]), "limit 2"),
    (bytes([3, 1, 9, 0, 0, 0x00, 5, 0]), "ack body must be 1 bytes"),
])
def test_malformed_frames_say_why(raw, why):
    with pytest.raises(DecodeError, match=why):
        wire.decode(raw)


def test_encoders_refuse_what_does_not_fit():
    with pytest.raises(ValueError):
        wire.encode_header(wire.DataHeader(1, 2, 0, (3, 4, 5, 6, 7)))  # 5 repeaters
    with pytest.raises(ValueError):
        wire.encode(wire.FindNodes(233))
    with pytest.raises(ValueError):
        wire.encode(wire.Routed(1, 2, 0, (1,), wire.Ack()))  # a loop through the originator


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_the_protocol_survives_garbage(data):
    ctx = FakeContext("10.99.0.2", node_id=1)
    proto = ZWave(ctx)
    proto.start()
    try:
        proto.on_control("10.99.0.3", data)
    except DecodeError:
        pass
    packet = Packet(1, "10.99.0.3", "10.99.0.9", 20, 0.0, meta={"zwave": data})
    next_hop = proto.forward(packet, "10.99.0.3")  # never raises
    if next_hop is None:  # dropped with a reason
        assert ctx.dropped[-1][1] in ("zwave_bad_header", "zwave_not_on_route",
                                      "zwave_route_failed")
    else:  # a header that really names this node (ID 2) as the next repeater
        assert wire.decode_header(packet.meta["zwave"]).path[1:].index(2) >= 0
