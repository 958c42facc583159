"""ODMRP's tunables, with their defaults and reasons."""

from __future__ import annotations

from dataclasses import dataclass

from meshnet.protocol_api import ProtocolConfigError

DPD_MODES = ("hash", "id")


@dataclass
class ODMRPParams:
    refresh_interval: float = 3.0  # s between a source's Join Queries (the draft's refresh)
    fg_timeout: float = 0.0  # s a forwarder keeps FG_FLAG without a Join Reply; 0: 3 x refresh
    source_timeout: float = 0.0  # s a source keeps refreshing after its last packet; 0: 2 x refresh
    jq_ttl: int = 32  # hops a Join Query may travel
    forward_jitter: float = 0.01  # s, a Join Query relay waits uniform [0, this]
    reply_jitter: float = 0.01  # s, a Join Reply waits uniform [0, this] (replies aggregate)
    dpd: str = "hash"  # data duplicate detection key, as SMF's (RFC 6621 §6): hash or id
    dpd_lifetime: float = 30.0  # s a data packet is remembered against duplicates

    def __post_init__(self) -> None:
        if not self.refresh_interval > 0:
            raise ProtocolConfigError(f"protocol.refresh_interval = {self.refresh_interval!r}: "
                                      "must be > 0")
        if not 1 <= self.jq_ttl <= 255:
            raise ProtocolConfigError(f"protocol.jq_ttl = {self.jq_ttl!r}: must be in 1..255")
        if self.dpd not in DPD_MODES:
            raise ProtocolConfigError(f"protocol.dpd = {self.dpd!r}: expected one of "
                                      + ", ".join(DPD_MODES))
        if not self.dpd_lifetime > 0:
            raise ProtocolConfigError(f"protocol.dpd_lifetime = {self.dpd_lifetime!r}: must be "
                                      "> 0")

    @property
    def fg_lifetime(self) -> float:
        return self.fg_timeout or 3.0 * self.refresh_interval

    @property
    def source_lifetime(self) -> float:
        return self.source_timeout or 2.0 * self.refresh_interval
