"""The Mininet-style Python API: ``with Emulation(scenario) as emu: emu.node("n1").run(...)``.

``Emulation`` owns a run: it claims the run name in the registry, brings the namespaces up,
runs the channel and the agents in an asyncio loop on a background thread (so the caller's
thread is free to run commands inside nodes), and on exit, an exception, Ctrl-C or SIGTERM tears
everything down and removes the registry record.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Any, Callable, Sequence

from . import linux, nodes as nodenet, registry, rtnl
from .agents import AgentRuntime
from .plan import Plan

NSENTER = shutil.which("nsenter")


class EmulationError(RuntimeError):
    pass


def require_root() -> None:
    if not linux.is_root():
        raise PermissionError("the netns backend needs root (run with sudo)")


def netns_argv(netns_path: str, argv: Sequence[str]) -> list[str]:
    """argv that runs ``argv`` inside a namespace (nsenter is lighter than ``ip netns exec``)."""
    if NSENTER:
        return [NSENTER, f"--net={netns_path}", "--", *argv]
    return ["ip", "netns", "exec", netns_path.rsplit("/", 1)[1], *argv]


class Node:
    """A node of a running emulation: run programs inside it."""

    def __init__(self, emu: "Emulation", index: int) -> None:
        self.emu = emu
        self.index = index
        self.net = emu.netnodes[index]
        self.name = self.net.name
        self.address = self.net.address
        self.namespace = self.net.netns

    def _argv(self, cmd: str | Sequence[str]) -> list[str]:
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return netns_argv(self.net.netns_path, argv)

    def run(self, cmd: str | Sequence[str], timeout: float | None = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        """Run a command inside the node and wait; stdout and stderr are captured as text."""
        return subprocess.run(self._argv(cmd), capture_output=True, text=True, timeout=timeout,
                              check=check)

    def popen(self, cmd: str | Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """Start a background program inside the node; it is stopped at teardown."""
        proc = subprocess.Popen(self._argv(cmd), **kwargs)
        self.emu._track(proc.pid)
        return proc

    def position(self) -> tuple[float, float]:
        return self.emu.runtime.channel.positions[self.index]

    def routes(self) -> list[tuple[str, int, str | None]]:
        """The node's kernel IPv4 routes (dst, prefixlen, gateway)."""
        return self.emu._await(self.net.rt.routes())

    def __repr__(self) -> str:
        return f"<Node {self.name} {self.address} in {self.namespace}>"


