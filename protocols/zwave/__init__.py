"""Z-Wave source routing (ITU-T G.9959 networks) as a sans-I/O meshnet plug-in.

Modules: :mod:`.protocol` (neighbour discovery, range info, source routing, routed ACK and
error, explorer frames, return routes), :mod:`.wire` (the data header and control frames),
:mod:`.topology` (the controller's picture of the network and its route computation),
:mod:`.destinations` (what a source knows about reaching one destination) and :mod:`.params`
(tunables and Z-Wave's limits).
"""

from .params import ZWaveParams
from .protocol import ZWave

__all__ = ["ZWave", "ZWaveParams"]
