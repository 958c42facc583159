"""The neighbour table (ZigBee §3.6.1.5) and the address map (IEEE ↔ short address).

A neighbour is known by its meshnet address (IPv4, which stands for its IEEE address) and, once
heard in an NWK frame, by its 16-bit short address. Its incoming link cost comes from the received
power of its frames (:mod:`.linkcost`), its outgoing cost from what it reports in its link status
frames (the cost it measures for frames from us); with nwkSymLink (ZigBee PRO) the link costs the
larger of the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from .linkcost import cost_from_rssi

RSSI_SMOOTHING = 0.3  # weight of a new frame's power in the running mean (dB)


@dataclass(slots=True)
class Neighbor:
    ip: str
    last_heard: float
    address: int | None = None
    rssi: float | None = None
    outgoing_cost: int | None = None  # reported by the neighbour in its link status


class NeighborTable:
    def __init__(self, sensitivity_dbm: float, sigma_db: float) -> None:
        self.sensitivity_dbm = sensitivity_dbm
        self.sigma_db = sigma_db
        self._by_ip: dict[str, Neighbor] = {}

    def heard(self, ip: str, now: float, rssi: float | None) -> Neighbor:
        n = self._by_ip.get(ip)
        if n is None:
            n = self._by_ip[ip] = Neighbor(ip, now, rssi=rssi)
        else:
            n.last_heard = now
            if rssi is not None:
                n.rssi = rssi if n.rssi is None else n.rssi + RSSI_SMOOTHING * (rssi - n.rssi)
        return n

    def get(self, ip: str) -> Neighbor | None:
        return self._by_ip.get(ip)

    def by_address(self, address: int) -> Neighbor | None:
        for n in self._by_ip.values():
            if n.address == address:
                return n
        return None

    def incoming_cost(self, n: Neighbor) -> int:
        return cost_from_rssi(n.rssi, self.sensitivity_dbm, self.sigma_db)

    def link_cost(self, n: Neighbor) -> int:
        """nwkSymLink: the worse of the two directions (the incoming one until the neighbour
        has reported the other)."""
        incoming = self.incoming_cost(n)
        return incoming if n.outgoing_cost is None else max(incoming, n.outgoing_cost)

    def forget(self, ip: str) -> None:
        self._by_ip.pop(ip, None)

    def expire(self, before: float, keep: set = frozenset()) -> list[Neighbor]:
        gone = [n for n in self._by_ip.values() if n.last_heard < before and n.ip not in keep]
        for n in gone:
            del self._by_ip[n.ip]
        return gone

    def __iter__(self):
        return iter(sorted(self._by_ip.values(), key=lambda n: n.ip))

    def __len__(self) -> int:
        return len(self._by_ip)


class AddressMap:
    """nwkAddressMap: which short address each known device (by IEEE address) has now. A device
    that rejoins gets a new short address, and an address may be handed to another device later,
    so learning one pairing forgets any older pairing of either side."""

    def __init__(self) -> None:
        self._short: dict[str, int] = {}
        self._ip: dict[int, str] = {}

    def learn(self, ip: str, short: int) -> None:
        if self._short.get(ip) == short:
            return
        old = self._short.pop(ip, None)
        if old is not None:
            self._ip.pop(old, None)
        other = self._ip.pop(short, None)
        if other is not None:
            self._short.pop(other, None)
        self._short[ip] = short
        self._ip[short] = ip

    def short(self, ip: str) -> int | None:
        return self._short.get(ip)

    def ip(self, short: int) -> str | None:
        return self._ip.get(short)

    def forget(self, ip: str) -> None:
        old = self._short.pop(ip, None)
        if old is not None:
            self._ip.pop(old, None)

    def __len__(self) -> int:
        return len(self._short)
