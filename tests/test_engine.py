import pytest

from meshnet.scheduler import Scheduler


def test_events_run_in_time_then_insertion_order():
    s = Scheduler()
    log = []
    s.call_at(2.0, log.append, "c")
    s.call_at(1.0, log.append, "a")
    s.call_at(1.0, log.append, "b")
    s.call_later(0.5, log.append, "first")
    s.run_until(10)
    assert log == ["first", "a", "b", "c"]
    assert s.now == 10
    assert s.executed == 4


def test_cancelled_timer_never_fires():
    s = Scheduler()
    log = []
    h = s.call_later(1.0, log.append, "x")
    s.call_later(2.0, log.append, "y")
    h.cancel()
    assert h.cancelled
    s.run_until(5)
    assert log == ["y"]


def test_run_until_stops_at_the_horizon_and_resumes():
    s = Scheduler()
    log = []
    for t in (1, 2, 3):
        s.call_at(t, log.append, t)
    s.run_until(2)
    assert log == [1, 2] and s.now == 2
    s.run_until(3)
    assert log == [1, 2, 3]


def test_callbacks_can_schedule_more_events():
    s = Scheduler()
    log = []

    def tick(k):
        log.append((s.now, k))
        if k < 3:
            s.call_later(1.0, tick, k + 1)

    s.call_at(0, tick, 0)
    s.run_until(100)
    assert log == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_scheduling_in_the_past_is_refused():
    s = Scheduler()
    s.run_until(5)
    with pytest.raises(ValueError):
        s.call_at(1.0, print)
    with pytest.raises(ValueError):
        s.call_later(-1, print)
