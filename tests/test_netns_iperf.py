"""Acceptance: real ``iperf3 -u`` across ZigBee hops of the emulated radio, against the simulator.

The client sends far above what the hop carries; the receiver's throughput must stay below the
250 kb/s PHY rate and within 20 % of what the simulator's 802.15.4 MAC delivers on the same hop
with the same datagrams (fragments included). Three hops carry less than one.
"""

from __future__ import annotations

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

PAYLOAD = 400  # bytes of UDP payload: a 428-byte IP packet, five 802.15.4 fragments


@pytest.fixture(autouse=True)
def no_leftovers():
    require_tool("iperf3", "iperf3")
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-tip")] == []


def _iperf_over_line(hops: int, spacing: float) -> tuple[float, float]:
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan
    from meshnet.netns.throughput import iperf3_udp, line_scenario, sim_goodput
    from meshnet.scenario import scenario_from_dict

    raw = line_scenario(hops, spacing)
    predicted = sim_goodput(raw, PAYLOAD)
    plan = Plan.from_scenario(scenario_from_dict(raw))
    with Emulation(plan, name=f"tip{hops}") as emu:
        emu.install_static_routes()
        measured = iperf3_udp(emu, plan.names[0], plan.names[-1], PAYLOAD, seconds=3)
    return measured, predicted


def test_iperf3_udp_over_zigbee_hops_matches_the_simulator():
    one, one_predicted = _iperf_over_line(1, 10.0)
    assert 0 < one < 250e3
    assert abs(one - one_predicted) <= 0.2 * one_predicted, (one, one_predicted)
    three, _ = _iperf_over_line(3, 12.0)
    assert 0 < three < one
