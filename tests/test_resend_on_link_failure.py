"""A per-packet protocol that re-sends a packet from ``on_link_failure`` keeps it: the packet is
forwarded once more and not also counted as dropped."""

from __future__ import annotations

from meshnet.protocol_api import Protocol

from .simhelpers import assert_conserved, make_sim


class SkipAheadThenNeighbour(Protocol):
    """Tries the node two hops down the line first (out of range: the MAC fails), then, from
    on_link_failure, re-sends through the next node."""

    name = "skip-ahead"
    per_packet = True

    def forward(self, packet, prev_hop):
        if packet.dst == self.ctx.address:
            return None
        prefix, me = self.ctx.address.rsplit(".", 1)
        last = int(packet.dst.rsplit(".", 1)[1])
        ahead = 2 if packet.uid not in self.ctx.persistent else 1
        return f"{prefix}.{min(int(me) + ahead, last)}"

    def on_link_failure(self, next_hop, packet):
        if packet is not None:
            self.ctx.persistent[packet.uid] = True
            self.ctx.send_packet(packet)


def test_a_packet_resent_from_on_link_failure_is_not_also_dropped():
    sim = make_sim("line", "scenario.duration=5")
    for node in sim.nodes:
        node.attach(SkipAheadThenNeighbour(node))
    drops = []
    sim.bus.subscribe(lambda t, kind, ev: drops.append(ev), ("data_dropped",))
    result = sim.run()
    assert drops == []
    assert result["delivered"] > 0
    assert result["drops"].get("mac_retries", 0) == 0, result["drops"]
    assert result["delivered"] == result["sent"] - result["queued"], result
    assert_conserved(result)
