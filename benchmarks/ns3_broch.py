"""The broch cell in ns-3: the program `benchmarks/ns3_compare.py` runs with ns-3's Python.

It reads a JSON spec (written by `ns3_compare.build_spec` from meshnet's own scenario: node
count, area, start positions, flows, radio thresholds) and prints one JSON line of results:
delivery counted the way meshnet counts it, FlowMonitor's view, event count, and CPU/wall
seconds per phase (importing ns-3, building the network, `Simulator::Run`), because the import
alone costs seconds of CPU that a compiled ns-3 program would not pay.

The model, per ns-3 3.44 with stock defaults unless the spec says otherwise:

* nodes start where meshnet's placement puts them, then move by ns-3's own
  RandomWaypointMobilityModel (waypoints from a RandomRectanglePositionAllocator over the area,
  speed uniform [min, max], constant pause), so trajectories differ from meshnet's in detail;
* 802.11b ad hoc MAC, ConstantRateWifiManager at DsssRate2Mbps for unicast, broadcast
  (NonUnicastMode) and control frames, RTS/CTS off, WifiMacQueue of the spec's length;
* YansWifiChannel with TwoRayGroundPropagationLossModel (914 MHz, 1.5 m antennas, L = 1),
  ns-2's two thresholds: RxSensitivity, CcaEdThreshold and CcaSensitivity at the power received
  at the carrier-sense range (weaker signals do not exist for the PHY), the preamble detection
  model's MinimumRssi at the power received at the decode range (frames between the two are
  sensed and interfere but are not received); ``--verify-range`` checks both ranges in ns-3;
* IPv4 with ARP and ns-3's default traffic control; UdpClient CBR flows (64-byte packets
  including UdpClient's 12-byte sequence header) to a UdpServer, same pairs and start times
  as meshnet's flows; the routing protocol the spec names.

Usage (with the Python that has ns-3): python ns3_broch.py SPEC.json
                                        python ns3_broch.py --verify-range SPEC.json
"""

from __future__ import annotations

import json
import math
import sys
import time

ROUTING = ("aodv", "dsdv", "olsr", "dsr", "none")
DATA_PORT_BASE = 9000          # flow i uses UDP port DATA_PORT_BASE + i
SPEC_KEYS = ("protocol", "protocol_attributes", "seed", "duration_s", "area", "positions",
             "speed_min", "speed_max", "pause_s", "radio", "flows")
RADIO_KEYS = ("frequency_hz", "tx_power_dbm", "antenna_height_m", "system_loss",
              "tx_gain_db", "rx_gain_db",
              "decode_threshold_dbm", "cs_threshold_dbm", "rx_sensitivity_dbm",
              "noise_figure_db", "data_mode",
              "queue_packets", "range_m", "cs_range_m")
FLOW_KEYS = ("src", "dst", "start", "stop", "interval", "size")
UDP_CLIENT_HEADER = 12         # UdpClient's SeqTsHeader, carried inside PacketSize


class SpecError(ValueError):
    """The spec is not one this program can run."""


def check_spec(spec: dict) -> dict:
    """Raise SpecError unless ``spec`` has every field, consistent; return it."""
    missing = [k for k in SPEC_KEYS if k not in spec]
    missing += [f"radio.{k}" for k in RADIO_KEYS if k not in spec.get("radio", {})]
    if missing:
        raise SpecError("spec lacks " + ", ".join(missing))
    if spec["protocol"] not in ROUTING:
        raise SpecError(f"protocol {spec['protocol']!r}: ns-3 side knows {', '.join(ROUTING)}")
    n = len(spec["positions"])
    if n < 2:
        raise SpecError("spec needs at least 2 nodes")
    if not spec["duration_s"] > 0:
        raise SpecError("duration_s must be > 0")
    for i, f in enumerate(spec["flows"]):
        if any(k not in f for k in FLOW_KEYS):
            raise SpecError(f"flow {i} lacks one of {', '.join(FLOW_KEYS)}")
        if not (0 <= f["src"] < n and 0 <= f["dst"] < n) or f["src"] == f["dst"]:
            raise SpecError(f"flow {i}: src/dst must be two different nodes of {n}")
        if f["size"] < UDP_CLIENT_HEADER:
            raise SpecError(f"flow {i}: size {f['size']} < UdpClient's {UDP_CLIENT_HEADER}-byte "
                            "header")
        if not f["interval"] > 0:
            raise SpecError(f"flow {i}: interval must be > 0")
    return spec


def generated_packets(start: float, stop: float, interval: float) -> int:
    """Packets a UdpClient generates: one at ``start`` and every ``interval`` while before
    ``stop`` (it keeps this schedule whether or not the socket takes a packet), the same
    schedule as meshnet's CBR source. Counted from the schedule because UdpClient counts only
    the packets its socket accepted."""
    if stop <= start:
        return 0
    return math.ceil((stop - start) / interval - 1e-9)


