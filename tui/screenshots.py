"""Regenerate the screenshots in docs/tui.md, one per panel: ``python -m meshnet.tui.screenshots
[DIR]`` (default ``docs``). Each is taken headless on a fixed scenario, seed and time, paused,
so only a change to the screen (or to a protocol) changes it."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Awaitable, Callable

from ..events import TraceWriter
from ..scenario import load_scenario
from ..sim import Simulation
from .app import MeshApp
from .launch import replay_factory, sim_factory

Steps = Callable[[object], Awaitable[None]]


async def _settle(app: MeshApp, pilot) -> None:
    await app.settled()
    await pilot.pause()
    await pilot.pause(0.3)


def _keys(*keys: str) -> Steps:
    async def press(pilot) -> None:
        await pilot.press(*keys)
    return press


def _trace(directory: Path) -> str:
    """A trace of the default scenario, as `meshnet run default --trace` writes it."""
    path = directory / "default.jsonl"
    sim = Simulation(load_scenario("default"))
    with path.open("w") as out:
        sim.bus.subscribe(TraceWriter(out))
        sim.run()
    return str(path)


async def _shoot(app: MeshApp, size: tuple[int, int], steps: Steps | None, out: Path) -> None:
    async with app.run_test(size=size) as pilot:
        await _settle(app, pilot)
        if steps is not None:
            await steps(pilot)
            await _settle(app, pilot)
        app.save_screenshot(out.name, path=str(out.parent))
    print(out)


async def shoot_all(directory: Path) -> None:
    def live(**kw) -> MeshApp:
        return MeshApp(sim_factory("default", seed=1, protocol="aodv"), paused=True, **kw)

    with tempfile.TemporaryDirectory() as tmp:
        replay, _ = replay_factory(_trace(Path(tmp)))
        shots = [
            ("tui.svg", live(start_at=30.0), (120, 36), None),
            ("tui-80x24.svg", live(start_at=30.0), (80, 24), None),
            ("tui-help.svg", live(start_at=30.0), (100, 48), _keys("question_mark")),
            ("tui-inspector.svg", live(start_at=30.0), (120, 36),
             _keys("tab", "tab", "tab", "tab", "tab", "i", "e")),
            ("tui-links.svg", live(start_at=30.0), (120, 36), _keys("tab", "m")),
            ("tui-replay.svg", MeshApp(replay, paused=True, start_at=60.0), (120, 36), None),
            ("tui-summary.svg", live(start_at=120.0), (100, 36), None),
        ]
        for name, app, size, steps in shots:
            await _shoot(app, size, steps, directory / name)


def main(argv: list[str]) -> int:
    directory = Path(argv[0] if argv else "docs")
    if not directory.is_dir():
        print(f"meshnet: {directory}: not a directory", file=sys.stderr)
        return 2
    asyncio.run(shoot_all(directory))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
