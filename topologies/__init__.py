"""Node placements: where nodes start, as plain lists of ``(x, y)`` metres.

A topology is pure data (as in Mininet): these functions only compute positions; the radio model
decides which nodes can hear each other. Depends on networkx and :mod:`meshnet.geometry` only.
"""

from .errors import TopologyError
from .files import from_file, load_graph
from .placement import PLACEMENTS, place
from .random_fields import clusters, uniform
from .regular import grid, line, ring, ring_radius

__all__ = [
    "PLACEMENTS",
    "TopologyError",
    "clusters",
    "from_file",
    "grid",
    "line",
    "load_graph",
    "place",
    "ring",
    "ring_radius",
    "uniform",
]