def netmask(protocol: str) -> str:
    """The nodes' netmask. With no routing protocol a /16 would still deliver to neighbours
    (the subnet is on-link); meshnet's ``none`` delivers nothing, so every node gets a /32."""
    return "255.255.255.255" if protocol == "none" else "255.255.0.0"


def ns3_version() -> str:
    """The installed ns-3 wheel's version (the bindings expose none)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ns3")
    except PackageNotFoundError:
        return "unknown"


def _ns():
    from ns import ns  # noqa: PLC0415  (only with ns-3's Python)
    return ns


def _wifi_devices(ns, nodes, radio: dict):
    """802.11b ad hoc devices on a two-ray channel with the spec's thresholds."""
    ns.Config.SetDefault("ns3::WifiMacQueue::MaxSize",
                         ns.QueueSizeValue(ns.QueueSize(f"{int(radio['queue_packets'])}p")))
    channel = ns.YansWifiChannelHelper()
    channel.SetPropagationDelay("ns3::ConstantSpeedPropagationDelayModel")
    channel.AddPropagationLoss("ns3::TwoRayGroundPropagationLossModel",
                               "Frequency", ns.DoubleValue(radio["frequency_hz"]),
                               "SystemLoss", ns.DoubleValue(radio["system_loss"]),
                               "HeightAboveZ", ns.DoubleValue(radio["antenna_height_m"]))
    phy = ns.YansWifiPhyHelper()
    phy.SetChannel(channel.Create())
    for name, value in (("TxPowerStart", radio["tx_power_dbm"]),
                        ("TxPowerEnd", radio["tx_power_dbm"]),
                        ("TxGain", radio["tx_gain_db"]), ("RxGain", radio["rx_gain_db"]),
                        ("RxNoiseFigure", radio["noise_figure_db"]),
                        ("RxSensitivity", radio["rx_sensitivity_dbm"]),
                        ("CcaEdThreshold", radio["cs_threshold_dbm"]),
                        ("CcaSensitivity", radio["cs_threshold_dbm"])):
        phy.Set(name, ns.DoubleValue(value))
    phy.Set("TxPowerLevels", ns.UintegerValue(1))
    phy.SetPreambleDetectionModel("ns3::ThresholdPreambleDetectionModel",
                                  "MinimumRssi", ns.DoubleValue(radio["decode_threshold_dbm"]))
    wifi = ns.WifiHelper()
    wifi.SetStandard(ns.WIFI_STANDARD_80211b)
    mode = ns.StringValue(radio["data_mode"])
    wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager", "DataMode", mode,
                                 "ControlMode", mode, "NonUnicastMode", mode)
    mac = ns.WifiMacHelper()
    mac.SetType("ns3::AdhocWifiMac")
    return wifi.Install(phy, mac, nodes)


def _place(ns, nodes, positions, spec: dict | None) -> None:
    """Start positions from the spec; random waypoint over the area if ``spec`` moves them."""
    start = ns.CreateObject[ns.ListPositionAllocator]()
    for x, y in positions:
        start.Add(ns.Vector(float(x), float(y), 0.0))
    mobility = ns.MobilityHelper()
    mobility.SetPositionAllocator(start)
    if spec is None or spec["speed_max"] <= 0:
        mobility.SetMobilityModel("ns3::ConstantPositionMobilityModel")
    else:
        width, height = spec["area"]
        waypoints = ns.CreateObject[ns.RandomRectanglePositionAllocator]()
        waypoints.SetAttribute("X", ns.StringValue(
            f"ns3::UniformRandomVariable[Min=0.0|Max={float(width)!r}]"))
        waypoints.SetAttribute("Y", ns.StringValue(
            f"ns3::UniformRandomVariable[Min=0.0|Max={float(height)!r}]"))
        mobility.SetMobilityModel(
            "ns3::RandomWaypointMobilityModel",
            "Speed", ns.StringValue(f"ns3::UniformRandomVariable[Min={spec['speed_min']!r}|"
                                    f"Max={spec['speed_max']!r}]"),
            "Pause", ns.StringValue(f"ns3::ConstantRandomVariable[Constant={spec['pause_s']!r}]"),
            "PositionAllocator", ns.PointerValue(waypoints))
    mobility.Install(nodes)


def _internet(ns, nodes, protocol: str, attributes: dict) -> None:
    """IPv4 stack with the routing protocol; DSR sits beside IP, so it has its own helpers."""
    stack = ns.InternetStackHelper()
    if protocol == "dsr":
        stack.Install(nodes)
        dsr, dsr_main = ns.DsrHelper(), ns.DsrMainHelper()
        dsr_main.Install(dsr, nodes)
        return
    helper = {"aodv": ns.AodvHelper, "dsdv": ns.DsdvHelper, "olsr": ns.OlsrHelper,
              "none": ns.Ipv4StaticRoutingHelper}[protocol]()
    for name, value in attributes.items():
        helper.Set(name, _attribute_value(ns, value))
    stack.SetRoutingHelper(helper)
    stack.Install(nodes)


