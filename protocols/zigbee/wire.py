"""Frames of the ZigBee network layer as meshnet carries them: byte-exact where the specification
defines the bytes, little-endian as ZigBee is.

Every control payload (UDP port 6360 on netns) is one frame of one of two kinds, told apart by
the first byte:

* **NWK frames** (ZigBee 2006/PRO §3.3.1): the frame control field's protocol version is 2, so
  the first byte always has bit 3 set. Header::

      frame control (2)  destination (2)  source (2)  radius (1)  sequence number (1)
      [destination IEEE (8)] [source IEEE (8)] [source route: relay count (1), relay index (1),
      relays (2 each)]

  Frame control: bits 0-1 frame type (0 data, 1 command), 2-5 protocol version (2), 6-7
  discover route, 10 source route, 11 destination IEEE, 12 source IEEE; multicast and security
  are never set (a frame with either raises DecodeError). Command frames (§3.4) carry a command
  identifier and its payload: route request (0x01), route reply (0x02), network status (0x03),
  route record (0x05) and link status (0x08), laid out as in the specification. Data frames
  carry ZDO commands for address resolution (Device_annce, NWK_addr_req, NWK_addr_rsp, ZigBee
  2006 §2.4.3.1): the ZDO cluster identifier (2), the transaction sequence number (1) and the
  command's fields; the APS header between NWK header and ZDO command is left out.
* **Join frames**: the IEEE 802.15.4 MAC association handshake (802.15.4-2006 §7.5.3), which
  meshnet's medium does not implement as MAC commands, as ``0x00`` (no NWK frame starts so),
  then the kind: beacon request (0x07), association request (0x01) and response (0x02) with the
  802.15.4 command payloads, and beacon (0x00): the sender's short address, the superframe
  specification and the 15-byte ZigBee beacon payload of §3.6.7.

The same NWK header, as a data frame, travels with every data packet (``packet.meta``; an IPv4
option of type :data:`IP_OPTION` on netns and in pcaps).

An IEEE (extended, 64-bit) address in meshnet is the node's IPv4 address as a number: a frame
whose extended address has any of its upper 32 bits set raises DecodeError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Union

from meshnet.protocol_api import DecodeError

PORT = 6360  # UDP port of ZigBee control frames on netns (unassigned by IANA; meshnet's choice)
PROTOCOL_VERSION = 2  # nwkcProtocolVersion of ZigBee 2006 / PRO
STACK_PROFILE = 1  # ZigBee 2006 "home controls" stack profile (tree addressing)
# A data packet's NWK header travels as this IPv4 option on netns and in pcaps: 222 (0xDE) is the
# RFC 4727 experimental option with the copy bit and class 2 (GPSR uses 0x9E, class 0).
IP_OPTION = 0xDE

DATA, COMMAND = 0, 1
BROADCAST_ALL = 0xFFFF  # all devices
BROADCAST_ROUTERS = 0xFFFC  # routers and the coordinator
BROADCAST_MIN = 0xFFF8  # 0xFFF8..0xFFFF are broadcast addresses
UNKNOWN_ADDRESS = 0xFFFF  # a route request for a destination known only by its IEEE address

# NWK commands (§3.4)
CMD_ROUTE_REQUEST = 0x01
CMD_ROUTE_REPLY = 0x02
CMD_NETWORK_STATUS = 0x03
CMD_ROUTE_RECORD = 0x05
CMD_LINK_STATUS = 0x08

# network status codes (§3.4.3.3.1)
STATUS_NO_ROUTE = 0x00
STATUS_TREE_LINK_FAILURE = 0x01
STATUS_NON_TREE_LINK_FAILURE = 0x02
STATUS_SOURCE_ROUTE_FAILURE = 0x0B
STATUS_MANY_TO_ONE_FAILURE = 0x0C

# many-to-one field of the route request options (§3.4.1.3.1)
MANY_TO_ONE_NONE, MANY_TO_ONE_RECORD, MANY_TO_ONE_NO_RECORD = 0, 1, 2

# ZDO clusters (ZigBee 2006 §2.4.3.1, §2.4.4.1)
ZDO_NWK_ADDR_REQ = 0x0000
ZDO_DEVICE_ANNCE = 0x0013
ZDO_NWK_ADDR_RSP = 0x8000
ZDO_SUCCESS, ZDO_DEVICE_NOT_FOUND = 0x00, 0x81

# join frames (802.15.4-2006 §7.3)
MAC = 0x00
MAC_BEACON = 0x00
MAC_ASSOCIATION_REQUEST = 0x01
MAC_ASSOCIATION_RESPONSE = 0x02
MAC_BEACON_REQUEST = 0x07
ASSOC_SUCCESS = 0x00  # 802.15.4 association status
ASSOC_PAN_AT_CAPACITY = 0x01
ASSOC_ACCESS_DENIED = 0x02
CAP_FFD = 0x02  # capability information: device type (router)
CAP_RX_ON_IDLE = 0x08
CAP_ALLOCATE_ADDRESS = 0x80

_FC_TYPE, _FC_VERSION, _FC_DISCOVER = 0x0003, 0x003C, 0x00C0
_FC_MULTICAST, _FC_SECURITY = 0x0100, 0x0200
_FC_SOURCE_ROUTE, _FC_DST_IEEE, _FC_SRC_IEEE = 0x0400, 0x0800, 0x1000
_HEAD = struct.Struct("<HHHBB")
_IEEE = struct.Struct("<Q")
_IEEE_LIMIT = 1 << 32


# --- addresses ----------------------------------------------------------------------------------
def ieee_of(ip: str) -> int:
    """The 64-bit extended address meshnet gives the node with IPv4 address ``ip``."""
    a, b, c, d = (int(x) for x in ip.split("."))
    return a << 24 | b << 16 | c << 8 | d


def ip_of(ieee: int) -> str:
    if not 0 <= ieee < _IEEE_LIMIT:
        raise DecodeError(f"extended address 0x{ieee:016x} is not a meshnet node address")
    return f"{ieee >> 24}.{ieee >> 16 & 255}.{ieee >> 8 & 255}.{ieee & 255}"


# --- messages ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NwkHeader:
    frame_type: int
    dst: int
    src: int
    radius: int
    seq: int
    discover_route: int = 0  # 0 suppress (commands), 1 enable (data frames)
    dst_ieee: str | None = None  # IPv4 address standing for the 64-bit extended address
    src_ieee: str | None = None
    relays: tuple[int, ...] | None = None  # source route, relay nearest the destination first
    relay_index: int = 0


@dataclass(frozen=True, slots=True)
class RouteRequest:
    rreq_id: int
    dst: int
    path_cost: int
    many_to_one: int = MANY_TO_ONE_NONE
    dst_ieee: str | None = None


@dataclass(frozen=True, slots=True)
class RouteReply:
    rreq_id: int
    originator: int
    responder: int
    path_cost: int
    originator_ieee: str | None = None
    responder_ieee: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    code: int
    dst: int


@dataclass(frozen=True, slots=True)
class RouteRecord:
    relays: tuple[int, ...]  # in the order they relayed it: nearest the originator first


@dataclass(frozen=True, slots=True)
class LinkStatus:
    entries: tuple[tuple[int, int, int], ...]  # (neighbour address, incoming cost, outgoing cost)
    first: bool = True
    last: bool = True


@dataclass(frozen=True, slots=True)
class DeviceAnnounce:
    tsn: int
    address: int
    ieee: str
    capability: int


@dataclass(frozen=True, slots=True)
class AddressRequest:
    tsn: int
    ieee: str


@dataclass(frozen=True, slots=True)
class AddressResponse:
    tsn: int
    status: int
    ieee: str
    address: int


@dataclass(frozen=True, slots=True)
class BeaconRequest:
    pass


@dataclass(frozen=True, slots=True)
class Beacon:
    address: int
    depth: int
    router_capacity: bool
    end_device_capacity: bool
    pan_coordinator: bool = False
    permit_join: bool = True
    extended_pan_id: int = 0
    update_id: int = 0


@dataclass(frozen=True, slots=True)
class AssociationRequest:
    capability: int

    @property
    def router(self) -> bool:
        return bool(self.capability & CAP_FFD)


@dataclass(frozen=True, slots=True)
class AssociationResponse:
    address: int
    status: int


Command = Union[RouteRequest, RouteReply, NetworkStatus, RouteRecord, LinkStatus]
Zdo = Union[DeviceAnnounce, AddressRequest, AddressResponse]
JoinFrame = Union[BeaconRequest, Beacon, AssociationRequest, AssociationResponse]


@dataclass(frozen=True, slots=True)
class NwkFrame:
    header: NwkHeader
    body: Command | Zdo = field(default=None)  # type: ignore[assignment]


Message = Union[NwkFrame, BeaconRequest, Beacon, AssociationRequest, AssociationResponse]


# --- encoding ----------------------------------------------------------------------------------
def _check(value: int, bits: int, what: str) -> int:
    if not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ValueError(f"{what} {value!r} does not fit {bits} bits")
    return value


def _ieee(ip: str) -> bytes:
    return _IEEE.pack(ieee_of(ip))


def encode_header(h: NwkHeader) -> bytes:
    """The NWK header alone (a data packet's header)."""
    fc = (_check(h.frame_type, 2, "frame type") | PROTOCOL_VERSION << 2
          | _check(h.discover_route, 2, "discover route") << 6)
    tail = b""
    if h.dst_ieee is not None:
        fc |= _FC_DST_IEEE
        tail += _ieee(h.dst_ieee)
    if h.src_ieee is not None:
        fc |= _FC_SRC_IEEE
        tail += _ieee(h.src_ieee)
    if h.relays is not None:
        fc |= _FC_SOURCE_ROUTE
        count = _check(len(h.relays), 8, "relay count")
        if not (count == 0 and h.relay_index == 0) and not 0 <= h.relay_index < count:
            raise ValueError(f"relay index {h.relay_index} not in 0..{count - 1}")
        tail += bytes([count, h.relay_index]) + b"".join(
            struct.pack("<H", _check(r, 16, "relay")) for r in h.relays)
    return _HEAD.pack(fc, _check(h.dst, 16, "destination"), _check(h.src, 16, "source"),
                      _check(h.radius, 8, "radius"), _check(h.seq, 8, "sequence number")) + tail


def _encode_body(body: Command | Zdo) -> bytes:
    if isinstance(body, RouteRequest):
        opts = _check(body.many_to_one, 2, "many-to-one") << 3 | (0x20 if body.dst_ieee else 0)
        out = struct.pack("<BBBHB", CMD_ROUTE_REQUEST, opts, _check(body.rreq_id, 8, "rreq id"),
                          _check(body.dst, 16, "destination"), _check(body.path_cost, 8, "path cost"))
        return out + (_ieee(body.dst_ieee) if body.dst_ieee else b"")
    if isinstance(body, RouteReply):
        opts = (0x10 if body.originator_ieee else 0) | (0x20 if body.responder_ieee else 0)
        out = struct.pack("<BBBHHB", CMD_ROUTE_REPLY, opts, _check(body.rreq_id, 8, "rreq id"),
                          _check(body.originator, 16, "originator"),
                          _check(body.responder, 16, "responder"),
                          _check(body.path_cost, 8, "path cost"))
        if body.originator_ieee:
            out += _ieee(body.originator_ieee)
        if body.responder_ieee:
            out += _ieee(body.responder_ieee)
        return out
    if isinstance(body, NetworkStatus):
        return struct.pack("<BBH", CMD_NETWORK_STATUS, _check(body.code, 8, "status"),
                           _check(body.dst, 16, "destination"))
    if isinstance(body, RouteRecord):
        return bytes([CMD_ROUTE_RECORD, _check(len(body.relays), 8, "relay count")]) + b"".join(
            struct.pack("<H", _check(r, 16, "relay")) for r in body.relays)
    if isinstance(body, LinkStatus):
        count = _check(len(body.entries), 5, "link status entry count")
        opts = count | (0x20 if body.first else 0) | (0x40 if body.last else 0)
        out = bytearray([CMD_LINK_STATUS, opts])
        for address, incoming, outgoing in body.entries:
            out += struct.pack("<HB", _check(address, 16, "neighbour"),
                               _check(incoming, 3, "incoming cost")
                               | _check(outgoing, 3, "outgoing cost") << 4)
        return bytes(out)
    if isinstance(body, DeviceAnnounce):
        return struct.pack("<HBHQB", ZDO_DEVICE_ANNCE, _check(body.tsn, 8, "tsn"),
                           _check(body.address, 16, "address"), ieee_of(body.ieee),
                           _check(body.capability, 8, "capability"))
    if isinstance(body, AddressRequest):
        return struct.pack("<HBQBB", ZDO_NWK_ADDR_REQ, _check(body.tsn, 8, "tsn"),
                           ieee_of(body.ieee), 0, 0)
    if isinstance(body, AddressResponse):
        return struct.pack("<HBBQH", ZDO_NWK_ADDR_RSP, _check(body.tsn, 8, "tsn"),
                           _check(body.status, 8, "status"), ieee_of(body.ieee),
                           _check(body.address, 16, "address"))
    raise TypeError(f"not a ZigBee NWK command or ZDO message: {body!r}")


def encode(msg: Message) -> bytes:
    """Serialise a control frame; raises ValueError for values that do not fit their fields."""
    if isinstance(msg, NwkFrame):
        is_command = not isinstance(msg.body, (DeviceAnnounce, AddressRequest, AddressResponse))
        if msg.header.frame_type != (COMMAND if is_command else DATA):
            raise ValueError(f"frame type {msg.header.frame_type} does not fit {type(msg.body).__name__}")
        return encode_header(msg.header) + _encode_body(msg.body)
    if isinstance(msg, BeaconRequest):
        return bytes([MAC, MAC_BEACON_REQUEST])
    if isinstance(msg, Beacon):
        superframe = 0x0FFF | (0x4000 if msg.pan_coordinator else 0) | (0x8000 if msg.permit_join else 0)
        info = ((0x04 if msg.router_capacity else 0) | _check(msg.depth, 4, "depth") << 3
                | (0x80 if msg.end_device_capacity else 0))
        return (struct.pack("<BBHHBBBQ", MAC, MAC_BEACON, _check(msg.address, 16, "address"),
                            superframe, 0x00, STACK_PROFILE | PROTOCOL_VERSION << 4, info,
                            _check(msg.extended_pan_id, 64, "extended PAN id"))
                + b"\xff\xff\xff" + bytes([_check(msg.update_id, 8, "update id")]))
    if isinstance(msg, AssociationRequest):
        return bytes([MAC, MAC_ASSOCIATION_REQUEST, _check(msg.capability, 8, "capability")])
    if isinstance(msg, AssociationResponse):
        return struct.pack("<BBHB", MAC, MAC_ASSOCIATION_RESPONSE,
                           _check(msg.address, 16, "address"), _check(msg.status, 8, "status"))
    raise TypeError(f"not a ZigBee frame: {msg!r}")


# --- decoding ----------------------------------------------------------------------------------
def _exact(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise DecodeError(f"{what} must be {size} bytes, got {len(data)}")


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise DecodeError(f"{what} too short: {len(data)} bytes, need {size}")


def decode_header(data: bytes) -> tuple[NwkHeader, int]:
    """(header, its length) of the NWK frame in ``data``. Raises only DecodeError."""
    _need(data, _HEAD.size, "NWK header")
    fc, dst, src, radius, seq = _HEAD.unpack_from(data)
    if (fc & _FC_VERSION) >> 2 != PROTOCOL_VERSION:
        raise DecodeError(f"NWK protocol version {(fc & _FC_VERSION) >> 2}, expected {PROTOCOL_VERSION}")
    kind = fc & _FC_TYPE
    if kind not in (DATA, COMMAND):
        raise DecodeError(f"NWK frame type {kind} (only 0 data and 1 command are used)")
    if fc & (_FC_MULTICAST | _FC_SECURITY):
        raise DecodeError("NWK multicast and security are not supported")
    i = _HEAD.size
    dst_ieee = src_ieee = None
    if fc & _FC_DST_IEEE:
        _need(data, i + 8, "NWK header with destination IEEE address")
        dst_ieee = ip_of(_IEEE.unpack_from(data, i)[0])
        i += 8
    if fc & _FC_SRC_IEEE:
        _need(data, i + 8, "NWK header with source IEEE address")
        src_ieee = ip_of(_IEEE.unpack_from(data, i)[0])
        i += 8
    relays, index = None, 0
    if fc & _FC_SOURCE_ROUTE:
        _need(data, i + 2, "NWK source route")
        count, index = data[i], data[i + 1]
        _need(data, i + 2 + 2 * count, f"NWK source route of {count} relays")
        if count and index >= count:
            raise DecodeError(f"NWK relay index {index} not below the relay count {count}")
        if not count and index:
            raise DecodeError(f"NWK relay index {index} in an empty source route")
        relays = struct.unpack_from(f"<{count}H", data, i + 2)
        i += 2 + 2 * count
    header = NwkHeader(kind, dst, src, radius, seq, (fc & _FC_DISCOVER) >> 6, dst_ieee, src_ieee,
                       relays, index)
    return header, i


def decode(data: bytes) -> Message:
    """Parse one control frame. Raises DecodeError (and nothing else) for malformed input."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"ZigBee frame must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise DecodeError("empty ZigBee frame")
    if data[0] == MAC:
        return _decode_join(data)
    header, i = decode_header(data)
    body = data[i:]
    if header.frame_type == COMMAND:
        return NwkFrame(header, _decode_command(body))
    return NwkFrame(header, _decode_zdo(body))


def _decode_join(data: bytes) -> Message:
    _need(data, 2, "join frame")
    kind = data[1]
    if kind == MAC_BEACON_REQUEST:
        _exact(data, 2, "beacon request")
        return BeaconRequest()
    if kind == MAC_ASSOCIATION_REQUEST:
        _exact(data, 3, "association request")
        return AssociationRequest(data[2])
    if kind == MAC_ASSOCIATION_RESPONSE:
        _exact(data, 5, "association response")
        address, status = struct.unpack_from("<HB", data, 2)
        return AssociationResponse(address, status)
    if kind == MAC_BEACON:
        _exact(data, 21, "beacon")
        _, _, address, superframe, proto, profile, info, epid = struct.unpack_from("<BBHHBBBQ", data)
        if proto != 0:
            raise DecodeError(f"beacon protocol id {proto}, expected 0 (ZigBee)")
        if profile >> 4 != PROTOCOL_VERSION:
            raise DecodeError(f"beacon protocol version {profile >> 4}, expected {PROTOCOL_VERSION}")
        return Beacon(address, info >> 3 & 0x0F, bool(info & 0x04), bool(info & 0x80),
                      bool(superframe & 0x4000), bool(superframe & 0x8000), epid, data[20])
    raise DecodeError(f"unknown join frame kind 0x{kind:02x} (expected 0x00 beacon, 0x01/0x02 "
                      "association request/response, 0x07 beacon request)")


def _decode_command(body: bytes) -> Command:
    _need(body, 1, "NWK command")
    cid = body[0]
    if cid == CMD_ROUTE_REQUEST:
        _need(body, 6, "route request")
        _, opts, rreq_id, dst, cost = struct.unpack_from("<BBBHB", body)
        has_ieee = bool(opts & 0x20)
        _exact(body, 14 if has_ieee else 6, "route request")
        ieee = ip_of(_IEEE.unpack_from(body, 6)[0]) if has_ieee else None
        m2o = opts >> 3 & 3
        if m2o == 3:
            raise DecodeError("route request many-to-one field 3 is reserved")
        return RouteRequest(rreq_id, dst, cost, m2o, ieee)
    if cid == CMD_ROUTE_REPLY:
        _need(body, 8, "route reply")
        _, opts, rreq_id, orig, resp, cost = struct.unpack_from("<BBBHHB", body)
        n = 8 + (8 if opts & 0x10 else 0) + (8 if opts & 0x20 else 0)
        _exact(body, n, "route reply")
        i, orig_ieee, resp_ieee = 8, None, None
        if opts & 0x10:
            orig_ieee, i = ip_of(_IEEE.unpack_from(body, i)[0]), i + 8
        if opts & 0x20:
            resp_ieee = ip_of(_IEEE.unpack_from(body, i)[0])
        return RouteReply(rreq_id, orig, resp, cost, orig_ieee, resp_ieee)
    if cid == CMD_NETWORK_STATUS:
        _exact(body, 4, "network status")
        _, code, dst = struct.unpack_from("<BBH", body)
        return NetworkStatus(code, dst)
    if cid == CMD_ROUTE_RECORD:
        _need(body, 2, "route record")
        count = body[1]
        _exact(body, 2 + 2 * count, f"route record of {count} relays")
        return RouteRecord(struct.unpack_from(f"<{count}H", body, 2))
    if cid == CMD_LINK_STATUS:
        _need(body, 2, "link status")
        opts = body[1]
        count = opts & 0x1F
        _exact(body, 2 + 3 * count, f"link status of {count} entries")
        entries = []
        for k in range(count):
            address, costs = struct.unpack_from("<HB", body, 2 + 3 * k)
            entries.append((address, costs & 7, costs >> 4 & 7))
        return LinkStatus(tuple(entries), bool(opts & 0x20), bool(opts & 0x40))
    raise DecodeError(f"unknown NWK command 0x{cid:02x}")


def _decode_zdo(body: bytes) -> Zdo:
    _need(body, 3, "ZDO command")
    cluster, tsn = struct.unpack_from("<HB", body)
    if cluster == ZDO_DEVICE_ANNCE:
        _exact(body, 14, "Device_annce")
        _, _, address, ieee, capability = struct.unpack("<HBHQB", body)
        return DeviceAnnounce(tsn, address, ip_of(ieee), capability)
    if cluster == ZDO_NWK_ADDR_REQ:
        _exact(body, 13, "NWK_addr_req")
        _, _, ieee, _kind, _start = struct.unpack("<HBQBB", body)
        return AddressRequest(tsn, ip_of(ieee))
    if cluster == ZDO_NWK_ADDR_RSP:
        _exact(body, 14, "NWK_addr_rsp")
        _, _, status, ieee, address = struct.unpack("<HBBQH", body)
        return AddressResponse(tsn, status, ip_of(ieee), address)
    raise DecodeError(f"unknown ZDO cluster 0x{cluster:04x}")
