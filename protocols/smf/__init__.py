"""Simplified Multicast Forwarding (RFC 6621): duplicate packet detection and forwarding of
multicast packets by classic flooding or a reduced relay set (S-MPR, E-CDS) chosen from a
two-hop neighbourhood learnt with NHDP-like HELLOs. Multicast only: unicast is not routed."""

from .protocol import SMF

__all__ = ["SMF"]