def _attribute_value(ns, value):
    if isinstance(value, bool):
        return ns.BooleanValue(value)
    if isinstance(value, int):
        return ns.UintegerValue(value)
    if isinstance(value, float):
        return ns.DoubleValue(value)
    return ns.StringValue(str(value))


def _flows(ns, nodes, interfaces, flows: list[dict]) -> None:
    for i, f in enumerate(flows):
        port = DATA_PORT_BASE + i
        server = ns.UdpServerHelper(port)
        apps = server.Install(nodes.Get(f["dst"]))
        apps.Start(ns.Seconds(0.0))
        client = ns.UdpClientHelper(interfaces.GetAddress(f["dst"]).ConvertTo(), port)
        client.SetAttribute("MaxPackets", ns.UintegerValue(0))   # 0: no limit
        client.SetAttribute("Interval", ns.TimeValue(ns.Seconds(f["interval"])))
        client.SetAttribute("PacketSize", ns.UintegerValue(f["size"]))
        apps = client.Install(nodes.Get(f["src"]))
        apps.Start(ns.Seconds(f["start"]))
        apps.Stop(ns.Seconds(f["stop"]))


def _flow_monitor_totals(ns, helper, monitor, n_flows: int) -> dict:
    """Sum FlowMonitor's per-flow stats over the data flows (routing traffic is UDP too)."""
    monitor.CheckForLostPackets()
    classifier = helper.GetClassifier()
    classifier = ns.DynamicCast[ns.Ipv4FlowClassifier](classifier)
    tx = rx = forwarded = 0
    delay_s = 0.0
    for flow_id, st in monitor.GetFlowStats():
        five = classifier.FindFlow(flow_id)
        if not DATA_PORT_BASE <= five.destinationPort < DATA_PORT_BASE + n_flows:
            continue
        tx += st.txPackets
        rx += st.rxPackets
        forwarded += st.timesForwarded
        delay_s += st.delaySum.GetSeconds()
    return {"fm_tx": tx, "fm_rx": rx, "fm_forwarded": forwarded, "fm_delay_sum_s": delay_s}


def run(spec: dict, import_cpu: float, import_wall: float) -> dict:
    """Build the broch cell in ns-3, run it, and return the result record."""
    ns = _ns()
    c0, w0 = time.process_time(), time.perf_counter()
    ns.RngSeedManager.SetSeed(1)
    ns.RngSeedManager.SetRun(int(spec["seed"]))
    n = len(spec["positions"])
    nodes = ns.NodeContainer()
    nodes.Create(n)
    devices = _wifi_devices(ns, nodes, spec["radio"])
    _place(ns, nodes, spec["positions"], spec)
    _internet(ns, nodes, spec["protocol"], spec["protocol_attributes"])
    address = ns.Ipv4AddressHelper()
    address.SetBase(ns.Ipv4Address("10.1.0.0"), ns.Ipv4Mask(netmask(spec["protocol"])))
    interfaces = address.Assign(devices)
    _flows(ns, nodes, interfaces, spec["flows"])
    fm_helper = ns.FlowMonitorHelper()
    monitor = fm_helper.InstallAll()
    ns.Simulator.Stop(ns.Seconds(spec["duration_s"]))
    c1, w1 = time.process_time(), time.perf_counter()
    ns.Simulator.Run()
    c2, w2 = time.process_time(), time.perf_counter()
    events = int(ns.Simulator.GetEventCount())
    totals = _flow_monitor_totals(ns, fm_helper, monitor, len(spec["flows"]))
    ns.Simulator.Destroy()
    generated = sum(generated_packets(f["start"], f["stop"], f["interval"])
                    for f in spec["flows"])
    rx = totals["fm_rx"]
    return {
        "simulator": "ns-3", "version": ns3_version(), "protocol": spec["protocol"],
        "protocol_attributes": spec["protocol_attributes"], "seed": spec["seed"],
        "nodes": n, "duration_s": spec["duration_s"], "flows": len(spec["flows"]),
        "generated": generated, **totals,
        "pdr": rx / generated if generated else 0.0,
        "fm_pdr": rx / totals["fm_tx"] if totals["fm_tx"] else 0.0,
        "mean_delay_s": totals["fm_delay_sum_s"] / rx if rx else None,
        "mean_hops": 1.0 + totals["fm_forwarded"] / rx if rx else None,
        "events": events,
        "cpu_s": {"import": import_cpu, "build": c1 - c0, "run": c2 - c1},
        "wall_s": {"import": import_wall, "build": w1 - w0, "run": w2 - w1},
    }


