"""Wireshark dissectors for meshnet's wire formats, shipped as Lua plug-ins in this folder.

Wireshark decodes AODV (RFC 3561) by itself; the other formats are meshnet's own, and these
plug-ins name and type every field (``meshnet.dsdv.dest``, ``meshnet.gpsr.x`` …) and flag malformed
messages. ``meshnet wireshark-plugins`` says where they go and installs them; docs/wireshark.md
shows how to use them.

Adding a dissector for a new protocol takes one Lua file and one line: write
``meshnet_<name>.lua`` beside the others (it loads the shared helpers with
``require "meshnet_common"``; ``meshnet_power.lua`` is a compact example) and add its
:class:`Dissector` to :data:`DISSECTORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
COMMON = "meshnet_common.lua"  # helpers every dissector loads; defines no protocol itself


@dataclass(frozen=True)
class Dissector:
    """One Lua plug-in: the file, the Wireshark protocol it defines (its display-filter name,
    also the prefix of its fields), the meshnet protocols whose messages it decodes, and where
    those travel."""

    script: str
    filter: str
    protocols: tuple[str, ...]
    carries: str

    @property
    def path(self) -> Path:
        return FOLDER / self.script


DISSECTORS: tuple[Dissector, ...] = (
    Dissector("meshnet_aodv.lua", "meshnet.aodv", ("aodv",),
              "UDP 654, after Wireshark's AODV dissector: extensions, RREQ TTL"),
    Dissector("meshnet_dsdv.lua", "meshnet.dsdv", ("dsdv",),
              "UDP 269 (shared with PacketBB), and heuristically on other ports"),
    Dissector("meshnet_gpsr.lua", "meshnet.gpsr", ("gpsr",),
              "beacons on UDP 61500; header as IPv4 option 158 of 14 or 38 bytes "
              "(meshnet.gpsr.header)"),
    Dissector("meshnet_power.lua", "meshnet.power", ("mtpr", "mmbcr", "cmmbcr"), "UDP 6550"),
    Dissector("meshnet_zigbee.lua", "meshnet.zigbee", ("zigbee-tree", "zigbee-mesh"),
              "UDP 6360: NWK commands, ZDO, joins; data's NWK header as IPv4 option 222 "
              "(meshnet.zigbee.header)"),
    Dissector("meshnet_zwave.lua", "meshnet.zwave", ("zwave",),
              "UDP 61501; data header as IPv4 option 158 of 5-9 bytes (meshnet.zwave.header)"),
    Dissector("meshnet_smf.lua", "meshnet.smf", ("smf",), "HELLOs on UDP 61503"),
    Dissector("meshnet_odmrp.lua", "meshnet.odmrp", ("odmrp",),
              "Join Query and Join Reply on UDP 61504"),
)


def scripts() -> list[Path]:
    """Every file a Wireshark installation needs: the helpers first, then each dissector."""
    return [FOLDER / COMMON, *(d.path for d in DISSECTORS)]


def dissector_for(protocol: str) -> Dissector | None:
    """The dissector of meshnet protocol ``protocol`` (``"mtpr"`` -> meshnet_power.lua)."""
    for d in DISSECTORS:
        if protocol in d.protocols:
            return d
    return None


def tshark_args(dissectors: tuple[Dissector, ...] = DISSECTORS) -> list[str]:
    """``-X lua_script:`` arguments that load ``dissectors`` into one tshark run, without
    installing anything (tshark finds the helpers beside them)."""
    return [arg for d in dissectors for arg in ("-X", f"lua_script:{d.path}")]


__all__ = ["COMMON", "DISSECTORS", "Dissector", "FOLDER", "dissector_for", "scripts",
           "tshark_args"]
