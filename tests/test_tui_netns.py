"""The TUI on the namespace backend: live kernel routes in the table, nodes moved in the radio
model. Needs root; fails instead of skipping when MESHNET_REQUIRE_NETNS=1."""

from __future__ import annotations

import pytest

from meshnet.tui.app import MeshApp
from meshnet.tui.launch import netns_factory
from meshnet.tui.map_panel import MapPanel
from meshnet.tui.table_panel import RoutingTable
from tests.netns_support import netns_skip_reason

pytestmark = pytest.mark.netns

FOUR_NODE_LINE = ["nodes.count=4", "traffic.0.pairs=[[1, 4]]"]


@pytest.fixture(autouse=True)
def _needs_netns():
    reason = netns_skip_reason()
    if reason:
        pytest.skip(reason)


async def test_netns_backend_shows_kernel_routes_and_moves_nodes():
    app = MeshApp(netns_factory("line", FOUR_NODE_LINE, protocol="dsdv"))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(150):  # DSDV converges within a few seconds of real time
            await pilot.pause(0.1)
            if app.last_picture and app.last_picture.route_complete:
                break
        picture = app.last_picture
        assert picture.route == (0, 1, 2, 3)
        assert [r.dst for r in picture.table] == ["n2", "n3", "n4"]
        assert [r.next_hop for r in picture.table] == ["n2", "n2", "n2"]
        assert app.query_one("#table", RoutingTable).row_count == 3
        assert "netns" in app.query_one("#map", MapPanel).border_title
        # links are rated by what they delivered, as on the simulator
        assert all(0.0 <= q <= 1.0 for _, _, q in picture.links)
        assert (0, 1) in {(i, j) for i, j, _ in picture.links}
        view = app.engine.view
        attempted, delivered = view.emu._call(view.meter.counts, 0, 1)  # read on its thread
        assert attempted > 0 and 0 < delivered <= attempted
        await pilot.press("tab", *["up"] * 10)  # n2 leaves: n1 is cut off
        for _ in range(50):
            await pilot.pause(0.1)
            if (0, 1) not in {(i, j) for i, j, _ in app.last_picture.links}:
                break
        assert (0, 1) not in {(i, j) for i, j, _ in app.last_picture.links}
        await pilot.press("q")


async def test_netns_backend_counts_delivery_ages_the_route_and_kills_and_revives():
    app = MeshApp(netns_factory("line", FOUR_NODE_LINE, protocol="dsdv"))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):  # converged, and the flow has delivered packets
            await pilot.pause(0.1)
            p = app.last_picture
            if p and p.route_complete and p.flow_delivered >= 3 and p.route_since is not None:
                break
        picture = app.last_picture
        view = app.engine.view
        metrics = view.emu.metrics
        # the run's own metrics (those `meshnet emulate` reports), not zeros
        assert picture.stats.sent > 0 and picture.stats.delivered > 0
        assert picture.stats.sent <= metrics.sent and picture.flow_delivered >= 3
        assert picture.stats.control_packets > 0
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        assert "n1 → n2 → n3 → n4 · 3 hops · age " in subtitle
        assert 0.0 <= picture.now - picture.route_since <= picture.now
        await pilot.press("tab")  # n2
        await pilot.press("k")
        for _ in range(50):
            await pilot.pause(0.1)
            if not app.last_picture.nodes[1].alive:
                break
        assert not app.last_picture.nodes[1].alive
        assert "✕" in app.query_one("#map", MapPanel).render().plain
        await pilot.press("k")
        for _ in range(50):
            await pilot.pause(0.1)
            if app.last_picture.nodes[1].alive:
                break
        assert app.last_picture.nodes[1].alive
        await pilot.press("q")
