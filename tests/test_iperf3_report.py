"""The steady state of an iperf3 server report (``meshnet/netns/iperf3.py``): what counts as
throughput when the client started late or the queue drained at the end."""

from __future__ import annotations

from meshnet.netns.iperf3 import steady_intervals


def _iv(nbytes: int, seconds: float = 1.0) -> dict:
    return {"bytes": nbytes, "seconds": seconds}


def test_start_up_and_drain_intervals_are_left_out():
    ivs = [_iv(300), _iv(500), _iv(520), _iv(480), _iv(100, 0.2)]
    assert steady_intervals(ivs) == ivs[1:-1]


def test_intervals_before_the_client_started_sending_are_left_out():
    # TEST_RUNNING was retransmitted: the server's clock ran ~2.3 s before any data came
    ivs = [_iv(0), _iv(0), _iv(150), _iv(500), _iv(520), _iv(480), _iv(90, 0.3)]
    steady = steady_intervals(ivs)
    assert steady == ivs[3:-1]
    assert sum(iv["bytes"] for iv in steady) / sum(iv["seconds"] for iv in steady) == 500


def test_a_stall_after_data_began_counts():
    ivs = [_iv(300), _iv(500), _iv(0), _iv(500), _iv(100, 0.2)]
    assert steady_intervals(ivs) == ivs[1:-1]


def test_short_reports_are_kept_whole_and_empty_ones_give_nothing():
    assert steady_intervals([_iv(0), _iv(200), _iv(300)]) == [_iv(200), _iv(300)]
    assert steady_intervals([_iv(0), _iv(0)]) == []
    assert steady_intervals([]) == []
