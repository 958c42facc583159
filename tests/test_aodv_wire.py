"""AODV wire format: round trips, RFC 3561 §5 byte layouts assembled by hand, malformed input."""

import socket
import struct

import pytest
from hypothesis import given, settings, strategies as st

from meshnet.protocol_api import DecodeError
from meshnet.protocols.aodv import wire
from meshnet.protocols.aodv.wire import RERR, RREP, RREQ, RREPAck, decode, encode


def ip(a: str) -> bytes:
    return socket.inet_aton(a)


# --- hand-assembled RFC layouts ---------------------------------------------------------------

def test_rreq_matches_rfc_layout():
    # type 1 | J R G D U + 11 reserved bits | hop count ; RREQ ID ; dest IP ; dest seq ; orig IP ; orig seq
    flags = 0b00101000  # G and U
    expected = (struct.pack("!BBBB", 1, flags, 0, 3) + struct.pack("!I", 77) + ip("10.0.0.9")
                + struct.pack("!I", 0) + ip("10.0.0.1") + struct.pack("!I", 12))
    assert len(expected) == 24
    msg = RREQ(rreq_id=77, dst="10.0.0.9", dst_seq=0, orig="10.0.0.1", orig_seq=12, hop_count=3,
               gratuitous=True, unknown_seq=True)
    assert encode(msg) == expected
    assert decode(expected) == msg


@pytest.mark.parametrize("flag,bit", [("join", 0x80), ("repair", 0x40), ("gratuitous", 0x20),
                                      ("dest_only", 0x10), ("unknown_seq", 0x08)])
def test_rreq_flag_bits(flag, bit):
    msg = RREQ(rreq_id=1, dst="1.2.3.4", dst_seq=5, orig="5.6.7.8", orig_seq=6, **{flag: True})
    raw = encode(msg)
    assert raw[1] == bit and raw[2] == 0
    assert getattr(decode(raw), flag)


def test_rrep_matches_rfc_layout():
    # type 2 | R A + 9 reserved bits + 5-bit prefix size | hop count ; dest IP ; dest seq ; orig IP ; lifetime
    expected = (struct.pack("!BBBB", 2, 0x40, 0, 4) + ip("192.168.1.7") + struct.pack("!I", 0x01020304)
                + ip("192.168.1.1") + struct.pack("!I", 3000))
    assert len(expected) == 20
    msg = RREP(dst="192.168.1.7", dst_seq=0x01020304, orig="192.168.1.1", lifetime_ms=3000,
               hop_count=4, ack_required=True)
    assert encode(msg) == expected
    assert decode(expected) == msg


def test_rrep_repair_flag_and_prefix_size():
    raw = encode(RREP(dst="1.1.1.1", dst_seq=1, orig="2.2.2.2", lifetime_ms=1, repair=True,
                      prefix_size=24))
    assert raw[1] == 0x80 and raw[2] == 24
    back = decode(raw)
    assert back.repair and back.prefix_size == 24 and not back.ack_required


def test_hello_is_rrep_to_itself():
    hello = RREP(dst="10.0.0.5", dst_seq=9, orig="10.0.0.5", lifetime_ms=2000)
    assert decode(encode(hello)).is_hello
    assert not RREP(dst="10.0.0.5", dst_seq=9, orig="10.0.0.6", lifetime_ms=1).is_hello


def test_rerr_matches_rfc_layout():
    # type 3 | N + 15 reserved bits | DestCount ; (unreachable IP, unreachable seq) * DestCount
    expected = (struct.pack("!BBBB", 3, 0x80, 0, 2) + ip("10.0.0.3") + struct.pack("!I", 4)
                + ip("10.0.0.4") + struct.pack("!I", 0xFFFFFFFF))
    msg = RERR(unreachable=(("10.0.0.3", 4), ("10.0.0.4", 0xFFFFFFFF)), no_delete=True)
    assert encode(msg) == expected
    assert decode(expected) == msg


def test_rrep_ack_layout():
    assert encode(RREPAck()) == b"\x04\x00"
    assert decode(b"\x04\x00") == RREPAck()


