"""The node contract of meshnet/protocol_api.py, held by one suite against every NodeContext: the
simulator's SimNode, the netns NodeAgent and the unit tests' FakeContext.

Each test gets ``drv``, a driver with one interface over the three. ``drv.install(cls)`` runs
protocol ``cls`` on a static line of three nodes 100 m apart, with 150 m unit-disk radios and the
zigbee profile (eight power levels from 0 to -25 dBm): node 0 hears node 1, not node 2.
``drv.ctx`` is node 0's context. Time moves with ``drv.advance(dt)``: virtual time on the
simulator, the manual clock of the fake, real time on netns (kept short), where everything that
touches a context runs on the emulation's loop thread through ``drv.call``. The fake is one node
with no data plane and no host around it: the driver plays the source of its data packets.

An item a context does not have by the contract itself (the fake hosts no protocol and has no
data plane) is skipped with the reason, under the id ``<context>-na``. A
known violation of the contract is a strict xfail naming the code at fault, under the id
``<context>-xfail``: the fix makes the test pass, and the strict xfail then fails until the
entry is removed. Neither id is ``netns``, so neither is a namespace test that
MESHNET_REQUIRE_NETNS=1 turns into a failure.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from typing import Any, Callable

import pytest

from meshnet.event_schema import check
from meshnet.medium import CTRL, DATA
from meshnet.protocol_api import BROADCAST, DecodeError, Packet, Protocol
from meshnet.radio import get_profile
from meshnet.scenario import scenario_from_dict
from meshnet.world import address_of
from tests.fakes import FakeContext
from tests.netns_support import mn_namespaces, netns_skip_reason

N = 3
ADDR = [address_of(i) for i in range(N)]
NAMES = [f"n{i + 1}" for i in range(N)]
PROFILE = "zigbee"
DEFAULT_DBM = get_profile(PROFILE).tx_power_dbm
RATE = 20.0  # packets/s of every flow
RUN = f"nc{os.getpid() % 10**8}"  # netns run name: namespaces mn-<RUN>-n1 ...
BACKENDS = ("sim", "netns", "fake")


def contexts(na: dict[str, str] | None = None,
             xfail: dict[str, str] | None = None) -> pytest.MarkDecorator:
    """Run on every context; those in ``na`` are exempt by the contract (skipped with the
    reason), those in ``xfail`` violate it (strict xfail with the reason)."""
    na, xfail = na or {}, xfail or {}
    params: list[Any] = []
    for k in BACKENDS:
        if k in na:
            params.append(pytest.param(k, id=f"{k}-na",
                                       marks=pytest.mark.skip(reason=f"{k}: {na[k]}")))
        elif k in xfail:
            params.append(pytest.param(k, id=f"{k}-xfail", marks=pytest.mark.xfail(
                strict=True, reason=f"{k}: {xfail[k]}")))
        else:
            params.append(k)
    return pytest.mark.parametrize("drv", params, indirect=True)


NO_HOST = "a FakeContext hosts no protocol: a raising callback propagates to the test, by design"
NO_LIFECYCLE = "a FakeContext models no node lifecycle: it never dies, stops or revives"
NO_DATA_PLANE = "a FakeContext has no data plane: protocol tests call on_data themselves"
NO_RADIO = "a FakeContext has no radio: it takes any power (documented in tests/fakes.py)"


# --- protocols under test ------------------------------------------------------------------------

class Probe(Protocol):
    """Records what happens to it. Subclasses switch behaviours on; it never cancels a timer in
    stop(), so that a timer which does not fire was stopped by the backend."""

    name = "probe"
    port = 6553
    neighbour_routes = False  # start(): a route to each direct neighbour on the line

    def __init__(self, ctx: Any, params: Any = None) -> None:
        super().__init__(ctx, params)
        self.fired: list[tuple[str, float]] = []
        self.control: list[tuple[str, bytes]] = []
        self.no_route: list[Packet] = []
        self.data: list[tuple[Packet, str | None, str | None]] = []
        self.stopped = False

    def start(self) -> None:
        if self.neighbour_routes:
            for j in (self.ctx.node_id - 1, self.ctx.node_id + 1):
                if 0 <= j < N:
                    self.ctx.routes.add(ADDR[j], ADDR[j])

    def stop(self) -> None:
        self.stopped = True

    def mark(self, label: str) -> None:
        self.fired.append((label, self.ctx.now))

    def on_control(self, src: str, payload: bytes) -> None:
        self.control.append((src, payload))


class Timed(Probe):
    """Every node sets a timer when it starts."""

    def start(self) -> None:
        super().start()
        self.ctx.call_later(0.3, self.mark, "timer")


class Faulty(Probe):
    """Node 0's timer callback and on_control raise; node 1 sends it a message."""

    def start(self) -> None:
        super().start()
        if self.ctx.node_id == 0:
            self.ctx.call_later(0.05, self.boom)
            self.ctx.call_later(0.25, self.mark, "after")
        elif self.ctx.node_id == 1:
            self.ctx.call_later(0.1, self.ctx.broadcast, b"hello")

    def boom(self) -> None:
        raise RuntimeError("boom in a timer")

    def on_control(self, src: str, payload: bytes) -> None:
        super().on_control(src, payload)
        if self.ctx.node_id == 0:
            raise RuntimeError("boom in on_control")


