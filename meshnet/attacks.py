"""Attacker nodes of a scenario (``[[attackers]]``) and the run's security counters.

:func:`build_attackers` resolves each entry's nodes and checks that its role applies to the
scenario's protocol and its flow ids exist, then gives every attacker node the class and
parameters its protocol instance is built from (docs/security.md). An outsider (the default) has
no ``auth_key``: it sends unsigned messages, which authenticated nodes drop. An insider keeps the
network's key.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from .events import EventBus
from .groups import node_index
from .protocols.attacks import AttackSpec, attacker_class, unsupported
from .scenario import ScenarioError

AUTH_KINDS = ("auth_failed", "auth_replayed")


def build_attackers(world: Any) -> dict[int, tuple[type, Any]]:
    """Node index -> (protocol class, parameters) for every attacker node of ``world``."""
    sc = world.scenario
    out: dict[int, tuple[type, Any]] = {}
    where_of: dict[int, str] = {}
    base, params = world.protocol_cls, world.protocol_params
    for i, a in enumerate(sc.attackers):
        where = f"attackers.{i}"
        why = unsupported(a.role, base)
        if why is not None:
            raise ScenarioError(f"{sc.source}: {where}: {why}")
        flows = _flow_ids(sc.source, where, a.flows, len(world.flows))
        spec = AttackSpec(a.role, float(a.start), float(a.drop_probability), flows,
                          float(a.rate), float(a.delay), bool(a.insider))
        cls = attacker_class(base, spec)
        node_params = params
        if not spec.insider and getattr(params, "auth_key", ""):
            node_params = dataclasses.replace(params, auth_key="")
        for ref in a.nodes:
            k = node_index(sc, world.names, ref, f"{where}.nodes")
            if k in where_of:
                raise ScenarioError(f"{sc.source}: {where}.nodes: node {world.names[k]} is "
                                    f"already an attacker in {where_of[k]}")
            where_of[k] = where
            out[k] = (cls, node_params)
    return out


def _flow_ids(source: str, where: str, flows: list, count: int) -> frozenset[int]:
    for f in flows:
        if isinstance(f, bool) or not isinstance(f, int) or not 0 <= f < count:
            raise ScenarioError(f"{source}: {where}.flows: {f!r} is not a flow id (the scenario "
                                f"has flows 0..{count - 1})" if count else
                                f"{source}: {where}.flows: the scenario has no flows")
    return frozenset(flows)


class SecurityCounters:
    """Control messages dropped by authentication, by kind and reason, from the bus."""

    def __init__(self, bus: EventBus) -> None:
        self.counts: Counter[str] = Counter()
        bus.subscribe(self._rejected, AUTH_KINDS)

    def _rejected(self, t: float, kind: str, f: dict) -> None:
        self.counts[kind] += 1
        self.counts[f"{kind}:{f.get('reason', '')}"] += 1

    def result(self) -> dict[str, Any]:
        """``auth_failed`` and ``auth_replayed`` totals, and ``auth_reasons`` by reason."""
        return {"auth_failed": self.counts["auth_failed"],
                "auth_replayed": self.counts["auth_replayed"],
                "auth_reasons": {k: v for k, v in sorted(self.counts.items()) if ":" in k}}


__all__ = ["SecurityCounters", "build_attackers"]