def test_ttl_extension_round_trip():
    msg = RREQ(rreq_id=1, dst="1.2.3.4", dst_seq=0, orig="5.6.7.8", orig_seq=1,
               extensions=(wire.ttl_extension(7),))
    raw = encode(msg)
    assert raw[24:] == bytes([wire.EXT_TTL, 1, 7])
    assert decode(raw).ttl == 7
    assert RREQ(rreq_id=1, dst="1.2.3.4", dst_seq=0, orig="5.6.7.8", orig_seq=1).ttl is None


addresses = st.integers(0, 2**32 - 1).map(lambda n: socket.inet_ntoa(struct.pack("!I", n)))
u32 = st.integers(0, 2**32 - 1)
u8 = st.integers(0, 255)
exts = st.lists(st.tuples(u8, st.binary(max_size=8)), max_size=2).map(tuple)

messages = st.one_of(
    st.builds(RREQ, rreq_id=u32, dst=addresses, dst_seq=u32, orig=addresses, orig_seq=u32,
              hop_count=u8, join=st.booleans(), repair=st.booleans(), gratuitous=st.booleans(),
              dest_only=st.booleans(), unknown_seq=st.booleans(), extensions=exts),
    st.builds(RREP, dst=addresses, dst_seq=u32, orig=addresses, lifetime_ms=u32, hop_count=u8,
              prefix_size=st.integers(0, 31), repair=st.booleans(), ack_required=st.booleans(),
              extensions=exts),
    st.builds(RERR, unreachable=st.lists(st.tuples(addresses, u32), min_size=1, max_size=20).map(tuple),
              no_delete=st.booleans(), extensions=exts),
    st.just(RREPAck()),
)


@given(messages)
def test_round_trip(msg):
    raw = encode(msg)
    assert decode(raw) == msg
    assert decode(raw, strict=True) == msg


# --- malformed input --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,needle", [
    (b"", "empty"),
    (b"\x09" + bytes(23), "unknown AODV message type 9"),
    (b"\x01" + bytes(22), "RREQ too short"),
    (b"\x02" + bytes(10), "RREP too short"),
    (b"\x03\x00\x00", "RERR too short"),
    (b"\x03\x00\x00\x00", "DestCount 0"),
    (b"\x03\x00\x00\x02" + bytes(8), "RERR truncated"),
    (b"\x04", "RREP-ACK too short"),
    (b"\x04\x00\x00", "exactly 2 bytes"),
    (b"\x01" + bytes(23) + b"\x05", "trailing byte"),
    (b"\x02" + bytes(19) + b"\x05\x04\x00", "claims 4 bytes"),
])
def test_malformed_is_rejected_with_clear_message(raw, needle):
    with pytest.raises(DecodeError, match=needle):
        decode(raw)


@pytest.mark.parametrize("raw", [
    b"\x01\x01" + bytes(22),  # RREQ reserved bit in the flags byte
    b"\x01\x00\x01" + bytes(21),  # RREQ reserved byte
    b"\x02\x20" + bytes(18),  # RREP reserved bit next to R/A
    b"\x02\x00\x20" + bytes(17),  # RREP reserved bit above the prefix size
    b"\x03\x40\x00\x01" + bytes(8),  # RERR reserved bit next to N
    b"\x04\x01",  # RREP-ACK reserved byte
])
def test_reserved_bits_ignored_by_default_rejected_when_strict(raw):
    decode(raw)  # RFC 3561: "ignored on reception"
    with pytest.raises(DecodeError, match="reserved bits"):
        decode(raw, strict=True)


def test_encoder_rejects_values_that_do_not_fit():
    with pytest.raises(ValueError):
        encode(RREQ(rreq_id=2**32, dst="1.1.1.1", dst_seq=0, orig="1.1.1.2", orig_seq=0))
    with pytest.raises(ValueError):
        encode(RERR(unreachable=()))
    with pytest.raises(ValueError):
        encode(RREP(dst="1.1.1.1", dst_seq=0, orig="1.1.1.2", lifetime_ms=0, hop_count=256))


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_decode_raises_only_decode_error(raw):
    try:
        decode(raw)
    except DecodeError:
        pass


@settings(max_examples=300)
@given(st.sampled_from([1, 2, 3, 4]), st.binary(max_size=48))
def test_decode_of_valid_type_prefix_raises_only_decode_error(kind, rest):
    try:
        decode(bytes([kind]) + rest, strict=True)
    except DecodeError:
        pass
