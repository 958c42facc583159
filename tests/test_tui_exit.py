"""`meshnet tui` ends, and says how: the app's failure is the command's exit status, and
SIGTERM ends it without a terminal, or with one nobody reads, within a few seconds (a netns
run's namespaces removed on the way)."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRACE_S = 3.0  # tui/app_runner.py
RUN = f"tx{os.getpid() % 10**6}"


def _python(code: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True, **kw)


def _started(proc: subprocess.Popen) -> None:
    line = proc.stderr.readline()
    assert "runs headless" in line, line


def _ends(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"still running {timeout} s after SIGTERM")
    return proc.returncode, proc.stderr.read()


def test_an_app_that_crashes_makes_the_command_fail():
    proc = _python("""
        import sys
        from meshnet.cli import main
        from meshnet.tui.app import MeshApp

        def crash(self):
            raise RuntimeError("injected crash")

        MeshApp.on_mount = crash
        sys.exit(main(["tui", "line"]))
    """, stdout=subprocess.PIPE)
    code, err = _ends(proc, 60)
    assert code == 1, err
    assert "injected crash" in err
    assert err.rstrip().splitlines()[-1] == ("meshnet: error: the terminal UI stopped on an "
                                             "error (traceback above)")


def test_sigterm_ends_a_tui_without_a_terminal():
    proc = subprocess.Popen([sys.executable, "-m", "meshnet.cli", "tui", "line"], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _started(proc)
    time.sleep(1.0)  # the app and its engine are running
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    code, err = _ends(proc, GRACE_S + 10)
    assert code == 130 and err.strip() == "meshnet: interrupted", err


def test_sigterm_ends_a_tui_whose_terminal_nobody_reads():
    """It draws (on stderr, as Textual does) until the terminal's buffer is full, then blocks;
    SIGTERM still ends it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "meshnet.cli", "tui", "line"], cwd=ROOT,
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    try:
        time.sleep(4.0)  # the map redraws many times a second: the buffer fills
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(GRACE_S + 10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {GRACE_S + 10} s after SIGTERM")
        assert proc.returncode == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
def test_sigterm_ends_a_headless_netns_tui_and_its_namespaces():
    proc = _python(f"""
        import sys
        from meshnet.cli import main
        from meshnet.tui import netns_view

        netns_view.RUN_NAME = {RUN!r}  # not the default "tui": others may run one here
        sys.exit(main(["tui", "line", "--backend", "netns", "--set", "nodes.count=3",
                       "--set", "traffic.0.pairs=[[1,3]]"]))
    """, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        _started(proc)
        deadline = time.monotonic() + 30
        while len([n for n in mn_namespaces() if n.startswith(f"mn-{RUN}-")]) < 3:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        code, err = _ends(proc, GRACE_S + 15)
        assert code == 130 and "meshnet: interrupted" in err, err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        left = [n for n in mn_namespaces() if n.startswith(f"mn-{RUN}-")]
        from meshnet.netns import registry

        for rec in registry.load_records():  # what `meshnet clean` would do, for this run
            if rec.run == RUN and not rec.alive():
                registry.clean_record(rec)
    assert left == []
    assert not os.path.exists(f"/run/meshnet/{RUN}.json")