class Garbled(Probe):
    """Node 0 cannot decode what node 1 sends it."""

    def start(self) -> None:
        super().start()
        if self.ctx.node_id == 0:
            self.ctx.call_later(0.2, self.mark, "after")
        elif self.ctx.node_id == 1:
            self.ctx.call_later(0.05, self.ctx.broadcast, b"\xffgarbage")

    def on_control(self, src: str, payload: bytes) -> None:
        super().on_control(src, payload)
        if self.ctx.node_id == 0:
            raise DecodeError("bad message")


class Keeper(Probe):
    """Counts its boots in ctx.persistent."""

    def start(self) -> None:
        super().start()
        memory = self.ctx.persistent
        self.at_start = dict(memory)
        memory["boots"] = memory.get("boots", 0) + 1


class Linked(Probe):
    neighbour_routes = True


class Watcher(Linked):
    """Watches route use."""

    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        self.data.append((packet, prev_hop, next_hop))


class Holder(Linked):
    """Reactive: holds every packet that has no route."""

    reactive = True

    def on_no_route(self, packet: Packet) -> None:
        self.no_route.append(packet)
        self.ctx.hold(packet)


class HoldingWatcher(Holder):
    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        self.data.append((packet, prev_hop, next_hop))


# --- drivers -------------------------------------------------------------------------------------

def scenario(traffic: list[tuple[int, int]], tx_power: float | None,
             extra: dict[str, list] | None = None) -> Any:
    raw: dict[str, Any] = {
        "scenario": {"name": "contract", "duration": 60, "seed": 7},
        "area": {"width": 400, "height": 100},
        "nodes": {"count": N, "placement": "line", "spacing": 100},
        "radio": {"profile": PROFILE, "propagation": "unit-disk", "range": 150},
        "mobility": {"model": "static"},
        "protocol": {"name": "none"},
    }
    if tx_power is not None:
        raw["radio"]["tx_power"] = tx_power
    if traffic:
        raw["traffic"] = [{"kind": "cbr", "pairs": [[s + 1, d + 1]], "rate": RATE, "size": 64,
                           "start": 0.05, "jitter": 0} for s, d in traffic]
    for key, tables in (extra or {}).items():  # [[groups]], multicast [[traffic]]
        raw.setdefault(key, []).extend(tables)
    return scenario_from_dict(raw)


class Driver:
    kind = ""
    nodes = N
    node_name: str | None = NAMES[0]  # what a backend writes as node 0's "node" in events
    slack = 0.0  # how late a timer may fire (real time only)

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, dict]] = []  # every event on the bus
        self.frames: list[tuple[int, str, float | None, Any]] = []  # node 0's frames on the air
        self.expected_tx_power = DEFAULT_DBM

    def install(self, cls: type[Protocol], traffic: list[tuple[int, int]] = (),
                tx_power: float | None = None,
                extra: dict[str, list] | None = None) -> "Driver":
        self.extra = extra
        if tx_power is not None:
            self.expected_tx_power = float(tx_power)
        self._install(cls, list(traffic), tx_power)
        return self

    @property
    def ctx(self) -> Any:
        return self.context(0)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def wait_for(self, pred: Callable[[], Any], timeout: float = 1.5, step: float = 0.02) -> bool:
        """Advance in steps until ``pred()`` holds (it runs on the test's thread and only reads)."""
        for _ in range(int(timeout / step)):
            if pred():
                return True
            self.advance(step)
        return bool(pred())

    def _record(self, t: float, kind: str, fields: dict) -> None:
        self.seen.append((t, kind, dict(fields)))

    def all_events(self) -> list[tuple[float, str, dict]]:
        return list(self.seen)

    def events(self, kind: str) -> list[dict]:
        return [f for _, k, f in self.all_events() if k == kind]

    def control_frames(self) -> dict[bytes, tuple[str, float]]:
        """Node 0's control frames on the air: payload -> (dst, dBm)."""
        return {p: (dst, self.ctx.tx_power if dbm is None else dbm)
                for kind, dst, dbm, p in list(self.frames) if kind == CTRL}

    def data_frames(self) -> list[tuple[str, float]]:
        return [(dst, self.ctx.tx_power if dbm is None else dbm)
                for kind, dst, dbm, _ in list(self.frames) if kind == DATA]

    def delivered_uids(self) -> set[int]:
        return {f["uid"] for f in self.events("data_delivered")}

    def snapshot(self, i: int, attr: str) -> list:
        return self.call(lambda: list(getattr(self.protocol(i), attr)))

    def close(self) -> None:
        pass


