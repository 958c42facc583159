"""ZigBee frames (protocols/zigbee/wire.py): byte layouts from the ZigBee and 802.15.4
specifications, encode∘decode identity for every frame, and arbitrary bytes raise only
DecodeError, in the decoder and in a node's on_control."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from meshnet.protocol_api import DecodeError, Packet
from meshnet.protocols.zigbee import ZigbeeMesh, ZigbeeTree, wire
from tests.fakes import FakeContext

u8, u16 = st.integers(0, 0xFF), st.integers(0, 0xFFFF)
ips = st.tuples(u8, u8, u8, u8).map(lambda t: "%d.%d.%d.%d" % t)
maybe_ip = st.none() | ips
costs = st.integers(0, 7)


@st.composite
def headers(draw, frame_type=st.sampled_from([wire.DATA, wire.COMMAND])):
    relays = draw(st.none() | st.lists(u16, max_size=14).map(tuple))
    index = draw(st.integers(0, len(relays) - 1)) if relays else 0
    return wire.NwkHeader(draw(frame_type), draw(u16), draw(u16), draw(u8), draw(u8),
                          draw(st.integers(0, 3)), draw(maybe_ip), draw(maybe_ip), relays, index)


commands = st.one_of(
    st.builds(wire.RouteRequest, u8, u16, u8, st.integers(0, 2), maybe_ip),
    st.builds(wire.RouteReply, u8, u16, u16, u8, maybe_ip, maybe_ip),
    st.builds(wire.NetworkStatus, u8, u16),
    st.builds(wire.RouteRecord, st.lists(u16, max_size=30).map(tuple)),
    st.builds(wire.LinkStatus, st.lists(st.tuples(u16, costs, costs), max_size=31).map(tuple),
              st.booleans(), st.booleans()),
)
zdos = st.one_of(
    st.builds(wire.DeviceAnnounce, u8, u16, ips, u8),
    st.builds(wire.AddressRequest, u8, ips),
    st.builds(wire.AddressResponse, u8, u8, ips, u16),
)
joins = st.one_of(
    st.just(wire.BeaconRequest()),
    st.builds(wire.Beacon, u16, st.integers(0, 15), st.booleans(), st.booleans(), st.booleans(),
              st.booleans(), st.integers(0, 2**64 - 1), u8),
    st.builds(wire.AssociationRequest, u8),
    st.builds(wire.AssociationResponse, u16, u8),
)
nwk_frames = st.one_of(
    st.builds(wire.NwkFrame, headers(st.just(wire.COMMAND)), commands),
    st.builds(wire.NwkFrame, headers(st.just(wire.DATA)), zdos),
)


@settings(max_examples=400)
@given(msg=st.one_of(nwk_frames, joins))
def test_encode_then_decode_is_the_identity(msg):
    raw = wire.encode(msg)
    assert wire.decode(raw) == msg
    assert wire.encode(wire.decode(raw)) == raw


@settings(max_examples=300)
@given(h=headers())
def test_data_header_round_trip(h):
    raw = wire.encode_header(h)
    assert wire.decode_header(raw) == (h, len(raw))


@settings(max_examples=1000)
@given(raw=st.binary(max_size=80))
def test_arbitrary_bytes_raise_only_decode_error(raw):
    for decoder in (wire.decode, wire.decode_header):
        try:
            decoder(raw)
        except DecodeError:
            pass


@settings(max_examples=500)
@given(msg=st.one_of(nwk_frames, joins), cut=st.integers(1, 40), extra=st.binary(min_size=1, max_size=3))
def test_truncated_or_padded_frames_raise_decode_error(msg, cut, extra):
    raw = wire.encode(msg)
    if isinstance(msg, wire.NwkFrame) and isinstance(msg.body, wire.LinkStatus):
        return  # trailing bytes of a link status read as more entries only with a new count
    for bad in (raw[:max(0, len(raw) - cut)], raw + extra):
        with pytest.raises(DecodeError):
            wire.decode(bad)


def test_link_status_bytes_follow_the_spec():
    h = wire.NwkHeader(wire.COMMAND, 0xFFFC, 0x0001, 1, 7)
    raw = wire.encode(wire.NwkFrame(h, wire.LinkStatus(((0x0000, 1, 3), (0x0016, 7, 0)))))
    # frame control 0x0009 (command, version 2, discover route 0), little-endian addresses
    assert raw == (bytes([0x09, 0x00, 0xFC, 0xFF, 0x01, 0x00, 1, 7])
                   + bytes([0x08, 0x62, 0x00, 0x00, 0x31, 0x16, 0x00, 0x07]))


def test_route_request_with_ieee_and_source_route_header_bytes():
    h = wire.NwkHeader(wire.COMMAND, 0xFFFC, 0x0022, 10, 200, src_ieee="10.99.0.3")
    raw = wire.encode(wire.NwkFrame(h, wire.RouteRequest(5, 0x0040, 3, 1, "10.99.0.9")))
    assert raw[:2] == struct.pack("<H", 0x1009)  # source IEEE present
    assert raw[8:16] == struct.pack("<Q", 0x0A630003)
    assert raw[16:] == bytes([0x01, 0x28, 5, 0x40, 0x00, 3]) + struct.pack("<Q", 0x0A630009)
    data = wire.encode_header(wire.NwkHeader(wire.DATA, 0x0005, 0x0000, 9, 1, discover_route=1,
                                             relays=(0x11, 0x22), relay_index=1))
    assert data == bytes([0x48, 0x04, 5, 0, 0, 0, 9, 1, 2, 1, 0x11, 0, 0x22, 0])
    assert len(wire.encode_header(wire.NwkHeader(wire.DATA, 1, 2, 3, 4, relays=(1,) * 14,
                                                 relay_index=13))) == 38  # fits an IPv4 option


def test_beacon_carries_the_zigbee_beacon_payload():
    raw = wire.encode(wire.Beacon(0x0021, 2, True, False, extended_pan_id=0x0A630001))
    assert raw[:6] == bytes([0x00, 0x00, 0x21, 0x00, 0xFF, 0x8F])  # superframe: permit join
    assert raw[6:9] == bytes([0x00, 0x21, 0x04 | 2 << 3])  # protocol 0, profile 1 / version 2
    assert raw[9:17] == struct.pack("<Q", 0x0A630001) and raw[17:] == b"\xff\xff\xff\x00"


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"), (bytes([0x01, 0x00]) + bytes(6), "protocol version 0"),
    (bytes([0x0B, 0x00]) + bytes(6), "frame type 3"),
    (bytes([0x09, 0x02]) + bytes(6) + b"\x01", "multicast"),
    (bytes([0x09, 0x00]) + bytes(6) + b"\x04", "unknown NWK command 0x04"),
    (bytes([0x08, 0x00]) + bytes(6) + b"\x13\x00", "ZDO command too short"),
    (bytes([0x00, 0x09]), "unknown join frame"),
    (bytes([0x08, 0x08]) + bytes(10) + b"\x00\x00\x00\x01", "not a meshnet node address"),
    (bytes([0x08, 0x04]) + bytes(6) + bytes([2, 2, 0, 0, 0, 0]), "relay index 2"),
])
def test_malformed_frames_say_what_is_wrong(raw, message):
    with pytest.raises(DecodeError, match=message):
        wire.decode(raw)


@pytest.mark.parametrize("cls", [ZigbeeTree, ZigbeeMesh])
@settings(max_examples=300, deadline=None)
@given(frames=st.lists(st.one_of(st.binary(max_size=60), st.one_of(nwk_frames, joins).map(wire.encode)),
                       max_size=12))
def test_on_control_raises_only_decode_error_and_the_node_keeps_working(cls, frames):
    ctx = FakeContext("10.99.0.1", node_id=0)  # the coordinator: joined from the start
    proto = cls(ctx)
    proto.start()
    for raw in frames:
        ctx.rx_power_dbm = -80.0
        try:
            proto.on_control("10.99.0.2", raw)
        except DecodeError:
            pass
        ctx.advance(0.05)
    ctx.advance(20)
    packet = Packet(1, "10.99.0.1", "10.99.0.7", 40, ctx.now)
    proto.forward(packet, None)  # no exception: held, routed or dropped with a reason
    assert proto.summary()["address"] == 0
