"""Authenticated AODV and DSDV control messages (protocols/auth.py, docs/security.md): the
trailer's bytes, tags that any change breaks, counters that reject replays, protocols that
sign what they send and drop what does not verify, unchanged RFC 3561 bytes before the
trailer (checked with Wireshark's own AODV dissector), and honest networks that lose nothing
to authentication."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.protocol_api import ProtocolConfigError, build_params
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from protocols.aodv import wire as aodv_wire
from protocols.aodv.protocol import AODV
from protocols.auth import TRAILER, TRAILER_LEN, MessageAuth, derive_key
from protocols.dsdv import wire as dsdv_wire
from protocols.dsdv.protocol import DSDV
from tests.fakes import FakeContext

KEY = derive_key("correct horse battery staple")
A, B, C = "10.99.0.1", "10.99.0.2", "10.99.0.3"


def signer(address: str = A, memory: dict | None = None, window: float = 2.0) -> MessageAuth:
    return MessageAuth(KEY, address, {} if memory is None else memory, window)


# --- the trailer ---------------------------------------------------------------------------------
def test_trailer_layout_signer_counter_and_a_16_byte_tag():
    body = b"some control message"
    trailer = signer().trailer(body, now=12.5)
    assert len(trailer) == TRAILER_LEN == 28
    who, counter, tag = TRAILER.unpack(trailer)
    assert who == bytes([10, 99, 0, 1])
    assert counter == 12_500_000  # microseconds of the signer's clock
    import hashlib
    import hmac
    expected = hmac.new(KEY, body + who + struct.pack("!Q", counter), hashlib.sha256).digest()
    assert tag == expected[:16]


def test_round_trip_and_counters_strictly_increase_within_one_instant():
    s, r = signer(), signer(B)
    trailers = [s.trailer(b"m%d" % i, now=3.0) for i in range(3)]
    counters = [TRAILER.unpack(t)[1] for t in trailers]
    assert counters == [3_000_000, 3_000_001, 3_000_002]
    for i, t in enumerate(trailers):
        assert r.verify(A, b"m%d" % i, t, now=3.0).ok


def test_the_counter_survives_a_restart_in_persistent_memory():
    memory: dict = {}
    first = signer(memory=memory)
    first.trailer(b"x", now=5.0)
    first.trailer(b"y", now=5.0)
    again = signer(memory=memory)  # a new protocol instance after a reboot, same memory
    assert TRAILER.unpack(again.trailer(b"z", now=5.0))[1] == 5_000_002


@settings(max_examples=300, deadline=None)
@given(body=st.binary(min_size=1, max_size=80), data=st.data())
def test_any_flipped_bit_is_rejected_as_a_bad_tag(body, data):
    trailer = signer().trailer(body, now=1.0)
    message = bytearray(body + trailer)
    bit = data.draw(st.integers(0, len(message) * 8 - 1))
    message[bit // 8] ^= 1 << (bit % 8)
    verdict = signer(B).verify(A, bytes(message[:-TRAILER_LEN]), bytes(message[-TRAILER_LEN:]),
                               now=1.0)
    assert (verdict.status, verdict.reason) == ("failed", "bad_tag")


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=60), tag=st.binary(min_size=16, max_size=16),
       counter=st.integers(0, 2**64 - 1))
def test_a_made_up_trailer_never_verifies(body, tag, counter):
    trailer = TRAILER.pack(bytes([10, 99, 0, 1]), counter, tag)
    assert not signer(B, window=0).verify(A, body, trailer, now=1.0).ok


def test_another_key_and_a_missing_trailer_fail():
    other = MessageAuth(derive_key("another key"), A, {}, 2.0)
    assert signer(B).verify(A, b"m", other.trailer(b"m", 1.0), 1.0).reason == "bad_tag"
    assert signer(B).verify(A, b"m", None, 1.0).reason == "missing"


def test_replays_are_told_apart_by_why():
    s, r = signer(), signer(B, window=2.0)
    t1 = s.trailer(b"hello", now=10.0)
    assert r.verify(A, b"hello", t1, 10.0).ok
    # the same bytes again from the signer's address: counter not above the last one
    assert r.verify(A, b"hello", t1, 10.1).reason == "old_counter"
    # relayed by another node (a replayer copying it off the air)
    assert r.verify(C, b"hello", t1, 10.1).reason == "relayed"
    # a receiver that never heard the signer, after the window: stale
    fresh = signer(C, window=2.0)
    assert fresh.verify(A, b"hello", t1, 12.5).reason == "stale"
    assert fresh.verify(A, b"hello", t1, 11.9).ok  # within the window it is news to this node
    assert all(v.status == "replayed" for v in (r.verify(A, b"hello", t1, 10.2),))


def test_keys_hex_or_passphrase():
    assert derive_key("00112233445566778899aabbccddeeff") == bytes.fromhex(
        "00112233445566778899aabbccddeeff")
    import hashlib
    assert derive_key("short") == hashlib.sha256(b"short").digest()
    assert derive_key("zz112233445566778899aabbccddeeff") == hashlib.sha256(
        b"zz112233445566778899aabbccddeeff").digest()  # not hex: a passphrase


@pytest.mark.parametrize("cls", [AODV, DSDV])
def test_auth_window_must_be_a_non_negative_number(cls):
    with pytest.raises(ProtocolConfigError, match=r"protocol\.auth_window"):
        build_params(cls, {"auth_window": -1.0})
    with pytest.raises(ProtocolConfigError, match=r"protocol\.auth_key"):
        build_params(cls, {"auth_key": 5})


# --- AODV and DSDV framing -----------------------------------------------------------------------
def aodv_node(address: str, key: str = "k") -> tuple[AODV, FakeContext]:
    ctx = FakeContext(address)
    proto = AODV(ctx, build_params(AODV, {"auth_key": key} if key else {}))
    proto.start()
    return proto, ctx


def test_aodv_signed_rreq_keeps_rfc3561_bytes_and_carries_extension_201():
    src, ctx = aodv_node(A)
    src.on_no_route(_packet(A, C))
    (_, sent), = [s for s in ctx.sent if s[1][0] == aodv_wire.RREQ_TYPE]
    plain = aodv_wire.decode(sent)
    assert plain.extensions[-1][0] == aodv_wire.EXT_AUTH and len(plain.extensions[-1][1]) == 28
    unsigned = aodv_wire.encode(aodv_wire.RREQ(**{**{f: getattr(plain, f) for f in (
        "rreq_id", "dst", "dst_seq", "orig", "orig_seq", "hop_count", "join", "repair",
        "gratuitous", "dest_only", "unknown_seq")}, "extensions": plain.extensions[:-1]}))
    assert sent[:len(unsigned)] == unsigned  # the RFC message first, byte for byte
    assert sent[len(unsigned):len(unsigned) + 2] == bytes([201, 28])


def test_aodv_receiver_accepts_signed_drops_unsigned_tampered_and_replayed():
    src, src_ctx = aodv_node(A)
    dst, dst_ctx = aodv_node(B)
    src.on_no_route(_packet(A, B))
    rreq = [p for _, p in src_ctx.sent if p[0] == aodv_wire.RREQ_TYPE][0]
    dst.on_control(A, rreq)
    assert [p for _, p in dst_ctx.sent if p[0] == aodv_wire.RREP_TYPE], "signed RREQ answered"
    assert not [e for e in dst_ctx.events if e[0].startswith("auth_")]
    dst.on_control(A, rreq)  # the same frame again: a replay
    tampered = bytearray(rreq)
    tampered[3] ^= 1  # hop count
    dst.on_control(A, bytes(tampered))
    unsigned = aodv_wire.encode(aodv_wire.decode(rreq[:-30]))
    dst.on_control(A, unsigned)
    dst.on_control(C, rreq)  # a copy re-sent by another node
    kinds = [(k, f["reason"]) for k, f in dst_ctx.events if k.startswith("auth_")]
    assert kinds == [("auth_replayed", "old_counter"), ("auth_failed", "bad_tag"),
                     ("auth_failed", "missing"), ("auth_replayed", "relayed")]


def test_aodv_without_a_key_sends_exactly_the_unsigned_bytes():
    signed, sctx = aodv_node(A)
    plain, pctx = aodv_node(A, key="")
    for proto in (signed, plain):
        proto.on_no_route(_packet(A, C))
    assert len(sctx.sent[0][1]) == len(pctx.sent[0][1]) + 30
    assert sctx.sent[0][1][:len(pctx.sent[0][1])] == pctx.sent[0][1]


def test_dsdv_signed_update_sets_flag_0x02_and_verifies():
    ctx_a, ctx_b = FakeContext(A), FakeContext(B)
    a = DSDV(ctx_a, build_params(DSDV, {"auth_key": "k"}))
    b = DSDV(ctx_b, build_params(DSDV, {"auth_key": "k"}))
    a.start(), b.start()
    ctx_a.advance(1.0)
    payload = ctx_a.sent[-1][1]
    assert payload[1] == dsdv_wire.FLAG_FULL | dsdv_wire.FLAG_AUTH
    update = dsdv_wire.decode(payload)
    assert update.authenticated and update.entries[0].dst == A
    assert len(payload) == 4 + 9 * len(update.entries) + 28
    ctx_b._now = ctx_a.now
    b.on_control(A, payload)
    assert b.table.get(A) is not None and b.table.get(A).metric == 1
    b.on_control(A, payload)
    forged = bytearray(payload)
    forged[-30] ^= 0x02  # the last entry's sequence number, still even: only the tag tells
    b.on_control(A, bytes(forged))
    unsigned = dsdv_wire.encode(dsdv_wire.Update(update.full, update.entries))
    b.on_control(C, unsigned)
    assert [(k, f["reason"]) for k, f in ctx_b.events if k.startswith("auth_")] == [
        ("auth_replayed", "old_counter"), ("auth_failed", "bad_tag"), ("auth_failed", "missing")]
    assert b.table.get(C) is None  # an unsigned update does not even make C a neighbour


def _packet(src: str, dst: str):
    from meshnet.protocol_api import Packet
    return Packet(1, src, dst, 64, 0.0)


# --- networks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["aodv", "dsdv"])
def test_an_honest_mobile_network_loses_no_message_to_authentication(protocol):
    """Every node has the key: nothing is rejected (counters, window and hop-by-hop re-signing
    agree with real forwarding, mobility and MAC queueing included), and delivery is as without
    authentication, give or take the 30 bytes per message."""
    base = ["scenario.duration=120", f"protocol.name={protocol}"]
    plain = Simulation(load_scenario("broch", base)).run()
    signed = Simulation(load_scenario("broch", base + ["protocol.auth_key=s3cret"])).run()
    assert signed["auth_failed"] == 0 and signed["auth_replayed"] == 0
    assert signed["control_packets"] > 100
    assert abs(signed["pdr"] - plain["pdr"]) < 0.05
    assert signed["control_bytes"] > plain["control_bytes"]


def test_auth_is_deterministic():
    ov = ["scenario.duration=60", "protocol.auth_key=s3cret"]
    one = Simulation(load_scenario("broch", ov)).run()
    two = Simulation(load_scenario("broch", ov)).run()
    for r in (one, two):
        r.pop("wall_s"), r.pop("events_per_s")
    assert one == two


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_wireshark_decodes_signed_aodv_as_rfc3561_with_an_extension(tmp_path):
    pcap = tmp_path / "auth.pcap"
    subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "broch", "--duration", "30", "--set",
                    "protocol.auth_key=s3cret", "--pcap", str(pcap), "--json"], check=True,
                   capture_output=True, timeout=300)
    out = subprocess.run(["tshark", "-r", str(pcap), "-Y", "aodv", "-T", "fields",
                          "-e", "aodv.type", "-e", "aodv.ext_type", "-e", "aodv.ext_length",
                          "-e", "_ws.malformed"], capture_output=True, text=True, check=True,
                         timeout=120).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) > 50
    assert all(r[3] == "" for r in rows), "no AODV frame is malformed"
    by_type = {}
    for r in rows:
        by_type.setdefault(r[0], []).append(r)
    # RREQ carries the TTL extension then ours; RREP ours (Wireshark lists RERR extensions not)
    assert by_type["1"] and all(r[1] == "200,201" and r[2] == "1,28" for r in by_type["1"])
    assert by_type["2"] and all(r[1] == "201" and r[2] == "28" for r in by_type["2"])


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_meshnet_dsdv_dissector_shows_the_trailer_of_signed_updates(tmp_path):
    from meshnet.wireshark import tshark_args

    pcap = tmp_path / "dsdv.pcap"
    subprocess.run([sys.executable, "-m", "meshnet.cli", "run", "broch", "--duration", "20", "--set", "protocol.name=dsdv",
                    "--set", "protocol.auth_key=s3cret", "--pcap", str(pcap), "--json"],
                   check=True, capture_output=True, timeout=300)
    out = subprocess.run(["tshark", "-n", *tshark_args(), "-r", str(pcap), "-Y", "meshnet.dsdv",
                          "-T", "fields", "-e", "ip.src", "-e", "meshnet.dsdv.authenticated",
                          "-e", "meshnet.dsdv.auth.signer", "-e", "meshnet.dsdv.auth.counter",
                          "-e", "_ws.malformed", "-e", "_ws.lua.error"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) > 40
    for src, authenticated, signer, counter, malformed, lua_error in rows:
        assert (authenticated, signer, malformed, lua_error) == ("1", src, "", "")
        assert 0 <= int(counter) <= 20_000_000  # microseconds into the 20 s run