class SimDriver(Driver):
    kind = "sim"

    def _install(self, cls, traffic, tx_power) -> None:
        from meshnet.sim import Simulation
        from meshnet.world import build_world

        world = build_world(scenario(traffic, tx_power, self.extra))
        world.protocol_cls, world.protocol_params = cls, cls.Params()
        self.sim = Simulation(world)
        self.sim.bus.subscribe(self._record)
        self.sim.frame_taps.append(self._tap)
        self.sim.run_until(0.0)  # the protocols start at t = 0

    def _tap(self, node: Any, frame: Any) -> None:
        if node.index == 0:
            self.frames.append((frame.kind, frame.dst, frame.tx_power, frame.payload))

    def context(self, i: int) -> Any:
        return self.sim.nodes[i]

    def protocol(self, i: int) -> Any:
        return self.sim.nodes[i].protocol

    def advance(self, dt: float) -> None:
        self.sim.run_until(self.sim.now + dt)

    def kill(self, i: int) -> None:
        self.sim.kill(i)

    def revive(self, i: int) -> None:
        self.sim.revive(i)

    def end(self) -> None:
        self.sim.run()

    def protocol_errors(self) -> int:
        assert self.sim.result()["protocol_errors"] == self.sim.protocol_errors
        return self.sim.protocol_errors

    def malformed(self) -> int:
        return self.sim.result()["malformed_control"]

    def drops(self, reason: str) -> int:
        return self.sim.result()["drops"].get(reason, 0)

    def queued(self) -> int:
        return self.sim.result()["queued"]

    def flow_uid_of(self, packet: Packet) -> int | None:
        """The uid the traffic source gave this packet (its data_sent event)."""
        for t, kind, f in self.seen:
            if kind == "data_sent" and t == packet.created and f["flow"] == packet.flow:
                return f["uid"]
        return None


class NetnsDriver(Driver):
    kind = "netns"
    slack = 0.1
    emu: Any = None

    def _install(self, cls, traffic, tx_power) -> None:
        from meshnet.netns.emulation import Emulation
        from meshnet.netns.plan import Plan

        plan = Plan.from_scenario(scenario(traffic, tx_power, self.extra))
        plan.protocol_cls, plan.protocol_params = cls, cls.Params()
        self.emu = Emulation(plan, name=RUN, handle_signals=False)
        self.emu.bus.subscribe(self._record)
        self.emu.start()
        self.call(self._tap_channel)

    def _tap_channel(self) -> None:
        channel = self.emu.runtime.channel
        tx_end = channel.tx_end

        def tapped(st: Any, frame: Any, receivers: list[int], ok: bool, reason: str) -> None:
            if st.index == 0 and frame.payload[12:14] == b"\x08\x00":  # IPv4, not ARP
                self.frames.append((frame.kind, frame.dst, frame.tx_power,
                                    _udp_payload(frame.payload)))
            tx_end(st, frame, receivers, ok, reason)

        channel.tx_end = tapped

    def context(self, i: int) -> Any:
        return self.emu.runtime.agents[i]

    def protocol(self, i: int) -> Any:
        return self.emu.runtime.agents[i].protocol

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.emu._call(fn, *args)

    def advance(self, dt: float) -> None:
        time.sleep(dt)

    def kill(self, i: int) -> None:
        self.call(self.emu.runtime.kill, i, "killed")

    def revive(self, i: int) -> None:
        self.call(self.emu.runtime.revive, i)

    def end(self) -> None:
        self.emu.stop()

    def _counter(self, name: str, nodes: range | None = None) -> int:
        agents = self.emu.runtime.agents
        return self.call(lambda: sum(agents[i].counters[name] for i in nodes or range(N)))

    def protocol_errors(self) -> int:
        return self._counter("protocol_error")

    def malformed(self) -> int:
        return self._counter("decode_error")

    def drops(self, reason: str) -> int:
        return self._counter(f"drop_{reason}", range(1))

    def queued(self) -> int:
        return self.emu.finish(drain=0.2)["queued"]  # ends the traffic

    def flow_uid_of(self, packet: Packet) -> int | None:
        from meshnet.netns.traffic import flow_uid

        return flow_uid(packet.payload)

    def kernel_routes(self, i: int) -> set[tuple[str, str | None]]:
        return {(dst, gw) for dst, plen, gw in self.emu.node(NAMES[i]).routes() if plen == 32}

    def close(self) -> None:
        if self.emu is not None:
            self.emu.stop()
        assert [ns for ns in mn_namespaces() if ns.startswith(f"mn-{RUN}-")] == []


