"""The channel process: the shared radio medium, driven in real time, between node TAPs.

Every node's ``wlan0`` is a TAP whose fd the channel holds. When a node's kernel transmits, the
frame becomes readable here and goes to that node's station on the medium (``meshnet.medium``,
the very code the simulator runs): the MAC contends, the radio decides who decodes it with
which error, the energy is charged, and each receiver's station writes the frame into its TAP.
The only difference from the simulator is the clock: the medium's scheduler
(``meshnet/scheduler.py``) runs against the wall clock here (:class:`RealTimeClock`), so every
MAC timer fires at its intended time (seconds since the emulation started) and event-loop
latency delays a frame a little but never changes a decision.

Also here, because the channel already touches every frame:

- ARP: link addresses derive from IPv4 addresses (``nodes.mac_of``), so the channel answers
  every ARP request itself, at once, and no ARP frame goes on the air (as 6LoWPAN derives link
  addresses instead of resolving them). The simulator has no ARP either, so both backends carry
  the same frames;
- control or data: an IPv4 UDP frame to the protocol's port is a control frame (counted as
  control overhead, ``ctrl_tx``); everything else is data;
- transmit power: a frame goes at the power its agent asked for (``ctx.send(...,
  tx_power_dbm=)``, matched by payload) or at the per-neighbour power the protocol set
  (``ctx.set_link_power``), else at the node's default;
- link-layer feedback: a unicast the medium could not deliver calls
  ``on_link_failure(i, j, frame)`` (AODV's link-layer mode, Broch's AODV-LL);
- route use: with ``record_use`` the channel remembers the last IPv4 packet per (sender, src,
  dst) of unicast data frames, which the agent runtime drains periodically to tell reactive
  protocols their routes are in use;
- positions: the medium reads trajectories at each frame's time; ``positions`` (for display)
  is refreshed every ``position_interval``;
- multicast: with a multicast protocol the agents set ``on_multicast``, and IPv4 multicast
  frames a kernel transmits or the medium delivers go to the node's agent instead of the air or
  the TAP (``multicast.py``); it sends them with ``inject`` and delivers them with
  ``write_tap``;
- floods: with a per-packet protocol the agents set ``on_broadcast_data``, and a broadcast
  data frame for another node goes to the receiving node's agent, which relays it as the
  simulator does (a Linux kernel drops such a frame: it forwards only what was sent to it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from typing import Any, Callable

from meshnet.medium import CTRL, DATA, Frame
from meshnet.protocol_api import BROADCAST
from meshnet.scheduler import Scheduler

from .multicast import is_multicast_frame
from .nodes import NodeNet, mac_of
from .payload_book import PayloadBook
from .readbuf import ReadBuffer
from .plan import ETHERNET_HEADER, Plan

BATCH = 256
FRAME_MAX = 65536
ETH_IPV4 = b"\x08\x00"
ETH_ARP = b"\x08\x06"
ARP_REPLY_HEAD = b"\x00\x01\x08\x00\x06\x04\x00\x02"  # Ethernet/IPv4, 6/4 bytes, op 2
log = logging.getLogger(__name__)


def ipv4_header_length(frame: bytes) -> int:
    """Bytes of the IPv4 header of Ethernet frame ``frame``, or 0 when the header is not one a
    kernel would accept: shorter than 20 bytes, not version 4, running past the frame, or a
    total length outside it (a frame may be longer than its packet: Ethernet pads)."""
    if len(frame) < ETHERNET_HEADER + 20 or frame[14] >> 4 != 4:
        return 0
    ihl = (frame[14] & 15) * 4
    total = int.from_bytes(frame[16:18], "big")
    if ihl < 20 or not ihl <= total <= len(frame) - ETHERNET_HEADER:
        return 0
    return ihl


class RealTimeClock(Scheduler):
    """The simulator's heap scheduler, run against the wall clock of an asyncio loop.

    ``now`` is seconds since ``t0`` on the loop's clock; inside a callback it is the time the
    callback was scheduled for (not the slightly later time the loop got to it), so the medium
    computes every timer from intended times, exactly as in virtual time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, t0: float) -> None:
        super().__init__()
        self.loop = loop
        self.t0 = t0
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = float("inf")
        self._running = False

    def wall(self) -> float:
        return self.loop.time() - self.t0

    def catch_up(self) -> None:
        """Run every event that is due, then move ``now`` to the present."""
        self.run_until(max(self.wall(), self.now))

    def arm(self) -> None:
        """Wake the loop for the next event (call after anything scheduled new events)."""
        if not self._running:
            return
        nxt = self.next_time()
        if nxt is None or nxt >= self._wake_at:
            return
        if self._wake is not None:
            self._wake.cancel()
        self._wake_at = nxt
        self._wake = self.loop.call_at(self.t0 + nxt, self._fire)

    def _fire(self) -> None:
        self._wake = None
        self._wake_at = float("inf")
        self.catch_up()
        self.arm()

    def start(self) -> None:
        self._running = True
        self.arm()

    def halt(self) -> None:
        self._running = False
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        self._wake_at = float("inf")


