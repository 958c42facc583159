"""DSDV wire format: hand-assembled bytes, round trips, rejection of malformed input, fuzzing."""


import pytest
from hypothesis import given, settings, strategies as st

from meshnet.protocol_api import DecodeError
from meshnet.protocols.dsdv import DSDV
from meshnet.protocols.dsdv.wire import (ENTRY_SIZE, HEADER_SIZE, INFINITY, Entry, Update, decode,
                                         encode)
from tests.fakes import FakeContext

HAND_ASSEMBLED = bytes([
    0x01, 0x01, 0x00, 0x02,  # version 1, full dump, 2 entries
    10, 99, 0, 1, 0x00, 0x00, 0x01, 0x02, 0x00,  # 10.99.0.1 seqno 258 metric 0
    10, 99, 0, 7, 0x00, 0x00, 0x00, 0x0B, 0xFF,  # 10.99.0.7 seqno 11 unreachable
])
HAND_UPDATE = Update(True, (Entry("10.99.0.1", 258, 0), Entry("10.99.0.7", 11, INFINITY)))


def test_sizes_are_compact():
    assert (HEADER_SIZE, ENTRY_SIZE) == (4, 9)


def test_decode_hand_assembled_bytes():
    assert decode(HAND_ASSEMBLED) == HAND_UPDATE
    assert decode(HAND_ASSEMBLED).entries[1].broken


def test_encode_matches_hand_assembled_bytes():
    assert encode(HAND_UPDATE) == HAND_ASSEMBLED


def test_incremental_flag_is_clear():
    data = encode(Update(False, (Entry("192.168.1.20", 4, 3),)))
    assert data == bytes([1, 0, 0, 1, 192, 168, 1, 20, 0, 0, 0, 4, 3])


def test_empty_update_round_trips():
    assert decode(encode(Update(False, ()))) == Update(False, ())


@pytest.mark.parametrize("data, message", [
    (b"", "too short"),
    (b"\x01\x00\x00", "too short"),
    (b"\x02\x00\x00\x00", "version"),
    (b"\x01\x04\x00\x00", "reserved"),  # 0x02 is FLAG_AUTH
    (b"\x01\x02\x00\x00", "authentication trailer"),  # FLAG_AUTH without the trailer
    (HAND_ASSEMBLED[:-1], "length"),
    (HAND_ASSEMBLED + b"\x00", "length"),
    (bytes([1, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 3, 2]), "disagree"),  # odd seqno, finite metric
    (bytes([1, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 4, 255]), "disagree"),  # even seqno, infinite
])
def test_malformed_input_is_rejected_clearly(data, message):
    with pytest.raises(DecodeError, match=message):
        decode(data)


def test_encoder_refuses_inconsistent_entries():
    with pytest.raises(ValueError):
        encode(Update(True, (Entry("10.0.0.1", 3, 1),)))


ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
entries = st.one_of(
    st.builds(Entry, ipv4, st.integers(0, 0x7FFFFFFF).map(lambda n: 2 * n), st.integers(0, 254)),
    st.builds(Entry, ipv4, st.integers(0, 0x7FFFFFFF).map(lambda n: 2 * n + 1), st.just(INFINITY)),
)
updates = st.builds(Update, st.booleans(), st.lists(entries, max_size=40).map(tuple))


@given(updates)
def test_round_trip(update):
    data = encode(update)
    assert len(data) == HEADER_SIZE + ENTRY_SIZE * len(update.entries)
    assert decode(data) == update


def _node():
    ctx = FakeContext("10.99.0.1")
    proto = DSDV(ctx)
    proto.start()
    return ctx, proto


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes_only_raise_decode_error(data):
    ctx, proto = _node()
    try:
        proto.on_control("10.99.0.2", data)
    except DecodeError:
        pass
    ctx.advance(40.0)  # whatever was accepted must not break later timers either


@settings(max_examples=300)
@given(st.lists(updates, max_size=5), st.sampled_from(["10.99.0.2", "10.99.0.3"]))
def test_fuzz_valid_updates_never_crash(batch, src):
    ctx, proto = _node()
    for update in batch:
        update = Update(update.full, update.entries + (Entry(ctx.address, 0xFFFFFFFF, INFINITY),))
        proto.on_control(src, encode(update))
        ctx.advance(3.0)
    proto.on_link_failure(src, None)
    ctx.advance(60.0)
    for _, payload in ctx.sent:
        decode(payload)  # everything the node sends is well formed
    for route in ctx.routes:
        assert route.next_hop in {"10.99.0.2", "10.99.0.3"}
