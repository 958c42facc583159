"""Soak test of the namespace backend: a long emulation with flat memory.

Runs ``meshnet emulate`` on ``broch`` grown to N nodes at Broch's density (AODV with link-layer
feedback, random waypoint, CBR flows as real UDP) for the given time, samples the resident memory
of the emulation process (which holds the channel thread and every node's protocol instance)
every few seconds, and reports RSS at start (once every node is up) and end, the slope of a
least-squares line through the samples of the second half, the run's PDR, the machine's load
average over the run (1-minute figure, sampled with the RSS) and how much the emulation had to
drop because it could not keep up (``control_unread``: control messages the air delivered that
a node's kernel dropped before its agent read them). Afterwards it checks that no namespace of
the run is left. Run as root:

    .venv/bin/python benchmarks/netns_soak.py --nodes 250 --duration 600
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

RUN_NAME = "soak"


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _read(f: IO[str]) -> str:
    """What the emulation wrote to ``f`` so far (pread: the offset it writes at stays put)."""
    fd = f.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return 60.0 * sum((t - mt) * (r - mr) for t, r in samples) / var if var else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=250)
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--flows", type=int, default=20)
    ap.add_argument("--every", type=float, default=5.0, help="sampling period, s")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if args.nodes < 2 or not 0 < args.duration < math.inf or args.flows < 1 or args.every <= 0:
        print("netns_soak: --nodes >= 2, --duration > 0, --flows >= 1 and --every > 0 please",
              file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("netns_soak: needs root (network namespaces)", file=sys.stderr)
        return 2
    height = math.sqrt(args.nodes * 1500 * 300 / 50 / 5)
    cmd = [sys.executable, "-m", "meshnet.cli", "emulate", "broch", "--name", RUN_NAME,
           "--duration", str(args.duration), "--json",
           "--set", f"nodes.count={args.nodes}",
           "--set", f"area.width={round(5 * height)}", "--set", f"area.height={round(height)}",
           "--set", f"traffic.0.flows={args.flows}", "--set", "traffic.0.jitter=10"]
    from meshnet.scenario import load_scenario
    from meshnet.traffic import build_flows

    overrides = [a for k, a in zip(cmd, cmd[1:]) if k == "--set"]
    scenario = load_scenario("broch", overrides + [f"scenario.duration={args.duration}"])
    flows = build_flows(scenario, [f"n{i}" for i in range(1, args.nodes + 1)])
    expected = round(sum(max(f.stop - f.start, 0.0) * f.rate for f in flows))
    load0 = os.getloadavg()
    t0 = time.monotonic()
    # the emulation's output goes to files: it prints a status line a second, and a pipe that
    # nobody reads until the end fills up and stops it
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, text=True)
        samples: list[tuple[float, float]] = []
        loads: list[float] = []
        up_at: float | None = None  # when the emulate process said its nodes were up
        try:
            while proc.poll() is None:
                time.sleep(args.every)
                r = rss_mib(proc.pid)
                if r is not None:
                    samples.append((time.monotonic() - t0, r))
                    loads.append(os.getloadavg()[0])
                if up_at is None and " nodes up in " in _read(err_file):
                    up_at = time.monotonic() - t0
            proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(30)
            raise
        out, err = _read(out_file), _read(err_file)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        print(f"netns_soak: the emulation failed ({proc.returncode}): "
              f"{err.strip().splitlines()[-1] if err.strip() else 'no message'}", file=sys.stderr)
        return 1
    result = json.loads(out)
    leftovers = [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                             text=True).stdout.split()
                 if ns.startswith(f"mn-{RUN_NAME}")]
    # "start" is the first sample after the bring-up, "end" the last one within the duration
    if up_at is None:
        up_at = wall - args.duration
    steady = [s for s in samples if up_at <= s[0] <= up_at + args.duration] or samples
    second_half = [s for s in steady if s[0] >= up_at + args.duration / 2]
    report = {
        "nodes": args.nodes, "duration_s": args.duration, "wall_s": round(wall, 1),
        "rss_start_mib": round(steady[0][1], 1), "rss_end_mib": round(steady[-1][1], 1),
        "rss_max_mib": round(max(r for _, r in samples), 1),
        "slope_second_half_mib_per_min": round(slope_mib_per_min(second_half), 3),
        "slope_mib_per_min": round(slope_mib_per_min(steady), 3),
        "samples": len(samples), "pdr": result.get("pdr"), "sent": result.get("sent"),
        "sent_expected": expected,
        "delivered": result.get("delivered"), "drops": result.get("drops"),
        "control_unread": result.get("counters", {}).get("control_unread", 0),
        "control_received": result.get("counters", {}).get("control_received", 0),
        "load_start": load0, "load_end": os.getloadavg(),
        "load_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "load_max": round(max(loads), 2) if loads else None,
        "leftover_namespaces": leftovers,
    }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"report": report, "samples": samples}))
    return 0 if not leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
