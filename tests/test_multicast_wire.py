"""Wire formats of SMF's HELLO and ODMRP's Join Query / Join Reply: hand-assembled byte layouts,
round trips, and arbitrary bytes (hypothesis) that only ever raise DecodeError, also through a
node's on_control. The netns frame helpers: TTL decrement with a valid checksum, group MACs."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from meshnet.netns import ipopt, multicast as mc
from meshnet.protocol_api import DecodeError, Packet, multicast_id
from protocols.odmrp import ODMRP, wire as odmrp_wire
from protocols.odmrp.wire import JoinQuery, JoinReply, ReplyEntry
from protocols.smf import SMF, wire as smf_wire
from protocols.smf.wire import HEARD, SYMMETRIC, Hello, Link
from tests.fakes import FakeContext

ADDR = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "%d.%d.%d.%d" % t)
GROUP = st.tuples(st.integers(224, 239), *[st.integers(0, 255)] * 3).map(
    lambda t: "%d.%d.%d.%d" % t)


# --- SMF HELLO -----------------------------------------------------------------------------------

def test_smf_hello_layout():
    hello = Hello(priority=64, validity=6.0, relay=True, links=(
        Link("10.99.0.2", SYMMETRIC, True, 64), Link("10.99.0.3", HEARD, False, 200)))
    assert smf_wire.encode_hello(hello) == bytes([
        1, 1, 64, 0x01, 0x02, 0x58, 0, 2,  # type, version, priority, relay flag, 600 x 10 ms, n
        10, 99, 0, 2, 0x82, 64, 0, 0,  # symmetric + MPR
        10, 99, 0, 3, 0x01, 200, 0, 0])
    assert smf_wire.decode_hello(smf_wire.encode_hello(hello)) == hello


@given(prio=st.integers(0, 255), validity=st.integers(1, 0xFFFF), relay=st.booleans(),
       links=st.lists(st.tuples(ADDR, st.sampled_from([HEARD, SYMMETRIC]), st.booleans(),
                                st.integers(0, 255)), max_size=40))
def test_smf_hello_round_trip(prio, validity, relay, links):
    hello = Hello(prio, validity / 100, tuple(Link(*entry) for entry in links), relay)
    assert smf_wire.decode_hello(smf_wire.encode_hello(hello)) == hello


@pytest.mark.parametrize("data, why", [
    (b"", "too short"),
    (bytes([2, 1, 64, 0, 0, 100, 0, 0]), "type 2"),
    (bytes([1, 2, 64, 0, 0, 100, 0, 0]), "version 2"),
    (bytes([1, 1, 64, 0, 0, 0, 0, 0]), "validity 0"),
    (bytes([1, 1, 64, 0, 0, 100, 0, 1]), "announces 1 links"),
    (bytes([1, 1, 64, 0, 0, 100, 0, 1, 10, 99, 0, 2, 3, 64, 0, 0]), "status 0x3"),
])
def test_smf_hello_rejects_malformed_input(data, why):
    with pytest.raises(DecodeError, match=why):
        smf_wire.decode_hello(data)


# --- ODMRP ---------------------------------------------------------------------------------------

def test_odmrp_join_query_layout():
    q = JoinQuery("239.1.1.1", 7, "10.99.0.1", "10.99.0.2", ttl=31, hops=1)
    assert odmrp_wire.encode(q) == bytes([1, 0, 31, 1, 239, 1, 1, 1]) + struct.pack("!I", 7) \
        + bytes([10, 99, 0, 1, 10, 99, 0, 2])
    assert odmrp_wire.decode(odmrp_wire.encode(q)) == q


def test_odmrp_join_reply_layout():
    r = JoinReply("239.1.1.1", "10.99.0.5", (ReplyEntry("10.99.0.1", 7, "10.99.0.4"),
                                            ReplyEntry("10.99.0.9", 3, "10.99.0.6")))
    assert odmrp_wire.encode(r) == (bytes([2, 0, 2, 0, 239, 1, 1, 1, 10, 99, 0, 5])
                                    + bytes([10, 99, 0, 1]) + struct.pack("!I", 7)
                                    + bytes([10, 99, 0, 4])
                                    + bytes([10, 99, 0, 9]) + struct.pack("!I", 3)
                                    + bytes([10, 99, 0, 6]))
    assert odmrp_wire.decode(odmrp_wire.encode(r)) == r


@given(group=GROUP, seq=st.integers(0, 2**32 - 1), src=ADDR, prev=ADDR, ttl=st.integers(0, 255),
       hops=st.integers(0, 255))
def test_odmrp_join_query_round_trip(group, seq, src, prev, ttl, hops):
    q = JoinQuery(group, seq, src, prev, ttl, hops)
    assert odmrp_wire.decode(odmrp_wire.encode(q)) == q


@given(group=GROUP, sender=ADDR, entries=st.lists(st.tuples(ADDR, st.integers(0, 2**32 - 1),
                                                            ADDR), min_size=1, max_size=255))
def test_odmrp_join_reply_round_trip(group, sender, entries):
    r = JoinReply(group, sender, tuple(ReplyEntry(*e) for e in entries))
    assert odmrp_wire.decode(odmrp_wire.encode(r)) == r


@pytest.mark.parametrize("data, why", [
    (b"", "empty"),
    (bytes([3]) + bytes(19), "type 3"),
    (bytes([1]) + bytes(18), "19 bytes"),
    (bytes([2, 0, 0, 0]) + bytes([239, 1, 1, 1]) + bytes(4), "no entries"),
    (bytes([2, 0, 2, 0]) + bytes([239, 1, 1, 1]) + bytes(4 + 12), "announces 2 entries"),
    (bytes([1, 0, 5, 0, 10, 1, 1, 1]) + bytes(12), "not a multicast group"),
])
def test_odmrp_rejects_malformed_input(data, why):
    with pytest.raises(DecodeError, match=why):
        odmrp_wire.decode(data)


# --- arbitrary bytes, through the decoders and through a node ------------------------------------

@settings(max_examples=300)
@given(data=st.binary(max_size=80))
def test_arbitrary_bytes_raise_only_decode_error(data):
    for decode in (smf_wire.decode_hello, odmrp_wire.decode):
        try:
            decode(data)
        except DecodeError:
            pass


@settings(max_examples=200)
@given(data=st.one_of(st.binary(max_size=60),
                      st.binary(max_size=60).map(lambda b: bytes([1, 1]) + b),
                      st.binary(max_size=60).map(lambda b: bytes([2, 0, 1, 0, 239]) + b)))
def test_on_control_raises_only_decode_error_and_the_node_keeps_working(data):
    for cls, params in ((SMF, SMF.Params(relay="s-mpr")), (ODMRP, ODMRP.Params())):
        ctx = FakeContext(address="10.99.0.1")
        proto = cls(ctx, params)
        proto.start()
        try:
            proto.on_control("10.99.0.2", data)
        except DecodeError:
            pass
        ctx.advance(10.0)  # timers still run
        proto.on_multicast(Packet(1, "10.99.0.1", "239.1.1.1", 64, ctx.now), None)
        assert ctx.relayed  # and it still sends its own multicast packets


# --- duplicate detection keys --------------------------------------------------------------------

def _ipv4(ttl: int, ident: int, payload: bytes = b"data", tos: int = 0) -> bytes:
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident, 0x4000,
                                   ttl, 17, 0, bytes([10, 99, 0, 1]), bytes([239, 1, 1, 1])))
    header[10:12] = ipopt.checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + payload


def _packet(raw: bytes) -> Packet:
    return Packet(99, "10.99.0.1", "239.1.1.1", len(raw), 0.0, payload=raw)


def test_hash_dpd_ignores_ttl_tos_and_checksum_and_sees_the_payload():
    first = multicast_id(_packet(_ipv4(64, 0)), "hash")
    assert multicast_id(_packet(_ipv4(63, 0, tos=4)), "hash") == first  # a relayed copy
    assert multicast_id(_packet(_ipv4(64, 0, b"other")), "hash") != first
    assert multicast_id(_packet(_ipv4(64, 1)), "hash") != first  # the Identification counts


def test_id_dpd_is_source_destination_protocol_and_identification():
    assert multicast_id(_packet(_ipv4(64, 7)), "id") == multicast_id(
        _packet(_ipv4(10, 7, b"other")), "id")
    assert multicast_id(_packet(_ipv4(64, 7)), "id") != multicast_id(_packet(_ipv4(64, 8)), "id")


def test_simulator_packets_are_told_apart_by_uid():
    a = Packet(1, "10.99.0.1", "239.1.1.1", 64, 0.0)
    b = Packet(2, "10.99.0.1", "239.1.1.1", 64, 0.0)
    for mode in ("hash", "id"):
        assert multicast_id(a, mode) == multicast_id(a.copy(), mode)
        assert multicast_id(a, mode) != multicast_id(b, mode)


# --- netns frame helpers -------------------------------------------------------------------------

@given(ttl=st.integers(2, 255), ident=st.integers(0, 0xFFFF), payload=st.binary(max_size=40))
def test_decrement_ttl_keeps_the_header_checksum_valid(ttl, ident, payload):
    out = mc.decrement_ttl(_ipv4(ttl, ident, payload))
    assert out[8] == ttl - 1 and out[20:] == payload
    assert ipopt.checksum(out[:20]) == 0  # a valid header sums to 0xFFFF


def test_decrement_ttl_refuses_the_last_hop():
    assert mc.decrement_ttl(_ipv4(1, 0)) is None


def test_group_mac_and_frame_classification():
    raw = _ipv4(255, 0)
    assert mc.group_mac(raw) == bytes([1, 0, 0x5E, 1, 1, 1])
    frame = mc.group_mac(raw) + bytes(6) + b"\x08\x00" + raw
    assert mc.is_multicast_frame(frame)
    igmp = bytearray(frame)
    igmp[23] = 2
    assert not mc.is_multicast_frame(bytes(igmp))  # IGMP stays link-local
    assert not mc.is_multicast_frame(b"\xff" * 6 + frame[6:30] + bytes([10, 99, 0, 2]))
