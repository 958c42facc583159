"""Pilot tests of the replay keys (slider, step either way, go to), the inspector, the packet
animation and zoom/pan, on a replay and on live runs."""

from __future__ import annotations

import io

import pytest

from meshnet.events import TraceWriter
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.tui.app import MeshApp
from meshnet.tui.event_log import EventLog
from meshnet.tui.goto_screen import GotoScreen, parse_time
from meshnet.tui.launch import replay_factory, sim_factory
from meshnet.tui.map_panel import MapPanel
from meshnet.tui.time_slider import TimeSlider
from tests.test_tui import SHADOWED, rendered_text, spec_file


@pytest.fixture(scope="module")
def line_trace(tmp_path_factory) -> str:
    sim = Simulation(load_scenario("line"))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    sim.run()
    path = tmp_path_factory.mktemp("keys") / "line.jsonl"
    path.write_text(out.getvalue())
    return str(path)


def replay_app(path: str, **kwargs) -> MeshApp:
    factory, warning = replay_factory(path)
    kwargs.setdefault("paused", True)
    return MeshApp(factory, warning=warning, **kwargs)


async def test_replay_slider_steps_seeks_and_goes_to_a_time(line_trace):
    app = replay_app(line_trace)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.settled()
        slider = app.query_one("#slider", TimeSlider)
        assert slider.display and "0.00 s" in rendered_text(app)
        assert "b/s step" in rendered_text(app).splitlines()[-1]  # the replay's own keys
        await pilot.press("right_square_bracket")
        await app.settled()
        assert app.last_picture.now == 10.0
        await pilot.press("b")
        await app.settled()
        assert app.last_picture.now == 9.0
        await pilot.press("s", "s")
        await app.settled()
        assert app.last_picture.now == 11.0
        await pilot.press("left_square_bracket", "left_square_bracket")
        await app.settled()
        assert app.last_picture.now == 0.0  # not before the start
        await pilot.press("g")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"1:2x", "enter")  # not a time: said on the prompt, which stays
        assert isinstance(app.screen, GotoScreen)
        assert "not a time" in rendered_text(app)
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"12.5", "enter")
        assert not isinstance(app.screen, GotoScreen)
        await app.settled()
        assert app.last_picture.now == 12.5
        await pilot.pause()
        assert "12.50 s" in rendered_text(app)
        # the log starts over at a jump: nothing later than the new time is listed
        entries = app.query_one("#log", EventLog).entries
        assert entries and max(e.t for e in entries) <= 12.5
        # a click on the slider seeks to the time under the pointer
        width = slider.content_region.width
        await pilot.click("#slider", offset=(width - 12, 0))
        await app.settled()
        assert app.last_picture.now > 25.0
        await pilot.press("r")  # rewind
        await app.settled()
        assert app.last_picture.now == 0.0


async def test_replay_plays_and_pauses(line_trace):
    app = replay_app(line_trace, paused=False, speed=10.0)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.last_picture is not None and app.last_picture.now > 3.0:
                break
        assert app.last_picture.now > 3.0
        await pilot.press("space")
        await app.settled()
        frozen = app.last_picture.now
        await pilot.pause(0.3)
        await app.settled()
        assert app.last_picture.now == frozen


