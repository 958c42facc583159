"""The TUI on netns ends at the scenario's duration as on the simulator: the clock it shows
stops there, and the run's summary (the metrics of `meshnet emulate`) is posted once."""

from __future__ import annotations

import os
import time

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

RUN = f"tk{os.getpid() % 10**6}"
DURATION = 3.0


def test_the_clock_stops_at_the_duration_and_the_summary_comes_once():
    from meshnet.tui.engine import EngineThread, FrameReady, Summary
    from meshnet.tui.launch import netns_factory

    factory = netns_factory("line", ["nodes.count=3", "traffic.0.pairs=[[1,3]]",
                                     f"scenario.duration={DURATION}"], run_name=RUN)
    posted = []
    engine = EngineThread(factory, factory(None), posted.append, paused=False, speed=1.0)
    engine.start()
    try:
        deadline = time.monotonic() + 30
        while not any(isinstance(p, Summary) for p in posted):
            assert time.monotonic() < deadline, posted
            time.sleep(0.1)
        time.sleep(1.5)  # the network runs on; the clock must not
        assert engine.view.now > DURATION + 1
        shown = []
        while time.monotonic() < deadline:
            frame = engine.take()
            if frame is not None:
                shown.append(frame)
                if frame.picture.now >= DURATION:
                    break
            time.sleep(0.05)
        assert shown and shown[-1].picture.now == DURATION and shown[-1].finished
    finally:
        engine.stop()
    summaries = [p for p in posted if isinstance(p, Summary)]
    assert len(summaries) == 1
    result = summaries[0].result
    assert result["backend"] == "netns" and result["duration_s"] == DURATION
    assert result["sent"] > 0 and result["delivered"] > 0
    assert all(isinstance(p, (FrameReady, Summary)) or p.severity != "error" for p in posted)
    assert [n for n in mn_namespaces() if n.startswith(f"mn-{RUN}-")] == []