class FakeDriver(Driver):
    kind = "fake"
    nodes = 1
    node_name = None  # the fake is no backend: events are what the protocol emitted, as is

    def _install(self, cls, traffic, tx_power) -> None:
        kw = {} if tx_power is None else {"tx_power": tx_power}
        self.fake = FakeContext(address=ADDR[0], node_id=0, position=(100.0, 50.0), **kw)
        self.fake.locations = {a: (100.0 * (i + 1), 50.0) for i, a in enumerate(ADDR)}
        self.proto = cls(self.fake, cls.Params())
        self.proto.start()
        self.uids = iter(range(1, 10**6))
        for flow, (src, dst) in enumerate(traffic):
            if src == 0:
                self.fake.call_later(0.05, self._generate, flow, ADDR[dst])

    def _generate(self, flow: int, dst: str) -> None:
        """The source of a flow, as a data plane would hand its packets to the protocol."""
        packet = Packet(next(self.uids), ADDR[0], dst, 64, self.fake.now, flow=flow)
        if self.fake.routes.lookup(dst) is None:
            self.proto.on_no_route(packet)
        else:
            self.fake.send_packet(packet)
        self.fake.call_later(1.0 / RATE, self._generate, flow, dst)

    def all_events(self) -> list[tuple[float, str, dict]]:
        return [(0.0, kind, fields) for kind, fields in self.fake.events]

    def context(self, i: int) -> Any:
        assert i == 0, "the fake is one node"
        return self.fake

    def protocol(self, i: int) -> Any:
        assert i == 0, "the fake is one node"
        return self.proto

    def advance(self, dt: float) -> None:
        self.fake.advance(dt)

    def control_frames(self) -> dict[bytes, tuple[str, float]]:
        return {p: (dst, dbm) for (dst, p), dbm in zip(self.fake.sent, self.fake.frame_power)}

    def delivered_uids(self) -> set[int]:
        return {p.uid for p in self.fake.data_sent}  # handed back to the data plane

    def drops(self, reason: str) -> int:
        return sum(1 for _, r in self.fake.dropped if r == reason)

    def queued(self) -> int:
        return len(self.fake.queued)

    def flow_uid_of(self, packet: Packet) -> int | None:
        return packet.uid


def _udp_payload(frame: bytes) -> bytes:
    """The UDP payload of an Ethernet frame carrying IPv4/UDP (netns control frames)."""
    ihl = (frame[14] & 15) * 4
    return bytes(frame[14 + ihl + 8:])


DRIVERS = {"sim": SimDriver, "netns": NetnsDriver, "fake": FakeDriver}


@pytest.fixture(params=BACKENDS)
def drv(request: pytest.FixtureRequest):
    kind = request.param
    if kind == "netns" and (reason := netns_skip_reason()) is not None:
        pytest.skip(reason)
    driver = DRIVERS[kind]()
    try:
        yield driver
    finally:
        driver.close()


def labels(fired: list[tuple[str, float]]) -> list[str]:
    return [label for label, _ in fired]


# --- timers --------------------------------------------------------------------------------------

def test_call_later_zero_fires_at_once(drv):
    drv.install(Probe)
    ctx, fired = drv.ctx, []
    t0 = drv.call(lambda: (ctx.call_later(0, lambda: fired.append(ctx.now)), ctx.now)[1])
    drv.advance(0.05)
    assert len(fired) == 1
    assert t0 <= fired[0] <= t0 + drv.slack


def refuses_delay(drv: Driver, delay: float) -> None:
    drv.install(Probe)
    ctx, fired = drv.ctx, []
    with pytest.raises(ValueError):
        drv.call(ctx.call_later, delay, fired.append, "bad")
    drv.call(ctx.call_later, 0.05, fired.append, "good")
    drv.advance(0.2)
    assert fired == ["good"]  # nothing was scheduled, and the clock still works


@pytest.mark.parametrize("delay", [-1e-3, -5.0], ids=["just-below-0", "negative"])
def test_call_later_refuses_a_negative_delay(drv, delay):
    refuses_delay(drv, delay)


@contexts()
def test_call_later_refuses_a_nan_delay(drv):
    refuses_delay(drv, math.nan)


def test_cancel_prevents_firing(drv):
    drv.install(Probe)
    proto = drv.protocol(0)

    def schedule():
        handle = drv.ctx.call_later(0.15, proto.mark, "cancelled")
        drv.ctx.call_later(0.15, proto.mark, "kept")
        return handle

    handle = drv.call(schedule)
    drv.call(handle.cancel)
    drv.advance(0.35)
    assert labels(proto.fired) == ["kept"]


def test_timers_fire_in_the_order_of_their_deadlines(drv):
    drv.install(Probe)
    ctx, proto = drv.ctx, drv.protocol(0)
    delays = {"late": 0.12, "early": 0.04, "middle": 0.08}

    def schedule():
        for label, delay in delays.items():
            ctx.call_later(delay, proto.mark, label)
        return ctx.now

    t0 = drv.call(schedule)
    drv.advance(0.3)
    assert labels(proto.fired) == ["early", "middle", "late"]
    for label, t in proto.fired:
        assert t0 + delays[label] - 1e-6 <= t <= t0 + delays[label] + drv.slack + 0.1


@contexts(na={"fake": NO_LIFECYCLE})
def test_timer_set_before_death_never_fires(drv):
    drv.install(Timed)  # every node: a timer at 0.3 s
    ctx, dead = drv.ctx, drv.protocol(0)
    drv.call(ctx.call_later, 0.3, dead.mark, "set from outside")
    drv.advance(0.02)
    drv.kill(0)
    drv.advance(0.5)
    assert dead.stopped and dead.fired == []
    assert labels(drv.protocol(1).fired) == ["timer"]  # the same timer fires on a live node


