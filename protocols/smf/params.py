"""SMF's tunables, with their defaults and sources."""

from __future__ import annotations

from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

RELAY_ALGORITHMS = ("flood", "s-mpr", "e-cds")
DPD_MODES = ("hash", "id")


@dataclass
class SMFParams:
    relay: str = "e-cds"  # flood (every node relays once), s-mpr or e-cds (RFC 6621 App. A, B)
    dpd: str = "hash"  # RFC 6621 §6: hash (H-DPD) or id (I-DPD: IPv4 Identification)
    dpd_lifetime: float = 30.0  # s a packet is remembered against duplicates
    hello_interval: float = 2.0  # s, NHDP HELLO_INTERVAL (RFC 6130 §5)
    hello_jitter: float = 0.25  # each interval shortened by up to this fraction (RFC 5148)
    hold_time: float = 0.0  # s a HELLO stays valid; 0: 3 x hello_interval (NHDP H_HOLD_TIME)
    router_priority: int = 64  # E-CDS RtrPri, 0..255; ties broken by the higher address
    relay_jitter: float = 0.005  # s, relays wait uniform [0, this] before sending a copy on

    def __post_init__(self) -> None:
        if self.relay not in RELAY_ALGORITHMS:
            raise ProtocolConfigError(f"protocol.relay = {self.relay!r}: expected one of "
                                      + ", ".join(RELAY_ALGORITHMS))
        if self.dpd not in DPD_MODES:
            raise ProtocolConfigError(f"protocol.dpd = {self.dpd!r}: expected one of "
                                      + ", ".join(DPD_MODES))
        if not self.hello_interval > 0:
            raise ProtocolConfigError(f"protocol.hello_interval = {self.hello_interval!r}: "
                                      "must be > 0")
        if not 0 <= self.hello_jitter < 1:
            raise ProtocolConfigError(f"protocol.hello_jitter = {self.hello_jitter!r}: must be "
                                      "in [0, 1)")
        if not self.dpd_lifetime > 0:
            raise ProtocolConfigError(f"protocol.dpd_lifetime = {self.dpd_lifetime!r}: must be "
                                      "> 0")
        if not 0 <= self.router_priority <= 255:
            raise ProtocolConfigError(f"protocol.router_priority = {self.router_priority!r}: "
                                      "must be in 0..255")
        if self.hold_time > 655.35:
            raise ProtocolConfigError(f"protocol.hold_time = {self.hold_time!r}: at most 655.35 "
                                      "s (the HELLO's validity field)")

    @property
    def validity(self) -> float:
        return self.hold_time or 3.0 * self.hello_interval
