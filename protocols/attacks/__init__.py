"""Attacker roles for ``[[attackers]]`` scenario entries: protocol subclasses with a malicious
policy (docs/security.md).

:func:`attacker_class` gives the class a backend instantiates for an attacker node in place of
the scenario's protocol class; :func:`unsupported` says why a role cannot run on a protocol.
"""

from __future__ import annotations

from meshnet.protocol_api import Protocol

from ..aodv.protocol import AODV
from ..dsdv.protocol import DSDV
from .blackhole import BlackholeAODV, BlackholeDSDV
from .greyhole import Greyhole
from .replay import Replay
from .rreq_flood import RreqFloodAODV
from .spec import BLACKHOLE, GREYHOLE, REPLAY, ROLES, RREQ_FLOOD, AttackSpec


def unsupported(role: str, base: type[Protocol]) -> str | None:
    """Why ``role`` cannot run on ``base`` (one line), or None when it can."""
    name = base.name
    if role not in ROLES:
        return f"unknown role {role!r}; roles: {', '.join(ROLES)}"
    if role == BLACKHOLE and not issubclass(base, (AODV, DSDV)):
        return (f"role 'blackhole' forges AODV route replies or DSDV updates; it does not apply "
                f"to protocol {name!r} (use 'greyhole' to drop data on any unicast protocol)")
    if role == RREQ_FLOOD and not issubclass(base, AODV):
        return f"role 'rreq-flood' forges AODV route requests; it does not apply to protocol {name!r}"
    if role == GREYHOLE and (base.multicast or base.name == "none"):
        return (f"role 'greyhole' drops forwarded unicast data; protocol {name!r} routes none "
                f"itself")
    if role == REPLAY and not base.port:
        return f"role 'replay' re-sends control messages; protocol {name!r} sends none"
    return None


def attacker_class(base: type[Protocol], spec: AttackSpec) -> type[Protocol]:
    """The protocol class of an attacker node: ``base`` with the role's policy, honest until
    ``spec.start``. Raises ValueError when the role does not apply (see :func:`unsupported`)."""
    why = unsupported(spec.role, base)
    if why is not None:
        raise ValueError(why)
    if spec.role == BLACKHOLE:
        role_cls = BlackholeAODV if issubclass(base, AODV) else BlackholeDSDV
        bases: tuple[type, ...] = (role_cls, base) if base not in role_cls.__mro__ else (role_cls,)
    elif spec.role == RREQ_FLOOD:
        bases = (RreqFloodAODV, base) if base is not AODV else (RreqFloodAODV,)
    else:
        bases = (Greyhole if spec.role == GREYHOLE else Replay, base)
    attrs = {"attack": spec, "honest_per_packet": base.per_packet, "__module__": __name__}
    if spec.role in (BLACKHOLE, GREYHOLE):
        attrs["per_packet"] = True
    title = "".join(part.capitalize() for part in spec.role.split("-"))
    return type(f"{title}{base.__name__}", bases, attrs)


__all__ = ["AttackSpec", "ROLES", "attacker_class", "unsupported"]