@contexts(na={"fake": NO_LIFECYCLE})
def test_timer_of_a_stopped_instance_never_fires_after_a_revive(drv):
    drv.install(Timed)
    old = drv.protocol(0)
    drv.advance(0.05)
    drv.kill(0)
    drv.revive(0)  # before the old instance's timer is due
    new = drv.protocol(0)
    drv.advance(0.5)
    assert new is not old and old.stopped
    assert old.fired == [] and labels(new.fired) == ["timer"]


@contexts(na={"fake": NO_LIFECYCLE})
def test_the_end_of_the_run_stops_every_protocol(drv):
    drv.install(Timed)
    drv.end()
    assert [drv.protocol(i).stopped for i in range(N)] == [True] * N


# --- transmit power ------------------------------------------------------------------------------

def default_power_is_a_level(drv: Driver, tx_power: float | None) -> None:
    drv.install(Probe, tx_power=tx_power)
    ctx = drv.ctx
    assert type(ctx.tx_power) is float and ctx.tx_power == drv.expected_tx_power
    levels = ctx.power_levels
    assert type(levels) is tuple and levels and all(type(p) is float for p in levels)
    assert list(levels) == sorted(set(levels), reverse=True)  # highest first, each once
    assert ctx.tx_power in levels


@pytest.mark.parametrize("tx_power", [None, -3.0], ids=["profile-default", "a-level"])
def test_tx_power_is_the_scenario_default_and_one_of_the_levels(drv, tx_power):
    default_power_is_a_level(drv, tx_power)


@contexts()
def test_a_tx_power_between_the_profile_levels_is_one_of_the_levels(drv):
    default_power_is_a_level(drv, -2.0)  # zigbee: a legal power, not a datasheet level


def test_frames_go_at_the_power_asked_for(drv):
    drv.install(Probe)  # no routes: a one-hop unicast needs none
    ctx, expected = drv.ctx, {}

    def send_all():
        for k, level in enumerate(ctx.power_levels):
            ctx.broadcast(b"b%d" % k, tx_power_dbm=level)
            ctx.send(ADDR[1], b"u%d" % k, tx_power_dbm=level)
            expected[b"b%d" % k] = (BROADCAST, level)
            expected[b"u%d" % k] = (ADDR[1], level)
        ctx.broadcast(b"b-default")
        ctx.send(ADDR[1], b"u-default", tx_power_dbm=None)
        expected[b"b-default"] = (BROADCAST, ctx.tx_power)
        expected[b"u-default"] = (ADDR[1], ctx.tx_power)

    drv.call(send_all)
    assert len(expected) == 2 * len(ctx.power_levels) + 2 > 4
    assert drv.wait_for(lambda: len(drv.control_frames()) >= len(expected))
    assert drv.control_frames() == expected
    if drv.nodes > 1:  # they did go out: node 1 heard every one, node 2 (out of range) none
        assert drv.wait_for(lambda: len(drv.protocol(1).control) >= len(expected))
        assert sorted(drv.snapshot(1, "control")) == sorted((ADDR[0], p) for p in expected)
        assert drv.snapshot(2, "control") == []


def test_set_link_power_sets_every_later_frame_to_that_neighbour(drv):
    drv.install(Probe)
    ctx = drv.ctx
    low, high = ctx.power_levels[-1], ctx.power_levels[1]
    assert low != ctx.tx_power != high

    def set_low():
        ctx.set_link_power(ADDR[1], low)
        ctx.send(ADDR[1], b"to-1")  # at the neighbour's power
        ctx.send(ADDR[1], b"to-1-high", tx_power_dbm=high)  # a frame's own power comes first
        ctx.broadcast(b"everyone")  # not to that neighbour: the default

    def back_to_default():
        ctx.set_link_power(ADDR[1], None)
        ctx.send(ADDR[1], b"to-1-again")

    drv.call(set_low)
    drv.advance(0.1)
    drv.call(back_to_default)
    assert drv.wait_for(lambda: len(drv.control_frames()) >= 4)
    assert drv.control_frames() == {
        b"to-1": (ADDR[1], low), b"to-1-high": (ADDR[1], high),
        b"everyone": (BROADCAST, ctx.tx_power), b"to-1-again": (ADDR[1], ctx.tx_power)}


@contexts()
def test_set_link_power_applies_from_the_call_on(drv):
    drv.install(Probe)
    ctx = drv.ctx
    low = ctx.power_levels[-1]

    def one_callback():
        ctx.send(ADDR[1], b"before")
        ctx.set_link_power(ADDR[1], low)
        ctx.send(ADDR[1], b"while-low")
        ctx.set_link_power(ADDR[1], None)
        ctx.send(ADDR[1], b"after")

    drv.call(one_callback)
    assert drv.wait_for(lambda: len(drv.control_frames()) >= 3)
    assert drv.control_frames() == {b"before": (ADDR[1], ctx.tx_power),
                                    b"while-low": (ADDR[1], low),
                                    b"after": (ADDR[1], ctx.tx_power)}


