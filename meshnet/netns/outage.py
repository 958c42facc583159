"""How long traffic stops after a silent link loss, measured with real ``ping``.

The topology is the smallest line with a backup path: n1 - n2 - n3 with n4 next to n2, so n1
reaches n3 through n2 or n4. A ping runs from n1 to n3 every ``interval``; once replies flow, the
link between n1 and the next hop its kernel uses is cut (``Emulation.cut``: frames stop, the
interfaces stay up, nobody is told). The outage is the time from the cut to the first reply to a
ping sent after it, from ping's own timestamps (``-D``), so it covers detection, route repair on
both sides and rediscovery, whatever the routing does.
"""

from __future__ import annotations

import math
import re
import subprocess
import time
from typing import Any

from .plan import Plan

REPLY = re.compile(r"^\[(\d+\.\d+)\] .* icmp_seq=(\d+) .*time=([\d.]+) ms")


def diamond(protocol: str | None = None, **params: Any) -> Plan:
    """n1 - n2 - n3 on a unit-disk line (range 150 m, 100 m apart), n4 60 m below n2: two
    two-hop paths from n1 to n3."""
    plan = Plan.line(4, protocol=protocol, range_m=150, **params)
    plan.initial = [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (100.0, 60.0)]
    return plan


def next_hop(emu: Any, node: str, dst: str) -> str | None:
    """The gateway of ``node``'s kernel route to ``dst`` (None: no route or direct)."""
    for d, plen, gw in emu.node(node).routes():
        if d == dst and plen == 32:
            return gw
    return None


def measure_outage(emu: Any, src: str = "n1", dst: str = "n3", interval: float = 0.05,
                   settle: float = 3.0, window: float = 12.0) -> dict[str, Any]:
    """Ping ``dst`` from ``src``, cut ``src``'s link to its next hop once the path is up, and
    return ``{"outage_s": seconds or None if traffic never resumed within window, "cut": (a, b),
    "via_after": next hop after recovery}``."""
    address = emu.node(dst).address
    cmd = ["ping", "-D", "-n", "-i", str(interval), "-W", "1", "-w",
           str(math.ceil(settle + window)), address]
    ping = emu.node(src).popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    outage = None
    try:
        via = _wait_for_route(emu, src, address, settle)
        time.sleep(0.5)  # replies flowing on the established path
        names = {n["address"]: n["name"] for n in emu.nodes()}
        cut = (src, names.get(via, dst))
        emu.cut(*cut)
        t_cut = time.time()
        for line in ping.stdout:  # ends when ping's deadline passes
            m = REPLY.match(line)
            if m is None:
                continue
            received, rtt = float(m.group(1)), float(m.group(3)) / 1000
            if received - rtt > t_cut:  # a ping sent after the cut got through
                outage = received - t_cut
                break
    finally:
        ping.kill()
        ping.wait()
    return {"outage_s": outage, "cut": cut, "via_after": next_hop(emu, src, address)}


def _wait_for_route(emu: Any, src: str, address: str, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        via = next_hop(emu, src, address)
        if via is not None:
            return via
        time.sleep(0.05)
    raise RuntimeError(f"{src} has no route to {address} after {timeout:g} s")
