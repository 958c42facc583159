"""Pcap output of every transmission in a simulated run, readable by Wireshark and tshark.

Each frame is written as Ethernet / IPv4 / UDP with the real protocol bytes (AODV on port 654
decodes with Wireshark's AODV dissector). Data packets carry a zero payload of their real size.
A per-packet protocol's header (``packet.meta[name]`` of a protocol with an ``ip_option`` class
attribute, e.g. GPSR's) is written as that IPv4 option, as it travels on the netns backend.
Timestamps are virtual time since the start of the run. Packets are built with scapy.

A record is written when a transmission attempt goes on the air, as a sniffer next to the
sender would capture it: a frame the MAC retries appears once per attempt (same IP id, same
bytes), and a forwarded frame always follows the frame that carried it. A packet the radio
fragments is written once per attempt of its first fragment. Link-layer ACKs have no Ethernet
form and are not written.
"""

from __future__ import annotations

from typing import IO

from scapy.layers.inet import IP, UDP, IPOption
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter

from .protocol_api import BROADCAST

DATA_PORT = 9  # discard service: the port of application data in the pcap


def mac_of(index: int) -> str:
    """A locally administered MAC address per node index."""
    return "02:00:00:%02x:%02x:%02x" % ((index >> 16) & 255, (index >> 8) & 255, index & 255)


def header_option(protocol, packet) -> bytes | None:
    """The IPv4 option carrying ``protocol``'s per-packet header of ``packet``, if it has one."""
    kind = getattr(type(protocol), "ip_option", 0)
    if not kind or not packet.meta:
        return None
    header = packet.meta.get(protocol.name)
    if not header or len(header) > 38:
        return None
    return bytes((kind, len(header) + 2)) + header


class PcapRecorder:
    """Taps a Simulation's medium and writes every transmission attempt to ``stream``."""

    def __init__(self, sim, stream: IO[bytes]) -> None:
        self.sim = sim
        self.writer = PcapWriter(stream, linktype=1, sync=False)
        self.frames = 0
        sim.channel.add_air_tap(self.on_air)

    def on_air(self, i: int, frame) -> None:
        sim = self.sim
        node = sim.nodes[i]
        src_addr = node.address
        if frame.dst_index >= 0:
            dst_mac = mac_of(frame.dst_index)
        else:
            dst_mac = "ff:ff:ff:ff:ff:ff"
        if frame.packet is not None:  # data
            pkt = frame.packet
            payload = pkt.payload if pkt.payload is not None else bytes(pkt.size)
            ip = IP(src=pkt.src, dst=pkt.dst, ttl=max(pkt.ttl, 0) & 255, id=pkt.uid & 0xFFFF)
            option = header_option(node.protocol, pkt)
            if option is not None:
                ip.options = [IPOption(option)]
            l4 = UDP(sport=DATA_PORT, dport=DATA_PORT) / Raw(payload)
        else:
            dst_ip = BROADCAST if frame.dst_index < 0 else frame.dst
            ip = IP(src=src_addr, dst=dst_ip, ttl=1 if frame.dst_index < 0 else 64)
            port = frame.port or 0
            l4 = UDP(sport=port, dport=port) / Raw(frame.payload)
        eth = Ether(src=mac_of(node.index), dst=dst_mac) / ip / l4
        eth.time = sim.sched.now
        self.writer.write(eth)
        self.frames += 1

    def close(self) -> None:
        """Finish the file; a run without a single frame still gets the pcap header, so the
        file is a valid, empty capture rather than zero bytes."""
        if not self.writer.header_present:
            self.writer.write_header(None)
        self.writer.flush()
