"""Power-aware on-demand routing: MTPR, MMBCR and CMMBCR (Toh 2001) as sans-I/O meshnet plug-ins.

One engine (:mod:`.protocol`) discovers routes on demand and controls the transmit power of every
hop; the three protocols differ only in how they rank the candidate routes (:mod:`.cost`).
Modules: :mod:`.wire` (message formats), :mod:`.tables` (routes, links, requests, buffer),
:mod:`.params` (tunables).
"""

from .params import CmmbcrParams, PowerParams
from .protocol import CMMBCR, MMBCR, MTPR, PowerRouting

__all__ = ["CMMBCR", "CmmbcrParams", "MMBCR", "MTPR", "PowerParams", "PowerRouting"]
