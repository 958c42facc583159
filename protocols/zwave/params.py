"""Z-Wave routing tunables. Limits come from the Z-Wave specification (ITU-T G.9959 and the Z-Wave
network layer): at most 232 nodes (node IDs 1..232) and at most 4 repeaters per route. Timings
are meshnet's choices, sized for the `zwave-r2` profile (40 kb/s, one hop with MAC ACK and
retries well under 0.2 s); slower radios (R1, 9.6 kb/s) want a larger ``hop_timeout``."""

from __future__ import annotations

from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

MAX_NODE_ID = 232  # Z-Wave node IDs are 1..232
MAX_REPEATERS = 4  # a Z-Wave route has at most four repeaters (five hops)


@dataclass
class ZWaveParams:
    controller: int = 1  # node ID of the primary controller, which also acts as the SUC
    max_repeaters: int = MAX_REPEATERS  # repeaters a route may use (0..4)
    max_routes: int = 4  # routes the controller ranks per destination (after the last working one)
    routed_ack: bool = True  # the destination of a routed frame answers with a routed ACK
    restart_delay: float = 1.0  # s: a revived node rediscovers at uniform(0, this)
    reply_jitter: float = 1.0  # s: random delay before answering a find-nodes-in-range frame
    find_nodes_wait: float = 1.5  # s to collect answers before reporting the neighbour list
    explorer_jitter: float = 0.2  # s: random delay before repeating an explorer frame
    hop_timeout: float = 0.25  # s per hop, out and back, before a routed frame counts as lost
    retries: int = 3  # routed control frames: attempts after the first (other routes, explorer)
    queue_len: int = 32  # data packets waiting for a route, per node
    queue_timeout: float = 30.0  # s a waiting data packet may wait
    unreachable_hold: float = 10.0  # s a destination found unreachable is not searched again

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        if not 1 <= self.controller <= MAX_NODE_ID:
            raise bad("controller", f"must be a node ID in 1..{MAX_NODE_ID}")
        if not 0 <= self.max_repeaters <= MAX_REPEATERS:
            raise bad("max_repeaters", f"must be in 0..{MAX_REPEATERS} (Z-Wave's limit)")
        if not 1 <= self.max_routes <= 16:
            raise bad("max_routes", "must be in 1..16")
        if not 0 <= self.retries <= 16:
            raise bad("retries", "must be in 0..16")
        if not 1 <= self.queue_len <= 4096:
            raise bad("queue_len", "must be in 1..4096")
        for name in ("hop_timeout", "find_nodes_wait", "queue_timeout"):
            if not getattr(self, name) > 0:  # written so that NaN fails too
                raise bad(name, "must be > 0")
        for name in ("restart_delay", "reply_jitter", "explorer_jitter", "unreachable_hold"):
            if not getattr(self, name) >= 0:
                raise bad(name, "must be >= 0")
        if not self.reply_jitter < self.find_nodes_wait:
            raise ProtocolConfigError(
                f"protocol.reply_jitter ({self.reply_jitter}) must be below protocol."
                f"find_nodes_wait ({self.find_nodes_wait}): answers would come after the report")

    def routed_timeout(self, repeaters: int) -> float:
        """How long a source waits for the routed ACK of a frame over ``repeaters`` repeaters:
        ``hop_timeout`` per hop, there and back."""
        return 2 * (repeaters + 1) * self.hop_timeout
