"""The pcap is what a sniffer would capture: one record per transmission attempt, stamped when
it goes on the air, so retries are visible and a forwarded frame never precedes the frame that
carried it."""

from __future__ import annotations

import io
from collections import defaultdict

from scapy.layers.inet import IP, UDP
from scapy.utils import PcapReader

from meshnet.pcap import DATA_PORT, PcapRecorder, mac_of
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


def _capture(name: str, overrides: list[str]):
    sim = Simulation(load_scenario(name, overrides))
    buf = io.BytesIO()
    recorder = PcapRecorder(sim, buf)
    sim.run()
    recorder.close()
    return sim, recorder, list(PcapReader(io.BytesIO(buf.getvalue())))


def test_every_attempt_is_a_record_retries_included():
    # broch's 64-byte packets are never fragmented: every frame on the air but the ACKs is a
    # record, so the MAC's retransmissions appear as extra records
    sim, recorder, frames = _capture("broch", ["scenario.duration=60"])
    stats = sim.channel.stats()
    assert stats["retransmissions"] > 0
    assert recorder.frames == len(frames) == stats["frames"] - stats["acks"]
    times = [float(f.time) for f in frames]
    assert times == sorted(times)


def test_records_are_stamped_when_the_frame_goes_on_the_air():
    sim, _, frames = _capture("broch", ["scenario.duration=60"])
    mac_to_index = {mac_of(n.index): n.index for n in sim.nodes}
    seen: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for f in frames:
        if UDP in f and f[UDP].dport == DATA_PORT:
            seen[f[IP].id].append((float(f.time), mac_to_index[f.src], f[IP].ttl))
    multi_hop = 0
    for records in seen.values():
        # a hop sends with a lower TTL than the hop before it, so in capture order the TTL
        # never rises: a forwarded copy is never captured before the frame that carried it
        ttls = [ttl for _, _, ttl in sorted(records)]
        assert ttls == sorted(ttls, reverse=True), records
        multi_hop += len(set(ttls)) > 1
    assert multi_hop > 100
