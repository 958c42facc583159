"""Namespace emulation end to end: bring-up/teardown, multi-hop ping, range, cleanup."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.netns_support import host_state, mn_namespaces, netns_skip_reason, require_tool

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]


@pytest.fixture(autouse=True)
def no_leftovers():
    before = host_state()
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-t")] == []
    assert host_state() == before


def _emulation(plan, name):
    from meshnet.netns.emulation import Emulation

    return Emulation(plan, name=name)


def _line(n=5, **kw):
    from meshnet.netns.plan import Plan

    return Plan.line(n, **kw)


def test_bring_up_and_down_leaves_nothing():
    with _emulation(_line(8), "tup") as emu:
        names = [n["namespace"] for n in emu.nodes()]
        assert names == [f"mn-tup-n{i}" for i in range(1, 9)]
        assert set(names) <= set(mn_namespaces())
        addrs = emu.node("n3").run("ip -o -4 addr show dev wlan0").stdout
        assert "10.99.0.3/32" in addrs
        assert os.path.exists("/run/meshnet/tup.json")
    assert not os.path.exists("/run/meshnet/tup.json")


def test_static_routes_ping_through_four_hops():
    require_tool("ping", "iputils-ping")
    with _emulation(_line(5), "tstat") as emu:
        assert emu.install_static_routes() == 20
        assert emu.wait_converged(5)
        out = emu.node("n1").run("ping -c 2 -i 0.2 -W 2 10.99.0.5").stdout
        assert " 0% packet loss" in out
        assert re.search(r"ttl=61 ", out), out  # 64 - 3 forwarding nodes: 4 hops


def test_the_channel_answers_arp_and_no_arp_frame_goes_on_the_air():
    require_tool("ping", "iputils-ping")
    with _emulation(_line(2), "tarp") as emu:
        emu.install_static_routes()
        time.sleep(2.0)  # the kernels' IPv6 start-up chatter (MLD) is over by then
        before = emu.counters()["frames_out"]
        assert emu.node("n1").run("ping -c 1 -W 2 10.99.0.2").returncode == 0
        neigh = emu.node("n1").run("ip neigh show 10.99.0.2").stdout
        assert "lladdr 02:00:0a:63:00:02" in neigh, neigh
        counters = emu.counters()
        assert counters.get("arp_answered", 0) >= 1
        # the echo request and its reply; an ARP exchange on the air would add two more
        assert counters["frames_out"] - before == 2


def test_out_of_range_frames_never_cross():
    require_tool("ping", "iputils-ping")
    with _emulation(_line(5), "trange") as emu:
        n1 = emu.node("n1")
        # pretend n3 is a neighbour, MAC known, so n1 really transmits unicast frames to it
        n1.run("ip route add 10.99.0.3/32 dev wlan0 && "
               "ip neigh replace 10.99.0.3 lladdr 02:00:0a:63:00:03 dev wlan0 nud permanent")
        out = n1.run("ping -c 2 -i 0.2 -W 1 10.99.0.3")
        assert out.returncode != 0
        assert emu.counters().get("link_failure", 0) > 0


def test_move_breaks_and_restores_a_link():
    require_tool("ping", "iputils-ping")
    with _emulation(_line(2), "tmove") as emu:
        emu.install_static_routes()
        n1 = emu.node("n1")
        assert n1.run("ping -c 1 -W 2 10.99.0.2").returncode == 0
        emu.move("n2", 1000, 0)
        assert n1.run("ping -c 1 -W 1 10.99.0.2").returncode != 0
        emu.move("n2", 100, 0)
        assert n1.run("ping -c 1 -W 2 10.99.0.2").returncode == 0


def test_two_runs_coexist():
    require_tool("ping", "iputils-ping")
    with _emulation(_line(2), "ta") as a, _emulation(_line(2), "tb") as b:
        a.install_static_routes()
        b.install_static_routes()
        assert {"mn-ta-n1", "mn-tb-n1"} <= set(mn_namespaces())
        assert a.node("n1").run("ping -c 1 -W 2 10.99.0.2").returncode == 0
        assert b.node("n2").run("ping -c 1 -W 2 10.99.0.1").returncode == 0


def test_exception_inside_with_block_cleans_up():
    with pytest.raises(RuntimeError):
        with _emulation(_line(3), "texc"):
            raise RuntimeError("boom")
    assert not any(n.startswith("mn-texc-") for n in mn_namespaces())


def _child(name: str) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, time
        from meshnet.netns.emulation import Emulation
        from meshnet.netns.plan import Plan
        with Emulation(Plan.line(4), name={name!r}) as emu:
            emu.node("n1").popen(["sleep", "300"])
            print("ready", flush=True)
            time.sleep(300)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_sigterm_cleans_up():
    proc = _child("tterm")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert not any(n.startswith("mn-tterm-") for n in mn_namespaces())
    assert not os.path.exists("/run/meshnet/tterm.json")


def test_sigkill_then_clean_removes_everything():
    from meshnet.netns.api import clean
    from meshnet.netns.registry import pid_alive

    import json

    proc = _child("tkill")
    with open("/run/meshnet/tkill.json") as fh:
        sleeper = json.load(fh)["pids"][0]
    proc.kill()
    proc.wait(timeout=10)
    assert any(n.startswith("mn-tkill-") for n in mn_namespaces())
    removed = clean()
    assert "namespace mn-tkill-n1" in removed
    assert f"process {sleeper}" in removed
    assert not any(n.startswith("mn-tkill-") for n in mn_namespaces())
    assert not os.path.exists("/run/meshnet/tkill.json")
    time.sleep(0.2)
    assert not pid_alive(sleeper)  # (a zombie waiting for its reaper counts as gone)
