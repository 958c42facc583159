"""The steady state of an iperf3 server report (``meshnet/netns/iperf3.py``): what counts as
throughput when the client started late, and where the test's drain begins."""

from __future__ import annotations

from meshnet.netns.iperf3 import steady_intervals


def _report(*rates: float, last: float = 1.0, t0: float = 0.0) -> list[dict]:
    """Server interval sums of 1 s each (the last ``last`` s long), ``rates`` bytes/s each,
    with iperf3's few hundred microseconds of timer lag on every boundary."""
    out, t = [], t0
    for k, rate in enumerate(rates):
        seconds = last if k == len(rates) - 1 else 1.0
        out.append({"start": t, "end": t + seconds + 0.0009, "seconds": seconds + 0.0009,
                    "bytes": round(rate * seconds)})
        t += seconds + 0.0009
    return out


def _rate(intervals: list[dict]) -> float:
    return sum(iv["bytes"] for iv in intervals) / sum(iv["seconds"] for iv in intervals)


def test_start_up_and_drain_intervals_are_left_out():
    ivs = _report(300, 500, 520, 480, 500, last=0.2)          # a 4-second test
    assert steady_intervals(ivs, 4.0) == ivs[1:4]


def test_intervals_after_the_test_duration_are_the_drain():
    # the client stopped at 4 s; queued datagrams kept arriving, faster (less contention)
    ivs = _report(300, 500, 500, 500, 560, 560, 100, last=0.4)
    steady = steady_intervals(ivs, 4.0)
    assert steady == ivs[1:4]
    assert round(_rate(steady)) == 500


def test_intervals_before_the_client_started_sending_are_left_out():
    # TEST_RUNNING was retransmitted: the server's clock ran ~2.3 s before any data came
    ivs = _report(0, 0, 150, 500, 500, 500, 90, last=0.3)
    steady = steady_intervals(ivs, 6.0)
    assert steady == ivs[3:6]
    assert round(_rate(steady)) == 500


def test_a_stall_after_data_began_counts():
    ivs = _report(300, 500, 0, 500, 100, last=0.2)
    assert steady_intervals(ivs, 4.0) == ivs[1:4]


def test_a_test_too_short_for_a_steady_state_keeps_what_carried_data():
    ivs = _report(0, 200, 300, last=0.5)
    assert steady_intervals(ivs, 1.0) == ivs[1:]
    assert steady_intervals(_report(0, 0), 2.0) == []
    assert steady_intervals([], 2.0) == []
