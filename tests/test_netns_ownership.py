"""Run ownership and readiness on netns: a run removes only what it created (its registry token,
its namespaces by inode), so a newer run of the same name survives the older one's teardown
(the TUI's restart, two ``Emulation`` objects in one process); ``meshnet nodes`` and ``meshnet
exec`` tell nodes that do not exist yet, and a run whose process died, from running ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

RUN = f"to{os.getpid() % 10**6}"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def no_leftovers():
    yield
    assert [n for n in mn_namespaces() if n.startswith(f"mn-{RUN}-")] == []
    assert not os.path.exists(f"/run/meshnet/{RUN}.json")


def meshnet(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """The CLI in another process, as a user in another terminal runs it."""
    return subprocess.run([sys.executable, "-m", "meshnet.cli", *argv], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def _emulation(n: int = 2, **kw):
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    return Emulation(Plan.line(n), name=RUN, handle_signals=False, **kw)


def _token() -> str:
    with open(f"/run/meshnet/{RUN}.json") as fh:
        return json.load(fh)["token"]


def _visible_and_usable(n: int) -> None:
    """What a user in another terminal sees: every node listed as up, and exec works."""
    out = meshnet("nodes", "--run", RUN, "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["name"], r["state"]) for r in rows] == [(f"n{i}", "up") for i in range(1, n + 1)]
    assert {f"mn-{RUN}-n{i}" for i in range(1, n + 1)} <= set(mn_namespaces())
    ran = meshnet("exec", "n1", "--run", RUN, "--", "ip", "-o", "-4", "addr", "show", "wlan0")
    assert ran.returncode == 0 and "10.99.0.1/32" in ran.stdout, ran.stderr


def test_a_second_live_run_of_the_same_name_in_this_process_is_refused():
    first = _emulation().start()
    try:
        token = _token()
        second = _emulation()
        with pytest.raises(RuntimeError, match="already active in this process"):
            second.start()
        second.stop()
        assert _token() == token
        _visible_and_usable(2)
        assert first.node("n2").run("ip -o link show wlan0").returncode == 0
    finally:
        first.stop()


def test_replace_stops_the_older_run_and_the_newer_one_survives_its_teardown():
    older = _emulation().start()
    newer = _emulation(3, replace=True).start()
    try:
        assert older.record is None  # stopped by its own teardown before the newer came up
        older.stop()  # again, as the TUI's restart does after building the new view
        _visible_and_usable(3)
        assert _token() == newer.record.token
    finally:
        newer.stop()


def _new_namespace_at(path: str) -> None:
    """A fresh network namespace mounted at ``path``, made as meshnet makes its own (not with
    `ip netns add`, which may turn /run/netns into a mount of its own and so hide every
    namespace mounted there before)."""
    from meshnet.netns import linux

    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))

    def inside() -> None:
        linux.unshare(linux.CLONE_NEWNET)
        try:
            linux.bind_mount("/proc/thread-self/ns/net", path)
        finally:
            linux.setns(linux.ROOT_NETNS_FD)

    worker = threading.Thread(target=inside)
    worker.start()
    worker.join()


def test_teardown_leaves_a_namespace_path_and_a_record_another_run_now_holds():
    from meshnet.netns import linux

    emu = _emulation().start()
    path = f"/run/netns/mn-{RUN}-n1"
    taken = False
    try:
        # a newer run of the same name takes n1's path and the record (as after a restart)
        linux.umount(path)
        os.unlink(path)
        _new_namespace_at(path)
        taken = True
        inode = os.stat(path).st_ino
        record = f"/run/meshnet/{RUN}.json"
        with open(record) as fh:
            data = json.load(fh)
        data["token"] = "newer"
        with open(record, "w") as fh:
            json.dump(data, fh)
        emu.stop()
        assert os.stat(path).st_ino == inode  # the newer namespace is still there
        with open(record) as fh:
            assert json.load(fh)["token"] == "newer"
        assert f"mn-{RUN}-n2" not in mn_namespaces()  # what was the run's own is gone
    finally:
        emu.stop()
        if taken and os.path.exists(path):
            linux.umount(path)
            os.unlink(path)
        try:
            os.unlink(f"/run/meshnet/{RUN}.json")
        except FileNotFoundError:
            pass


def test_tui_restart_on_netns_leaves_the_new_run_visible():
    """The engine's restart (`r`, `p`) builds the new view first, then closes the old one."""
    from meshnet.tui.launch import netns_factory

    factory = netns_factory("line", ["nodes.count=3", "traffic.0.pairs=[[1,3]]"],
                            run_name=RUN)
    old = factory(None)
    new = factory(None)
    try:
        old.close()
        _visible_and_usable(3)
        assert new.emu.node("n3").run("true").returncode == 0
    finally:
        new.close()
        old.close()


def test_nodes_and_exec_while_the_nodes_are_being_made(monkeypatch):
    from meshnet.netns import nodes as nodenet

    gate = threading.Event()
    configure = nodenet._configure

    async def held_at_the_fourth(node):
        if node.index == 3:  # n4 waits: n1..n3 exist, n4..n6 do not
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, gate.wait, 30)
        await configure(node)

    monkeypatch.setattr(nodenet, "_configure", held_at_the_fourth)
    emu = _emulation(6)
    starter = threading.Thread(target=emu.start)
    starter.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            listed = meshnet("nodes", "--run", RUN, "--json")
            if listed.returncode == 0 and json.loads(listed.stdout):
                break
            time.sleep(0.1)
        rows = json.loads(listed.stdout)
        states = [r["state"] for r in rows]
        assert states[0] == "up" and states[3:] == ["starting"] * 3, states
        assert states == sorted(states, key=lambda s: s != "up")  # up nodes come first
        table = meshnet("nodes", "--run", RUN)
        assert "starting:" in table.stdout.splitlines()[0], table.stdout
        early = meshnet("exec", "n5", "--run", RUN, "--", "true")
        assert early.returncode == 2
        err = early.stderr.strip().splitlines()
        assert len(err) == 1 and "n5" in err[0] and "still starting" in err[0], early.stderr
        assert meshnet("exec", "n1", "--run", RUN, "--", "true").returncode == 0
    finally:
        gate.set()
        starter.join(60)
    try:
        _visible_and_usable(6)
    finally:
        emu.stop()


def test_after_kill_9_nodes_and_exec_name_the_dead_run_and_meshnet_clean():
    code = textwrap.dedent(f"""
        import time
        from meshnet.netns.emulation import Emulation
        from meshnet.netns.plan import Plan
        emu = Emulation(Plan.line(2), name={RUN!r}).start()
        print("up", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == "up"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        for argv in (("nodes", "--run", RUN), ("exec", "n1", "--run", RUN, "--", "true")):
            out = meshnet(*argv)
            assert out.returncode == 2, out
            err = out.stderr.strip().splitlines()
            assert len(err) == 1 and f"run '{RUN}'" in err[0] and "meshnet clean" in err[0], err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        from meshnet.netns import registry

        # what `meshnet clean` does for this run (only this one: others may be running here)
        removed = [line for rec in registry.load_records() if rec.run == RUN
                   for line in registry.clean_record(rec)]
    assert f"namespace mn-{RUN}-n1" in removed
