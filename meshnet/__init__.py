"""meshnet: a mobile ad-hoc mesh routing emulator.

Routing protocols are sans-I/O plug-ins (see :mod:`meshnet.protocol_api`) that run unchanged on a
deterministic discrete-event simulator (``sim``) or on Linux network namespaces (``netns``).
"""

__version__ = "0.1.0"
