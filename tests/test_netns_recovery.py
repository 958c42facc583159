"""Recovery from a silent link loss (frames stop, interfaces stay up) on a line with a backup
path: AODV with hellos, AODV with link-layer feedback, and unmodified babeld. Times are
measured by ``benchmarks/netns_recovery.py``; here only that traffic resumes, within a generous
bound, through the other node."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

BOUND_S = 10.0


@pytest.fixture(autouse=True)
def no_leftovers():
    require_tool("ping", "iputils-ping")
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-trec")] == []


def _check(result: dict) -> None:
    assert result["outage_s"] is not None and result["outage_s"] < BOUND_S, result
    assert result["via_after"] not in (None, {"n2": "10.99.0.2", "n4": "10.99.0.4"}[
        result["cut"][1]]), result


@pytest.mark.parametrize("detection", ["hello", "link-layer"])
def test_aodv_traffic_resumes_after_a_silent_cut(detection):
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.outage import diamond, measure_outage

    with Emulation(diamond("aodv", link_detection=detection), name="trec") as emu:
        _check(measure_outage(emu, window=BOUND_S))


def test_babeld_traffic_resumes_after_a_silent_cut():
    require_tool("babeld", "babeld")
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.outage import diamond, measure_outage

    with Emulation(diamond(), name="trecb") as emu:
        for i in range(1, 5):
            emu.node(f"n{i}").popen(
                ["babeld", "-I", "", "-S", "", "-h", "1", "-H", "1",
                 "-C", "redistribute local ip 10.99.0.0/16 allow",
                 "-C", "redistribute local deny", "wlan0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert emu.wait_converged(60)
        time.sleep(5)  # the backup path is learnt after the first routes
        _check(measure_outage(emu, window=BOUND_S))
