"""The scenario's traffic flows as real UDP datagrams between node namespaces.

Each flow (``meshnet.traffic.Flow``) gets a UDP socket opened inside its source node's namespace;
asyncio timers on the emulation's loop send one datagram per packet at the times the simulator
would generate them (same per-flow generator, ``random.Random(f"{seed}:flow:{flow.id}")``, times
relative to the emulation's start clock). Every destination node has one receiving socket on
:data:`PORT`. The runner reports what happens on the same event stream the simulator writes:

- ``data_sent`` {node, uid, src, dst, flow, size} for every generated packet;
- ``data_delivered`` {node, uid, hops, delay, flow} when the destination's socket reads it;
- ``data_dropped`` {node, uid, reason} when the source's kernel refuses it (``sendto`` fails:
  ``no_route`` for ENETUNREACH/EHOSTUNREACH/ENETDOWN, ``queue_full`` for ENOBUFS/EAGAIN,
  ``send_error`` otherwise), or when an ICMP error about it comes back to the source
  (``ttl`` for time exceeded, ``no_route`` for destination unreachable).

Wire format (UDP payload, network byte order), padded with zeros to the flow's ``size`` so the
IP packet is ``size + 28`` bytes, exactly what the simulator puts on the air::

    0      4      8      12            20
    | magic | uid | flow | created (f64) | zeros ...
      "MNt1"  u32   u32    seconds on the emulation clock

Payloads shorter than 20 bytes carry a truncated header; the shortest is 8 bytes (magic and
uid), so flows with ``size`` < 8 send 8 bytes. The receiver takes flow, creation time and TTL
from the runner's own table (sender and receiver are the same process), so the header only has
to identify the packet; flow and time are there for ``tcpdump`` readers.

The table remembers a packet for :data:`KEEP_S` seconds after it was sent (a duplicate copy
or an ICMP error about it can come after its delivery), then forgets it, so a run of hours holds
a few minutes of packets, not all of them. A copy that arrives after that is counted as
``late`` (not delivered, no event): far beyond any queue's timeout, it is a packet the run lost.

Multicast flows (``flow.group``): the source's socket sends to the group address with
``IP_MULTICAST_IF`` = its address, ``IP_MULTICAST_TTL`` = the flow's ``ttl`` and no loopback;
``data_sent`` becomes ``mcast_sent`` {node, uid, group, flow, size, receivers} with the members
at the packet's nominal time. Every node that is ever a member of the group has a receiving
socket that joins and leaves the group (``IP_ADD_MEMBERSHIP`` / ``IP_DROP_MEMBERSHIP`` on its
address) at the scenario's times; each datagram it reads is an ``mcast_delivered`` {node, uid,
group, hops, delay, flow} (the metrics count a packet once per member).

Hops: the source sets ``IP_TTL`` to the flow's ``ttl``; every forwarding kernel decrements it;
the receiver reads the arriving TTL (``IP_RECVTTL``): ``hops = ttl_sent - ttl_received + 1``
(links crossed, as the simulator counts them; a neighbour is 1 hop). Delay uses the kernel's
receive timestamp (``SO_TIMESTAMPNS``) against the wall clock at ``sendto``, so the event loop's
latency at the receiver does not count.

:func:`flow_uid` recognises a flow datagram inside a raw IPv4 packet (:func:`frame_uid` inside
an Ethernet frame), for code that drops frames or packets and must say which packet it lost.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import struct
import time
from collections import deque
from typing import Any, Callable, Iterable, Sequence

from . import linux

log = logging.getLogger(__name__)

PORT = 7777
MAGIC = b"MNt1"
HEADER = struct.Struct("!4sIId")  # magic, uid, flow id, creation time on the emulation clock
MIN_PAYLOAD = 8  # magic + uid
IP_UDP_HEADER = 28
KEEP_S = 120.0
"""Seconds the runner remembers a packet it sent: well past every queue's timeout (AODV holds a
packet at most 30 s, a MAC queue and a kernel queue much less)."""
MARK_S = 1.0  # granularity of forgetting: a record goes between KEEP_S and KEEP_S + MARK_S old

IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)
_ANCBUF = socket.CMSG_SPACE(4) + socket.CMSG_SPACE(16)
_ERRBUF = 512
_TIMESPEC = struct.Struct("@qq")
_INT = struct.Struct("@i")
_EXTENDED_ERR = struct.Struct("@IBBBBII")  # struct sock_extended_err
SO_EE_ORIGIN_ICMP = 2
ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED = 3, 11

_PORT_HI, _PORT_LO = PORT >> 8, PORT & 255
_MAGIC_INT = int.from_bytes(MAGIC, "big")

SEND_ERRORS = {
    errno.ENETUNREACH: "no_route",
    errno.EHOSTUNREACH: "no_route",
    errno.ENETDOWN: "no_route",
    errno.ENOBUFS: "queue_full",
    errno.EAGAIN: "queue_full",
}

Emit = Callable[[float, str, str, dict], None]  # (t, node name, kind, fields)


def flow_uid(ip_packet: Any) -> int | None:
    """The uid of the flow datagram in raw IPv4 packet ``ip_packet`` (bytes, bytearray or
    memoryview), or None when it is not one (another protocol or port, not the first fragment,
    too short, malformed). Never raises."""
    try:
        n = len(ip_packet)
        if n < 36:
            return None
        b0 = ip_packet[0]
        ihl = (b0 & 15) << 2
        if b0 >> 4 != 4 or ihl < 20 or ip_packet[9] != 17 or ip_packet[6] & 0x1F or ip_packet[7]:
            return None  # not IPv4, not UDP, or a fragment other than the first
        if n < ihl + 16 or ip_packet[ihl + 2] != _PORT_HI or ip_packet[ihl + 3] != _PORT_LO:
            return None
        word = int.from_bytes(ip_packet[ihl + 8:ihl + 16], "big")  # magic, uid
        return word & 0xFFFFFFFF if word >> 32 == _MAGIC_INT else None
    except Exception:
        return None


def frame_uid(frame: Any) -> int | None:
    """:func:`flow_uid` of the IPv4 packet in Ethernet frame ``frame``; None for anything else.
    Never raises."""
    try:
        if len(frame) < 50 or frame[12] != 8 or frame[13] != 0:
            return None
        return flow_uid(memoryview(frame)[14:])
    except Exception:
        return None


def payload_for(uid: int, flow: int, created: float, size: int) -> bytes:
    """The UDP payload of one flow packet (see the module docstring)."""
    head = HEADER.pack(MAGIC, uid & 0xFFFFFFFF, flow & 0xFFFFFFFF, created)
    size = max(size, MIN_PAYLOAD)
    if size <= HEADER.size:
        return head[:size]
    return head + bytes(size - HEADER.size)


def hops_from_ttl(ttl_sent: int, ttl_received: int) -> int:
    """Links crossed: the source does not decrement, each forwarder does."""
    return ttl_sent - ttl_received + 1


class _Sent:
    __slots__ = ("flow", "node", "ttl", "wall", "done")

    def __init__(self, flow: Any, node: str, ttl: int, wall: float) -> None:
        self.flow = flow
        self.node = node
        self.ttl = ttl
        self.wall = wall
        self.done = False  # delivered or dropped at the source


class TrafficRunner:
    """Sends the flows and receives them (see the module docstring).

    ``nodes``: the emulation's ``NodeNet`` list (``ns_fd``, ``name``, ``address``); ``clock()``
    is the emulation clock (seconds since start, the clock ``flow.start``/``stop`` use); ``t0``
    the loop time of that clock's zero; ``emit(t, node, kind, fields)`` receives the events
    (node name beside the fields, as ``AgentRuntime``'s ``on_event``); ``keep``: seconds a sent
    packet is remembered (default :data:`KEEP_S`). Everything runs on ``loop``'s thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, nodes: Sequence[Any], flows: Iterable[Any],
                 seed: int, t0: float, emit: Emit, port: int = PORT,
                 keep: float | None = None) -> None:
        self.loop = loop
        self.nodes = list(nodes)
        self.flows = [f for f in flows if f.start < f.stop]
        self.seed = seed
        self.t0 = t0
        self.emit = emit
        self.port = port
        self.keep = KEEP_S if keep is None else keep
        self.uid = 0
        # uid -> record of the packets sent in the last ``keep`` seconds; uids are consecutive,
        # so (time, first uid sent at it) marks, one a second, say which uids are old enough
        self.sent: dict[int, _Sent] = {}
        self._marks: deque[tuple[float, int]] = deque()
        self._oldest = 1  # every uid below it is forgotten
        self.stats = {"sent": 0, "delivered": 0, "send_errors": 0, "icmp_errors": 0,
                      "foreign": 0, "late": 0, "mcast_delivered": 0}
        self._senders: dict[int, socket.socket] = {}   # flow id -> socket in the source
        self._receivers: dict[int, socket.socket] = {}  # node index -> socket in the destination
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._membership_timers: list[asyncio.TimerHandle] = []
        self._running = False

    def now(self) -> float:
        return self.loop.time() - self.t0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the sockets and schedule each flow's first packet (on the loop thread)."""
        self._running = True
        try:
            for flow in self.flows:
                for i in self._receiving_nodes(flow):
                    if i not in self._receivers:
                        self._receivers[i] = self._open_receiver(i)
                self._senders[flow.id] = self._open_sender(flow)
            self._join_groups()
        except BaseException:
            self.close()
            raise
        for flow in self.flows:
            rng = random.Random(f"{self.seed}:flow:{flow.id}")
            self._timers[flow.id] = self.loop.call_at(self.t0 + flow.start, self._generate,
                                                      flow, rng, flow.start)

    @staticmethod
    def _receiving_nodes(flow: Any) -> list[int]:
        if getattr(flow, "group", ""):
            return sorted(i for i in flow.members.ever_members() if i != flow.src)
        return [flow.dst]

    def _join_groups(self) -> None:
        """Receiving sockets join their groups now (members from the start) and at the
        scenario's join and leave times."""
        groups = {f.group: f.members for f in self.flows if getattr(f, "group", "")}
        for address, group in sorted(groups.items()):
            for i in sorted(group.initial):
                if i in self._receivers:
                    self._membership(i, address, True)
            for c in group.changes:
                if c.node in self._receivers:
                    self._membership_timers.append(self.loop.call_at(
                        self.t0 + c.at, self._membership, c.node, address, c.join))

    def _membership(self, i: int, group: str, join: bool) -> None:
        sock = self._receivers.get(i)
        if sock is None:
            return
        mreq = socket.inet_aton(group) + socket.inet_aton(self.nodes[i].address)
        option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
        try:
            sock.setsockopt(socket.IPPROTO_IP, option, mreq)
        except OSError as exc:
            log.warning("%s: %s %s: %s", self.nodes[i].name, "join" if join else "leave",
                        group, exc)

    def stop_sources(self) -> None:
        """No more packets; receivers keep reading (in-flight packets still arrive)."""
        self._running = False
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    def close(self) -> None:
        self.stop_sources()
        for handle in self._membership_timers:
            handle.cancel()
        self._membership_timers.clear()
        for sock in list(self._senders.values()) + list(self._receivers.values()):
            try:
                self.loop.remove_reader(sock.fileno())
            except (ValueError, OSError, RuntimeError):
                pass
            sock.close()
        self._senders.clear()
        self._receivers.clear()

    # -- sockets -------------------------------------------------------------------------------
    def _socket_in(self, i: int) -> socket.socket:
        with linux.in_netns(self.nodes[i].ns_fd):
            return socket.socket(socket.AF_INET,
                                 socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)

    def _open_sender(self, flow: Any) -> socket.socket:
        s = self._socket_in(flow.src)
        try:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(flow.ttl))
            if getattr(flow, "group", ""):
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                             socket.inet_aton(self.nodes[flow.src].address))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, int(flow.ttl))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)  # ICMP errors about our packets
            s.bind((self.nodes[flow.src].address, 0))
        except BaseException:
            s.close()
            raise
        self.loop.add_reader(s.fileno(), self._on_error_queue, s, flow.src)
        return s

    def _open_receiver(self, i: int) -> socket.socket:
        s = self._socket_in(i)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind(("0.0.0.0", self.port))
        except BaseException:
            s.close()
            raise
        self.loop.add_reader(s.fileno(), self._on_receive, s, i)
        return s

    # -- sending -------------------------------------------------------------------------------
    def _generate(self, flow: Any, rng: random.Random, nominal: float) -> None:
        if not self._running:
            return
        now = self.now()
        src = self.nodes[flow.src]
        self.uid += 1
        uid = self.uid
        marks = self._marks
        if not marks or now >= marks[-1][0] + MARK_S:
            marks.append((now, uid))
        if len(marks) > 1 and marks[1][0] <= now - self.keep:
            self._forget(now - self.keep)
        group = getattr(flow, "group", "")
        if group:
            dst_address = group
            receivers = [self.nodes[k].name for k in sorted(flow.members.members_at(nominal))
                         if k != flow.src]
            self.emit(now, src.name, "mcast_sent", {"uid": uid, "group": group,
                                                    "flow": flow.id, "size": flow.size,
                                                    "receivers": receivers})
        else:
            dst_address = self.nodes[flow.dst].address
            self.emit(now, src.name, "data_sent", {"uid": uid, "src": src.address,
                                                   "dst": dst_address, "flow": flow.id,
                                                   "size": flow.size})
        self.stats["sent"] += 1
        record = _Sent(flow, src.name, int(flow.ttl), 0.0)
        self.sent[uid] = record
        data = payload_for(uid, flow.id, now, flow.size)
        record.wall = time.time()
        err = self._send(self._senders.get(flow.id), flow.src, data, dst_address)
        if err is not None:
            self.stats["send_errors"] += 1
            record.done = True
            self._drop(record, uid, SEND_ERRORS.get(err, "send_error"))
        nxt = nominal + flow.next_gap(rng)
        if nxt < flow.stop:
            self._timers[flow.id] = self.loop.call_at(self.t0 + nxt, self._generate, flow, rng,
                                                      nxt)
        else:
            self._timers.pop(flow.id, None)

    def _forget(self, before: float) -> None:
        """Forget the packets sent before ``before``, but for those sent within ``MARK_S`` of
        the last mark at or before it."""
        marks, sent = self._marks, self.sent
        while len(marks) > 1 and marks[1][0] <= before:
            marks.popleft()  # every uid below marks[1]'s was sent before its time
        limit = marks[0][1]  # uids below it were sent before a mark that is old enough
        for uid in range(self._oldest, limit):
            sent.pop(uid, None)
        self._oldest = max(self._oldest, limit)

    def is_flow_uid(self, uid: int) -> bool:
        """``uid`` is a packet this runner sent (remembered or not)."""
        return 0 < uid <= self.uid

    def _send(self, sock: socket.socket | None, i: int, data: bytes, address: str) -> int | None:
        """sendto; the errno when the kernel refused the datagram, else None. An ICMP error
        waiting on the socket makes the next sendto fail with it (without sending): read the
        error queue and try once more, so only this datagram's own fate counts."""
        if sock is None:
            return errno.EBADF
        try:
            sock.sendto(data, (address, self.port))
            return None
        except OSError as exc:
            if not self._on_error_queue(sock, i):
                return exc.errno
        try:
            sock.sendto(data, (address, self.port))
            return None
        except OSError as exc:
            return exc.errno

    def _drop(self, record: _Sent, uid: int, reason: str) -> None:
        kind = "mcast_dropped" if getattr(record.flow, "group", "") else "data_dropped"
        self.emit(self.now(), record.node, kind, {"uid": uid, "reason": reason})

    def _on_error_queue(self, sock: socket.socket, i: int) -> int:
        """ICMP errors about datagrams this source sent (time exceeded on the way: ``ttl``;
        destination/host unreachable: ``no_route``). The quoted payload starts with our
        header, so the uid is known. Returns how many errors were read."""
        count = 0
        for _ in range(64):
            try:
                data, anc, _flags, _addr = sock.recvmsg(_ERRBUF, _ERRBUF, MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            count += 1
            reason = None
            for level, kind, cdata in anc:
                if level == socket.IPPROTO_IP and kind == IP_RECVERR and \
                        len(cdata) >= _EXTENDED_ERR.size:
                    _err, origin, icmp_type, _code, _pad, _info, _data = \
                        _EXTENDED_ERR.unpack_from(cdata)
                    if origin == SO_EE_ORIGIN_ICMP:  # local errors: sendto reports them
                        reason = {ICMP_TIME_EXCEEDED: "ttl",
                                  ICMP_DEST_UNREACH: "no_route"}.get(icmp_type, "icmp_error")
            if reason is None or len(data) < MIN_PAYLOAD or data[:4] != MAGIC:
                continue
            uid = int.from_bytes(data[4:8], "big")
            record = self.sent.get(uid)
            if record is None or record.done:
                continue
            self.stats["icmp_errors"] += 1
            self._drop(record, uid, reason)
        # nobody sends to a sender's port, but a stray datagram must not keep the fd readable
        for _ in range(64):
            try:
                sock.recv(1)
            except OSError:
                break
        return count

    # -- receiving -----------------------------------------------------------------------------
    def _on_receive(self, sock: socket.socket, i: int) -> None:
        node = self.nodes[i]
        for _ in range(256):
            try:
                data, anc, _flags, _addr = sock.recvmsg(65535, _ANCBUF)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(data) < MIN_PAYLOAD or data[:4] != MAGIC:
                self.stats["foreign"] += 1
                continue
            uid = int.from_bytes(data[4:8], "big")
            record = self.sent.get(uid)
            if record is None:
                self.stats["late" if self._oldest > uid > 0 else "foreign"] += 1
                continue
            group = getattr(record.flow, "group", "")
            if record.flow.dst != i and not group:
                self.stats["foreign"] += 1
                continue
            ttl = None
            rx_wall = None
            for level, kind, cdata in anc:
                if level == socket.IPPROTO_IP and kind == socket.IP_TTL and len(cdata) >= 4:
                    ttl = _INT.unpack_from(cdata)[0]
                elif level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and \
                        len(cdata) >= _TIMESPEC.size:
                    sec, nsec = _TIMESPEC.unpack_from(cdata)
                    rx_wall = sec + nsec * 1e-9
            if rx_wall is None:
                rx_wall = time.time()
            hops = hops_from_ttl(record.ttl, ttl) if ttl is not None else 0
            delay = max(rx_wall - record.wall, 0.0)
            if group:
                self.stats["mcast_delivered"] += 1
                self.emit(self.now(), node.name, "mcast_delivered",
                          {"uid": uid, "group": group, "hops": hops, "delay": delay,
                           "flow": record.flow.id})
                continue
            record.done = True
            self.stats["delivered"] += 1
            self.emit(self.now(), node.name, "data_delivered",
                      {"uid": uid, "hops": hops, "delay": delay, "flow": record.flow.id})


__all__ = ["PORT", "MAGIC", "HEADER", "KEEP_S", "TrafficRunner", "flow_uid", "frame_uid",
           "payload_for", "hops_from_ttl", "SEND_ERRORS"]
