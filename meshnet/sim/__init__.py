"""The deterministic discrete-event simulator backend."""

from .simulation import Simulation, simulate

__all__ = ["Simulation", "simulate"]