@contexts(na={"fake": NO_DATA_PLANE})
def test_set_link_power_applies_to_data_frames_too(drv):
    drv.install(Linked, traffic=[(0, 1)])
    low = drv.ctx.power_levels[-1]
    assert drv.wait_for(lambda: drv.data_frames())
    assert set(drv.data_frames()) == {(ADDR[1], drv.ctx.tx_power)}
    drv.call(drv.ctx.set_link_power, ADDR[1], low)
    before = len(drv.data_frames())
    assert drv.wait_for(lambda: len(drv.data_frames()) >= before + 4)
    assert drv.data_frames()[-2:] == [(ADDR[1], low)] * 2


@contexts(na={"fake": NO_RADIO})
def test_a_power_outside_the_radio_range_is_refused(drv):
    drv.install(Probe)
    ctx = drv.ctx
    for bad in (1.0, -26.0, math.nan):  # zigbee: [-25, 0] dBm
        with pytest.raises(ValueError):
            drv.call(lambda: ctx.broadcast(b"x", tx_power_dbm=bad))
        with pytest.raises(ValueError):
            drv.call(lambda: ctx.send(ADDR[1], b"y", tx_power_dbm=bad))
        with pytest.raises(ValueError):
            drv.call(ctx.set_link_power, ADDR[1], bad)
    drv.call(ctx.send, ADDR[1], b"after")
    assert drv.wait_for(lambda: drv.control_frames())
    drv.advance(0.05)
    assert drv.control_frames() == {b"after": (ADDR[1], ctx.tx_power)}  # nothing else went


# --- failures stay in the node -------------------------------------------------------------------

@contexts(na={"fake": NO_HOST})
def test_a_raising_protocol_is_counted_and_the_node_goes_on(drv):
    drv.install(Faulty)
    p0 = drv.protocol(0)
    assert drv.wait_for(lambda: p0.fired)
    assert labels(p0.fired) == ["after"]  # a later timer of the same node still fires
    assert p0.control == [(ADDR[1], b"hello")]  # on_control ran, and raised
    assert drv.protocol_errors() == 2
    errors = drv.events("protocol_error")
    assert sorted(e["error"] for e in errors) == ["RuntimeError: boom in a timer",
                                                 "RuntimeError: boom in on_control"]
    for e in errors:
        check("protocol_error", e)
        assert e["node"] == NAMES[0]
        assert e["traceback"].startswith("Traceback") and e["error"] in e["traceback"]
    drv.call(drv.ctx.broadcast, b"still here")  # and it still talks
    assert drv.wait_for(lambda: (ADDR[0], b"still here") in drv.protocol(1).control)


@contexts(na={"fake": NO_HOST})
def test_a_decode_error_is_counted_as_malformed_not_as_a_protocol_error(drv):
    drv.install(Garbled)
    assert drv.wait_for(lambda: drv.protocol(0).fired)
    assert drv.protocol(0).control == [(ADDR[1], b"\xffgarbage")]
    assert drv.malformed() == 1 and drv.protocol_errors() == 0
    [event] = drv.events("ctrl_malformed")
    assert (event["node"], event["src"], event["error"]) == (NAMES[0], ADDR[1], "bad message")


# --- the data plane ------------------------------------------------------------------------------

@contexts(na={"fake": NO_DATA_PLANE})
def test_on_data_sees_the_real_packet_where_it_leaves_and_arrives(drv):
    drv.install(Watcher, traffic=[(0, 1)])
    assert drv.wait_for(lambda: drv.protocol(0).data and drv.protocol(1).data)
    out = drv.snapshot(0, "data")
    arrived = drv.snapshot(1, "data")
    assert {(prev, nxt) for _, prev, nxt in out} == {(None, ADDR[1])}
    assert {(prev, nxt) for _, prev, nxt in arrived} == {(ADDR[0], None)}
    for packet, _, _ in out + arrived:
        assert isinstance(packet, Packet) and packet.uid != 0
        assert (type(packet.src), type(packet.dst)) == (str, str)
        assert (packet.src, packet.dst) == (ADDR[0], ADDR[1])
        assert packet.size >= 64 and packet.flow in (-1, 0)


@contexts(na={"fake": NO_DATA_PLANE})
def test_a_flow_packet_keeps_its_uid_through_the_protocol(drv):
    drv.install(HoldingWatcher, traffic=[(0, 1), (0, 2)])

    def seen_enough():
        uids = {p.uid for p, _, _ in drv.protocol(0).data if p.dst == ADDR[1]}
        return len(uids) >= 2 and drv.protocol(0).no_route

    assert drv.wait_for(seen_enough, timeout=2.5)
    used = [p for p, _, _ in drv.snapshot(0, "data") if p.dst == ADDR[1]]
    held = drv.snapshot(0, "no_route")
    for packet in used + held:
        assert drv.flow_uid_of(packet) is not None
        assert packet.uid == drv.flow_uid_of(packet)
    drv.call(drv.ctx.drop, held[0], "contract_test")
    uid = drv.flow_uid_of(held[0])
    assert drv.wait_for(lambda: [e for e in drv.events("data_dropped") if e["uid"] == uid])
    [event] = [e for e in drv.events("data_dropped") if e["uid"] == uid]
    assert (event["node"], event["reason"]) == (NAMES[0], "contract_test")


