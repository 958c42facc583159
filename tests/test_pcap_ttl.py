"""Each hop owns its packet: the pcap shows every data frame with the IP TTL it left with
(a source sends with the flow's TTL), not the TTL its receiver already decremented."""

from __future__ import annotations

import io

from scapy.layers.inet import IP, UDP
from scapy.utils import PcapReader

from meshnet.pcap import DATA_PORT, PcapRecorder, mac_of
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation


def test_ttl_in_the_pcap_is_the_ttl_each_hop_sent():
    sim = Simulation(load_scenario("broch", ["scenario.duration=60"]))
    buf = io.BytesIO()
    recorder = PcapRecorder(sim, buf)
    result = sim.run()
    recorder.close()
    address_of_mac = {mac_of(n.index): n.address for n in sim.nodes}
    at_source = relayed = 0
    for frame in PcapReader(io.BytesIO(buf.getvalue())):
        if UDP not in frame or frame[UDP].dport != DATA_PORT:
            continue
        ip = frame[IP]
        if address_of_mac[frame.src] == ip.src:
            at_source += 1
            assert ip.ttl == 64, (ip.src, ip.ttl)
        else:
            relayed += 1
            assert ip.ttl < 64, (ip.src, ip.ttl)
    assert at_source >= 0.9 * result["sent"] and relayed > 0
