"""The selected flow under the map: its route written out node by node with hops and age
(shortened in the middle when the edge is narrow), the same age in a replay as live, and
multicast flows named by their group with its members on the map and their deliveries."""

from __future__ import annotations

import io

import pytest

from meshnet.events import TraceWriter
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.tui import palette
from meshnet.tui.app import MeshApp
from meshnet.tui.flow_text import member_list, path_text
from meshnet.tui.launch import sim_factory
from meshnet.tui.map_panel import MapPanel
from meshnet.tui.replay_view import ReplayView
from meshnet.tui.sim_view import SimView
from meshnet.tui.trace_index import TraceIndex

ROUTE_KINDS = ("route_added", "route_changed", "route_removed")


def entry_changes(sim: Simulation) -> dict[tuple[str, str], float]:
    """(node, dst) -> time of the entry's last change, recorded straight off the bus."""
    changed: dict[tuple[str, str], float] = {}
    sim.bus.subscribe(lambda t, k, f: changed.__setitem__((f["node"], f["dst"]), t), ROUTE_KINDS)
    return changed


def test_path_text_keeps_both_ends_and_leaves_out_the_middle():
    names = [f"n{k}" for k in (32, 23, 7, 41, 9, 38)]
    assert path_text(names, 100) == "n32 → n23 → n7 → n41 → n9 → n38"
    short = path_text(names, 24)
    assert short.startswith("n32 → ") and short.endswith(" → n38") and "…" in short
    assert len(short) <= 24
    assert path_text(names, 3) == "n32 → … → n38"  # too narrow: the ends stay anyway
    assert path_text(["n1", "n2"], 3) == "n1 → n2"


def test_member_list_says_how_many_it_leaves_out():
    assert member_list(["n5", "n9", "n12"], 40) == " · n5 n9 n12"
    assert member_list(["n5", "n9", "n12"], 8) == " · n5 n9 +1"  # "n5 n9 n12" needs 9
    assert member_list(["n5", "n9", "n12"], 2) == ""


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_the_route_is_written_out_with_its_hops_and_age(size):
    t = 200.0
    reference = Simulation(load_scenario("broch"))
    changed = entry_changes(reference)
    reference.run_until(t)
    app = MeshApp(sim_factory("broch"), paused=True, start_at=t)
    async with app.run_test(size=size) as pilot:
        await app.settled()
        await pilot.pause()
        picture = app.last_picture
        assert picture.now == t and picture.route_complete and len(picture.route) >= 3
        names = [picture.nodes[i].name for i in picture.route]
        dst = picture.nodes[picture.route[-1]].address
        since = max(changed[(name, dst)] for name in names[:-1])
        assert picture.route_since == since
        panel = app.query_one("#map", MapPanel)
        subtitle = str(panel.border_subtitle)
        assert f" · {len(names) - 1} hops · age {t - since:.1f} s · " in subtitle
        assert subtitle.startswith(f"flow 0: {names[0]} → ") and f" → {names[-1]} · " in subtitle
        if size[0] >= 160:
            assert " → ".join(names) in subtitle
        else:  # the middle is left out so that the whole line fits the map's edge
            assert "…" in subtitle and len(subtitle) <= panel.size.width - 2


def test_a_replay_gives_the_route_the_same_age_as_the_live_run(tmp_path):
    overrides = ["scenario.duration=90", "nodes.count=30"]
    sim = Simulation(load_scenario("broch", overrides))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    sim.run()
    path = tmp_path / "broch.jsonl"
    path.write_text(out.getvalue())
    live = SimView(load_scenario("broch", overrides))
    replay = ReplayView(path, TraceIndex(path))
    in_trace = {f.id: k for k, f in enumerate(replay.flows)}  # flows that sent something
    aged = 0
    for t in (40.0, 65.5, 89.0):
        live.advance(t)
        replay.seek(t)
        for flow, f in enumerate(live.flows):
            if f.id not in in_trace:
                continue
            want, got = live.picture(0, flow), replay.picture(0, in_trace[f.id])
            assert (got.route, got.route_complete) == (want.route, want.route_complete), (t, f.id)
            assert got.route_since == want.route_since, (t, f.id)
            aged += want.route_since is not None
    assert aged >= 3


async def test_a_multicast_flow_names_its_group_and_shows_its_members():
    t = 50.0
    app = MeshApp(sim_factory("multicast"), paused=True, start_at=t)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settled()
        await pilot.pause()
        sim = app.engine.view.sim
        flow = sim.world.flows[0]
        group = sim.world.membership.by_address[flow.group]
        members = sorted(group.members_at(t))
        picture = app.last_picture
        assert picture.members == tuple(members) and picture.route == ()
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        assert subtitle.startswith(f"flow 0: n{flow.src + 1} → {group.name} ({group.address})")
        assert f"{len(members)} members" in subtitle and "no route" not in subtitle
        assert " ".join(f"n{i + 1}" for i in members) in subtitle
        # per-flow member deliveries add up to the run's multicast figures
        tally = app.engine.view._mcast
        mc = sim.metrics.multicast
        assert sum(tally.expected.values()) == mc.expected > 0
        assert sum(tally.delivered.values()) == mc.counted > 0
        assert f"{tally.delivered[flow.id]}/{tally.expected[flow.id]} member deliveries" in subtitle
        # the status bar gives the multicast delivery ratio, not an empty unicast one
        status = str(app.status_bar.text.render())
        assert f"mcast {100 * mc.counted / mc.expected:.1f}% {mc.counted}/{mc.expected}" in status
        assert "PDR -" not in status
        # members are drawn as diamonds in the route's colour, and the legend says so
        panel = app.query_one("#map", MapPanel)
        text = panel.render()
        rows = text.plain.splitlines()
        drawn = "".join(rows[:-1])  # the last row is the legend
        assert drawn.count("◆") == len([i for i in members if i != picture.selected])
        assert "◆member" in rows[-1]
        diamonds = {span.style for span in text.spans
                    if "◆" in text.plain[span.start:span.end]}
        assert any(palette.ROUTE in str(style) for style in diamonds)


def test_a_replay_shows_a_multicast_flow_as_the_live_run_did(tmp_path):
    overrides = ["scenario.duration=70"]
    sim = Simulation(load_scenario("multicast", overrides))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    sim.run()
    path = tmp_path / "multicast.jsonl"
    path.write_text(out.getvalue())
    live = SimView(load_scenario("multicast", overrides))
    replay = ReplayView(path, TraceIndex(path))
    assert [(f.id, f.src, f.group_address) for f in replay.flows] == \
        [(f.id, f.src, f.group_address) for f in live.flows]
    for t in (15.0, 42.0, 65.0):  # 9 joins at 40 s, 27 at 60 s
        live.advance(t)
        replay.seek(t)
        for k in range(len(live.flows)):
            want, got = live.picture(0, k), replay.picture(0, k)
            assert (got.flow_sent, got.flow_delivered) == (want.flow_sent, want.flow_delivered)
            assert got.route == () and not got.route_complete
            # a trace has no joins: its members are those the newest packet was for
            if want.flow_sent:
                assert set(got.members) <= set(want.members) | {live.flows[k].src}
        assert (replay.picture(0, 0).stats.mcast_expected,
                replay.picture(0, 0).stats.mcast_delivered) == \
            (live.sim.metrics.multicast.expected, live.sim.metrics.multicast.counted)