class TapStation:
    """One node on the medium: frames it decodes go into its TAP."""

    __slots__ = ("channel", "index", "alive", "tx_power", "queue_len", "fd", "link_power",
                 "power_hints", "rx_power")

    def __init__(self, channel: "Channel", index: int, fd: int, tx_power: float,
                 queue_len: int) -> None:
        self.channel = channel
        self.index = index
        self.fd = fd
        self.alive = True
        self.tx_power = tx_power
        self.queue_len = queue_len
        self.link_power: dict[int, float] = {}       # neighbour index -> dBm (set by protocol)
        self.power_hints = PayloadBook()   # UDP payload -> dBm of one control send
        self.rx_power = PayloadBook()      # UDP payload -> RSSI of a control frame

    def on_frame(self, frame: Frame) -> None:
        ch = self.channel
        if (frame.kind == DATA and ch.on_multicast is not None
                and is_multicast_frame(frame.payload)
                and ch.on_multicast(self.index, frame.sender, frame.payload)):
            return  # the node's multicast router (its agent) decides
        if (frame.kind == DATA and frame.dst_index < 0 and ch.on_broadcast_data is not None
                and ch.on_broadcast_data(self.index, frame.sender, frame.payload)):
            return  # a flooded packet for another node: the relay's agent forwards it
        if frame.kind == CTRL:  # the agent reads the RSSI when its socket gets the message
            dbm = ch.medium.rx_power_dbm(self.index)
            if dbm is not None:
                ihl = (frame.payload[14] & 15) * 4
                self.rx_power.put(frame.payload[22 + ihl:], dbm)
        self.write(frame.payload)

    def write(self, frame: bytes) -> None:
        """Hand ``frame`` to this node's kernel."""
        ch = self.channel
        try:
            os.write(self.fd, frame)
            ch.tx_frames += 1
        except BlockingIOError:
            ch.counters["tap_full"] += 1
        except OSError:
            ch.counters["write_error"] += 1

    def on_tx_end(self, frame: Frame, receivers: list[int], ok: bool, reason: str) -> None:
        self.channel.tx_end(self, frame, receivers, ok, reason)


