"""Memory of a long emulation stays flat when its loop falls behind.

Under CPU starvation a real-time emulation must degrade by dropping (counted), not by queueing
without bound. These unit tests hold the structures that grew in long namespace runs
(``benchmarks/netns_soak.py``) to a bound after many operations, without namespaces:

- the received powers the channel leaves for agents that never read them (their kernel dropped
  the datagram: a full socket buffer), and transmit power hints whose frame never came;
- the kernel route changes queued while pyroute2's writer lags behind the protocol;
- reads that allocate only what they return (``os.read(fd, 65536)`` left a 64 KiB hole in
  malloc's heap after every frame or message that stayed alive).
"""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from meshnet.medium import CTRL, Frame
from meshnet.netns.channel import TapStation
from meshnet.netns.payload_book import DEFAULT_CAP, PayloadBook
from meshnet.netns.readbuf import ReadBuffer
from meshnet.netns.routes import KernelRoutes
from meshnet.netns.rtnl import NetlinkError

AODV_PORT = 654


# -- PayloadBook ---------------------------------------------------------------------------------
def test_book_stays_bounded_when_nothing_is_taken():
    book = PayloadBook(cap=64)
    for k in range(10_000):
        book.put(k.to_bytes(4, "big"), float(k))
    assert len(book) == 64
    assert book.evicted == 10_000 - 64
    # the newest are the ones kept
    assert book.take((9_999).to_bytes(4, "big")) == 9_999.0
    assert (10_000 - 65).to_bytes(4, "big") not in book


def test_take_forgets_and_counts_the_entries_left_before():
    book = PayloadBook()
    for name in (b"a", b"b", b"c", b"d"):
        book.put(name, 1.0)
    assert book.take(b"c") == 1.0   # a and b were dropped by the kernel on the way
    assert book.lost == 2
    assert b"d" in book and len(book) == 1
    assert book.take(b"a") is None  # gone, and nothing else is touched
    assert len(book) == 1 and book.lost == 2


def test_pop_leaves_the_others():
    book = PayloadBook()
    book.put(b"unicast", -3.0)
    book.put(b"broadcast", 0.0)
    assert book.pop(b"broadcast") == 0.0   # may overtake a unicast waiting for ARP
    assert book.pop(b"unicast") == -3.0
    assert book.lost == 0 and not book


def test_identical_messages_in_flight_keep_their_own_values():
    book = PayloadBook()
    book.put(b"rreq", -60.0)       # the same RREQ relayed by two neighbours: identical bytes
    book.put(b"hello", -70.0)
    book.put(b"rreq", -80.0)
    assert book.take(b"rreq") == -60.0
    assert book.take(b"hello") == -70.0
    assert book.take(b"rreq") == -80.0
    assert book.lost == 0 and not book


def test_popping_out_of_order_stays_bounded():
    book = PayloadBook(cap=8)
    for k in range(10_000):        # hints taken newest first, the oldest never
        book.put(b"old%d" % (k % 4), 1.0)
        book.put(b"new%d" % k, 2.0)
        assert book.pop(b"new%d" % k) == 2.0
    assert len(book) <= 8
    assert book.lost == 0


def test_book_rejects_a_useless_cap():
    with pytest.raises(ValueError, match="cap"):
        PayloadBook(cap=0)


# -- the channel's received powers ---------------------------------------------------------------
class _Medium:
    def rx_power_dbm(self, index: int) -> float:
        return -71.5


class _Channel:
    """What a TapStation reads from its channel when it hands a frame to its kernel."""

    def __init__(self) -> None:
        self.medium = _Medium()
        self.on_multicast = None
        self.tx_frames = 0
        self.counters: dict[str, int] = {}


def _control_frame(seq: int) -> bytes:
    """An Ethernet frame with an IPv4/UDP datagram to the AODV port, payload unique per seq."""
    payload = b"\x01\x00\x00\x10" + seq.to_bytes(8, "big") + bytes(12)
    udp = (12345).to_bytes(2, "big") + AODV_PORT.to_bytes(2, "big") + \
        (8 + len(payload)).to_bytes(2, "big") + b"\x00\x00"
    ip = bytes([0x45, 0]) + (20 + len(udp) + len(payload)).to_bytes(2, "big") + bytes(4) + \
        bytes([1, 17]) + bytes(2) + socket.inet_aton("10.99.0.2") + \
        socket.inet_aton("255.255.255.255")
    return b"\xff" * 6 + b"\x02\x00\x0a\x63\x00\x02" + b"\x08\x00" + ip + udp + payload


