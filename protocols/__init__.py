"""Routing protocol plug-ins shipped with meshnet (registered under the `meshnet.protocols` entry-point group)."""
