"""The schema of the event stream: every event kind, its fields, their types and meaning.

An event is ``(t, kind, fields)`` (see :mod:`meshnet.events`). This table is the single
reference for what producers put in ``fields`` and what consumers (metrics, the JSONL trace, the
TUI) may read. The bus does not consult it on its hot path: producers build plain dicts, and the
schema serves the documentation (``python -m meshnet.event_schema`` prints the reference table
of docs/architecture.md), tests, and ``EventBus(validate=True)`` / :class:`SchemaChecker`.

Conventions:

* Addresses (``dst``, ``next_hop``, ``src``, ``to`` …) are dotted IPv4 strings, and
  ``255.255.255.255`` is broadcast. Node names (``node``, ``a``, ``b``) are the scenario's names
  (``n0``, ``n1`` …).
* ``node`` is where the event happened. Protocols never pass it: the backend adds it to what
  ``ctx.emit(kind, **fields)`` gives. On the netns backend producers pass it beside the fields,
  and the emulation's ``on_event(t, node, kind, fields)`` callback receives it so; its bus, like
  the simulator's, gets it inside the fields.
* A ``float`` field also accepts an ``int`` (as in Python's typing); an ``int`` field does not
  accept ``bool``. Optional fields may be absent; they are never ``None`` unless their type says so.
* ``t`` and ``ev`` are reserved: the JSONL trace writes them beside the fields.
"""

from __future__ import annotations

import math
import types
import typing
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

RESERVED = frozenset({"t", "ev"})
CORE = "core"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: Any  # str, int, float, bool, list[str], or a union such as ``int | None``
    meaning: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class EventKind:
    kind: str
    meaning: str
    fields: tuple[Field, ...]
    emitted_by: tuple[str, ...] = (CORE,)  # "core" (a backend) or the protocols that emit it

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def core(self) -> bool:
        return CORE in self.emitted_by


class EventSchemaError(ValueError):
    """An event that does not match its declaration."""


def _f(name: str, type_: Any, meaning: str, required: bool = True) -> Field:
    return Field(name, type_, meaning, required)


NODE = _f("node", str, "name of the node where it happened")
UID = _f("uid", int, "the data packet's unique id (one per generated packet)")
DST = _f("dst", str, "destination address")
NEXT_HOP = _f("next_hop", str, "address of the next hop")
METRIC = _f("metric", int, "route metric (hops for the shipped protocols)")


def _route(kind: str, meaning: str) -> EventKind:
    return EventKind(kind, meaning, (NODE, DST, NEXT_HOP, METRIC))


