"""ODMRP, the On-Demand Multicast Routing Protocol (Lee, Gerla, Chiang; draft-ietf-manet-
odmrp-04): sources flood Join Queries, members answer with Join Replies along the reverse
paths, and the nodes on those paths form a soft-state forwarding group that relays the
group's data. Multicast only: unicast is not routed."""

from .protocol import ODMRP

__all__ = ["ODMRP"]
