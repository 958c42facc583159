"""The channel's reception decision without namespaces: unit disk and the radio model."""

from __future__ import annotations

import heapq
import itertools
import random

from meshnet.netns.medium import RadioMedium, UnitDisk


class Out:
    def __init__(self):
        self.delivered, self.failed, self.drops = [], [], []

    def deliver(self, j, frame):
        self.delivered.append((j, frame))

    def link_failed(self, i, j, frame):
        self.failed.append((i, j))

    def dropped(self, i, reason):
        self.drops.append((i, reason))


class Clock:
    def __init__(self):
        self.t, self.q, self.seq = 0.0, [], itertools.count()

    def time(self):
        return self.t

    def call_at(self, when, fn, *args):
        heapq.heappush(self.q, (when, next(self.seq), fn, args))

    def run(self, until=10.0):
        while self.q and self.q[0][0] <= until:
            self.t, _, fn, args = heapq.heappop(self.q)
            fn(*args)


def test_unit_disk_broadcast_unicast_and_feedback():
    out = Out()
    m = UnitDisk(3, 150, out)
    m.update_positions([(0, 0), (100, 0), (200, 0)])
    m.submit(0, b"bcast", -1)
    assert out.delivered == [(1, b"bcast")]
    m.submit(0, b"to2", 2)
    assert out.failed == [(0, 2)]
    m.blocked.block(0, 1)
    m.refresh()
    m.submit(0, b"to1", 1)
    assert out.failed[-1] == (0, 1)


def _zigbee_medium(positions, out, clock, preset="outdoor"):
    from meshnet.netns.plan import RadioLink
    from meshnet.radio import get_profile, make_propagation

    profile = get_profile("zigbee")
    link = RadioLink(profile, make_propagation(preset, profile), profile.tx_power_dbm)
    m = RadioMedium(len(positions), link, out, clock, rng=random.Random(3))
    m.update_positions(positions)
    return m, link


def test_radio_airtime_delays_delivery_and_range_limits_it():
    out, clock = Out(), Clock()
    m, link = _zigbee_medium([(0, 0), (20, 0), (5000, 0)], out, clock)
    frame = b"\xff" * 6 + b"\x02\x00\x0a\x63\x00\x01" + b"\x08\x00" + bytes(60)
    m.submit(0, frame, -1)
    clock.run()
    assert [j for j, _ in out.delivered] == [1]
    assert clock.t >= link.airtime(len(frame))


def test_radio_hidden_terminals_collide():
    out, clock = Out(), Clock()
    from meshnet.radio import get_profile, make_propagation

    profile = get_profile("zigbee")
    reach = make_propagation("outdoor", profile).range_m(profile.tx_power_dbm,
                                                        profile.sensitivity_dbm)
    # 0 and 2 cannot hear each other, both reach 1
    m, _ = _zigbee_medium([(0, 0), (0.9 * reach, 0), (1.8 * reach, 0)], out, clock)
    lost = 0
    for k in range(20):
        out.delivered.clear()
        frame = b"\xff" * 6 + bytes(8) + bytes(100)
        m.submit(0, frame, -1)
        m.submit(2, frame, -1)
        clock.run(clock.t + 1.0)
        lost += sum(1 for j, _ in out.delivered if j == 1) < 2
    assert lost > 0


def test_saturated_zigbee_hop_carries_what_the_simulator_predicts():
    """Same MAC timing as the simulator: per-fragment back-off, CCA, turnaround, ACK and IFS."""
    from meshnet.netns.throughput import line_scenario, sim_goodput

    payload, seconds = 400, 10.0
    out, clock = Out(), Clock()
    m, _ = _zigbee_medium([(0, 0), (10, 0)], out, clock, preset="indoor")
    frame = bytes(14 + payload + 28)

    def keep_full():
        while len(m.queues[0]) < 8:
            m.submit(0, frame, 1)
        clock.call_at(clock.t + 0.002, keep_full)

    keep_full()
    clock.run(seconds)
    emulated = len(out.delivered) * payload * 8 / seconds
    predicted = sim_goodput(line_scenario(1, 10.0), payload, seconds)
    assert abs(emulated - predicted) <= 0.05 * predicted, (emulated, predicted)