def test_received_powers_of_unread_control_frames_stay_bounded():
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        st = TapStation(_Channel(), 0, fd, 0.0, 50)  # type: ignore[arg-type]
        frames = [_control_frame(k) for k in range(20_000)]
        for raw in frames:  # the agent lags: its kernel drops every datagram
            st.on_frame(Frame(CTRL, 1, "255.255.255.255", -1, None, raw, len(raw) - 14, 0))
        assert len(st.rx_power) <= DEFAULT_CAP
        # the agent reads the newest one: its power is there, the rest counted as lost
        newest = frames[-1][14 + 20 + 8:]
        assert st.rx_power.take(newest) == -71.5
        assert st.rx_power.lost + st.rx_power.evicted == len(frames) - 1
        assert len(st.rx_power) == 0
    finally:
        os.close(fd)


# -- kernel route writes -------------------------------------------------------------------------
class _SlowRtnl:
    """rtnetlink that answers one request per loop turn, like pyroute2 under load."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}
        self.requests = 0
        self.fail_next = False

    async def route_replace(self, dst: str, prefixlen: int = 32, gateway: str | None = None,
                            oif: int | None = None) -> None:
        self.requests += 1
        await asyncio.sleep(0)
        if self.fail_next:
            self.fail_next = False
            raise NetlinkError(22, "Invalid argument")
        self.table[dst] = gateway or dst

    async def route_delete(self, dst: str, prefixlen: int = 32) -> bool:
        self.requests += 1
        await asyncio.sleep(0)
        return self.table.pop(dst, None) is not None


def _routes(loop: asyncio.AbstractEventLoop) -> tuple[KernelRoutes, _SlowRtnl]:
    rt = _SlowRtnl()
    return KernelRoutes(rt, 2, loop), rt  # type: ignore[arg-type]


def test_route_changes_queued_behind_a_slow_kernel_stay_bounded():
    async def churn() -> tuple[int, KernelRoutes, _SlowRtnl]:
        routes, rt = _routes(asyncio.get_running_loop())
        dsts = [f"10.99.0.{k}" for k in range(2, 252)]
        peak = 0
        for step in range(40):  # 40 bursts of a busy protocol between two loop turns
            for k, dst in enumerate(dsts):
                hop = dsts[(k + step) % len(dsts)]
                routes.add(dst, hop, metric=1 + step)
                if (k + step) % 3 == 0:
                    routes.remove(dst)
            peak = max(peak, len(routes._pending))
            await asyncio.sleep(0)
        await routes.flush()
        return peak, routes, rt

    peak, routes, rt = asyncio.run(churn())
    assert peak <= 250                      # one pending change per destination at most
    assert rt.requests < 40 * 250 // 4     # churn folded, not written change by change
    mirror = {r.dst: r.next_hop for r in routes}
    assert rt.table == {d: (h if h != d else d) for d, h in mirror.items()}


def test_a_route_added_and_removed_before_it_was_written_costs_nothing():
    async def run() -> _SlowRtnl:
        routes, rt = _routes(asyncio.get_running_loop())
        routes.add("10.99.0.9", "10.99.0.2")
        routes.remove("10.99.0.9")
        await routes.flush()
        return rt

    rt = asyncio.run(run())
    assert rt.requests == 0 and rt.table == {}


def test_a_failed_replace_keeps_what_the_kernel_has():
    async def run() -> tuple[KernelRoutes, _SlowRtnl]:
        routes, rt = _routes(asyncio.get_running_loop())
        routes.add("10.99.0.9", "10.99.0.2")
        await routes.flush()
        rt.fail_next = True
        routes.add("10.99.0.9", "10.99.0.3")   # refused: the old route stays in the kernel
        await routes.flush()
        routes.remove("10.99.0.9")             # so removing it must still delete it
        await routes.flush()
        return routes, rt

    routes, rt = asyncio.run(run())
    assert routes.errors == 1
    assert rt.table == {}
    assert rt.requests == 3


# -- reads ---------------------------------------------------------------------------------------
def test_reads_return_independent_exact_copies():
    r, w = os.pipe()
    os.set_blocking(r, False)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.setblocking(False)
    try:
        reader = ReadBuffer()
        os.write(w, b"first frame")
        first = reader.read(r)
        os.write(w, b"2nd")
        second = reader.read(r)
        assert (first, second) == (b"first frame", b"2nd")  # not a view of the buffer
        assert type(first) is bytes
        with pytest.raises(BlockingIOError):
            reader.read(r)
        b.send(b"control message")
        payload, _address = reader.recvfrom(a)
        os.write(w, b"x" * 30)
        reader.read(r)
        assert payload == b"control message"
        with pytest.raises(BlockingIOError):
            reader.recvfrom(a)
        big = bytes(range(256)) * 200  # 51,200 bytes: whole
        b.send(big)
        assert reader.recvfrom(a)[0] == big
    finally:
        for fd in (r, w):
            os.close(fd)
        a.close()
        b.close()
