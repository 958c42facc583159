"""SVG snapshots of the main screen (pytest-textual-snapshot). The run is paused at a fixed
simulated time on a fixed seed and the screen shows no wall-clock text, so it is the same on
every run. Update with `pytest tests/test_tui_snapshots.py --snapshot-update` after an intended
change to the screen, the default scenario or a protocol."""

from __future__ import annotations

import pytest

from meshnet.tui.app import MeshApp
from meshnet.tui.launch import sim_factory


# Spelled out here rather than a built-in, so edits to the shipped scenarios do not move pixels.
SCENARIO = """
[scenario]
name = "snapshot"
duration = 60
seed = 7
[area]
width = 600
height = 400
[nodes]
count = 16
placement = "grid"
spacing = 130
[radio]
propagation = "unit-disk"
range = 190
[mobility]
model = "static"
[protocol]
name = "aodv"
[[traffic]]
kind = "cbr"
pairs = [[1, 16], [13, 4]]
rate = 4
start = 1
jitter = 0
"""


def main_screen(tmp_path) -> MeshApp:
    spec = tmp_path / "snapshot.toml"
    spec.write_text(SCENARIO)
    return MeshApp(sim_factory(str(spec)), paused=True, start_at=20.0)


async def settled(pilot) -> None:
    """The engine thread has drawn its first picture."""
    await pilot.app.settled()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)], ids=["80x24", "120x40", "160x48"])
def test_main_screen(snap_compare, tmp_path, size):
    assert snap_compare(main_screen(tmp_path), terminal_size=size, run_before=settled)


def replay_screen(tmp_path) -> MeshApp:
    """The same run, recorded and replayed (a trace of the snapshot scenario, paused at 20 s)."""
    from meshnet.events import TraceWriter
    from meshnet.scenario import load_scenario
    from meshnet.sim import Simulation
    from meshnet.tui.launch import replay_factory

    spec = tmp_path / "snapshot.toml"
    spec.write_text(SCENARIO)
    sim = Simulation(load_scenario(str(spec)))
    trace = tmp_path / "snapshot.jsonl"
    with trace.open("w") as out:
        sim.bus.subscribe(TraceWriter(out))
        sim.run()
    factory, _ = replay_factory(str(trace))
    return MeshApp(factory, paused=True, start_at=20.0)


def test_help_screen_80x24(snap_compare, tmp_path):
    """Every key and the colours, scrolled in a small terminal."""
    assert snap_compare(main_screen(tmp_path), terminal_size=(80, 24), press=["question_mark"],
                        run_before=settled)


def test_inspector_with_a_picked_link_120x40(snap_compare, tmp_path):
    async def inspect(pilot) -> None:
        await settled(pilot)
        await pilot.press("tab", "tab", "tab", "tab", "tab", "i", "e")  # n6, its first link
        await settled(pilot)

    assert snap_compare(main_screen(tmp_path), terminal_size=(120, 40), run_before=inspect)


def test_replay_with_links_of_the_selected_node_160x48(snap_compare, tmp_path):
    async def node_links(pilot) -> None:
        await settled(pilot)
        await pilot.press("tab", "tab", "tab", "tab", "tab", "m")  # n6 and its links only
        await settled(pilot)

    assert snap_compare(replay_screen(tmp_path), terminal_size=(160, 48), run_before=node_links)