def test_a_held_packet_sent_on_after_a_route_appears_is_delivered(drv):
    drv.install(Holder, traffic=[(0, 2)])  # node 0 has no route to node 2
    proto = drv.protocol(0)
    assert drv.wait_for(lambda: len(proto.no_route) >= 2)

    def route_and_send_on():
        drv.ctx.routes.add(ADDR[2], ADDR[1], metric=2)
        held = list(proto.no_route)
        for packet in held:
            drv.ctx.send_packet(packet)
        return held

    held = drv.call(route_and_send_on)
    uids = {drv.flow_uid_of(p) for p in held}
    assert None not in uids and len(uids) == len(held)
    assert drv.wait_for(lambda: uids <= drv.delivered_uids())


@contexts()
def test_held_packets_count_as_queued_until_sent_on_or_dropped(drv):
    drv.install(Holder, traffic=[(0, 2)])
    proto = drv.protocol(0)
    assert drv.wait_for(lambda: len(proto.no_route) >= 3)
    drv.call(lambda: drv.ctx.drop(proto.no_route[0], "contract_test"))
    queued = drv.queued()
    still_held = drv.call(lambda: len(proto.no_route)) - 1
    assert still_held >= 2 and queued == still_held


@pytest.mark.parametrize("reason", ["no_route", "contract_test"])
def test_drop_is_counted_under_its_reason(drv, reason):
    drv.install(Holder, traffic=[(0, 2)])
    proto = drv.protocol(0)
    assert drv.wait_for(lambda: len(proto.no_route) >= 2)

    def drop_all():
        held = list(proto.no_route)
        for packet in held:
            drv.ctx.drop(packet, reason)
        return len(held)

    dropped = drv.call(drop_all)
    assert drv.drops(reason) == dropped >= 2
    assert drv.drops("no_route" if reason != "no_route" else "contract_test") == 0


# --- the route table -----------------------------------------------------------------------------

def test_route_table_and_its_events(drv):
    drv.install(Probe)
    ctx, a1, a2 = drv.ctx, ADDR[1], ADDR[2]

    def table():
        rows = [(r.dst, r.next_hop, r.metric, r.seqno, r.valid) for r in ctx.routes]
        return sorted(rows), len(ctx.routes)

    def add():
        ctx.routes.add(a1, a1)
        ctx.routes.add(a2, a1, metric=2, seqno=7, expires=ctx.now + 30)

    drv.call(add)
    assert drv.call(table) == ([(a1, a1, 1, None, True), (a2, a1, 2, 7, True)], 2)
    assert drv.call(ctx.routes.lookup, a2).expires >= 30
    assert drv.call(ctx.routes.lookup, "10.99.9.9") is None
    if drv.kind == "netns":
        assert drv.wait_for(lambda: drv.kernel_routes(0) == {(a1, None), (a2, a1)})
    drv.call(lambda: ctx.routes.add(a2, a1, metric=2, seqno=8))  # same hop and metric: fresher
    assert drv.call(ctx.routes.lookup, a2).seqno == 8
    drv.call(lambda: ctx.routes.add(a2, a1, metric=3, seqno=9))
    drv.call(ctx.routes.remove, a2)
    drv.call(ctx.routes.remove, a2)  # gone already: nothing happens
    assert drv.call(table) == ([(a1, a1, 1, None, True)], 1)
    assert drv.call(ctx.routes.lookup, a2) is None
    if drv.kind == "netns":
        assert drv.wait_for(lambda: drv.kernel_routes(0) == {(a1, None)})
    events = [(kind, f) for _, kind, f in drv.all_events() if kind.startswith("route_")]
    assert [(kind, f["dst"], f.get("next_hop"), f.get("metric")) for kind, f in events
            if kind != "route_removed"] == [
        ("route_added", a1, a1, 1), ("route_added", a2, a1, 2), ("route_changed", a2, a1, 3)]
    assert [(kind, f["dst"]) for kind, f in events if kind == "route_removed"] == [
        ("route_removed", a2)]
    assert {f.get("node") for _, f in events} == {drv.node_name}


def test_emit_publishes_a_protocol_event(drv):
    drv.install(Probe)
    drv.call(lambda: drv.ctx.emit("route_found", dst=ADDR[2], hops=2, next_hop=ADDR[1]))
    [event] = drv.events("route_found")
    assert event == {"dst": ADDR[2], "hops": 2, "next_hop": ADDR[1],
                     **({"node": drv.node_name} if drv.node_name else {})}


def test_position_location_and_battery(drv):
    drv.install(Probe)
    ctx = drv.ctx
    here, there = drv.call(ctx.position), drv.call(ctx.location_of, ADDR[1])
    assert math.dist(here, there) == pytest.approx(100.0)
    assert math.dist(here, drv.call(ctx.location_of, ADDR[2])) == pytest.approx(200.0)
    assert drv.call(ctx.location_of, "10.98.0.1") is None
    assert drv.call(ctx.battery) == 1.0  # energy is not modelled here


# --- persistent state ----------------------------------------------------------------------------