class Emulation:
    """A running netns emulation of a scenario (see module docstring).

    ``scenario`` is a :class:`Plan`, a scenario name or TOML path, or a loaded scenario;
    ``overrides`` are ``section.key=value`` strings applied to a named scenario.
    """

    def __init__(self, scenario: Any, name: str = "mn", overrides: list[str] | None = None,
                 handle_signals: bool = True,
                 on_event: Callable[[float, str, str, dict], None] | None = None) -> None:
        self.plan = scenario if isinstance(scenario, Plan) else Plan.from_scenario(
            scenario, overrides)
        self.name = registry.validate_run_name(name)
        self.handle_signals = handle_signals
        self.on_event = on_event
        self.events: deque = deque(maxlen=10000)
        self.netnodes: list[nodenet.NodeNet] = []
        self.record: registry.RunRecord | None = None
        self.runtime: AgentRuntime | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._old_handlers: dict[int, Any] = {}
        self._pids: list[int] = []
        self.up_seconds = 0.0
        self.down_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Emulation":
        require_root()
        t0 = time.perf_counter()
        self.record = registry.claim(self.name)
        atexit.register(self.stop)
        self._install_signals()
        try:
            proto = self.plan.protocol_cls
            with_tun = bool(proto is not None and (proto.reactive or proto.per_packet))
            self.netnodes = nodenet.plan(self.record, self.plan.names, self.plan.addresses,
                                         with_tun)
            self.loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self.loop.run_forever,
                                            name=f"meshnet-{self.name}", daemon=True)
            self._thread.start()
            # on the loop thread: it owns the nodes' netlink handles from now on
            self._await(nodenet.bring_up(self.netnodes, with_tun), timeout=600)
            self.runtime = self._call(self._start_runtime)
        except BaseException:
            self.stop()
            raise
        self.up_seconds = time.perf_counter() - t0
        return self

    def _start_runtime(self) -> AgentRuntime:
        rt = AgentRuntime(self.loop, self.plan, self.netnodes, on_event=self._event)
        rt.start()
        return rt

    def stop(self) -> None:
        """Tear everything down; safe to call twice and from atexit."""
        if self.record is None:
            return
        t0 = time.perf_counter()
        try:
            if self.loop is not None and self._thread is not None and self._thread.is_alive():
                if self.runtime is not None:
                    try:
                        self._call(self.runtime.stop, timeout=5)
                    except Exception:
                        pass
                try:
                    self._call(nodenet.close_netlink, self.netnodes, timeout=5)
                except Exception:
                    pass
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout=5)
            if self.loop is not None and not self.loop.is_running():
                self.loop.close()
            registry.kill_processes(self._pids, grace=0.3)
            nodenet.tear_down(self.netnodes)
            nodenet.close_device_fds(self.netnodes)
        finally:
            self.record.remove()
            self.record = None
            self._restore_signals()
            atexit.unregister(self.stop)
            self.down_seconds = time.perf_counter() - t0

    def __enter__(self) -> "Emulation":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- signals: SIGTERM/SIGHUP unwind like Ctrl-C so the with-block cleans up -------------------
    def _install_signals(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, _raise_interrupt)

    def _restore_signals(self) -> None:
        for sig, handler in self._old_handlers.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, TypeError):
                pass
        self._old_handlers.clear()

    # -- helpers -------------------------------------------------------------------------------
    def _call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30) -> Any:
        """Run ``fn`` on the loop thread and return its result."""
        if self.loop is None:
            raise EmulationError("emulation is not running")
        fut: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def _await(self, coro: Any, timeout: float = 30) -> Any:
        """Run coroutine ``coro`` on the loop thread and return its result."""
        if self.loop is None:
            coro.close()
            raise EmulationError("emulation is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _track(self, pid: int) -> None:
        self._pids.append(pid)
        if self.record is not None:
            self.record.pids.append(pid)
            self.record.save()

    def _event(self, t: float, node: str, kind: str, fields: dict) -> None:
        self.events.append((t, node, kind, fields))
        if self.on_event is not None:
            self.on_event(t, node, kind, fields)

    def _index(self, name: str) -> int:
        try:
            return self.plan.names.index(name)
        except ValueError:
            raise KeyError(f"no node {name!r}; nodes are {self.plan.names[0]}.."
                           f"{self.plan.names[-1]}") from None

    # -- public API ----------------------------------------------------------------------------
    def node(self, name: str) -> Node:
        return Node(self, self._index(name))

    def nodes(self) -> list[dict[str, Any]]:
        """name, namespace, address and current position of every node."""
        positions = self._call(lambda: list(self.runtime.channel.positions))
        return [{"name": n.name, "namespace": n.netns, "address": n.address,
                 "position": positions[n.index]} for n in self.netnodes]

    def move(self, name: str, x: float, y: float) -> None:
        """Put a node at (x, y) now; links follow at once."""
        i = self._index(name)

        def apply() -> None:
            self.plan.move(i, x, y)
            self.runtime.channel.update_positions()

        self._call(apply)

    def cut(self, a: str, b: str) -> None:
        """Silent link loss between two nodes: frames stop, interfaces stay up."""
        i, j = self._index(a), self._index(b)
        med = self.runtime.channel.medium
        self._call(lambda: (med.blocked.block(i, j), self.runtime.channel.links_changed()))

    def restore(self, a: str, b: str) -> None:
        i, j = self._index(a), self._index(b)
        med = self.runtime.channel.medium
        self._call(lambda: (med.blocked.unblock(i, j), self.runtime.channel.links_changed()))

    def neighbours(self) -> list[list[int]]:
        """Who hears whom now (node indices), as the medium decides."""
        def get() -> list[list[int]]:
            med = self.runtime.channel.medium
            if hasattr(med, "neighbours"):
                return [list(r) for r in med.neighbours]
            return [[j for j, p in g.items() if p > 0] for g in med.gain]
        return self._call(get)

    def install_static_routes(self) -> int:
        """Shortest-hop host routes along the current links in every node (for runs with
        protocol "none" and no daemon). Returns the number of routes installed."""
        nbrs = self.neighbours()
        n = len(nbrs)
        count = 0
        for src in range(n):
            first_hop = {src: None}
            frontier = [src]
            while frontier:
                nxt = []
                for u in frontier:
                    for v in nbrs[u]:
                        if v not in first_hop:
                            first_hop[v] = v if u == src else first_hop[u]
                            nxt.append(v)
                frontier = nxt
            net = self.netnodes[src]
            routes = [(self.netnodes[d].address, self.netnodes[h].address)
                      for d, h in first_hop.items() if h is not None]

            self._await(net.rt.apply(
                rtnl.route(dst, 32, gateway=None if hop == dst else hop, oif=net.tap_index,
                           proto=rtnl.RTPROT_STATIC) for dst, hop in routes))
            count += len(routes)
        return count

    def wait_converged(self, timeout: float = 30.0, interval: float = 0.2) -> bool:
        """Wait until every node has a kernel route to every node it can reach over the current
        links (works for meshnet protocols and external daemons alike). Reactive protocols
        install routes on demand, so for them this returns True at once."""
        proto = self.plan.protocol_cls
        if proto is not None and getattr(proto, "reactive", False):
            return True
        deadline = time.monotonic() + timeout
        while True:
            if self._all_routes_present():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def _all_routes_present(self) -> bool:
        nbrs = self.neighbours()
        for src, net in enumerate(self.netnodes):
            seen, frontier = {src}, [src]
            while frontier:
                frontier = [v for u in frontier for v in nbrs[u] if v not in seen
                            and not seen.add(v)]
            want = {self.netnodes[d].address for d in seen if d != src}
            have = {dst for dst, plen, _gw in self._await(net.rt.routes()) if plen == 32}
            if not want <= have:
                return False
        return True

    def counters(self) -> dict[str, int]:
        def get() -> dict[str, int]:
            out = dict(self.runtime.channel.counters)
            out["frames_in"] = self.runtime.channel.rx_frames
            out["frames_out"] = self.runtime.channel.tx_frames
            for agent in self.runtime.agents:
                for k, v in agent.counters.items():
                    out[k] = out.get(k, 0) + v
            return out
        return self._call(get)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