_CORE: tuple[EventKind, ...] = (
    EventKind("data_sent", "the application generated a data packet", (
        NODE,
        UID,
        _f("src", str, "source address"),
        DST,
        _f("flow", int, "id of the traffic flow"),
        _f("size", int, "payload bytes"),
    )),
    EventKind("data_tx", "a data frame left a node", (
        NODE, UID, _f("next_hop", str, "address it was sent to (broadcast when flooding)"))),
    EventKind("data_delivered", "a data packet reached its destination", (
        NODE,
        UID,
        _f("hops", int, "hops travelled"),
        _f("delay", float, "seconds from generation to delivery"),
        _f("flow", int, "id of the traffic flow"),
    )),
    EventKind("data_dropped", "a copy of a data packet was given up", (
        NODE, UID, _f("reason", str, "why (no_route, ttl, queue_full, mac_retries ...)"))),
    EventKind("ctrl_tx", "a control frame was transmitted", (
        NODE,
        _f("dst", str, "address it was sent to (broadcast or a neighbour)"),
        _f("bytes", int, "frame size with IP and UDP headers"),
        _f("port", int, "UDP port of the protocol (0 if it has none)"),
    )),
    EventKind("ctrl_malformed", "a received control message failed to decode", (
        NODE, _f("src", str, "address of the sender"), _f("error", str, "the decoder's message"))),
    _route("route_added", "a forwarding-table entry was created"),
    _route("route_changed", "a forwarding-table entry got a new next hop or metric"),
    EventKind("route_removed", "a forwarding-table entry was removed", (
        NODE,
        DST,
        _f("next_hop", str, "next hop of the removed route (simulator only)", required=False),
        _f("metric", int, "metric of the removed route (simulator only)", required=False),
    )),
    EventKind("run_started", "the run began: what a trace alone needs to show it again", (
        _f("scenario", str, "scenario name"),
        _f("protocol", str, "routing protocol"),
        _f("seed", int, "random seed"),
        _f("duration", float, "seconds the run lasts"),
        _f("nodes", int, "number of nodes"),
        _f("width", float, "area width in metres"),
        _f("height", float, "area height in metres"),
        _f("radio", str, "radio profile"),
        _f("propagation", str, "propagation model"),
        _f("backend", str, "sim or netns"),
    )),
    EventKind("node_moved", "a node changed course or was moved by hand", (
        NODE,
        _f("x", float, "x position in metres, at full precision (not to be rounded)"),
        _f("y", float, "y position in metres, at full precision (not to be rounded)"),
        _f("vx", float, "x velocity in m/s from now on (0 after a manual move)"),
        _f("vy", float, "y velocity in m/s from now on (0 after a manual move)"),
    )),
    EventKind("link_up", "two live nodes came within reach (sampled)", (
        _f("a", str, "name of one node"), _f("b", str, "name of the other node"))),
    EventKind("link_down", "two nodes went out of reach or one died (sampled)", (
        _f("a", str, "name of one node"), _f("b", str, "name of the other node"))),
    EventKind("node_died", "a node stopped (killed by hand or battery exhausted)", (
        NODE, _f("reason", str, "why (killed, battery ...)"))),
    EventKind("node_revived", "a dead node came back with a fresh protocol instance", (
        NODE, _f("reason", str, "always revived"))),
    EventKind("fault_started", "a scenario fault ([[faults]]) began", (
        _f("fault", int, "index of the [[faults]] entry (0-based)"),
        _f("kind", str, "crash, blackout, partition or drain"),
        _f("label", str, "a short description, e.g. partition x=750"),
        _f("nodes", list[str], "names of the nodes it crashes or drains (empty otherwise)"),
        _f("links", list[list[str]], "a blackout's links as [a, b] name pairs (empty otherwise)"),
        _f("sides", list[list[str]], "a partition's two node sets, as names (empty otherwise)"),
    )),
    EventKind("fault_ended", "a scenario fault ended (until, or recover_at of a crash)", (
        _f("fault", int, "index of the [[faults]] entry (0-based)"),
        _f("kind", str, "crash, blackout or partition"),
        _f("label", str, "the description fault_started gave"),
    )),
    EventKind("mcast_sent", "the application generated a multicast data packet", (
        NODE,
        UID,
        _f("group", str, "multicast group address"),
        _f("flow", int, "id of the traffic flow"),
        _f("size", int, "payload bytes"),
        _f("receivers", list[str], "names of the group's members when it was sent, the source "
                                   "excluded: the nodes it should reach"),
    )),
    EventKind("mcast_tx", "a multicast data frame left a node (the source's or a relay's)", (
        NODE, UID, _f("group", str, "multicast group address"))),
    EventKind("mcast_delivered", "a multicast data packet reached an application of a member", (
        NODE,
        UID,
        _f("group", str, "multicast group address"),
        _f("hops", int, "hops travelled"),
        _f("delay", float, "seconds from generation to delivery"),
        _f("flow", int, "id of the traffic flow"),
    )),
    EventKind("mcast_dropped", "a copy of a multicast data packet was lost at a node", (
        NODE, UID, _f("reason", str, "why (ttl, queue_full, node_dead ...)"))),
    EventKind("protocol_error", "a protocol callback raised; the backend kept running", (
        NODE,
        _f("error", str, "the exception as one line (type: message)"),
        _f("traceback", str, "the formatted traceback"),
    )),
)

AODV, DSDV, GPSR = "aodv", "dsdv", "gpsr"
SMF, ODMRP = "smf", "odmrp"
ZIGBEE = "zigbee"  # zigbee-tree and zigbee-mesh (protocols/zigbee)
ZWAVE = "zwave"
POWER = "power"  # mtpr, mmbcr and cmmbcr (protocols/power)
ATTACKS = "attacks"  # attacker roles of [[attackers]] (protocols/attacks)