def test_persistent_is_an_empty_dict_of_its_own_at_first_boot(drv):
    drv.install(Keeper)
    memories = [drv.context(i).persistent for i in range(drv.nodes)]
    for i, memory in enumerate(memories):
        assert type(memory) is dict
        assert drv.protocol(i).at_start == {} and memory == {"boots": 1}
    assert len({id(m) for m in memories}) == drv.nodes


@contexts(na={"fake": NO_LIFECYCLE})
def test_persistent_survives_a_kill_and_revive(drv):
    drv.install(Keeper)
    memory, old = drv.ctx.persistent, drv.protocol(0)
    drv.advance(0.1)
    drv.kill(0)
    drv.advance(0.1)
    drv.revive(0)
    new = drv.protocol(0)
    assert new is not old and new.ctx is drv.ctx
    assert drv.ctx.persistent is memory
    assert new.at_start == {"boots": 1} and memory == {"boots": 2}


# --- multicast -----------------------------------------------------------------------------------

GROUP = "239.7.7.7"
NO_SCHEDULE = ("a FakeContext has no membership schedule: a test sets member_of and calls "
               "on_join / on_leave itself")


class Member(Probe):
    """Records its groups at start and every join and leave."""

    def start(self) -> None:
        super().start()
        self.at_start = self.ctx.groups()
        self.changes: list[tuple[str, str, float, frozenset]] = []

    def on_join(self, group: str) -> None:
        self.changes.append(("join", group, self.ctx.now, self.ctx.groups()))

    def on_leave(self, group: str) -> None:
        self.changes.append(("leave", group, self.ctx.now, self.ctx.groups()))


@contexts(na={"fake": NO_SCHEDULE})
def test_groups_and_join_leave_follow_the_membership_schedule(drv):
    drv.install(Member, extra={"groups": [{
        "name": "g", "address": GROUP, "members": [1],
        "joins": [{"node": 2, "at": 0.3}], "leaves": [{"node": 2, "at": 0.6}]}]})
    assert drv.protocol(0).at_start == frozenset({GROUP})
    assert drv.protocol(1).at_start == frozenset()
    assert drv.wait_for(lambda: len(drv.protocol(1).changes) == 2, timeout=2.0)
    (join, g1, t1, during), (leave, g2, t2, after) = drv.snapshot(1, "changes")
    assert (join, g1, during) == ("join", GROUP, frozenset({GROUP}))
    assert (leave, g2, after) == ("leave", GROUP, frozenset())
    assert t1 == pytest.approx(0.3, abs=drv.slack + 1e-9)
    assert t2 == pytest.approx(0.6, abs=drv.slack + 1e-9)
    assert drv.protocol(0).changes == [] and drv.protocol(2).changes == []


class Router(Probe):
    """A minimal multicast router: the source transmits, node 1 relays, everyone delivers the
    first copy of a packet."""

    multicast = True

    def __init__(self, ctx: Any, params: Any = None) -> None:
        super().__init__(ctx, params)
        self.copies: list[tuple[int, str | None, int]] = []  # (uid, prev hop, TTL)
        self.seen: set[int] = set()

    def on_multicast(self, packet: Packet, prev_hop: str | None) -> None:
        ttl = packet.payload[8] if packet.payload is not None else packet.ttl
        self.copies.append((packet.uid, prev_hop, ttl))
        if packet.uid in self.seen:
            return
        self.seen.add(packet.uid)
        if prev_hop is None or self.ctx.node_id == 1:
            self.ctx.relay(packet)
        if prev_hop is not None:
            self.ctx.deliver(packet)


@contexts(na={"fake": NO_DATA_PLANE})
def test_multicast_packets_reach_on_multicast_and_relay_and_deliver_act(drv):
    drv.install(Router, extra={
        "groups": [{"name": "g", "address": GROUP, "members": [2, 3]}],
        "traffic": [{"group": "g", "src": 1, "rate": RATE, "size": 64, "start": 0.05,
                     "jitter": 0, "ttl": 9}]})
    assert drv.wait_for(lambda: len(drv.events("mcast_delivered")) >= 6, timeout=2.0)
    sent = {f["uid"] for f in drv.events("mcast_sent")}
    for f in drv.events("mcast_sent"):
        assert f["group"] == GROUP and f["receivers"] == ["n2", "n3"]
    origin = [c for c in drv.snapshot(0, "copies") if c[1] is None]
    assert origin and all(ttl == 9 for _, _, ttl in origin)  # as the application sent it
    assert {(prev, ttl) for _, prev, ttl in drv.snapshot(1, "copies")} == {(ADDR[0], 9)}
    assert {(prev, ttl) for _, prev, ttl in drv.snapshot(2, "copies")} == {(ADDR[1], 8)}
    delivered = drv.events("mcast_delivered")
    assert {f["node"] for f in delivered} == {"n2", "n3"}
    for f in delivered:
        assert f["group"] == GROUP and f["uid"] in sent
        assert f["hops"] == (1 if f["node"] == "n2" else 2)
    # one transmission by the source and one by node 1 per packet; nothing else relays
    tx = Counter((f["uid"], f["node"]) for f in drv.events("mcast_tx"))
    assert {node for _, node in tx} == {"n1", "n2"} and set(tx.values()) == {1}
    assert drv.protocol_errors() == 0
