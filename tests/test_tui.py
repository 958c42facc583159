"""Pilot tests of `meshnet tui` (headless, Textual's run_test)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import replace

import pytest
from rich.console import Console
from textual import events
from textual._ansi_theme import MONOKAI

from meshnet.cli import main
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.tui.app import MeshApp
from meshnet.tui.event_log import EventLog
from meshnet.tui import palette
from meshnet.tui.help_screen import KEY_NAMES, HelpScreen
from meshnet.tui.summary_screen import SummaryScreen
from meshnet.tui.launch import protocol_cycle, sim_factory
from meshnet.tui.palette import link_level
from meshnet.tui.sim_view import SimView
from meshnet.tui.map_panel import MapPanel
from meshnet.tui.table_panel import RoutingTable
from meshnet.tui.view import ALL_LOG_KINDS, NodeInfo, Picture, Stats

# A line 120 m apart with 250 m radios: each node hears two neighbours on each side, so a route
# from n1 to n10 skips nodes and has alternatives when one node leaves.
DENSE_LINE = ["nodes.spacing=120"]


def line_app(overrides=None, **kwargs) -> MeshApp:
    kwargs.setdefault("paused", True)
    return MeshApp(sim_factory("line", overrides, protocol="aodv"), **kwargs)


async def test_selecting_a_node_shows_its_table():
    app = line_app(start_at=8.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        table = app.query_one("#table", RoutingTable)
        assert table.border_title == "routes of n1"
        await pilot.press("tab", "tab")
        await app.settled()
        assert app.selected == 2
        assert table.border_title == "routes of n3"
        shown = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
        assert shown == [r.dst for r in app.last_picture.table]
        assert "n10" in shown  # n3 forwards the n1 -> n10 flow
        await pilot.press("shift+tab")
        await app.settled()
        assert table.border_title == "routes of n2"


async def test_clicking_a_node_selects_it():
    app = line_app(start_at=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        panel = app.query_one("#map", MapPanel)
        cx, cy = panel._cells[6]
        # the panel's border adds one cell on each side
        await pilot.click("#map", offset=(cx + 1, cy + 1))
        await app.settled()
        assert app.selected == 6
        assert app.query_one("#table", RoutingTable).border_title == "routes of n7"


async def test_moving_a_node_out_of_range_reroutes_and_logs_break_and_rediscovery():
    app = line_app(DENSE_LINE, start_at=8.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        before = app.last_picture
        assert before.route_complete and before.route[0] == 0 and before.route[-1] == 9
        moved = before.route[len(before.route) // 2]
        await pilot.press(*["tab"] * moved)
        await pilot.press(*["up"] * 8)  # 8 x 50 m: out of everyone's 250 m range
        await pilot.press(*["s"] * 10)  # ten simulated seconds
        await app.settled()
        after = app.last_picture
        assert after.route != before.route
        assert after.route_complete and moved not in after.route
        assert after.route[0] == 0 and after.route[-1] == 9
        kinds = [e.kind for e in app.query_one("#log", EventLog).entries if e.t > 8.0]
        assert "route_broken" in kinds
        broken = kinds.index("route_broken")
        assert "rreq_sent" in kinds[broken:]
        assert "route_found" in kinds[broken:]
        assert "no route" not in str(app.query_one("#map", MapPanel).border_subtitle)


async def test_route_changes_flash_in_the_table():
    app = line_app(DENSE_LINE, start_at=8.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        table = app.query_one("#table", RoutingTable)
        assert table.flashing() == set()
        moved = app.last_picture.route[1]  # the source's first hop
        await pilot.press(*["tab"] * moved, *["up"] * 8, *["shift+tab"] * moved)
        assert app.selected == 0
        await pilot.press("s", "s", "s")
        await app.settled()
        assert "n10" in table.flashing()


async def test_pause_stops_time():
    app = line_app(paused=False, speed=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):  # until the engine thread has moved time on
            await pilot.pause(0.05)
            if app.last_picture is not None and app.last_picture.now > 0:
                break
        assert app.last_picture.now > 0
        await pilot.press("space")
        assert app.paused
        await app.settled()
        frozen = app.last_picture.now
        await pilot.pause(0.5)
        await pilot.press("s")  # a step while paused: exactly one simulated second
        await app.settled()
        assert app.last_picture.now == pytest.approx(frozen + 1.0)
        await pilot.press("space")
        assert not app.paused


async def test_speed_keys_change_the_factor():
    app = line_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.speed == 1.0
        await pilot.press("+")
        assert app.speed == 2.0
        await pilot.press("+", "+")
        assert app.speed == 10.0
        await pilot.press("-", "-", "-", "-")
        assert app.speed == 0.5
        await app.settled()
        status = str(app.query_one("#status-text").render())
        assert "×0.5" in status


async def test_kill_and_revive_the_selected_node():
    app = line_app(start_at=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "tab", "tab", "k")
        await app.settled()
        assert not app.last_picture.nodes[3].alive
        assert "(dead)" in app.query_one("#table", RoutingTable).border_title
        assert any(e.kind == "node_died" for e in app.query_one("#log", EventLog).entries)
        await pilot.press("k")
        await app.settled()
        assert app.last_picture.nodes[3].alive


async def test_protocol_switch_and_restart():
    app = MeshApp(sim_factory("line", protocol="aodv"), protocols=protocol_cycle(),
                  paused=True, start_at=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await app.settled()
        assert app.engine.view.protocol == protocol_cycle()[
            (protocol_cycle().index("aodv") + 1) % len(protocol_cycle())]
        assert app.engine.view.now == 0.0
        await pilot.press("s", "r")
        await app.settled()
        assert app.engine.view.now == 0.0


async def test_flow_cycle_and_log_filters():
    app = MeshApp(sim_factory("default", seed=3), paused=True, start_at=10.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.settled()
        first = app.last_picture.route
        await pilot.press("f")
        await app.settled()
        assert app.flow == 1
        assert app.query_one("#map", MapPanel).border_subtitle.startswith("flow 1:")
        assert app.last_picture.route != first
        log = app.query_one("#log", EventLog)
        await pilot.press("n")
        assert log.node_filter == "n1"
        await pilot.press("l")
        assert log.kind_filter == "routes"
        await pilot.press("n")
        assert log.node_filter is None


async def test_help_screen_lists_the_keys():
    app = line_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("?")
        await app.settled()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box")
        # the box is laid out with room for its text, not collapsed to its border and padding
        assert box.region.width >= 50 and box.region.height >= 12
        text = app.screen.help_text()
        for binding in MeshApp.BINDINGS:  # every key the app binds is explained, hidden ones too
            for key in binding.key.split(","):
                assert help_key(key) in text, key
        for key in ("n", "l", "m", "s", "b", "[", "]", "g", "i", "e", "a", "z", "Z", "0",
                    "shift+arrows", "arrows", "click"):
            assert key in text
        # and it is on screen: the rendered screen contains the rows of the table
        screen_text = rendered_text(app)
        assert "log: only events of the selected node" in screen_text
        assert "quit" in screen_text
        await pilot.press("escape")
        await app.settled()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


def help_key(key: str) -> str:
    """How the help screen names a bound key."""
    return KEY_NAMES.get(key, key)


def rendered_text(app: MeshApp) -> str:
    """The characters on the (headless) screen, row by row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


