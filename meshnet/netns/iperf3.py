"""Real ``iperf3 -u`` between two nodes of an emulation, measured at the receiver.

iperf3 (3.12 here; 3.21 starts a UDP test the same way) has two start-up habits that matter on
a lossy multi-hop radio path, both traced on 3-hop ZigBee and Z-Wave lines (see docs/netns.md,
"Throughput"):

- **The UDP stream is set up by one datagram each way**, sent once: the client's "connect" and
  the server's "reply". They cross the path while iperf3's own TCP control segments (and
  Linux's tail-loss-probe retransmissions of them) cross it the other way, and on a line of
  hidden terminals a unicast can lose every MAC attempt. When either datagram is lost, the
  client waits 30 s (a fixed ``SO_RCVTIMEO``) and ends with "unable to read from stream socket",
  exit status 0. Here the server runs with ``--rcv-timeout``, so a set-up that stalls ends after
  ``stall_s`` without any message, and a test whose server received no data at all is run
  again (:class:`SetupLost`): it measured nothing.
- **The client starts sending one control message late.** The server's report intervals start
  when it sends TEST_START; the client sends data only after the next message, TEST_RUNNING.
  When the TCP segment carrying it is lost, the client starts a retransmission timeout later
  (about 1 s on three Z-Wave hops) and the first intervals are empty or partial. The steady
  state (:func:`steady_intervals`) therefore starts after the first interval that carried data
  and ends with the test's duration (not with the server's last interval: the drain).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

IPERF_PORT = 5201
STALL_S = 5.0       # the server gives a test up after this long without any message
ATTEMPTS = 3        # test runs in all when set-ups are lost
EXIT_GRACE_S = 2.0  # how long one side may outlive the other at the end of a test
END_SLACK_S = 0.1   # interval ends lag ~1 ms a second: one ending this late is still in the test


class SetupLost(RuntimeError):
    """The server received no test data: the stream's set-up (or the whole path) failed."""


@dataclass
class UdpResult:
    """One measurement: ``bps`` is UDP payload bits/s at the receiver over ``intervals``
    (the server's interval sums of the steady state); ``attempts`` counts the test runs,
    those whose set-up was lost included."""

    bps: float
    intervals: list[dict[str, Any]]
    attempts: int


def steady_intervals(intervals: list[dict[str, Any]], duration: float) -> list[dict[str, Any]]:
    """The steady-state part of an iperf3 server's interval sums for a ``duration``-second
    test: from the first interval that carried data, without that one (the client started
    sending during it), up to the end of the test on the server's clock. Later intervals are
    the drain: the client has stopped, the queues along the path empty, and with the first
    hops silent the last ones contend less (on three Z-Wave hops the drain ran ~1 % faster
    than the steady state). Empty intervals *after* data began are kept: a stall is part of
    the measurement. A test too short for this keeps every interval from the first with
    data."""
    first = next((k for k, iv in enumerate(intervals) if iv["bytes"]), None)
    if first is None:
        return []
    data = intervals[first:]
    steady = [iv for iv in data[1:] if iv["end"] <= duration + END_SLACK_S]
    return steady or data


def udp_throughput(emu: Any, client: str, server: str, payload: int, seconds: float = 3.0,
                   rate: str = "1M", timeout: float | None = None, attempts: int = ATTEMPTS,
                   stall_s: float = STALL_S) -> UdpResult:
    """Run ``iperf3 -u`` from node ``client`` to node ``server`` (``-l payload -b rate -t
    seconds``) and return the receiver's steady-state throughput. A test whose server received
    nothing (:class:`SetupLost`) is run again, up to ``attempts`` runs in all; ``timeout``
    bounds each run (default: ``seconds`` + 30 s)."""
    limit = seconds + 30.0 if timeout is None else timeout
    for attempt in range(1, attempts + 1):
        try:
            report = _run_once(emu, client, server, payload, seconds, rate, limit, stall_s)
        except SetupLost:
            if attempt == attempts:
                raise
            continue
        steady = steady_intervals([iv["sum"] for iv in report.get("intervals", ())], seconds)
        span = sum(iv["seconds"] for iv in steady)
        return UdpResult(sum(iv["bytes"] for iv in steady) * 8 / span if span else 0.0,
                         steady, attempt)
    raise AssertionError("unreachable")


def _run_once(emu: Any, client: str, server: str, payload: int, seconds: float, rate: str,
              timeout: float, stall_s: float) -> dict[str, Any]:
    """One test; the server's JSON report, or :class:`SetupLost` when it received no data.
    Reports go to files: a long test's JSON can exceed a pipe's buffer before iperf3 exits."""
    srv_node, cli_node = emu.node(server), emu.node(client)
    with tempfile.TemporaryFile("w+") as srv_out, tempfile.TemporaryFile("w+") as cli_out:
        srv = srv_node.popen(["iperf3", "-s", "-1", "--json", "-p", str(IPERF_PORT),
                              "--rcv-timeout", str(max(100, round(stall_s * 1000)))],
                             stdout=srv_out, stderr=subprocess.DEVNULL)
        cli = None
        try:
            _wait_listening(srv_node, IPERF_PORT)
            cli = cli_node.popen(["iperf3", "-u", "-c", srv_node.address, "-p",
                                  str(IPERF_PORT), "-b", rate, "-l", str(payload), "-t",
                                  f"{seconds:g}", "--json"],
                                 stdout=cli_out, stderr=subprocess.DEVNULL)
            _wait_both(srv, cli, timeout, stall_s)
        finally:
            for proc in (cli, srv):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
        report, client_report = _json(srv_out, "server"), _json(cli_out, "client")
    received = sum(iv["sum"]["bytes"] for iv in report.get("intervals", ()))
    if not received:
        why = report.get("error") or client_report.get("error") or "no error reported"
        raise SetupLost(f"iperf3 server in {server} received no data ({why})")
    for side, out in (("server", report), ("client", client_report)):
        if out.get("error"):
            raise RuntimeError(f"iperf3 {side} failed: {out['error']}")
    return report


def _wait_both(srv: subprocess.Popen, cli: subprocess.Popen, timeout: float,
               stall_s: float) -> None:
    """Wait until both ends exit, or stop waiting for the one still running: a client whose
    server has ended may be waiting for a lost set-up reply (iperf3 would wait 30 s), so it
    gets EXIT_GRACE_S; a server whose client has ended gets ``stall_s`` more, after which its
    ``--rcv-timeout`` ends it anyway (or it never had a client)."""
    deadline = time.monotonic() + timeout
    ended_at = None
    while True:
        srv_done, cli_done = srv.poll() is not None, cli.poll() is not None
        if srv_done and cli_done:
            return
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"iperf3 did not finish within {timeout:g} s")
        if srv_done or cli_done:
            ended_at = now if ended_at is None else ended_at
            if now - ended_at > (EXIT_GRACE_S if srv_done else stall_s + EXIT_GRACE_S):
                return  # the caller stops the one still running
        time.sleep(0.02)


def _json(out: Any, side: str) -> dict[str, Any]:
    """The JSON report iperf3 wrote to file ``out``; {} when it was stopped before writing."""
    out.seek(0)
    text = out.read()
    if not text.strip():
        return {}
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        raise RuntimeError(f"iperf3 {side} printed no JSON report: {text[-300:]!r}") from None
    return report if isinstance(report, dict) else {}


def _wait_listening(node: Any, port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if f":{port} " in node.run(["ss", "-Hltn"], timeout=5).stdout:
            return
        time.sleep(0.05)
    raise RuntimeError(f"iperf3 server in {node.name} did not start listening")
