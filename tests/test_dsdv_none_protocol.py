"""The "none" protocol (shipped next to DSDV): silent, routeless, registered."""

from importlib.metadata import entry_points

from meshnet.protocol_api import Packet
from meshnet.protocols.none import NoRouting
from tests.fakes import FakeContext


def test_no_routing_sends_nothing_and_drops_without_route():
    ctx = FakeContext()
    proto = NoRouting(ctx)
    proto.start()
    proto.on_control("10.99.0.2", b"\x00anything")
    ctx.advance(100.0)
    packet = Packet(uid=1, src=ctx.address, dst="10.99.0.9", size=64, created=0.0)
    proto.on_no_route(packet)
    proto.stop()
    assert ctx.sent == [] and len(ctx.routes) == 0
    assert ctx.dropped == [(packet, "no_route")]
    assert (NoRouting.name, NoRouting.reactive) == ("none", False)


def test_entry_points_resolve():
    found = {ep.name: ep for ep in entry_points(group="meshnet.protocols")}
    assert found["none"].load() is NoRouting
    assert found["dsdv"].load().name == "dsdv"
