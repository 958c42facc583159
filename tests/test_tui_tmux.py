"""End to end: `meshnet tui` in a real terminal (tmux): the map and the routing table appear,
and `q` exits with status 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux not installed (apt install tmux); CI installs it")


def meshnet_command() -> str:
    script = Path(sys.executable).with_name("meshnet")
    return str(script) if script.exists() else f"{sys.executable} -m meshnet.cli"


class Tmux:
    """A private tmux server (own socket) so the test never touches a user's sessions."""

    def __init__(self) -> None:
        self.socket = f"meshnet-test-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=True).stdout

    def wait_for(self, *needles: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self("capture-pane", "-p", "-t", "tui")
            if all(n in screen for n in needles):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"never saw {needles} on screen:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux():
    t = Tmux()
    yield t
    t.kill()


def test_tui_in_tmux_shows_map_and_table_and_quits(tmux):
    command = f"{meshnet_command()} tui line --paused; echo TUI-EXIT=$?; sleep 60"
    env_term = "TERM=xterm-256color"
    tmux("new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", f"env {env_term} {command}")
    screen = tmux.wait_for("line · 2000×100 m", "routes of n1", "●n2", "n10")
    assert "dst" in screen and "next" in screen  # table header
    tmux("send-keys", "-t", "tui", "s", "s", "s", "s")  # four simulated seconds: a route forms
    screen = tmux.wait_for("4.0/30s", "found route to n10")
    tmux("send-keys", "-t", "tui", "s")  # the flow's first packets: its route written out
    tmux.wait_for("5.0/30s", "flow 0: n1 → ", " → n10 · 9 hops · age ")
    tmux("send-keys", "-t", "tui", "m")  # links drawn: the selected node's only
    tmux.wait_for("links of the selected node")
    tmux("send-keys", "-t", "tui", "q")
    screen = tmux.wait_for("TUI-EXIT=")
    assert "TUI-EXIT=0" in screen
    assert "Traceback" not in screen


def test_tui_replay_in_tmux_shows_the_time_and_the_nodes(tmux, tmp_path):
    trace = tmp_path / "line.jsonl"
    run = subprocess.run([*meshnet_command().split(), "run", "line", "--trace", str(trace)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    command = (f"{meshnet_command()} tui --replay {trace} --paused --start 12; "
               f"echo TUI-EXIT=$?; sleep 60")
    tmux("new-session", "-d", "-s", "tui", "-x", "120", "-y", "40",
         f"env TERM=xterm-256color {command}")
    screen = tmux.wait_for("line.jsonl", "replay", "12.00 s", "●n2", "n10", "b/s step")
    assert "routes of n1" in screen and "━" in screen  # table, and the played part of the slider
    tmux("send-keys", "-t", "tui", "]")  # ten seconds on
    tmux.wait_for("22.00 s", "22.0/30s")  # the duration from the run_started header
    tmux("send-keys", "-t", "tui", "b", "b")  # two back
    tmux.wait_for("20.00 s")
    tmux("send-keys", "-t", "tui", "q")
    screen = tmux.wait_for("TUI-EXIT=")
    assert "TUI-EXIT=0" in screen and "Traceback" not in screen
