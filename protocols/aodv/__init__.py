"""AODV, Ad hoc On-Demand Distance Vector routing (RFC 3561), as a sans-I/O meshnet plug-in.

Modules, in the spirit of ns-3's aodv module: :mod:`.protocol` (routing logic), :mod:`.wire`
(message formats), :mod:`.routing_table` (packets waiting for a route wait in
``meshnet.protocol_api.RequestQueue``, shared with the power-aware protocols),
:mod:`.neighbors` (hello liveness; RREQ duplicate detection is ``protocol_api.DuplicateCache``),
:mod:`.rate_limit` and :mod:`.params` (tunables).
"""

from .params import AodvParams
from .protocol import AODV

__all__ = ["AODV", "AodvParams"]