_PROTOCOL: tuple[EventKind, ...] = (
    EventKind("route_discovery_started", "a source started a route discovery", (NODE, DST),
              (AODV, POWER, ZWAVE)),
    EventKind("route_discovery_failed", "a route discovery gave up after its retries", (
        NODE, DST, _f("repair", bool, "True for a failed local repair", required=False)),
              (AODV, POWER)),
    EventKind("route_found", "a discovery ended with a route", (
        NODE, DST, _f("hops", int, "hops to the destination"), NEXT_HOP), (AODV, POWER, ZWAVE)),
    EventKind("route_broken", "a route was invalidated (link break or missed updates)", (
        NODE,
        DST,
        _f("next_hop", str, "next hop the route used"),
        _f("seqno", int, "the new (odd) sequence number of the broken route", required=False),
    ), (AODV, DSDV, POWER, ZWAVE)),
    EventKind("route_expired", "an unused route timed out", (NODE, DST), (AODV, POWER)),
    EventKind("route_settled", "a route waited out its settling time and is advertised", (
        NODE, DST, NEXT_HOP, METRIC, _f("seqno", int, "destination sequence number")), (DSDV,)),
    EventKind("local_repair_started", "a node repairs a broken route itself", (
        NODE, DST, _f("ttl", int, "TTL of the repair RREQ")), (AODV,)),
    EventKind("rreq_sent", "a route request was broadcast (originated or forwarded)", (
        NODE,
        _f("dst", str, "address searched for"),
        _f("orig", str, "address of the originator"),
        _f("rreq_id", int, "the originator's request id"),
        _f("ttl", int, "remaining TTL"),
        _f("forwarded", bool, "False when this node originated it"),
    ), (AODV, POWER)),
    EventKind("rrep_sent", "a route reply was sent (as destination, intermediate or forwarder)", (
        NODE,
        _f("dst", str, "the destination the reply is for"),
        _f("orig", str, "the originator of the request"),
        _f("to", str, "next hop towards the originator"),
        _f("hops", int, "hop count in the reply"),
        _f("seq", int, "destination sequence number in the reply"),
        _f("intermediate", bool, "answered from an intermediate node's table", required=False),
        _f("gratuitous", bool, "the gratuitous reply to the destination", required=False),
        _f("forwarded", bool, "relayed on towards the originator", required=False),
    ), (AODV, POWER)),
    EventKind("rerr_sent", "a route error was sent", (
        NODE,
        _f("dsts", list[str], "unreachable destinations"),
        _f("to", str, "address sent to (broadcast or the one precursor)"),
        _f("no_delete", bool, "the N flag (local repair in progress)"),
    ), (AODV, POWER)),
    EventKind("hello_link_lost", "a neighbour's hellos stopped", (
        NODE, _f("neighbor", str, "the neighbour's address")), (AODV,)),
    EventKind("update_sent", "a routing update was broadcast", (
        NODE,
        _f("mode", str, "full (periodic dump) or incremental (triggered)"),
        _f("entries", int, "entries in the update, the sender's own included"),
    ), (DSDV,)),
    EventKind("auth_failed", "a control message without a valid authentication tag was dropped", (
        NODE,
        _f("src", str, "address of the neighbour it came from"),
        _f("reason", str, "missing (no trailer) or bad_tag (forged, tampered or another key)"),
    ), (AODV, DSDV)),
    EventKind("auth_replayed", "a correctly signed control message was dropped as a replay", (
        NODE,
        _f("src", str, "address of the neighbour it came from"),
        _f("signer", str, "address of the node that signed it"),
        _f("reason", str, "relayed (sent by another node than its signer), old_counter (not "
                          "above the last counter accepted from the signer) or stale (older "
                          "than the auth window)"),
    ), (AODV, DSDV)),
    EventKind("attack_started", "an attacker node switched to its malicious behaviour", (
        NODE, _f("role", str, "blackhole, greyhole, rreq-flood or replay")), (ATTACKS,)),
    EventKind("attack_forged", "an attacker sent a forged or replayed control message", (
        NODE,
        _f("role", str, "blackhole, greyhole, rreq-flood or replay"),
        _f("message", str, "what it sent: rrep, update, rreq or replay"),
        _f("dst", str, "the destination it lies about (the broadcast address for a replay)"),
    ), (ATTACKS,)),
    EventKind("gpsr_perimeter", "a data packet entered or left perimeter mode at this node", (
        NODE,
        UID,
        DST,
        _f("entered", bool, "True: it enters perimeter mode here; False: it goes back to greedy "
                            "mode (or straight to the destination, a neighbour)"),
    ), (GPSR,)),
    EventKind("zigbee_joined", "a ZigBee node joined the tree (the coordinator: formed it)", (
        NODE,
        _f("parent", str, "address of the parent (empty for the coordinator)"),
        _f("address", int, "16-bit ZigBee short address"),
        _f("depth", int, "depth in the tree (coordinator 0)"),
        _f("device_type", str, "coordinator, router or end_device"),
        _f("rejoin", bool, "True when the node had been joined before (orphan or restart)"),
    ), (ZIGBEE,)),
    EventKind("zigbee_join_failed", "a joining ZigBee node found no parent; it scans again later", (
        NODE,
        _f("reason", str, "no_beacon, no_capacity (no parent has room for its device type or "
                          "depth), link_cost, no_response or refused"),
        _f("beacons", int, "beacons heard in the scan"),
        _f("attempt", int, "scans since the node last lost or lacked a parent"),
    ), (ZIGBEE,)),
    EventKind("zigbee_join_refused", "a ZigBee parent refused an association request", (
        NODE,
        _f("child", str, "address of the refused node"),
        _f("reason", str, "depth (the parent is at nwkMaxDepth), router_capacity "
                          "(nwkMaxRouters) or end_device_capacity (nwkMaxChildren)"),
        _f("depth", int, "depth of the parent"),
        _f("routers", int, "router children of the parent"),
        _f("end_devices", int, "end-device children of the parent"),
    ), (ZIGBEE,)),
    EventKind("zigbee_child_added", "a ZigBee parent accepted a child and gave it an address", (
        NODE,
        _f("child", str, "address of the child"),
        _f("address", int, "16-bit ZigBee short address"),
        _f("device_type", str, "router or end_device"),
        _f("routers", int, "router children of the parent now"),
        _f("end_devices", int, "end-device children of the parent now"),
    ), (ZIGBEE,)),
    EventKind("zigbee_child_removed", "a ZigBee parent freed a child's address", (
        NODE,
        _f("child", str, "address of the child"),
        _f("address", int, "16-bit ZigBee short address"),
        _f("reason", str, "timeout (not heard for nwkRouterAgeLimit periods) or rejoined "
                          "(it has another address now)"),
        _f("routers", int, "router children of the parent now"),
        _f("end_devices", int, "end-device children of the parent now"),
    ), (ZIGBEE,)),
    EventKind("zigbee_orphaned", "a ZigBee node lost its parent and will join again", (
        NODE,
        _f("parent", str, "address of the lost parent"),
        _f("reason", str, "timeout, link_failure or parent_rejoined"),
    ), (ZIGBEE,)),
    EventKind("zigbee_route_discovery", "a ZigBee mesh route discovery started, found a route "
                                        "or failed", (
        NODE,
        DST,
        _f("outcome", str, "started, found or failed"),
        _f("next_hop", str, "next hop of the route found", required=False),
        _f("cost", int, "ZigBee path cost of the route found", required=False),
    ), (ZIGBEE,)),
    EventKind("zigbee_many_to_one", "a ZigBee concentrator broadcast a many-to-one route request", (
        NODE, _f("rreq_id", int, "route request identifier")), (ZIGBEE,)),
    EventKind("zigbee_route_record", "a ZigBee concentrator stored a route record", (
        NODE,
        _f("src", str, "address of the node the record comes from"),
        _f("relays", list[str], "short addresses of the relays (0x….), nearest the source first"),
    ), (ZIGBEE,)),
    EventKind("zigbee_link_failed", "a ZigBee mesh unicast failed after MAC retries", (
        NODE,
        _f("neighbor", str, "address of the neighbour"),
        _f("routes", int, "routes through it that were removed"),
    ), (ZIGBEE,)),
    EventKind("mcast_duplicate", "duplicate packet detection recognised a multicast copy this "
                                 "node had already handled; it was neither delivered nor "
                                 "relayed again", (
        NODE, UID, _f("group", str, "multicast group address")), (SMF, ODMRP)),
    EventKind("join_query_sent", "an ODMRP Join Query was broadcast (originated or relayed)", (
        NODE,
        _f("group", str, "multicast group address"),
        _f("source", str, "the multicast source that originated it"),
        _f("seq", int, "the source's sequence number"),
        _f("forwarded", bool, "False when this node originated it"),
    ), (ODMRP,)),
    EventKind("join_reply_sent", "an ODMRP Join Reply was broadcast by a member or forwarder", (
        NODE,
        _f("group", str, "multicast group address"),
        _f("sources", list[str], "the sources it answers for"),
    ), (ODMRP,)),
    EventKind("forwarding_group_joined", "the node became a forwarder of a group (FG_FLAG set)", (
        NODE, _f("group", str, "multicast group address")), (ODMRP,)),
    EventKind("forwarding_group_left", "the node's FG_FLAG for a group timed out", (
        NODE, _f("group", str, "multicast group address")), (ODMRP,)),
    EventKind("zwave_range_info", "the Z-Wave controller took a node's neighbour list", (
        NODE,
        _f("reporter", str, "address of the node whose list it is"),
        _f("neighbors", int, "neighbours in the list"),
    ), (ZWAVE,)),
    EventKind("zwave_return_routes", "a Z-Wave node got return routes from the controller", (
        NODE, DST, _f("routes", int, "routes assigned (at most 4 repeaters each)")), (ZWAVE,)),
    EventKind("zwave_route", "a Z-Wave source sends its data to a destination on another route", (
        NODE,
        DST,
        NEXT_HOP,
        _f("repeaters", list[str], "the route's repeaters as Z-Wave node IDs (decimal), in order"),
        _f("source", str, "where the route comes from: last_working, table (the controller's "
                          "topology), direct or return_route"),
    ), (ZWAVE,)),
    EventKind("zwave_routed_error", "a Z-Wave repeater could not reach the next node of a routed "
                                    "frame and sent a routed error back to its source", (
        NODE,
        _f("failed", str, "address of the node it could not reach (0.0.0.0 if unknown)"),
        _f("to", str, "address the routed error went to (the previous node of the route)"),
    ), (ZWAVE,)),
    EventKind("zwave_unreachable", "a Z-Wave source gave up on a destination for a while", (
        NODE,
        DST,
        _f("reason", str, "too_far (the shortest known route needs more than 4 repeaters) or "
                          "no_route"),
        _f("hops", int, "hops of the shortest known route", required=False),
    ), (ZWAVE,)),
)

