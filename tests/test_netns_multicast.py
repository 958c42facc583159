"""IP multicast across the namespace mesh: a DNS-SD service advertised over mDNS (python-zeroconf,
unmodified) in n1 is discovered from n5, four hops away on a line. mDNS is link-local
(224.0.0.251, TTL 255): without a multicast router it reaches one-hop neighbours only, so with
protocol ``none`` n5 finds nothing; SMF relays it hop by hop with duplicate detection and the
TTL kept at 255. And a scenario's multicast flow reaches its members through SMF and ODMRP."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.netns_support import mn_namespaces, netns_skip_reason

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

RUN = f"mc{os.getpid() % 10**6}"

ADVERTISE = textwrap.dedent("""
    import socket, sys, time
    from zeroconf import ServiceInfo, Zeroconf
    address = sys.argv[1]
    zc = Zeroconf(interfaces=[address])
    info = ServiceInfo("_meshnet-test._udp.local.", "probe._meshnet-test._udp.local.",
                       addresses=[socket.inet_aton(address)], port=9999,
                       properties={"hops": "4"}, server="n1.local.")
    zc.register_service(info)
    print("registered", flush=True)
    time.sleep(float(sys.argv[2]))
    zc.close()
""")

BROWSE = textwrap.dedent("""
    import sys, time
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf
    zc = Zeroconf(interfaces=[sys.argv[1]])
    found = []
    def changed(zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Added:
            found.append(name)
    browser = ServiceBrowser(zc, "_meshnet-test._udp.local.", handlers=[changed])
    deadline = time.monotonic() + float(sys.argv[2])
    while not found and time.monotonic() < deadline:
        time.sleep(0.1)
    info = zc.get_service_info("_meshnet-test._udp.local.", found[0], timeout=3000) if found \\
        else None
    print("found", found, info.port if info else None, flush=True)
    browser.cancel()
    zc.close()
""")


@pytest.fixture(autouse=True)
def no_leftovers():
    pytest.importorskip("zeroconf", reason="python-zeroconf not installed (pip install zeroconf)")
    yield
    assert [n for n in mn_namespaces() if n.startswith(f"mn-{RUN}")] == []


def _browse(protocol: str | None, name: str, wait: float) -> tuple[str, dict]:
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    plan = Plan.line(5, spacing=100, range_m=150, protocol=protocol)
    with Emulation(plan, name=name, handle_signals=False) as emu:
        n1, n5 = emu.node("n1"), emu.node("n5")
        time.sleep(4)  # SMF's E-CDS relays need two HELLO rounds to know their neighbourhood
        adv = n1.popen([sys.executable, "-c", ADVERTISE, n1.address, str(wait + 10)],
                       stdout=subprocess.PIPE, text=True)
        try:
            assert adv.stdout.readline().strip() == "registered"
            out = n5.run([sys.executable, "-c", BROWSE, n5.address, str(wait)],
                         timeout=wait + 20).stdout
        finally:
            adv.terminate()
            adv.wait(5)
        return out, emu.counters()


def test_mdns_service_is_discovered_four_hops_away_through_smf():
    out, counters = _browse("smf", f"{RUN}s", wait=12)
    assert "found ['probe._meshnet-test._udp.local.'] 9999" in out, out
    assert counters["mcast_originated"] > 0 and counters["mcast_relayed"] > 0
    assert counters.get("protocol_error", 0) == 0


def test_mdns_stays_on_one_hop_without_a_multicast_router():
    out, _ = _browse(None, f"{RUN}n", wait=6)
    assert "found [] None" in out, out


@pytest.mark.parametrize("protocol", ["smf", "odmrp"])
def test_a_multicast_flow_reaches_members_two_and_four_hops_away(protocol):
    from meshnet.netns.emulation import Emulation
    from meshnet.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "scenario": {"name": "mc-line", "duration": 10, "seed": 3},
        "area": {"width": 600, "height": 100},
        "nodes": {"count": 5, "placement": "line", "spacing": 100},
        "radio": {"propagation": "unit-disk", "range": 150},
        "protocol": {"name": protocol},
        "groups": [{"name": "g1", "address": "239.1.2.3", "members": [3, 5]}],
        "traffic": [{"group": "g1", "src": 1, "rate": 5, "start": 4, "jitter": 0}],
    })
    with Emulation(sc, name=f"{RUN}{protocol[0]}", handle_signals=False) as emu:
        time.sleep(10)
        result = emu.finish(at=10)
    m = result["multicast"]
    assert m["sent"] >= 25 and m["expected"] == 2 * m["sent"]
    assert m["pdr"] >= 0.9, m
    assert m["duplicate_deliveries"] == 0
    assert 2.5 <= m["mean_hops"] <= 3.0  # members at 2 and 4 hops
    assert m["duplicates_suppressed"] > 0
    assert m["data_tx"] <= 4 * m["sent"]  # source and three relays at most, each once
    assert result["protocol_errors"] == 0
