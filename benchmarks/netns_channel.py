"""Channel throughput: frames per second the user-space channel relays between TAPs.

Point to point: a sender in n1 blasts small UDP datagrams to n2 (unit-disk, static routes);
the channel reads each frame from n1's TAP and writes it to n2's. Fan-out: n1 broadcasts and
every other node is in range. Frames/s in = frames read from TAPs, out = frames written.
Also reported: the cost of route-use recording (what AODV's ``on_data`` relies on).
Run as root:  .venv/bin/python benchmarks/netns_channel.py
"""

from __future__ import annotations

import argparse
import time

from meshnet.netns import channel as channel_module
from meshnet.netns.emulation import Emulation
from meshnet.netns.plan import Plan

_busy = [0.0]
_readable = channel_module.Channel._readable


def _timed_readable(self, i):  # CPU time of the channel thread (excludes being preempted)
    t = time.thread_time()
    _readable(self, i)
    _busy[0] += time.thread_time() - t


channel_module.Channel._readable = _timed_readable

BLASTER = r"""
import socket, sys, time
dst, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"wlan0")
s.setblocking(False)
payload = b"x" * 32
end = time.monotonic() + seconds
send = s.sendto
addr = (dst, 9)
while time.monotonic() < end:
    for _ in range(1000):
        try:
            send(payload, addr)
        except BlockingIOError:
            time.sleep(0.0001)
        except OSError:
            pass
"""


def run(mode: str, seconds: float, record_use: bool) -> dict:
    if mode == "p2p":
        plan = Plan.line(2)
        dst = "10.99.0.2"
    else:
        plan = Plan.line(9, spacing=1.0, range_m=100.0)
        dst = "255.255.255.255"
    with Emulation(plan, name="bchan") as emu:
        emu.install_static_routes()
        emu.node("n1").run("ping -c 1 -W 2 10.99.0.2")  # ARP resolved before timing
        ch = emu.runtime.channel
        ch.record_use = record_use
        c0 = emu.counters()
        proc = emu.node("n1").popen(["python3", "-c", BLASTER, dst, str(seconds)])
        time.sleep(0.3)
        a = emu.counters()
        busy0 = _busy[0]
        t0 = time.perf_counter()
        time.sleep(seconds - 0.6)
        b = emu.counters()
        dt = time.perf_counter() - t0
        busy = _busy[0] - busy0
        proc.wait()
        drops = {k: b.get(k, 0) - c0.get(k, 0) for k in ("tap_full", "unknown_mac")}
    return {"mode": mode, "record_use": record_use,
            "in_per_s": (b["frames_in"] - a["frames_in"]) / dt,
            "out_per_s": (b["frames_out"] - a["frames_out"]) / dt,
            "us_per_frame_in": 1e6 * busy / max(b["frames_in"] - a["frames_in"], 1), **drops}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args()
    rows = [run("p2p", args.seconds, False), run("p2p", args.seconds, True),
            run("fanout8", args.seconds, False)]
    print("channel throughput (unit-disk); 'busy' = channel CPU time per frame read, so "
          "1e6/busy is the rate one free core sustains")
    print(f"{'mode':<9} {'route-use':>9} {'frames in/s':>12} {'frames out/s':>13} "
          f"{'busy us/frame':>14} {'capacity in/s':>14}")
    for r in rows:
        print(f"{r['mode']:<9} {str(r['record_use']):>9} {r['in_per_s']:>12,.0f} "
              f"{r['out_per_s']:>13,.0f} {r['us_per_frame_in']:>14.2f} "
              f"{1e6 / r['us_per_frame_in']:>14,.0f}")


if __name__ == "__main__":
    main()
