"""GPSR, Greedy Perimeter Stateless Routing (Karp & Kung, MobiCom 2000), as a sans-I/O meshnet
plug-in.

Modules: :mod:`.protocol` (beacons and per-packet forwarding), :mod:`.wire` (beacon and
per-packet header formats), :mod:`.neighbors` (the neighbour table), :mod:`.planar` (Gabriel
graph, RNG, right-hand rule, crossings), :mod:`.location` (the location service interface and the
oracle) and :mod:`.params` (tunables).
"""

from .location import LocationService, OracleLocationService
from .params import GpsrParams
from .protocol import GPSR

__all__ = ["GPSR", "GpsrParams", "LocationService", "OracleLocationService"]