@pytest.mark.parametrize("argv, message", [
    (["tui", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["tui", "line", "--set", "nodes.count=zero"], "nodes.count"),
    (["tui", "line", "--protocol", "nope"], "unknown protocol 'nope'"),
])
def test_bad_scenario_is_one_line_and_status_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def node(name: str, x: float, y: float, alive: bool = True) -> NodeInfo:
    return NodeInfo(name, "10.0.0.1", x, y, alive)


BRAILLE = "braille"


def map_colours(panel: MapPanel, picture: Picture, chars: str) -> set[tuple[int, int, int]]:
    """RGB of the map cells showing one of ``chars`` (BRAILLE: any line dot), as a terminal with
    Textual's default ANSI theme shows them (background for reversed/highlighted cells)."""
    panel.picture = picture
    text = panel.render()
    console = Console()
    out = set()
    for offset, ch in enumerate(text.plain):
        if (0x2800 < ord(ch) <= 0x28FF) if chars == BRAILLE else ch in chars:
            style = text.get_style_at_offset(console, offset)
            colour = style.bgcolor if style.bgcolor is not None else style.color
            out.add(tuple(colour.get_truecolor(MONOKAI)))
    return out


async def test_map_roles_have_distinct_colours_and_a_legend():
    app = line_app()
    async with app.run_test(size=(100, 30)):
        await app.settled()
        panel = app.query_one("#map", MapPanel)
        a, b, far = node("a", 100, 50), node("b", 900, 50), node("c", 1900, 50)
        dead = node("d", 1500, 90, alive=False)

        def pic(links=(), route=(), complete=True, selected=2, modes=()):
            return Picture(0.0, (a, b, far, dead), tuple(links), route, complete, selected,
                           (), Stats(), hop_modes=modes)

        role = {
            "route": map_colours(panel, pic([(0, 1, 1.0)], (0, 1)), BRAILLE),
            "broken route": map_colours(panel, pic([(0, 1, 1.0)], (0, 1), False), BRAILLE),
            "perimeter hop": map_colours(panel, pic([(0, 1, 1.0)], (0, 1), modes=("perimeter",)),
                                         BRAILLE),
            "good link": map_colours(panel, pic([(0, 1, 1.0)]), BRAILLE),
            "fair link": map_colours(panel, pic([(0, 1, 0.6)]), BRAILLE),
            "poor link": map_colours(panel, pic([(0, 1, 0.1)]), BRAILLE),
            "selected node": map_colours(panel, pic(), "◉"),
            "dead node": map_colours(panel, pic(), "✕"),
        }
        for name, colours in role.items():
            assert len(colours) == 1, (name, colours)
        rgb = {name: colours.pop() for name, colours in role.items()}
        names = list(rgb)
        for i, p in enumerate(names):
            for q in names[i + 1:]:
                assert math.dist(rgb[p], rgb[q]) >= 80, f"{p} and {q} look alike: {rgb[p]} {rgb[q]}"
        bottom = panel.render().plain.splitlines()[-1]
        for word in ("route", "broken", "good", "fair", "poor", "selected", "dead"):
            assert word in bottom
        assert "perimeter" not in bottom  # only where hops have modes (GPSR)


# Static ZigBee nodes 60 m apart with 8 dB of quasi-static shadowing: some close pairs cannot hear
# each other and some far pairs can. DSDV's periodic updates keep every link busy.
SHADOWED = """
[scenario]
name = "shadowed"
duration = 60
seed = 3
[area]
width = 300
height = 300
[nodes]
count = 16
placement = "grid"
spacing = 60
[radio]
profile = "zigbee"
propagation = "log-distance"
exponent = 3.0
sigma = 8
[mobility]
model = "static"
[protocol]
name = "dsdv"
"""

# 25 static WaveLAN nodes flooding 6 flows of 512-byte packets at 10/s: the channel is
# saturated and most frames collide, although every link is short.
SATURATED = """
[scenario]
name = "saturated"
duration = 30
seed = 2
[area]
width = 400
height = 400
[nodes]
count = 25
placement = "grid"
spacing = 100
[radio]
profile = "wavelan"
propagation = "two-ray"
[mobility]
model = "static"
[protocol]
name = "flooding"
[[traffic]]
kind = "cbr"
flows = 6
rate = 10
size = 512
start = 1
jitter = 0
"""


def spec_file(tmp_path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def undirected(pairs) -> set[tuple[int, int]]:
    return {(min(i, j), max(i, j)) for i, j in pairs}


async def test_links_are_those_shadowing_leaves_and_rated_by_what_they_deliver(tmp_path):
    app = MeshApp(sim_factory(spec_file(tmp_path, SHADOWED)), paused=True, start_at=20.0)
    async with app.run_test(size=(100, 30)):
        await app.settled()
        picture = app.last_picture
        sim = app.engine.view.sim
        drawn = {(i, j) for i, j, _ in picture.links}
        # the links the medium applies to frames, shadowing included, not the median disk
        assert drawn == undirected(sim.channel.links(picture.now))
        assert drawn != undirected(sim.links)
        meter = app.engine.view.meter
        for i, j, quality in picture.links:  # rated by frames delivered (DSDV updates)
            sent = meter.counts(i, j)[0] + meter.counts(j, i)[0]
            assert sent > 0
            assert 0.0 <= quality <= 1.0


async def test_collisions_turn_links_poor(tmp_path):
    app = MeshApp(sim_factory(spec_file(tmp_path, SATURATED)), paused=True, start_at=8.0)
    async with app.run_test(size=(100, 30)):
        await app.settled()
        picture = app.last_picture
        channel = app.engine.view.sim.channel
        assert channel.stats()["rx_lost_collision"] > channel.stats()["rx_ok"] / 4
        # every link is short: without interference each one delivers all its frames ...
        assert all(fer < 0.01 for fer in channel.links(picture.now).values())
        # ... but on a saturated channel most frames collide, and the map shows it
        levels = [link_level(q) for _, _, q in picture.links]
        assert levels.count("good") < len(levels) / 4


def test_watching_does_not_change_the_run():
    """Pictures, link meter and all: the same seed gives the same run with or without the UI."""
    overrides = ["scenario.duration=40", "radio.sigma=6", "radio.shadowing=frame"]
    plain = Simulation(load_scenario("default", overrides))
    expected = plain.run()
    view = SimView(load_scenario("default", overrides))
    t = 0.0
    while t < 40.0:
        t += 0.37
        view.advance(t)
        view.picture(int(t) % view.node_count, int(t) % len(view.flows))
    view.sim.finish()
    got = view.sim.result()
    for key in ("wall_s", "events_per_s"):
        expected.pop(key)
        got.pop(key)
    assert got == expected


# 100 nodes in Broch's area with all 20 flows sending from the start: the busiest built-in load.
BUSY_100 = ["nodes.count=100", "traffic.0.jitter=0"]
# Generous: the goal is 0.1 s, measured by benchmarks/tui_rate.py; this only proves a key does
# not wait for the run (a lock convoy between the engine and the UI once made it 1.5 s).
KEY_LATENCY_BOUND_S = 1.0


async def test_keys_answer_at_once_while_a_busy_run_plays():
    app = MeshApp(sim_factory("broch", BUSY_100), speed=10.0)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.last_picture is None or app.last_picture.now < 3.0:
            await pilot.pause(0.05)
        for k in (1, 2, 3):
            start = time.monotonic()
            # As a terminal delivers it (pilot.press waits for the whole process to go idle,
            # which a running simulation never does).
            app.post_message(events.Key("tab", None))
            while app.last_picture.selected != k:
                assert time.monotonic() - start < 10.0
                await asyncio.sleep(0.005)
            latency = time.monotonic() - start
            assert latency < KEY_LATENCY_BOUND_S, f"tab took {latency:.2f} s"
            assert app.query_one("#table", RoutingTable).border_title == f"routes of n{k + 1}"
        status = str(app.query_one("#status-text").render())
        assert "×10" in status and "actual ×" in status  # requested and achieved speed
        await pilot.press("q")


async def test_moving_a_node_while_paused_redraws_its_links_and_breaks_the_route_at_once():
    app = line_app(DENSE_LINE, start_at=8.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        before = app.last_picture
        assert before.route_complete
        moved = before.route[len(before.route) // 2]
        assert any(moved in (i, j) for i, j, _ in before.links)
        await pilot.press(*["tab"] * moved, *["up"] * 8)  # 400 m away from everyone, no step
        await app.settled()
        after = app.last_picture
        assert after.now == before.now  # still paused
        assert after.nodes[moved].y < before.nodes[moved].y - 300
        assert not [link for link in after.links if moved in link[:2]]  # no link reaches it
        # the tables still route through it, but those hops have no link: drawn as broken
        assert moved in after.route
        k = after.route.index(moved)
        assert set(after.route_gaps) == {k - 1, k}
        assert "broken" in str(app.query_one("#map", MapPanel).border_subtitle)


async def test_flow_waiting_to_start_says_when():
    start = Simulation(load_scenario("broch")).world.flows[0].start
    assert start > 1.0  # Broch's flows start at random times in the first 180 s
    app = MeshApp(sim_factory("broch"), paused=True)
    async with app.run_test(size=(160, 48)):
        await app.settled()
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        assert f"starts at {start:.1f} s" in subtitle
        assert "no route" not in subtitle


async def test_flooding_is_not_reported_as_no_route():
    app = MeshApp(sim_factory("line", protocol="flooding"), paused=True, start_at=8.0)
    async with app.run_test(size=(100, 30)):
        await app.settled()
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        assert "no route" not in subtitle
        sim = app.engine.view.sim
        sent, got = sim.metrics.per_flow_sent[0], sim.metrics.per_flow_delivered[0]
        assert sent > 0 and f"{got}/{sent} delivered" in subtitle
        assert "flooding" in subtitle


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


async def test_gpsr_shows_the_last_packets_hops_and_their_modes():
    # flow 0 of gpsr-void (n1 -> n38) crosses the void: greedy forwarding meets a local maximum
    app = MeshApp(sim_factory("gpsr-void", protocol="gpsr"), paused=True, start_at=15.0)
    async with app.run_test(size=(160, 48)):
        await app.settled()
        picture = app.last_picture
        assert picture.packet_state == "delivered" and picture.route_complete
        assert picture.route[0] == 0 and picture.route[-1] == 37
        assert len(picture.hop_modes) == len(picture.route) - 1
        greedy, perimeter = picture.hop_modes.count("greedy"), picture.hop_modes.count("perimeter")
        assert greedy and perimeter
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        path = " → ".join(picture.nodes[i].name for i in picture.route)
        assert f"last packet: {path} (greedy {greedy}, perimeter {perimeter})" in subtitle
        # drawn hop by hop: greedy hops in the route's colour, perimeter hops in their own
        panel = app.query_one("#map", MapPanel)
        colours = map_colours(panel, picture, BRAILLE)
        assert {hex_rgb(palette.ROUTE), hex_rgb(palette.PERIMETER)} <= colours
        no_perimeter = replace(picture, hop_modes=("greedy",) * (greedy + perimeter))
        assert hex_rgb(palette.PERIMETER) not in map_colours(panel, no_perimeter, BRAILLE)
        assert "━perimeter" in panel.render().plain.splitlines()[-1]  # the legend names it


async def test_flooding_shows_the_chain_of_copies_that_reached_the_destination():
    app = MeshApp(sim_factory("line", protocol="flooding"), paused=True, start_at=8.0)
    async with app.run_test(size=(160, 30)):
        await app.settled()
        picture = app.last_picture
        assert picture.route == tuple(range(10)) and picture.route_complete
        assert picture.hop_modes == ()  # flooding has no modes
        subtitle = str(app.query_one("#map", MapPanel).border_subtitle)
        assert "last packet: n1 → n2 → n3 → n4 → n5 → n6 → n7 → n8 → n9 → n10 ·" in subtitle
        assert hex_rgb(palette.ROUTE) in map_colours(app.query_one("#map", MapPanel), picture,
                                                     BRAILLE)


@pytest.mark.parametrize("name, protocol, duration", [("gpsr-void", "gpsr", 20.0),
                                                      ("line", "flooding", 10.0)])
def test_following_packets_does_not_change_the_run(name, protocol, duration):
    plain = Simulation(load_scenario(name, [f"scenario.duration={duration}"], protocol=protocol))
    expected = plain.run()
    view = SimView(load_scenario(name, [f"scenario.duration={duration}"], protocol=protocol))
    t, followed = 0.0, 0
    while t < duration:
        t += 0.37
        view.advance(t)
        followed += bool(view.picture(0, int(t / 4) % len(view.flows)).packet_state)
    assert followed
    view.sim.finish()
    got = view.sim.result()
    for key in ("wall_s", "events_per_s"):
        expected.pop(key)
        got.pop(key)
    assert got == expected


async def test_dsdv_unreachable_destinations_show_infinity_not_255():
    app = MeshApp(sim_factory("line", protocol="dsdv"), paused=True, start_at=20.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        await pilot.press("tab", "k", "shift+tab", *["s"] * 12)  # n2 dies: n1 is cut off
        await app.settled()
        table = app.query_one("#table", RoutingTable)
        rows = [tuple(cell.plain for cell in table.get_row_at(i)) for i in range(table.row_count)]
        broken = [r for r, row in zip(rows, app.last_picture.table) if row.state == "broken"]
        assert broken, rows
        assert all(r[2] == "∞" for r in broken), broken
        assert not any(r[2] == "255" for r in rows)


async def test_the_end_of_a_run_shows_the_summary_of_meshnet_run():
    overrides = ["scenario.duration=12"]
    expected = Simulation(load_scenario("line", overrides, protocol="aodv")).run()
    app = line_app(overrides, paused=False, speed=20.0)
    async with app.run_test(size=(100, 36)) as pilot:
        for _ in range(400):
            await pilot.pause(0.05)
            if isinstance(app.screen, SummaryScreen):
                break
        assert isinstance(app.screen, SummaryScreen)
        text = app.screen.summary_text()
        assert "packet delivery ratio" in text
        assert f"{expected['pdr']:.3f}  ({expected['delivered']}/{expected['sent']})" in text
        assert "normalized routing load" in text and "mean hops" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, SummaryScreen)


async def test_80x24_shows_a_labelled_map_and_the_whole_key_bar():
    app = MeshApp(sim_factory("broch"), paused=True, start_at=100.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.settled()
        await pilot.pause()
        panel = app.query_one("#map", MapPanel)
        assert panel.content_region.width >= 70 and panel.content_region.height >= 8
        labels = set(re.findall(r"n\d+", panel.render().plain))
        assert len(labels) >= 15
        screen = rendered_text(app).splitlines()
        bottom = screen[-1]
        for key in ("? help", "q quit", "space pause", "tab node"):
            assert key in bottom, bottom
        assert bottom.rstrip() == bottom.rstrip()[:80]


async def test_40x12_still_shows_the_map():
    app = MeshApp(sim_factory("broch"), paused=True, start_at=100.0)
    async with app.run_test(size=(40, 12)) as pilot:
        await app.settled()
        await pilot.pause()
        panel = app.query_one("#map", MapPanel)
        assert panel.content_region.width >= 30 and panel.content_region.height >= 4
        assert panel.render().plain.count("●") >= 10
        assert "? help" in rendered_text(app).splitlines()[-1]


async def test_a_flood_of_events_is_summed_up_in_the_log_not_dropped():
    app = MeshApp(sim_factory("broch", BUSY_100), paused=True, start_at=3.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settled()
        log = app.query_one("#log", EventLog)
        log.clear()
        counted: list[str] = []
        sim = app.engine.view.sim  # the engine thread is idle while paused
        sim.bus.subscribe(lambda t, kind, f: counted.append(kind), ALL_LOG_KINDS)
        await pilot.press("s", "s")  # two simulated seconds: thousands of events
        await app.settled()
        assert len(counted) > 1000
        # every event is either a line of its own or counted in a summary line
        assert log.accounted == len(counted)
        text = log.text()
        assert re.search(r"\d+ link changes", text), text[-2000:]
        assert len(log.lines) < len(counted) / 4  # summed up, not written out