def _poll_phy(ns, phy, until_s: float, step_s: float) -> tuple[bool, bool]:
    """Advance the simulation to ``until_s`` in steps, noting whether the PHY was ever
    receiving or sensed the medium busy (polled: the state trace would need a C++ callback)."""
    rx = busy = False
    while ns.Simulator.Now().GetSeconds() < until_s:
        ns.Simulator.Stop(ns.Seconds(step_s))
        ns.Simulator.Run()
        rx = rx or bool(phy.IsStateRx())
        busy = busy or bool(phy.IsStateCcaBusy())
    return rx, busy


def verify_range(spec: dict, distances: list[float], packets: int = 10) -> list[dict]:
    """Two static nodes ``d`` metres apart, the spec's radio: the sender broadcasts
    ``packets`` 64-byte UDP packets; report what the receiver decoded, whether its PHY sensed
    the medium busy, and ns-3's own received power at that distance."""
    ns = _ns()
    out = []
    radio = spec["radio"]
    for d in distances:
        nodes = ns.NodeContainer()
        nodes.Create(2)
        devices = _wifi_devices(ns, nodes, radio)
        _place(ns, nodes, [(0.0, 0.0), (float(d), 0.0)], None)
        _internet(ns, nodes, "none", {})
        address = ns.Ipv4AddressHelper()
        address.SetBase(ns.Ipv4Address("10.1.0.0"), ns.Ipv4Mask("255.255.0.0"))
        address.Assign(devices)
        server = ns.UdpServerHelper(DATA_PORT_BASE)
        sink = server.Install(nodes.Get(1))
        sink.Start(ns.Seconds(0.0))
        client = ns.UdpClientHelper(ns.Ipv4Address("10.1.255.255").ConvertTo(), DATA_PORT_BASE)
        client.SetAttribute("MaxPackets", ns.UintegerValue(packets))
        client.SetAttribute("Interval", ns.TimeValue(ns.Seconds(0.01)))
        client.SetAttribute("PacketSize", ns.UintegerValue(64))
        src = client.Install(nodes.Get(0))
        src.Start(ns.Seconds(1.0))
        phy = nodes.Get(1).GetDevice(0).GetObject[ns.WifiNetDevice]().GetPhy()
        ns.Simulator.Stop(ns.Seconds(1.0))
        ns.Simulator.Run()
        rx_state, busy = _poll_phy(ns, phy, 1.0 + 0.01 * packets, 20e-6)
        ns.Simulator.Stop(ns.Seconds(0.5))
        ns.Simulator.Run()
        received = int(sink.Get(0).GetObject[ns.UdpServer]().GetReceived())
        loss = ns.CreateObject[ns.TwoRayGroundPropagationLossModel]()
        loss.SetFrequency(radio["frequency_hz"])
        loss.SetSystemLoss(radio["system_loss"])
        loss.SetHeightAboveZ(radio["antenna_height_m"])
        a = nodes.Get(0).GetObject[ns.MobilityModel]()
        b = nodes.Get(1).GetObject[ns.MobilityModel]()
        rx_dbm = float(loss.CalcRxPower(radio["tx_power_dbm"], a, b))
        ns.Simulator.Destroy()
        out.append({"distance_m": d, "sent": packets, "received": received,
                    "phy_rx_seen": rx_state, "cca_busy_seen": busy or rx_state,
                    "rx_power_dbm": rx_dbm})
    return out


def main(argv: list[str]) -> int:
    c0, w0 = time.process_time(), time.perf_counter()
    verify = "--verify-range" in argv
    args = [a for a in argv if a != "--verify-range"]
    if len(args) != 1:
        print("usage: ns3_broch.py [--verify-range] SPEC.json", file=sys.stderr)
        return 2
    try:
        with open(args[0]) as f:
            spec = check_spec(json.load(f))
    except (OSError, ValueError) as e:
        print(f"ns3_broch.py: {args[0]}: {e}", file=sys.stderr)
        return 2
    _ns()
    import_cpu, import_wall = time.process_time() - c0, time.perf_counter() - w0
    if verify:
        r = radio_distances(spec["radio"])
        print(json.dumps({"verify_range": verify_range(spec, r)}))
    else:
        print(json.dumps(run(spec, import_cpu, import_wall)))
    return 0


def radio_distances(radio: dict) -> list[float]:
    """Distances that bracket the decode and carrier-sense ranges by 1 %."""
    r, cs = radio["range_m"], radio["cs_range_m"]
    return [round(r * 0.99, 1), round(r * 1.01, 1), round(cs * 0.99, 1), round(cs * 1.01, 1)]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
