"""DSDV routing plug-in (Perkins & Bhagwat 1994, with ns-3's parameters and defaults).

``protocol`` holds the routing logic, ``table`` the route table with its settling state, ``wire``
the byte layout of updates and ``queue`` the optional buffer for packets without a route.
"""

from .protocol import DSDV, DsdvParams

__all__ = ["DSDV", "DsdvParams"]