EVENTS: dict[str, EventKind] = {e.kind: e for e in (*_CORE, *_PROTOCOL)}
if len(EVENTS) != len(_CORE) + len(_PROTOCOL):
    raise AssertionError("an event kind is declared twice")
CORE_KINDS = frozenset(e.kind for e in _CORE)
PROTOCOL_KINDS = frozenset(e.kind for e in _PROTOCOL)


# --- validation ----------------------------------------------------------------------------------
def type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) and not typing.get_args(tp) else str(tp)


def matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` has type ``tp`` (plain types, ``list[X]`` and unions)."""
    if tp is Any:
        return True
    if tp is None or tp is type(None):
        return value is None
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return any(matches(value, t) for t in typing.get_args(tp))
    if origin in (list, tuple):
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return isinstance(value, origin) and all(matches(v, item) for v in value)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def problems(kind: str, fields: dict, schema: dict[str, EventKind] | None = None) -> list[str]:
    """What is wrong with one event (empty when it matches its declaration)."""
    spec = (schema or EVENTS).get(kind)
    if spec is None:
        return [f"{kind}: undeclared event kind"]
    if not isinstance(fields, dict):
        return [f"{kind}: fields are a {type(fields).__name__}, not a dict"]
    out = []
    for name in sorted(spec.required - fields.keys()):
        out.append(f"{kind}: missing field {name!r}")
    for name, value in fields.items():
        decl = spec.field(name)
        if decl is None:
            out.append(f"{kind}: undeclared field {name!r}")
        elif not matches(value, decl.type):
            out.append(f"{kind}.{name}: expected {type_name(decl.type)}, "
                       f"got {type(value).__name__} {value!r}")
    return out


def check(kind: str, fields: dict) -> None:
    """Raise :class:`EventSchemaError` if the event does not match the schema."""
    found = problems(kind, fields)
    if found:
        raise EventSchemaError("; ".join(found))


class SchemaChecker:
    """A bus subscriber that records every event that does not match the schema, for tests.

    ``problems`` maps each distinct message to how often it occurred; ``seen`` counts events by
    kind. Times must be finite, >= 0 and never decrease. With ``strict=True`` the first problem
    raises :class:`EventSchemaError` at the producer instead."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.seen: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self._last_t = 0.0

    def __call__(self, t: float, kind: str, fields: dict) -> None:
        self.seen[kind] += 1
        found = problems(kind, fields)
        if not (isinstance(t, (int, float)) and math.isfinite(t) and t >= self._last_t):
            found.append(f"{kind}: time {t!r} after {self._last_t!r}")
        else:
            self._last_t = t
        if found and self.strict:
            raise EventSchemaError("; ".join(found))
        self.problems.update(found)


# --- documentation -------------------------------------------------------------------------------
def markdown(kinds: Iterable[EventKind] | None = None) -> str:
    """The event reference of docs/architecture.md: one item per kind, one line per field."""
    lines = []
    for e in kinds if kinds is not None else EVENTS.values():
        lines.append(f"- **`{e.kind}`** ({', '.join(e.emitted_by)}): {e.meaning}")
        for f in e.fields:
            optional = ", optional" if not f.required else ""
            lines.append(f"  - `{f.name}` ({type_name(f.type)}{optional}): {f.meaning}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
