"""The radio model shared by both backends: profiles (PHY/MAC/energy figures), propagation
(distance -> received power), reception (SINR -> frame error) and batteries.

Pure and engine-independent: no clock, no randomness of its own (callers pass an RNG to
``Propagation.shadowing_db``), no I/O.
"""

from .catalog import radios_table, radios_text
from .energy import RADIO_STATES, Battery, CurrentTable, EnergyError
from .profiles import (MAC_KINDS, PROFILE_NAMES, PROFILES, RadioConfigError, RadioProfile,
                       UnknownProfileError, get_profile)
from .propagation import (PRESETS, PROPAGATION_NAMES, Propagation, PropagationError,
                          make_propagation)
from .reception import ErrorModel

__all__ = [
    "Battery", "CurrentTable", "EnergyError", "ErrorModel", "MAC_KINDS", "PRESETS",
    "PROFILES", "PROFILE_NAMES", "PROPAGATION_NAMES", "Propagation", "PropagationError",
    "RADIO_STATES", "RadioConfigError", "RadioProfile", "UnknownProfileError", "get_profile",
    "make_propagation", "radios_table", "radios_text",
]
