"""What an attacker node does: its role and the role's parameters, from a ``[[attackers]]``
entry of the scenario (validated by meshnet/attacks.py before it gets here)."""

from __future__ import annotations

from dataclasses import dataclass

BLACKHOLE, GREYHOLE, RREQ_FLOOD, REPLAY = "blackhole", "greyhole", "rreq-flood", "replay"
ROLES = (BLACKHOLE, GREYHOLE, RREQ_FLOOD, REPLAY)


@dataclass(frozen=True)
class AttackSpec:
    """``start``: seconds into the run when the node turns malicious (an honest node before).
    ``drop_probability`` and ``flows`` (empty: every flow) are the grey hole's; ``rate`` (forged
    RREQs per second) the RREQ flood's; ``delay`` (seconds from hearing a message to re-sending
    it) the replay's. ``insider``: the node holds the network's ``auth_key``."""

    role: str
    start: float = 0.0
    drop_probability: float = 0.5
    flows: frozenset[int] = frozenset()
    rate: float = 20.0
    delay: float = 5.0
    insider: bool = False
