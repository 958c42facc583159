"""Energy: radio current draw per state, and a battery that state time drains.

A node's energy use is the integral of ``current * voltage`` over the time its radio spends in
each state (``tx`` at the chosen power, ``rx``, ``idle``, ``sleep``). The engine accounts state
time; this module only knows the figures and the bookkeeping.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["RADIO_STATES", "CurrentTable", "Battery", "EnergyError"]

RADIO_STATES = ("tx", "rx", "idle", "sleep")


class EnergyError(ValueError):
    """A bad energy figure or state name."""


@dataclass(frozen=True)
class CurrentTable:
    """Supply current (A) per radio state at ``voltage`` (V).

    ``tx_points`` maps output power (dBm) to TX current (A), ascending in power; TX current at
    other powers is interpolated linearly and clamped to the table ends (a radio cannot go below
    its lowest or above its highest power setting).
    """

    tx_points: tuple[tuple[float, float], ...]
    rx_a: float
    idle_a: float
    sleep_a: float
    voltage: float
    source: str = ""

    def __post_init__(self) -> None:
        if not self.tx_points:
            raise EnergyError("tx_points must hold at least one (dBm, A) pair")
        powers = [p for p, _ in self.tx_points]
        if powers != sorted(powers):
            raise EnergyError("tx_points must be sorted by output power")
        if self.voltage <= 0:
            raise EnergyError("voltage must be > 0")
        object.__setattr__(self, "_powers", powers)
        object.__setattr__(self, "_currents", [a for _, a in self.tx_points])

    def tx_a(self, tx_power_dbm: float) -> float:
        powers: list[float] = self._powers  # type: ignore[attr-defined]
        currents: list[float] = self._currents  # type: ignore[attr-defined]
        if tx_power_dbm <= powers[0]:
            return currents[0]
        if tx_power_dbm >= powers[-1]:
            return currents[-1]
        i = bisect_left(powers, tx_power_dbm)
        p0, p1 = powers[i - 1], powers[i]
        a0, a1 = currents[i - 1], currents[i]
        return a0 + (a1 - a0) * (tx_power_dbm - p0) / (p1 - p0)

    def current_a(self, state: str, tx_power_dbm: float) -> float:
        if state == "tx":
            return self.tx_a(tx_power_dbm)
        if state == "rx":
            return self.rx_a
        if state == "idle":
            return self.idle_a
        if state == "sleep":
            return self.sleep_a
        raise EnergyError(f"unknown radio state {state!r}; allowed: {', '.join(RADIO_STATES)}")


class Battery:
    """Energy store in joules. ``drain`` never goes below zero; ``empty`` tells the engine the
    node must stop."""

    __slots__ = ("capacity_j", "remaining_j")

    def __init__(self, capacity_j: float) -> None:
        if not capacity_j > 0:
            raise EnergyError(f"battery capacity must be > 0 J, got {capacity_j!r}")
        self.capacity_j = float(capacity_j)
        self.remaining_j = float(capacity_j)

    @classmethod
    def from_mah(cls, mah: float, voltage: float) -> "Battery":
        """A battery of ``mah`` milliamp-hours at ``voltage`` volts (1 mAh = 3.6 C)."""
        if not voltage > 0:
            raise EnergyError(f"battery voltage must be > 0 V, got {voltage!r}")
        return cls(mah * 3.6 * voltage)

    def drain(self, joules: float) -> float:
        """Take ``joules`` out; returns the energy actually drawn (less when it ran out)."""
        if joules < 0:
            raise EnergyError(f"cannot drain a negative amount ({joules!r} J)")
        taken = joules if joules < self.remaining_j else self.remaining_j
        self.remaining_j -= taken
        return taken

    @property
    def used_j(self) -> float:
        return self.capacity_j - self.remaining_j

    @property
    def fraction(self) -> float:
        return self.remaining_j / self.capacity_j

    @property
    def empty(self) -> bool:
        return self.remaining_j <= 0.0

    def __repr__(self) -> str:
        return f"Battery({self.remaining_j:.6g}/{self.capacity_j:.6g} J)"