async def test_replay_inspector_says_what_the_trace_does_not_have(line_trace):
    app = replay_app(line_trace, start_at=10.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.settled()
        await pilot.press("tab", "tab", "tab", "i")  # n4
        await app.settled()
        await pilot.pause()
        assert not app.query_one("#table").display or "-inspecting" in app.body.classes
        detail = app.last_picture.detail
        assert detail.name == "n4" and detail.forwarded > 0
        screen = rendered_text(app)
        assert "inspector · n4" in screen and "not in trace" in screen
        assert "routes of n4" not in screen  # the inspector took the table's place
        await pilot.press("e")
        await app.settled()
        await pilot.pause()
        detail = app.last_picture.detail
        assert detail.link == 0 and detail.links[0].name == "n3"
        screen = rendered_text(app)
        assert "link n4 – n3" in screen and "up since 0.0 s" in screen
        assert "picked" in app.query_one("#map", MapPanel).render().plain.splitlines()[-1]
        await pilot.press("e")
        await app.settled()
        assert app.last_picture.detail.link == 1
        await pilot.press("tab")  # another node: no link picked
        await app.settled()
        assert app.last_picture.detail.name == "n5" and app.last_picture.detail.link is None
        await pilot.press("i")
        await app.settled()
        await pilot.pause()
        assert app.last_picture.detail is None and "routes of n5" in rendered_text(app)


async def test_live_inspector_shows_radio_figures_and_counters(tmp_path):
    app = MeshApp(sim_factory(spec_file(tmp_path, SHADOWED)), paused=True, start_at=20.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("tab", "tab", "tab", "tab", "tab", "i", "e")  # n6, in the middle
        await app.settled()
        await pilot.pause()
        d = app.last_picture.detail
        assert d.name == "n6" and d.queue is not None and d.sent is not None
        assert d.links and d.link == 0
        meter = app.engine.view.meter
        for link in d.links:
            assert link.rssi_dbm is not None and link.snr_db is not None
            assert link.fer_out is not None and 0.0 <= link.delivery_out <= 1.0
            assert link.frames_out == meter.counts(5, link.peer)
        screen = rendered_text(app)
        assert f"link n6 – {d.links[0].name}" in screen and "RSSI" in screen
        assert "shadowing (σ 8 dB)" in screen


async def test_packet_animation_draws_frames_only_while_on():
    app = MeshApp(sim_factory("line", protocol="aodv"), paused=True, start_at=8.0, speed=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.settled()
        view = app.engine.view
        assert view.meter.listeners == [view.counters._frame]  # off: nothing follows frames
        assert app.last_picture.frames == ()
        await pilot.press("a", "s")
        await app.settled()
        await pilot.pause()
        picture = app.last_picture
        assert picture.frames and any(m.data for m in picture.frames)
        assert all(0.0 <= m.progress <= 1.0 for m in picture.frames)
        panel = app.query_one("#map", MapPanel)
        text = panel.render().plain
        assert "•" in text and "data" in text.splitlines()[-1]
        await pilot.press("a", "s")
        await app.settled()
        assert app.last_picture.frames == ()
        assert view.meter.listeners == [view.counters._frame]


async def test_zoom_and_pan_the_map():
    app = MeshApp(sim_factory("line", protocol="aodv"), paused=True, start_at=2.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.settled()
        panel = app.query_one("#map", MapPanel)
        assert all(cell is not None for cell in panel._cells)
        await pilot.press("tab", "tab", "tab", "tab", "z", "z", "z")  # around n5
        await pilot.pause()
        assert panel.zoom == pytest.approx(1.5 ** 3)
        assert "zoom ×3.375" in str(panel.border_title)
        panel.render()
        shown = [i for i, cell in enumerate(panel._cells) if cell is not None]
        assert 4 in shown and len(shown) < 10  # the selected node stays, far ones leave
        await pilot.press("shift+right", "shift+right", "L")
        panel.render()
        moved = [i for i, cell in enumerate(panel._cells) if cell is not None]
        assert min(moved) > min(shown)  # panned east
        await pilot.press("Z")
        assert panel.zoom == pytest.approx(1.5 ** 2)
        await pilot.press("0")
        panel.render()
        assert panel.zoom == 1.0 and all(cell is not None for cell in panel._cells)
        assert "zoom" not in str(panel.border_title)


async def test_going_back_in_a_live_run_says_it_needs_a_replay():
    app = MeshApp(sim_factory("line", protocol="aodv"), paused=True, start_at=5.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settled()
        await pilot.press("b", "g")
        await app.settled()
        assert app.last_picture.now == 5.0
        assert not isinstance(app.screen, GotoScreen)
        said = [n.message for n in app._notifications]
        assert any("only in a replay" in m for m in said), said
        assert any("needs a replay" in m for m in said), said


@pytest.mark.parametrize("text, seconds", [("42", 42.0), ("42.5s", 42.5), (" 1:30 ", 90.0),
                                           ("0", 0.0)])
def test_go_to_times(text, seconds):
    assert parse_time(text, 100.0) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1", "101", "nan", "1:xx"])
def test_go_to_rejects(text):
    with pytest.raises(ValueError):
        parse_time(text, 100.0)
