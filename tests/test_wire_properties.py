"""Properties every wire decoder in meshnet holds (protocols/*/wire.py, meshnet/netns/ipopt.py).

For each format:
- arbitrary bytes, and valid encodings cut, lengthened or with bytes changed, either decode or
  raise the protocol's DecodeError: never IndexError, struct.error, ValueError or anything else
  (a node must survive whatever its radio hears);
- bytes that decode re-encode to a message that decodes the same, and for formats without
  ignored bits to the very same bytes (one encoding per message, so a damaged frame never
  passes for the message it was);
- decode(encode(m)) == m for generated valid messages.

The number of byte strings per decoder comes from the hypothesis profile "meshnet-wire":
MESHNET_WIRE_EXAMPLES if set, else 2000 with CI=true and 300 otherwise; round trips of valid
messages run a quarter as many (at least 100).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from meshnet.netns import ipopt
from meshnet.protocol_api import DecodeError
from meshnet.protocols.aodv import wire as aodv
from meshnet.protocols.dsdv import wire as dsdv
from meshnet.protocols.gpsr import wire as gpsr
from meshnet.protocols.odmrp import wire as odmrp
from meshnet.protocols.power import wire as power
from meshnet.protocols.smf import wire as smf
from meshnet.protocols.zigbee import wire as zigbee
from meshnet.protocols.zwave import wire as zwave

_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
settings.register_profile(
    "meshnet-wire",
    max_examples=int(os.environ.get("MESHNET_WIRE_EXAMPLES") or (2000 if _CI else 300)),
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FUZZ = settings.get_profile("meshnet-wire")  # arbitrary and damaged bytes per decoder
# valid messages are far fewer shapes than byte strings: a quarter of the examples find them
ROUNDTRIP = settings(FUZZ, max_examples=max(100, FUZZ.max_examples // 4))

# --- field strategies ------------------------------------------------------------------------
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
i16 = st.integers(-0x8000, 0x7FFF)
i32 = st.integers(-(1 << 31), (1 << 31) - 1)
ips = u32.map(lambda n: "%d.%d.%d.%d" % tuple(n.to_bytes(4, "big")))
groups = st.integers(0xE0000000, 0xEFFFFFFF).map(lambda n: "%d.%d.%d.%d" % tuple(n.to_bytes(4, "big")))
points = st.tuples(i32, i32)


def _tuple(strategy, min_size=0, max_size=8):
    return st.lists(strategy, min_size=min_size, max_size=max_size).map(tuple)


# --- valid messages per format -----------------------------------------------------------------
_aodv_ext = _tuple(st.tuples(u8, st.binary(max_size=8)), max_size=3)
aodv_messages = st.one_of(
    st.builds(aodv.RREQ, rreq_id=u32, dst=ips, dst_seq=u32, orig=ips, orig_seq=u32, hop_count=u8,
              join=st.booleans(), repair=st.booleans(), gratuitous=st.booleans(),
              dest_only=st.booleans(), unknown_seq=st.booleans(), extensions=_aodv_ext),
    st.builds(aodv.RREP, dst=ips, dst_seq=u32, orig=ips, lifetime_ms=u32, hop_count=u8,
              prefix_size=st.integers(0, 31), repair=st.booleans(), ack_required=st.booleans(),
              extensions=_aodv_ext),
    st.builds(aodv.RERR, unreachable=_tuple(st.tuples(ips, u32), 1, 6), no_delete=st.booleans(),
              extensions=_aodv_ext),
    st.just(aodv.RREPAck()),
)

dsdv_entries = st.tuples(ips, u32, st.integers(0, dsdv.INFINITY - 1)).map(
    lambda t: dsdv.Entry(t[0], t[1], dsdv.INFINITY if t[1] % 2 else t[2]))
dsdv_updates = st.builds(dsdv.Update, full=st.booleans(), entries=_tuple(dsdv_entries, 0, 8))

gpsr_beacons = st.builds(gpsr.Beacon, x=i32, y=i32)
gpsr_headers = st.one_of(
    st.builds(gpsr.Header, mode=st.just(gpsr.GREEDY), dst=points, sender=ips,
              perimeter_hops=u8),
    st.builds(gpsr.Header, mode=st.just(gpsr.PERIMETER), dst=points, sender=ips,
              perimeter_hops=u8, lp=points, lf=points, e0=st.tuples(ips, ips)),
)

power_messages = st.one_of(
    st.builds(power.RREQ, rreq_id=u32, orig=ips, orig_seq=u32, dst=ips, ttl=u8, hop_count=u8,
              cost=u32, min_battery=u16, tx_cdbm=i16),
    st.builds(power.RREP, rreq_id=u32, orig=ips, dst=ips, dst_seq=u32, lifetime_ms=u32,
              hop_count=u8, cost=u32, min_battery=u16, tx_cdbm=i16),
    st.builds(power.RERR, unreachable=_tuple(st.tuples(ips, u32), 1, 6), tx_cdbm=i16),
)

odmrp_messages = st.one_of(
    st.builds(odmrp.JoinQuery, group=groups, seq=u32, source=ips, prev_hop=ips, ttl=u8, hops=u8),
    st.builds(odmrp.JoinReply, group=groups, sender=ips, entries=_tuple(
        st.builds(odmrp.ReplyEntry, source=ips, seq=u32, next_hop=ips), 1, 6)),
)

smf_hellos = st.builds(
    smf.Hello, priority=u8, validity=st.integers(1, 0xFFFF).map(lambda units: units / 100.0),
    links=_tuple(st.builds(smf.Link, address=ips, status=st.sampled_from([smf.HEARD,
                                                                            smf.SYMMETRIC]),
                           mpr=st.booleans(), priority=u8), 0, 6),
    relay=st.booleans())


node_ids = st.integers(1, zwave.MAX_NODE_ID)


def zwave_route(ends: tuple[int, ...], limit: int = zwave.MAX_REPEATERS):
    """Distinct repeater IDs, none of them an end of the route."""
    return st.lists(node_ids, max_size=limit, unique=True).map(
        lambda ids: tuple(i for i in ids if i not in ends))


@st.composite
def zwave_ends(draw):
    orig, other = draw(node_ids), draw(st.integers(1, zwave.MAX_NODE_ID - 1))
    return orig, other if other < orig else other + 1


@st.composite
def zwave_headers(draw):
    src, dst = draw(zwave_ends())
    route = draw(zwave_route((src, dst)))
    return zwave.DataHeader(src, dst, draw(u8), route, draw(st.integers(0, len(route) + 1)))


@st.composite
def zwave_bodies(draw):
    kind = draw(st.sampled_from(["range", "assign", "request", "unreachable", "ack", "error",
                                 "nop", "update"]))
    if kind == "range":
        nodes = sorted(draw(st.sets(node_ids, max_size=6)))
        return zwave.RangeInfo(draw(ips), tuple((n, draw(ips)) for n in nodes))
    if kind == "assign":
        dst = draw(node_ids)
        return zwave.AssignRoutes(dst, draw(ips), tuple(draw(st.lists(zwave_route((dst,)),
                                                                      max_size=4))))
    if kind == "request":
        return zwave.RouteRequest(draw(ips))
    if kind == "unreachable":
        return zwave.Unreachable(draw(ips), draw(st.booleans()), draw(u8))
    if kind == "error":
        return zwave.Error(draw(node_ids), draw(node_ids))
    return {"ack": zwave.Ack(), "nop": zwave.Nop(), "update": zwave.NeighborUpdate()}[kind]


@st.composite
def zwave_messages(draw):
    kind = draw(st.sampled_from(["find", "in_range", "routed", "explorer"]))
    if kind == "find":
        return zwave.FindNodes(draw(node_ids))
    if kind == "in_range":
        return zwave.NodeInRange(draw(node_ids))
    orig, target = draw(zwave_ends())
    if kind == "routed":
        route = draw(zwave_route((orig, target)))
        return zwave.Routed(orig, target, draw(u8), route, draw(zwave_bodies()),
                            draw(st.integers(0, len(route) + 1)), draw(st.booleans()))
    limit = draw(st.integers(0, zwave.MAX_REPEATERS))
    return zwave.Explorer(orig, target, draw(u8), limit, draw(zwave_route((orig, target), limit)),
                          draw(zwave_bodies()))


# ZigBee has many frame kinds; valid ones start from these, and the mutations below reach the
# rest (the property "what decodes re-encodes the same" then covers every kind they hit).
_ZB_CMD = zigbee.NwkHeader(zigbee.COMMAND, 0xFFFC, 0x0001, 30, 7)
_ZB_DATA = zigbee.NwkHeader(zigbee.DATA, 0x0000, 0x1234, 10, 200, discover_route=1,
                            dst_ieee="10.99.0.1", src_ieee="10.99.0.9")
ZIGBEE_SAMPLES = [
    zigbee.NwkFrame(_ZB_CMD, zigbee.RouteRequest(5, 0x0042, 3)),
    zigbee.NwkFrame(_ZB_CMD, zigbee.RouteRequest(6, zigbee.UNKNOWN_ADDRESS, 0,
                                                 dst_ieee="10.99.0.4")),
    zigbee.NwkFrame(zigbee.NwkHeader(zigbee.COMMAND, 0x0002, 0x0003, 5, 9),
                    zigbee.RouteReply(5, 0x0001, 0x0042, 9)),
    zigbee.NwkFrame(zigbee.NwkHeader(zigbee.COMMAND, 0x0002, 0x0003, 5, 9),
                    zigbee.NetworkStatus(zigbee.STATUS_NO_ROUTE, 0x0042)),
    zigbee.NwkFrame(zigbee.NwkHeader(zigbee.COMMAND, 0x0000, 0x0003, 5, 9),
                    zigbee.RouteRecord((0x0003, 0x0007))),
    zigbee.NwkFrame(zigbee.NwkHeader(zigbee.COMMAND, 0xFFFC, 0x0003, 1, 9),
                    zigbee.LinkStatus(((0x0001, 1, 3), (0x0002, 7, 7)))),
    zigbee.NwkFrame(_ZB_DATA, zigbee.DeviceAnnounce(3, 0x1234, "10.99.0.9", zigbee.CAP_FFD)),
    zigbee.NwkFrame(_ZB_DATA, zigbee.AddressRequest(4, "10.99.0.5")),
    zigbee.NwkFrame(_ZB_DATA, zigbee.AddressResponse(4, zigbee.ZDO_SUCCESS, "10.99.0.5", 0x0009)),
    zigbee.BeaconRequest(),
    zigbee.Beacon(0x0001, 1, True, False),
    zigbee.AssociationRequest(zigbee.CAP_FFD | zigbee.CAP_ALLOCATE_ADDRESS),
    zigbee.AssociationResponse(0x0002, zigbee.ASSOC_SUCCESS),
]


# --- the table of formats ----------------------------------------------------------------------
@dataclass(frozen=True)
class Format:
    name: str
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    messages: st.SearchStrategy
    canonical: bool  # no ignored bits: every byte string that decodes is the encoding of it

    def __str__(self) -> str:
        return self.name


def _aodv_strict(data: bytes):
    return aodv.decode(data, strict=True)


def _zigbee_header(data: bytes):
    header, size = zigbee.decode_header(data)
    if size != len(data):  # the header is followed by a body; alone it must fill the bytes
        raise DecodeError(f"{len(data) - size} bytes after the NWK header")
    return header


FORMATS = [
    Format("aodv", aodv.decode, aodv.encode, aodv_messages, canonical=False),
    Format("aodv-strict", _aodv_strict, aodv.encode, aodv_messages, canonical=True),
    Format("dsdv", dsdv.decode, dsdv.encode, dsdv_updates, canonical=True),
    Format("gpsr-beacon", gpsr.decode_beacon, gpsr.encode_beacon, gpsr_beacons, canonical=False),
    Format("gpsr-header", gpsr.decode_header, gpsr.encode_header, gpsr_headers, canonical=True),
    Format("power", power.decode, power.encode, power_messages, canonical=False),
    Format("odmrp", odmrp.decode, odmrp.encode, odmrp_messages, canonical=False),
    Format("smf-hello", smf.decode_hello, smf.encode_hello, smf_hellos, canonical=False),
    Format("zwave-header", zwave.decode_header, zwave.encode_header, zwave_headers(),
           canonical=True),
    Format("zwave", zwave.decode, zwave.encode, zwave_messages(), canonical=False),
    Format("zigbee", zigbee.decode, zigbee.encode, st.sampled_from(ZIGBEE_SAMPLES),
           canonical=False),
    Format("zigbee-header", _zigbee_header, zigbee.encode_header,
           st.sampled_from([_ZB_CMD, _ZB_DATA]), canonical=False),
]


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply edits (kind, position, value): 0 change a byte, 1 insert, 2 delete, 3 cut there."""
    out = bytearray(data)
    for kind, position, value in edits:
        at = position % (len(out) + 1)
        if kind == 0 and out:
            out[at % len(out)] = value
        elif kind == 1:
            out.insert(at, value)
        elif kind == 2 and out:
            del out[at % len(out)]
        elif kind == 3:
            del out[at:]
    return bytes(out)


_edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), u8), min_size=1,
                  max_size=4)


def _decode_or_none(fmt: Format, data: bytes):
    """The decoded message, or None if the decoder rejected ``data`` with DecodeError. Any
    other exception fails the test."""
    try:
        return fmt.decode(data)
    except DecodeError:
        return None


def _check_reencodes(fmt: Format, data: bytes, msg) -> None:
    again = fmt.encode(msg)
    assert fmt.decode(again) == msg
    if fmt.canonical:
        assert again == data


# --- the properties ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_any_bytes_decode_or_raise_only_decode_error(fmt):
    """Arbitrary bytes, and valid encodings with bytes changed, inserted, deleted or cut off."""
    damaged = st.builds(lambda msg, edits: _mutate(fmt.encode(msg), edits), fmt.messages, _edits)

    @FUZZ
    @given(st.one_of(st.binary(max_size=96), damaged))
    def check(data):
        msg = _decode_or_none(fmt, data)
        if msg is not None:
            _check_reencodes(fmt, data, msg)

    check()


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_decode_inverts_encode(fmt):
    @ROUNDTRIP
    @given(fmt.messages)
    def check(msg):
        data = fmt.encode(msg)
        assert fmt.decode(data) == msg
        assert fmt.encode(fmt.decode(data)) == data

    check()


# --- IPv4 options (the carrier of per-packet headers on netns) --------------------------------
@FUZZ
@given(st.binary(max_size=80), u8)
def test_ip_option_parsing_never_raises(raw, kind):
    body = ipopt.extract(raw, kind)
    assert body is None or isinstance(body, bytes)
    out = ipopt.rewrite(raw, kind, None)
    assert out is None or isinstance(out, bytes)


@ROUNDTRIP
@given(gpsr_headers, st.binary(max_size=40), st.integers(0, 0xFFFF))
def test_a_header_written_as_an_ip_option_reads_back(header, payload, ident):
    body = gpsr.encode_header(header)
    plain = bytes([0x45, 0, *(20 + len(payload)).to_bytes(2, "big"), *ident.to_bytes(2, "big"),
                   0, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2]) + payload
    packet = ipopt.rewrite(plain, gpsr.IP_OPTION, body)
    assert packet is not None and packet.endswith(payload)
    assert gpsr.decode_header(ipopt.extract(packet, gpsr.IP_OPTION)) == header
    assert ipopt.rewrite(packet, gpsr.IP_OPTION, None)[20:] == payload
