"""ZigBee network-layer routing as two sans-I/O meshnet plug-ins: ``zigbee-tree`` (cluster-tree
routing on distributed addresses, ZigBee 2006) and ``zigbee-mesh`` (ZigBee PRO route discovery by
link cost, many-to-one routes and source routing, on the same association and addresses).

Modules: :mod:`.cskip` (address blocks and the tree-routing arithmetic), :mod:`.wire` (NWK, ZDO
and join frames), :mod:`.linkcost` (link cost from the received signal), :mod:`.neighbors`
(neighbour table and address map), :mod:`.tree` and :mod:`.mesh` (the protocols) and
:mod:`.params` (tunables). Data packets waiting for a join, an address or a route wait in
``meshnet.protocol_api.RequestQueue``.
"""

from .cskip import TreeShape
from .mesh import ZigbeeMesh
from .params import MeshParams, TreeParams
from .tree import ZigbeeTree

__all__ = ["MeshParams", "TreeParams", "TreeShape", "ZigbeeMesh", "ZigbeeTree"]