class Channel:
    """Host of the shared medium on netns (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, plan: Plan, nodes: list[NodeNet],
                 on_link_failure: Callable[[int, int, bytes], bool] | None = None,
                 record_use: bool = False, position_interval: float = 0.1,
                 start_time: float | None = None,
                 on_event: Callable[[int, str, dict], None] | None = None,
                 on_death: Callable[[int, str], None] | None = None,
                 flow_uid: Callable[[bytes], int | None] | None = None) -> None:
        self.loop = loop
        self.plan = plan
        self.fds = [n.tap_fd for n in nodes]
        self.mac_index = {n.mac: n.index for n in nodes}
        self.addresses = [n.address for n in nodes]
        self.macs_by_ip = {socket.inet_aton(n.address): mac_of(n.address) for n in nodes}
        self.on_link_failure = on_link_failure
        self.on_event = on_event
        self.on_death = on_death
        self.flow_uid = flow_uid
        self.record_use = record_use
        self.used: dict[tuple[int, bytes], bytes] = {}
        # (node, sender or -1 for its own kernel, frame) -> True if a multicast router took it
        self.on_multicast: Callable[[int, int, bytes], bool] | None = None
        # per-packet protocols: a broadcast data frame for another node goes to the agent
        self.on_broadcast_data: Callable[[int, int, bytes], bool] | None = None
        self.position_interval = position_interval
        self.t0 = loop.time() if start_time is None else start_time
        self.counters: Counter[str] = Counter()
        self.reader = ReadBuffer(FRAME_MAX)
        self.rx_frames = 0  # frames read from TAPs
        self.tx_frames = 0  # frames written into TAPs
        port = getattr(plan.protocol_cls, "port", 0) if plan.protocol_cls else 0
        self.control_port = port.to_bytes(2, "big") if port else None
        # --- the medium's host interface
        self.sched = RealTimeClock(loop, self.t0)
        self.seed = plan.seed
        self.n = plan.n
        self.trajectories = plan.tracks()
        self.max_speed = max((t.max_speed for t in self.trajectories), default=0.0)
        self.nodes = [TapStation(self, i, fd, plan.tx_power, plan.queue_len)
                      for i, fd in enumerate(self.fds)]
        self.medium = plan.make_medium(self)
        self.macs = [self.medium.make_mac(st) for st in self.nodes]
        self.positions = plan.positions(0.0)
        self._timer: asyncio.TimerHandle | None = None
        self._running = False

    # -- Host interface for the medium ------------------------------------------------------------
    def position(self, i: int, t: float) -> tuple[float, float]:
        return self.trajectories[i].position(t)

    def drop(self, node: TapStation, packet: Any, reason: str) -> None:
        self.counters[reason] += 1
        self._data_dropped(node.index, packet, reason)

    def count_control_drop(self, node: TapStation, reason: str) -> None:
        self.counters[f"control_{reason}"] += 1

    def kill(self, i: int, reason: str) -> None:
        """Node ``i`` dies (its battery ran empty): its radio goes silent, queued frames are
        lost, its protocol stops. Its kernel keeps running, unheard."""
        st = self.nodes[i]
        if not st.alive:
            return
        st.alive = False
        for frame in self.macs[i].flush():
            if frame.kind == DATA:
                self.drop(st, frame.packet, "node_dead")
        if self.on_death is not None:
            self.on_death(i, reason)

    def revive(self, i: int) -> None:
        """Node ``i``'s radio works again (a crashed node that recovers); the medium counts
        its energy again from its first frame, as on the simulator."""
        self.nodes[i].alive = True

    @property
    def now(self) -> float:
        """Seconds since the emulation started (the clock trajectories are evaluated at)."""
        return self.loop.time() - self.t0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        self._discard_queued()
        for i, fd in enumerate(self.fds):
            self.loop.add_reader(fd, self._readable, i)
        self.sched.start()
        self._timer = self.loop.call_later(self.position_interval, self._tick)

    def _discard_queued(self) -> None:
        """Frames the nodes' kernels queued while the run was being set up never go on the
        air (counted as ``before_start``): the radios are switched on at t = 0 and the medium
        starts idle, as on the simulator. They are the IPv6 multicast listener reports each
        interface sends as it comes up, four a node: on a 40 kb/s Z-Wave channel 20 nodes'
        worth keep it busy for the first two seconds."""
        read = self.reader.read
        for fd in self.fds:
            while True:
                try:
                    read(fd)
                except OSError:  # BlockingIOError: nothing (more) queued
                    break
                self.counters["before_start"] += 1

    def stop(self) -> None:
        self._running = False
        self.sched.halt()
        for fd in self.fds:
            try:
                self.loop.remove_reader(fd)
            except (ValueError, OSError):
                pass
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        if not self._running:
            return
        self.update_positions()
        self._timer = self.loop.call_later(self.position_interval, self._tick)

    def update_positions(self) -> None:
        self.positions = self.plan.positions(self.now)

    def moved(self) -> None:
        """A trajectory was changed by hand: links follow at once."""
        self.medium.moved()
        self.update_positions()

    # -- links as the medium sees them --------------------------------------------------------
    def neighbours(self) -> list[list[int]]:
        """Who hears whom now (median power at or above sensitivity; cut links excluded)."""
        t = self.sched.wall()
        return [self.medium.neighbours(i, t) if self.nodes[i].alive else []
                for i in range(self.n)]

    def cut(self, i: int, j: int) -> None:
        self.medium.cut(i, j)

    def restore(self, i: int, j: int) -> None:
        self.medium.restore(i, j)

    # -- hot path ------------------------------------------------------------------------------
    def _readable(self, i: int) -> None:
        fd = self.fds[i]
        read = self.reader.read
        catch_up = self.sched.catch_up
        submit = self.submit
        n = 0
        for n in range(1, BATCH + 1):
            try:
                frame = read(fd)
            except BlockingIOError:
                n -= 1
                break
            except OSError:
                self.counters["read_error"] += 1
                break
            catch_up()  # each frame enters the medium when it was read, after what was due
            try:
                submit(i, frame, True)
            except Exception:  # a frame the medium chokes on is lost; the channel goes on
                self.counters["frame_error"] += 1
                log.debug("node %d: frame of %d bytes failed", i, len(frame), exc_info=True)
        self.rx_frames += n
        self.sched.arm()

    def submit(self, i: int, frame: bytes, from_kernel: bool = False) -> None:
        """Node ``i``'s interface transmits ``frame`` (an Ethernet frame) now."""
        if len(frame) < ETHERNET_HEADER:
            self.counters["runt"] += 1
            return
        if frame[12:14] == ETH_ARP:
            self._answer_arp(i, frame)
            return
        if frame[0] & 1:
            if (from_kernel and self.on_multicast is not None and is_multicast_frame(frame)
                    and self.on_multicast(i, -1, frame)):
                return  # originated: the node's multicast router sends it
            j, dst = -1, BROADCAST
        else:
            j = self.mac_index.get(frame[:6])
            if j is None:
                self.counters["unknown_mac"] += 1
                return
            dst = self.addresses[j]
        st = self.nodes[i]
        kind = DATA
        power = None
        if frame[12:14] == ETH_IPV4:
            ihl = ipv4_header_length(frame)
            if not ihl:  # the receivers' kernels drop it; it still takes its airtime
                self.counters["malformed"] += 1
            elif (frame[23] == 17 and len(frame) >= 22 + ihl
                  and frame[16 + ihl:18 + ihl] == self.control_port):
                kind = CTRL
                if st.power_hints:
                    power = st.power_hints.pop(frame[22 + ihl:])
            elif j >= 0 and self.record_use:
                self.used[(i, frame[26:34])] = frame
        if power is None and j >= 0 and st.link_power:
            power = st.link_power.get(j)
        f = Frame(kind, i, dst, j, frame if kind == DATA else None, frame,
                  len(frame) - ETHERNET_HEADER, 0, power)
        if not st.alive:
            if kind == DATA:
                self.drop(st, frame, "node_dead")
            return
        if not self.macs[i].enqueue(f):
            if kind == DATA:
                self.drop(st, frame, "queue_full")
            else:
                self.count_control_drop(st, "queue_full")

    def _answer_arp(self, i: int, frame: bytes) -> None:
        """Reply to node ``i``'s ARP request for a mesh address; nothing goes on the air."""
        if len(frame) < 42 or frame[20:22] != b"\x00\x01":
            return  # a reply or an announcement: nobody needs it
        mac = self.macs_by_ip.get(frame[38:42])
        if mac is None:
            self.counters["arp_unknown"] += 1
            return
        asker = frame[22:28]
        reply = (asker + mac + ETH_ARP + ARP_REPLY_HEAD + mac + frame[38:42] + asker
                 + frame[28:32])
        self.counters["arp_answered"] += 1
        try:
            os.write(self.fds[i], reply)
        except OSError:
            self.counters["tap_full"] += 1

    def write_tap(self, i: int, frame: bytes) -> None:
        """Give ``frame`` to node ``i``'s kernel (a multicast router's local delivery)."""
        self.nodes[i].write(frame)

    def inject(self, i: int, frame: bytes) -> None:
        """Transmit ``frame`` as if node ``i``'s kernel had (user-space forwarding path)."""
        self.sched.catch_up()
        self.submit(i, frame)
        self.sched.arm()

    def tx_end(self, st: TapStation, frame: Frame, receivers: list[int], ok: bool,
               reason: str) -> None:
        """The medium is done with one of ``st``'s frames."""
        if frame.kind == DATA and frame.dst_index < 0 and self.on_event is not None \
                and self.flow_uid is not None and is_multicast_frame(frame.payload):
            uid = self.flow_uid(memoryview(frame.payload)[ETHERNET_HEADER:])
            if uid is not None:
                self.on_event(st.index, "mcast_tx", {"uid": uid, "group": socket.inet_ntoa(
                    frame.payload[30:34])})
        if frame.kind == CTRL:
            self.counters["control_tx"] += 1
            if self.on_event is not None:
                self.on_event(st.index, "ctrl_tx", {"dst": frame.dst, "bytes": frame.size,
                                                    "port": int.from_bytes(self.control_port,
                                                                           "big")})
        if ok:
            if frame.kind == DATA and not receivers:
                self.drop(st, frame.packet, reason or "out_of_range")
            return
        self.counters["link_failure"] += 1
        taken = False
        if self.on_link_failure is not None and st.alive:
            taken = bool(self.on_link_failure(st.index, frame.dst_index, frame.payload))
        if frame.kind == DATA and not taken:
            self.drop(st, frame.packet, reason or "mac_retries")

    def _data_dropped(self, i: int, frame: Any, reason: str) -> None:
        if self.on_event is None or self.flow_uid is None or not isinstance(frame, bytes):
            return
        uid = self.flow_uid(memoryview(frame)[ETHERNET_HEADER:])
        if uid is not None:
            kind = "mcast_dropped" if is_multicast_frame(frame) else "data_dropped"
            self.on_event(i, kind, {"uid": uid, "reason": reason})

    # -- energy --------------------------------------------------------------------------------
    def energy_j(self) -> float:
        self.sched.catch_up()
        return self.medium.total_energy_j()
