"""AODV tunables with the RFC 3561 §10 / ns-3 defaults. A 0 in a derived field means "derive it
from the others" (as RFC §10 does); the derived value is filled in at construction so it shows up
in listings."""

from __future__ import annotations

from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

LINK_DETECTION = ("hello", "link-layer")

MAX_TIME = 1e6  # s (11.6 days): 2x fits the RREP's 32-bit millisecond lifetime
MAX_COUNT = 1_000_000  # packets in a queue, messages per second

# name -> (lowest, highest, 0 means "derive it"); docs/protocols.md lists them
RANGES: dict[str, tuple[float, float, bool]] = {
    "hello_interval": (0.01, 3600.0, False),
    "allowed_hello_loss": (1, 255, False),
    "active_route_timeout": (0.001, MAX_TIME, False),
    "node_traversal_time": (1e-6, 60.0, False),
    "net_diameter": (1, 255, False),
    "rreq_retries": (0, 255, False),
    "rreq_rate_limit": (0, MAX_COUNT, False),
    "rerr_rate_limit": (0, MAX_COUNT, False),
    "ttl_start": (1, 255, False),
    "ttl_increment": (1, 255, False),
    "ttl_threshold": (1, 255, False),
    "timeout_buffer": (0, 255, False),
    "my_route_timeout": (0.001, MAX_TIME, True),
    "delete_period": (0.001, MAX_TIME, True),
    "path_discovery_time": (0.001, MAX_TIME, True),
    "net_traversal_time": (0.001, MAX_TIME, True),
    "queue_len": (1, MAX_COUNT, False),
    "queue_timeout": (0.001, MAX_TIME, False),
    "broadcast_jitter": (0.0, 10.0, False),
    "auth_window": (0.0, MAX_TIME, False),
}


@dataclass
class AodvParams:
    hello_interval: float = 1.0  # s between hellos (RFC HELLO_INTERVAL)
    allowed_hello_loss: int = 2  # hellos missed before a link counts as broken
    active_route_timeout: float = 3.0  # s a route stays valid without use
    node_traversal_time: float = 0.04  # s, conservative per-hop latency estimate
    net_diameter: int = 35  # hops, also the TTL of a network-wide RREQ
    rreq_retries: int = 2  # extra network-wide RREQs before discovery fails
    rreq_rate_limit: int = 10  # RREQs per second a node may send (0: unlimited)
    rerr_rate_limit: int = 10  # RERRs per second a node may send (0: unlimited)
    ttl_start: int = 1  # expanding ring search: first TTL
    ttl_increment: int = 2  # ... added per attempt
    ttl_threshold: int = 7  # ... beyond which net_diameter is used
    timeout_buffer: int = 2  # hops of slack in RING_TRAVERSAL_TIME
    my_route_timeout: float = 0.0  # lifetime in a destination's RREP (0: 2 * active_route_timeout)
    delete_period: float = 0.0  # invalid entries kept this long (0: 5 * max(art, hello_interval))
    path_discovery_time: float = 0.0  # RREQ duplicate memory (0: 2 * net_traversal_time)
    net_traversal_time: float = 0.0  # 0: 2 * node_traversal_time * net_diameter
    queue_len: int = 64  # packets buffered during discovery (per node)
    queue_timeout: float = 30.0  # s a buffered packet may wait
    link_detection: str = "hello"  # "hello": neighbours by hello loss; "link-layer": MAC feedback
    destination_only: bool = False  # set D in own RREQs: only the destination may answer
    gratuitous_reply: bool = True  # set G in own RREQs: intermediate repliers tell the destination
    local_repair: bool = False  # repair a broken route near the break instead of an RERR
    broadcast_jitter: float = 0.01  # s, random delay before re-broadcasts (ns-3: 0..10 ms)
    # RFC 3561 §6.13 after a start without persistent state (first boot or lost memory): stay out
    # of routing for delete_period. A restart with its sequence number kept never waits.
    reboot_wait: bool = False
    # Authenticated control messages (docs/security.md): "" is off; 32+ hex digits are the HMAC
    # key, any other string a passphrase hashed into one. Every node of the network needs the same.
    auth_key: str = ""
    auth_window: float = 2.0  # s: a signed message older than this is a replay (0: no window)

    def __post_init__(self) -> None:
        if self.link_detection not in LINK_DETECTION:
            raise ProtocolConfigError(
                f"protocol.link_detection = {self.link_detection!r}: allowed values are "
                + ", ".join(repr(v) for v in LINK_DETECTION))
        self._check()
        if self.net_traversal_time <= 0:
            self.net_traversal_time = 2 * self.node_traversal_time * self.net_diameter
        if self.path_discovery_time <= 0:
            self.path_discovery_time = 2 * self.net_traversal_time
        if self.my_route_timeout <= 0:
            self.my_route_timeout = 2 * self.active_route_timeout
        if self.delete_period <= 0:
            self.delete_period = 5 * max(self.active_route_timeout, self.hello_interval)
        for name in ("net_traversal_time", "path_discovery_time", "my_route_timeout", "delete_period"):
            setattr(self, name, round(getattr(self, name), 9))  # 2.8, not 2.8000000000000003

    def _check(self) -> None:
        """Reject values that would stall, storm or overflow the protocol: a zero interval
        fires timers back to back, a zero TTL increment repeats the first ring forever, a huge
        timeout overflows the RREP's 32-bit millisecond lifetime, a jitter beyond the hello
        interval schedules the next hello before the current one. Every number has a range
        (``RANGES``); comparisons are written so that NaN fails them too."""
        def bad(name: str, why: str) -> ProtocolConfigError:
            return ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: {why}")

        for name, (low, high, zero_derives) in RANGES.items():
            value = getattr(self, name)
            if zero_derives and value == 0:
                continue
            if not low <= value <= high:
                why = f"must be >= {low:g} and <= {high:g}"
                raise bad(name, why + (" (0: derived)" if zero_derives else ""))
        if not self.ttl_start <= self.ttl_threshold <= self.net_diameter:
            raise ProtocolConfigError(
                f"protocol.ttl_start ({self.ttl_start}) <= protocol.ttl_threshold "
                f"({self.ttl_threshold}) <= protocol.net_diameter ({self.net_diameter}) must hold")
        if not self.broadcast_jitter < self.hello_interval:
            raise bad("broadcast_jitter", f"must be < protocol.hello_interval "
                                          f"({self.hello_interval:g} s)")

    @property
    def enable_hello(self) -> bool:
        return self.link_detection == "hello"

    @property
    def max_repair_ttl(self) -> int:
        return max(1, int(0.3 * self.net_diameter))

    local_add_ttl = 2

    def ring_traversal_time(self, ttl: int) -> float:
        """How long to wait for an RREP to an RREQ sent with ``ttl`` (RFC §6.4)."""
        return 2 * self.node_traversal_time * (ttl + self.timeout_buffer)
