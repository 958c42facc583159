"""iperf3's UDP set-up is one datagram each way, never retransmitted; on a lossy radio path
either can be lost (``meshnet/netns/iperf3.py``). Here the channel loses them on purpose: the
measurement must notice the stalled set-up long before iperf3's own 30 s, run the test again and
report a real figure, or say that nothing arrived."""

from __future__ import annotations

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

PORT = 5201
STALL_S = 1.5
RUN_LIMIT_S = 15.0  # per test run; iperf3 alone would wait 30 s for a lost set-up reply


@pytest.fixture(autouse=True)
def no_leftovers():
    require_tool("iperf3", "iperf3")
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-tis")] == []


def _udp_ports(frame: bytes) -> tuple[int, int, int] | None:
    """(source port, destination port, payload length) of an IPv4 UDP Ethernet frame."""
    if frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    udp = frame[14 + ihl:]
    return (int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big"),
            int.from_bytes(udp[4:6], "big") - 8)


def _lose(emu, sender: int, direction: str, count: int) -> list[int]:
    """Make the channel lose the next ``count`` 4-byte iperf3 set-up datagrams that node
    ``sender``'s kernel transmits (``direction``: "connect" from the client, "reply" from the
    server). Returns a one-item list with how many are still to be lost."""
    channel = emu.runtime.channel
    submit = channel.submit
    left = [count]

    def lossy_submit(i: int, frame: bytes, from_kernel: bool = False) -> None:
        ports = _udp_ports(frame) if i == sender else None
        if ports is not None and left[0] > 0 and ports[2] == 4 and (
                ports[1] == PORT if direction == "connect" else ports[0] == PORT):
            left[0] -= 1
            return
        submit(i, frame, from_kernel)

    emu._call(setattr, channel, "submit", lossy_submit)
    return left


def _measure(direction: str, lost: int, attempts: int = 3):
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.iperf3 import udp_throughput
    from meshnet.netns.plan import Plan

    with Emulation(Plan.line(3), name="tis") as emu:
        emu.install_static_routes()
        sender = 0 if direction == "connect" else 2
        left = _lose(emu, sender, direction, lost)
        try:
            return udp_throughput(emu, "n1", "n3", 400, seconds=2, rate="1M",
                                  timeout=RUN_LIMIT_S, attempts=attempts, stall_s=STALL_S)
        finally:
            assert left[0] == max(0, lost - attempts)


@pytest.mark.parametrize("direction", ["connect", "reply"])
def test_a_lost_set_up_datagram_is_noticed_and_the_test_run_again(direction):
    result = _measure(direction, lost=1)
    assert result.attempts == 2
    assert result.bps > 0
    assert result.intervals and all(iv["bytes"] > 0 for iv in result.intervals)


def test_set_ups_lost_on_every_attempt_end_in_setup_lost():
    from meshnet.netns.iperf3 import SetupLost

    with pytest.raises(SetupLost, match="received no data"):
        _measure("connect", lost=5, attempts=2)
