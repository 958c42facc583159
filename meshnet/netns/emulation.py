"""The Mininet-style Python API: ``with Emulation(scenario) as emu: emu.node("n1").run(...)``.

``Emulation`` owns a run: it claims the run name in the registry, brings the namespaces up,
runs the channel and the agents in an asyncio loop on a background thread (so the caller's
thread is free to run commands inside nodes), and on exit, an exception, Ctrl-C or SIGTERM tears
everything down and removes the registry record.

Every event of the run (agents, routes, protocols, the scenario's traffic flows sent as real UDP
by ``traffic.py``) goes to ``emu.bus``, a :class:`meshnet.events.EventBus` with the simulator's
:class:`meshnet.metrics.MetricsCollector` on it; :meth:`Emulation.finish` stops the traffic,
lets in-flight packets drain and returns the same metrics object as ``Simulation.result()``.
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

from meshnet.events import EventBus
from meshnet.faults import FaultSchedule, build_faults
from meshnet.metrics import MetricsCollector
from meshnet.signals import install as install_signals

from . import linux, nodes as nodenet, registry, rtnl
from .agents import AgentRuntime
from .plan import Plan
from .traffic import TrafficRunner, flow_uid, frame_uid

DRAIN_S = 1.0  # after the sources stop, how long in-flight packets may still arrive
READY_SAVE_S = 0.2  # during a bring-up, how often the record says how many nodes are up

# Runs this process started and has not stopped, by registry token (see registry.claim).
_LIVE: dict[str, "Emulation"] = {}

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
    ``flows``: the traffic to send (``meshnet.traffic.Flow``); default: the scenario's
    ``[[traffic]]`` (none for a bare :class:`Plan`). ``traffic=False`` sends nothing.

    A name is one run at a time: a live run of the same name in another process is refused,
    and so is one in this process, unless ``replace=True``, which stops that run first (the
    TUI's restart). Either way a run removes only what it created (``registry`` tokens).
    """

    def __init__(self, scenario: Any, name: str = "mn", overrides: list[str] | None = None,
                 handle_signals: bool = True,
                 on_event: Callable[[float, str, str, dict], None] | None = None,
                 flows: list[Any] | None = None, traffic: bool = True,
                 replace: bool = False) -> None:
        self.scenario: Any = None
        if isinstance(scenario, Plan):
            self.plan = scenario
        else:
            from meshnet.scenario import load_scenario

            self.scenario = (load_scenario(scenario, overrides or [])
                             if isinstance(scenario, str) else scenario)
            self.plan = Plan.from_scenario(self.scenario)
        world = getattr(self.plan, "world", None)  # a plan built from a scenario keeps it
        if self.scenario is None:
            self.scenario = getattr(world, "scenario", None)
        if flows is None:
            flows = getattr(world, "flows", None)
        if flows is None and self.scenario is not None:
            from meshnet.traffic import build_flows

            flows = build_flows(self.scenario, list(self.plan.names))
        self.flows: list[Any] = list(flows or []) if traffic else []
        self.name = registry.validate_run_name(name)
        self.replace = replace
        self.handle_signals = handle_signals
        self.on_event = on_event
        self.events: deque = deque(maxlen=10000)
        self.bus = EventBus()
        # the scenario's [[faults]], checked now (before any namespace exists)
        self.fault_list = (build_faults(self.scenario, list(self.plan.names))
                           if self.scenario is not None else [])
        self.faults: FaultSchedule | None = None
        self._fault_timers: list[asyncio.TimerHandle] = []
        self.metrics = MetricsCollector(self.bus, faults=bool(self.fault_list))
        self.bus_events = 0
        self.traffic: TrafficRunner | None = None
        self._started_wall = 0.0
        self._finished: dict[str, Any] | None = None
        self.netnodes: list[nodenet.NodeNet] = []
        self.record: registry.RunRecord | None = None
        self.runtime: AgentRuntime | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._old_handlers: dict[int, Any] = {}
        self._pids: list[int] = []
        self._ready_saved = 0.0
        self.up_seconds = 0.0
        self.down_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Emulation":
        require_root()
        t0 = time.perf_counter()
        if self.replace:
            for older in [e for e in _LIVE.values() if e.name == self.name and e is not self]:
                older.stop()
        self.record = registry.claim(self.name, live_here=set(_LIVE))
        _LIVE[self.record.token] = self
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
            self._await(nodenet.bring_up(self.netnodes, with_tun, self._nodes_up), timeout=600)
            self.runtime = self._call(self._start_runtime)
            self.record.state = "running"
            self.record.save()
        except BaseException:
            self.stop()
            raise
        self.up_seconds = time.perf_counter() - t0
        return self

    def _nodes_up(self, count: int) -> None:
        """Bring-up progress: the record says how many nodes exist (``meshnet nodes`` shows
        the others as starting and ``meshnet exec`` says they are), at most every
        READY_SAVE_S and when the last one is up."""
        rec = self.record
        rec.up = count
        now = time.monotonic()
        if count == len(self.netnodes) or now >= self._ready_saved + READY_SAVE_S:
            self._ready_saved = now
            rec.save()

    def _start_runtime(self) -> AgentRuntime:
        rt = AgentRuntime(self.loop, self.plan, self.netnodes, on_event=self._event,
                          flow_uid=flow_uid)
        self.runtime = rt
        rt.start()
        self._started_wall = time.perf_counter()
        if self.flows:
            self.traffic = TrafficRunner(self.loop, self.netnodes, self.flows, self.plan.seed,
                                         rt.t0, self._event)
            self.traffic.start()
        if self.fault_list:
            self._install_faults(rt)
        return rt

    def _install_faults(self, rt: AgentRuntime) -> None:
        """The scenario's faults at their scenario times on this loop, through the runtime's
        fault actions (the simulator runs the same schedule in virtual time)."""
        self.faults = FaultSchedule(
            self.fault_list, self.plan.names, rt.channel.position, rt,
            lambda kind, fields: self._event(rt.now, "", kind, fields), lambda: rt.now,
            self.plan.duration or float("inf"))

        def call_at(t: float, fn: Callable[..., Any], *args: Any) -> None:
            self._fault_timers.append(self.loop.call_at(rt.t0 + t, fn, *args))

        self.faults.install(call_at)

    def stop(self) -> None:
        """Tear everything down; safe to call twice and from atexit."""
        if self.record is None:
            return
        t0 = time.perf_counter()
        try:
            if self.loop is not None and self._thread is not None and self._thread.is_alive():
                if self.traffic is not None:
                    try:
                        self._call(self.traffic.close, timeout=5)
                    except Exception:
                        pass
                for handle in self._fault_timers:
                    self.loop.call_soon_threadsafe(handle.cancel)
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
            _LIVE.pop(self.record.token, None)
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
        self._old_handlers.update(install_signals((signal.SIGTERM, signal.SIGHUP),
                                                  _raise_interrupt))

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
        """Every event of the run (on the loop thread): the recent-events deque, the bus (with
        the node name in ``fields["node"]``, as the simulator writes it) and ``on_event``."""
        self.events.append((t, node, kind, fields))
        self.bus_events += 1
        self.bus.emit(t, kind, {"node": node, **fields} if node else fields)  # "": run-wide
        if self.on_event is not None:
            self.on_event(t, node, kind, fields)

    def _index(self, name: str) -> int:
        try:
            return self.plan.names.index(name)
        except ValueError:
            raise KeyError(f"no node {name!r}; nodes are {self.plan.names[0]}.."
                           f"{self.plan.names[-1]}") from None

    # -- public API ----------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Seconds on the emulation clock (the scenario's time; 0 when the agents started)."""
        if self.runtime is None or self.loop is None:
            return 0.0
        return self.loop.time() - self.runtime.t0

    def finish(self, drain: float = DRAIN_S, at: float | None = None) -> dict[str, Any]:
        """Stop the traffic sources now, give in-flight packets up to ``drain`` seconds to
        arrive (less when every packet sent is already delivered or dropped), and return the
        metrics object of ``Simulation.result()`` with ``"backend": "netns"``. ``duration_s``
        is ``at`` (the emulation time the run was meant to end, e.g. the scenario's duration)
        or else the clock when the sources stopped. Calling it again returns the same object."""
        if self._finished is not None:
            return self._finished
        if self.runtime is None:
            raise EmulationError("emulation is not running")
        stopped_at = self._call(self._stop_sources)
        deadline = time.monotonic() + max(drain, 0.0)
        while time.monotonic() < deadline and self._call(self._outstanding) > 0:
            time.sleep(0.02)
        self._finished = self._call(self._result, stopped_at if at is None else at)
        return self._finished

    def _stop_sources(self) -> float:
        if self.traffic is not None:
            self.traffic.stop_sources()
        return self.runtime.now

    def _outstanding(self) -> int:
        return self.metrics.sent - self.metrics.ended()

    def _queued_uids(self) -> set[int]:
        """uids of flow packets still in custody: in a node's transmit queue on the medium (the
        MACs' ``queued()`` frames) or held by a protocol (an agent's ``hold``, e.g. AODV's
        discovery buffer). Packets inside kernels are not visible; they end up
        ``unaccounted``."""
        uids: set[int] = set()
        if self.traffic is not None:
            is_flow = self.traffic.is_flow_uid
            for agent in self.runtime.agents:
                uids.update(uid for uid in getattr(agent, "_held", ()) if is_flow(uid))
        channel = self.runtime.channel
        frames: list[Any] = []
        try:
            for mac in getattr(channel, "macs", None) or ():
                frames.extend(mac.queued())
            medium = getattr(channel, "medium", None)
            for q in getattr(medium, "queues", None) or ():  # a medium with plain queues
                frames.extend(q)
        except Exception:
            pass
        for item in frames:
            raw = item if isinstance(item, (bytes, bytearray, memoryview)) else (
                getattr(item, "payload", None) or getattr(item, "frame", None))
            if raw is not None and (uid := frame_uid(raw)) is not None:
                uids.add(uid)
        return uids

    def _energy_j(self) -> float:
        channel = self.runtime.channel
        for owner, name in ((channel, "energy_j"), (getattr(channel, "medium", None),
                                                    "total_energy_j")):
            fn = getattr(owner, name, None)
            if callable(fn):
                try:
                    return float(fn())
                except Exception:
                    return 0.0
        return 0.0

    def _result(self, duration: float) -> dict[str, Any]:
        plan, sc = self.plan, self.scenario
        wall = time.perf_counter() - self._started_wall
        live = self._queued_uids() - self.metrics.delivered
        m = self.metrics.result(live, plan.n, end=duration)
        energy = self._energy_j()
        counters: dict[str, int] = {}
        for agent in self.runtime.agents:
            for k, v in agent.counters.items():
                counters[k] = counters.get(k, 0) + v
        out: dict[str, Any] = {
            "scenario": sc.name if sc is not None else plan.label,
            "protocol": sc.protocol.name if sc is not None else plan.protocol_name,
            "backend": "netns",
            "seed": plan.seed,
            "nodes": plan.n,
            "duration_s": round(duration, 3),
            "radio": sc.radio.profile if sc is not None else _radio_name(plan),
            "propagation": sc.radio.propagation if sc is not None else _propagation_name(plan),
        }
        out.update(m)
        out["energy_j"] = energy
        channel_counters = getattr(self.runtime.channel, "counters", {})
        out["control_drops"] = counters.get("control_send_error", 0) + sum(
            v for k, v in channel_counters.items() if k.startswith("control_") and k != "control_tx")
        out["malformed_control"] = counters.get("decode_error", 0)
        out["protocol_errors"] = counters.get("protocol_error", 0)
        out["events"] = self.bus_events
        out["wall_s"] = round(wall, 4)
        out["events_per_s"] = round(self.bus_events / wall) if wall > 0 else 0
        if self.traffic is not None:
            out["traffic"] = dict(self.traffic.stats)
        return out

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
            ch = self.runtime.channel
            self.plan.move(i, x, y, ch.now)
            ch.moved()

        self._call(apply)

    def kill(self, name: str, reason: str = "killed") -> None:
        """Crash a node now: its radio goes silent, queued frames are lost, its protocol stops
        (its kernel and programs keep running, unheard)."""
        self._call(self.runtime.kill, self._index(name), reason)

    def revive(self, name: str) -> None:
        """Bring a dead node back: its radio works again under a fresh protocol instance."""
        self._call(self.runtime.revive, self._index(name))

    def cut(self, a: str, b: str) -> None:
        """Silent link loss between two nodes: frames stop, interfaces stay up."""
        self._call(self.runtime.channel.cut, self._index(a), self._index(b))

    def restore(self, a: str, b: str) -> None:
        self._call(self.runtime.channel.restore, self._index(a), self._index(b))

    def neighbours(self) -> list[list[int]]:
        """Who hears whom now (node indices), as the medium decides."""
        return self._call(self.runtime.channel.neighbours)

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
            # control messages the air delivered but the node's kernel dropped before its agent
            # read them (a full socket buffer while the loop was behind)
            unread = sum(st.rx_power.lost + st.rx_power.evicted
                         for st in self.runtime.channel.nodes)
            if unread:
                out["control_unread"] = unread
            for agent in self.runtime.agents:
                for k, v in agent.counters.items():
                    out[k] = out.get(k, 0) + v
            return out
        return self._call(get)


def _radio_name(plan: Plan) -> str:
    """A hand-built plan's radio profile name ("none" for a bare unit disk)."""
    profile = getattr(plan, "profile", None) or getattr(getattr(plan, "radio", None), "profile",
                                                        None)
    return str(getattr(profile, "name", "none")) if profile is not None else "none"


def _propagation_name(plan: Plan) -> str:
    radio = getattr(plan, "radio", None)
    if radio is not None:
        return type(getattr(radio, "propagation", radio)).__name__
    return "unit-disk" if getattr(plan, "range_m", None) else "radio"


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
