-- meshnet ZigBee network layer (zigbee-tree and zigbee-mesh; protocols/zigbee/wire.py): control
-- frames on UDP port 6360, and the NWK header that data packets carry as IPv4 option 222 (0xDE).
-- Little-endian, as ZigBee is.
--
-- A control frame is a NWK frame (ZigBee 2006/PRO §3.3.1) or a join frame, told apart by the
-- first byte (a NWK frame's protocol version 2 sets bit 3 of it; a join frame starts with 0x00).
--   NWK header: frame control (2: frame type 0 data / 1 command, protocol version 2, discover
--     route, multicast and security never set, source route, destination IEEE, source IEEE),
--     destination (2), source (2), radius, sequence number, [destination IEEE (8)],
--     [source IEEE (8)], [source route: relay count, relay index, relays (2 each)]
--   command frames (§3.4): route request (0x01), route reply (0x02), network status (0x03),
--     route record (0x05), link status (0x08)
--   data frames: ZDO address commands (cluster (2), transaction sequence number, fields):
--     Device_annce (0x0013), NWK_addr_req (0x0000), NWK_addr_rsp (0x8000)
--   join frames (802.15.4-2006 §7.3, after 0x00): beacon request (0x07), association request
--     (0x01) and response (0x02), beacon (0x00: source address, superframe specification and
--     the ZigBee beacon payload of §3.6.7)
-- An IEEE (extended) address is a node's IPv4 address as a number: its upper 32 bits are 0.
-- The data header is a NWK header of frame type data, with nothing after it.

local common = require "meshnet_common"

local PORT = 6360
local IP_OPTION = 0xDE
local PROTOCOL_VERSION = 2
local DATA, COMMAND = 0, 1
local MAC = 0x00
local BEACON, ASSOCIATION_REQUEST, ASSOCIATION_RESPONSE, BEACON_REQUEST = 0x00, 0x01, 0x02, 0x07
local ROUTE_REQUEST, ROUTE_REPLY, NETWORK_STATUS = 0x01, 0x02, 0x03
local ROUTE_RECORD, LINK_STATUS = 0x05, 0x08
local NWK_ADDR_REQ, DEVICE_ANNCE, NWK_ADDR_RSP = 0x0000, 0x0013, 0x8000

local FRAME_TYPES = { [DATA] = "Data", [COMMAND] = "Command" }
local DISCOVER = { [0] = "Suppress", [1] = "Enable" }
local JOIN_KINDS = { [BEACON] = "Beacon", [ASSOCIATION_REQUEST] = "Association request",
                     [ASSOCIATION_RESPONSE] = "Association response",
                     [BEACON_REQUEST] = "Beacon request" }
local COMMANDS = { [ROUTE_REQUEST] = "Route request", [ROUTE_REPLY] = "Route reply",
                   [NETWORK_STATUS] = "Network status", [ROUTE_RECORD] = "Route record",
                   [LINK_STATUS] = "Link status" }
local CLUSTERS = { [NWK_ADDR_REQ] = "NWK_addr_req", [DEVICE_ANNCE] = "Device_annce",
                   [NWK_ADDR_RSP] = "NWK_addr_rsp" }
local MANY_TO_ONE = { [0] = "Not many-to-one", [1] = "Many-to-one, route record wanted",
                      [2] = "Many-to-one, no route record", [3] = "Reserved" }
local STATUS_CODES = { [0x00] = "No route available", [0x01] = "Tree link failure",
                       [0x02] = "Non-tree link failure", [0x0B] = "Source route failure",
                       [0x0C] = "Many-to-one route failure" }
local ASSOC_STATUS = { [0] = "Success", [1] = "PAN at capacity", [2] = "Access denied" }
local ZDO_STATUS = { [0x00] = "Success", [0x81] = "Device not found" }

-- NWK header fields, once for control frames (meshnet.zigbee.*) and once for data packets'
-- headers (meshnet.zigbee.header.*).
local function nwk_fields(p)
    return {
        fc = ProtoField.uint16(p .. ".fc", "Frame control", base.HEX),
        frame_type = ProtoField.uint16(p .. ".frame_type", "Frame type", base.DEC, FRAME_TYPES,
                                       0x0003),
        version = ProtoField.uint16(p .. ".version", "Protocol version", base.DEC, nil, 0x003C),
        discover = ProtoField.uint16(p .. ".discover_route", "Discover route", base.DEC,
                                     DISCOVER, 0x00C0),
        multicast = ProtoField.bool(p .. ".multicast", "Multicast", 16, nil, 0x0100),
        security = ProtoField.bool(p .. ".security", "Security", 16, nil, 0x0200),
        source_route = ProtoField.bool(p .. ".source_route", "Source route", 16, nil, 0x0400),
        dst_ieee_present = ProtoField.bool(p .. ".dst_ieee_present", "Destination IEEE address",
                                           16, nil, 0x0800),
        src_ieee_present = ProtoField.bool(p .. ".src_ieee_present", "Source IEEE address", 16,
                                           nil, 0x1000),
        fc_reserved = ProtoField.uint16(p .. ".fc_reserved", "Reserved", base.HEX, nil, 0xE000),
        dst = ProtoField.uint16(p .. ".dst", "Destination", base.HEX),
        src = ProtoField.uint16(p .. ".src", "Source", base.HEX),
        radius = ProtoField.uint8(p .. ".radius", "Radius", base.DEC),
        seq = ProtoField.uint8(p .. ".seq", "Sequence number", base.DEC),
        dst_ieee = ProtoField.uint64(p .. ".dst_ieee", "Destination IEEE address", base.HEX),
        dst_node = ProtoField.ipv4(p .. ".dst_node", "Destination node"),
        src_ieee = ProtoField.uint64(p .. ".src_ieee", "Source IEEE address", base.HEX),
        src_node = ProtoField.ipv4(p .. ".src_node", "Source node"),
        relay_count = ProtoField.uint8(p .. ".relay_count", "Relay count", base.DEC),
        relay_index = ProtoField.uint8(p .. ".relay_index", "Relay index", base.DEC),
        relay = ProtoField.uint16(p .. ".relay", "Relay", base.HEX),
    }
end

local function field_list(t, order)
    local out = {}
    for _, key in ipairs(order) do
        out[#out + 1] = t[key]
    end
    return out
end

local NWK_ORDER = { "fc", "frame_type", "version", "discover", "multicast", "security",
                    "source_route", "dst_ieee_present", "src_ieee_present", "fc_reserved", "dst",
                    "src", "radius", "seq", "dst_ieee", "dst_node", "src_ieee", "src_node",
                    "relay_count", "relay_index", "relay" }

-- An 8-byte IEEE address at `range` (little-endian) and the node it stands for; malformed when
-- its upper 32 bits are set. True when it is good.
local function add_ieee(tree, e, ieee_field, node_field, range)
    local item = tree:add_le(ieee_field, range)
    if range(4, 4):uint() ~= 0 then
        common.malformed(item, e, range, string.format(
            "extended address 0x%s is not a meshnet node address", range:le_uint64():tohex()))
        return false
    end
    item:add_le(node_field, range(0, 4))
    return true
end

local function hex16(range)
    return string.format("0x%04x", range:le_uint())
end

-- The NWK header at the start of `tvb`. Returns its frame type and length, or nil when the
-- Python decoder rejects it (reported on `e`).
local function dissect_nwk(tvb, root, f, e)
    if not common.need(tvb, root, e, 0, 8, "NWK header") then
        return nil
    end
    local fc = tvb(0, 2):le_uint()
    local fc_item = root:add_le(f.fc, tvb(0, 2))
    for _, key in ipairs({ "frame_type", "version", "discover", "multicast", "security",
                           "source_route", "dst_ieee_present", "src_ieee_present",
                           "fc_reserved" }) do
        fc_item:add_le(f[key], tvb(0, 2))
    end
    if fc >= 0x2000 then
        fc_item:add_proto_expert_info(e.reserved)
    end
    root:add_le(f.dst, tvb(2, 2))
    root:add_le(f.src, tvb(4, 2))
    root:add(f.radius, tvb(6, 1))
    root:add(f.seq, tvb(7, 1))
    local version, kind = math.floor(fc / 4) % 16, fc % 4
    if version ~= PROTOCOL_VERSION then
        common.malformed(fc_item, e, tvb(0, 2), string.format(
            "NWK protocol version %d, expected %d", version, PROTOCOL_VERSION))
        return nil
    end
    if kind ~= DATA and kind ~= COMMAND then
        common.malformed(fc_item, e, tvb(0, 2), string.format(
            "NWK frame type %d (only 0 data and 1 command are used)", kind))
        return nil
    end
    if math.floor(fc / 0x100) % 4 ~= 0 then
        common.malformed(fc_item, e, tvb(0, 2), "NWK multicast and security are not supported")
        return nil
    end
    local i = 8
    if math.floor(fc / 0x800) % 2 == 1 then
        if not common.need(tvb, root, e, i, 8, "destination IEEE address") then
            return nil
        end
        if not add_ieee(root, e, f.dst_ieee, f.dst_node, tvb(i, 8)) then
            return nil
        end
        i = i + 8
    end
    if math.floor(fc / 0x1000) % 2 == 1 then
        if not common.need(tvb, root, e, i, 8, "source IEEE address") then
            return nil
        end
        if not add_ieee(root, e, f.src_ieee, f.src_node, tvb(i, 8)) then
            return nil
        end
        i = i + 8
    end
    if math.floor(fc / 0x400) % 2 == 1 then
        if not common.need(tvb, root, e, i, 2, "NWK source route") then
            return nil
        end
        local count, index = tvb(i, 1):uint(), tvb(i + 1, 1):uint()
        root:add(f.relay_count, tvb(i, 1))
        local index_item = root:add(f.relay_index, tvb(i + 1, 1))
        if not common.need(tvb, root, e, i + 2, 2 * count, string.format(
                "NWK source route of %d relays", count)) then
            return nil
        end
        for k = 0, count - 1 do
            root:add_le(f.relay, tvb(i + 2 + 2 * k, 2))
        end
        if (count > 0 and index >= count) or (count == 0 and index ~= 0) then
            common.malformed(index_item, e, tvb(i + 1, 1), string.format(
                "NWK relay index %d not below the relay count %d", index, count))
            return nil
        end
        i = i + 2 + 2 * count
    end
    return kind, i
end

-- Control frames (UDP 6360) ----------------------------------------------------------------

local proto, ex = common.proto("meshnet.zigbee", "meshnet ZigBee")

local n = nwk_fields("meshnet.zigbee")
local f = {
    command = ProtoField.uint8("meshnet.zigbee.command", "NWK command", base.HEX, COMMANDS),
    rreq_options = ProtoField.uint8("meshnet.zigbee.rreq.options", "Options", base.HEX),
    many_to_one = ProtoField.uint8("meshnet.zigbee.rreq.many_to_one", "Many-to-one", base.DEC,
                                   MANY_TO_ONE, 0x18),
    rreq_ieee_present = ProtoField.bool("meshnet.zigbee.rreq.dst_ieee_present",
                                        "Destination IEEE address", 8, nil, 0x20),
    rreq_id = ProtoField.uint8("meshnet.zigbee.rreq.id", "Route request identifier", base.DEC),
    rreq_dst = ProtoField.uint16("meshnet.zigbee.rreq.dst", "Destination", base.HEX),
    rreq_cost = ProtoField.uint8("meshnet.zigbee.rreq.path_cost", "Path cost", base.DEC),
    rreq_dst_ieee = ProtoField.uint64("meshnet.zigbee.rreq.dst_ieee", "Destination IEEE address",
                                      base.HEX),
    rreq_dst_node = ProtoField.ipv4("meshnet.zigbee.rreq.dst_node", "Destination node"),
    rrep_options = ProtoField.uint8("meshnet.zigbee.rrep.options", "Options", base.HEX),
    rrep_orig_present = ProtoField.bool("meshnet.zigbee.rrep.orig_ieee_present",
                                        "Originator IEEE address", 8, nil, 0x10),
    rrep_resp_present = ProtoField.bool("meshnet.zigbee.rrep.resp_ieee_present",
                                        "Responder IEEE address", 8, nil, 0x20),
    rrep_id = ProtoField.uint8("meshnet.zigbee.rrep.id", "Route request identifier", base.DEC),
    rrep_orig = ProtoField.uint16("meshnet.zigbee.rrep.originator", "Originator", base.HEX),
    rrep_resp = ProtoField.uint16("meshnet.zigbee.rrep.responder", "Responder", base.HEX),
    rrep_cost = ProtoField.uint8("meshnet.zigbee.rrep.path_cost", "Path cost", base.DEC),
    rrep_orig_ieee = ProtoField.uint64("meshnet.zigbee.rrep.orig_ieee",
                                       "Originator IEEE address", base.HEX),
    rrep_orig_node = ProtoField.ipv4("meshnet.zigbee.rrep.orig_node", "Originator node"),
    rrep_resp_ieee = ProtoField.uint64("meshnet.zigbee.rrep.resp_ieee", "Responder IEEE address",
                                       base.HEX),
    rrep_resp_node = ProtoField.ipv4("meshnet.zigbee.rrep.resp_node", "Responder node"),
    status_code = ProtoField.uint8("meshnet.zigbee.status.code", "Status code", base.HEX,
                                   STATUS_CODES),
    status_dst = ProtoField.uint16("meshnet.zigbee.status.dst", "Destination", base.HEX),
    record_count = ProtoField.uint8("meshnet.zigbee.record.count", "Relay count", base.DEC),
    record_relay = ProtoField.uint16("meshnet.zigbee.record.relay", "Relay", base.HEX),
    ls_options = ProtoField.uint8("meshnet.zigbee.link_status.options", "Options", base.HEX),
    ls_count = ProtoField.uint8("meshnet.zigbee.link_status.count", "Entry count", base.DEC, nil,
                                0x1F),
    ls_first = ProtoField.bool("meshnet.zigbee.link_status.first", "First frame", 8, nil, 0x20),
    ls_last = ProtoField.bool("meshnet.zigbee.link_status.last", "Last frame", 8, nil, 0x40),
    ls_entry = ProtoField.none("meshnet.zigbee.link_status.entry", "Link"),
    ls_address = ProtoField.uint16("meshnet.zigbee.link_status.address", "Neighbour", base.HEX),
    ls_incoming = ProtoField.uint8("meshnet.zigbee.link_status.incoming", "Incoming cost",
                                   base.DEC, nil, 0x07),
    ls_outgoing = ProtoField.uint8("meshnet.zigbee.link_status.outgoing", "Outgoing cost",
                                   base.DEC, nil, 0x70),
    cluster = ProtoField.uint16("meshnet.zigbee.zdo.cluster", "ZDO cluster", base.HEX, CLUSTERS),
    tsn = ProtoField.uint8("meshnet.zigbee.zdo.tsn", "Transaction sequence number", base.DEC),
    zdo_address = ProtoField.uint16("meshnet.zigbee.zdo.address", "Network address", base.HEX),
    zdo_ieee = ProtoField.uint64("meshnet.zigbee.zdo.ieee", "IEEE address", base.HEX),
    zdo_node = ProtoField.ipv4("meshnet.zigbee.zdo.node", "Node"),
    zdo_status = ProtoField.uint8("meshnet.zigbee.zdo.status", "Status", base.HEX, ZDO_STATUS),
    request_type = ProtoField.uint8("meshnet.zigbee.zdo.request_type", "Request type", base.DEC),
    start_index = ProtoField.uint8("meshnet.zigbee.zdo.start_index", "Start index", base.DEC),
    capability = ProtoField.uint8("meshnet.zigbee.capability", "Capability information",
                                  base.HEX),
    cap_alt = ProtoField.bool("meshnet.zigbee.capability.alt_coordinator",
                              "Alternate PAN coordinator", 8, nil, 0x01),
    cap_router = ProtoField.bool("meshnet.zigbee.capability.router", "Router (full function)", 8,
                                 nil, 0x02),
    cap_mains = ProtoField.bool("meshnet.zigbee.capability.mains_power", "Mains powered", 8, nil,
                                0x04),
    cap_rx = ProtoField.bool("meshnet.zigbee.capability.rx_on_idle", "Receiver on when idle", 8,
                             nil, 0x08),
    cap_security = ProtoField.bool("meshnet.zigbee.capability.security", "Security capable", 8,
                                   nil, 0x40),
    cap_allocate = ProtoField.bool("meshnet.zigbee.capability.allocate_address",
                                   "Allocate address", 8, nil, 0x80),
    mac = ProtoField.uint8("meshnet.zigbee.mac", "Join frame marker", base.HEX),
    join = ProtoField.uint8("meshnet.zigbee.join", "Join frame", base.HEX, JOIN_KINDS),
    assoc_address = ProtoField.uint16("meshnet.zigbee.assoc.address", "Short address", base.HEX),
    assoc_status = ProtoField.uint8("meshnet.zigbee.assoc.status", "Association status",
                                    base.HEX, ASSOC_STATUS),
    beacon_src = ProtoField.uint16("meshnet.zigbee.beacon.src", "Source address", base.HEX),
    superframe = ProtoField.uint16("meshnet.zigbee.beacon.superframe",
                                   "Superframe specification", base.HEX),
    beacon_order = ProtoField.uint16("meshnet.zigbee.beacon.beacon_order", "Beacon order",
                                     base.DEC, nil, 0x000F),
    superframe_order = ProtoField.uint16("meshnet.zigbee.beacon.superframe_order",
                                         "Superframe order", base.DEC, nil, 0x00F0),
    final_cap = ProtoField.uint16("meshnet.zigbee.beacon.final_cap_slot", "Final CAP slot",
                                  base.DEC, nil, 0x0F00),
    battery_ext = ProtoField.bool("meshnet.zigbee.beacon.battery_extension",
                                  "Battery life extension", 16, nil, 0x1000),
    pan_coordinator = ProtoField.bool("meshnet.zigbee.beacon.pan_coordinator", "PAN coordinator",
                                      16, nil, 0x4000),
    permit_join = ProtoField.bool("meshnet.zigbee.beacon.permit_join", "Association permit", 16,
                                  nil, 0x8000),
    protocol_id = ProtoField.uint8("meshnet.zigbee.beacon.protocol_id", "Protocol ID", base.DEC),
    stack_profile = ProtoField.uint8("meshnet.zigbee.beacon.stack_profile", "Stack profile",
                                     base.DEC, nil, 0x0F),
    beacon_version = ProtoField.uint8("meshnet.zigbee.beacon.protocol_version",
                                      "Protocol version", base.DEC, nil, 0xF0),
    device_info = ProtoField.uint8("meshnet.zigbee.beacon.device_info", "Device information",
                                   base.HEX),
    router_capacity = ProtoField.bool("meshnet.zigbee.beacon.router_capacity", "Router capacity",
                                      8, nil, 0x04),
    depth = ProtoField.uint8("meshnet.zigbee.beacon.depth", "Device depth", base.DEC, nil, 0x78),
    end_device_capacity = ProtoField.bool("meshnet.zigbee.beacon.end_device_capacity",
                                          "End device capacity", 8, nil, 0x80),
    epid = ProtoField.uint64("meshnet.zigbee.beacon.extended_pan_id", "Extended PAN ID",
                             base.HEX),
    tx_offset = ProtoField.uint24("meshnet.zigbee.beacon.tx_offset", "Tx offset", base.HEX),
    update_id = ProtoField.uint8("meshnet.zigbee.beacon.update_id", "nwkUpdateId", base.DEC),
}
local fields = field_list(n, NWK_ORDER)
for _, key in ipairs({ "command", "rreq_options", "many_to_one", "rreq_ieee_present", "rreq_id",
                       "rreq_dst", "rreq_cost", "rreq_dst_ieee", "rreq_dst_node", "rrep_options",
                       "rrep_orig_present", "rrep_resp_present", "rrep_id", "rrep_orig",
                       "rrep_resp", "rrep_cost", "rrep_orig_ieee", "rrep_orig_node",
                       "rrep_resp_ieee", "rrep_resp_node", "status_code", "status_dst",
                       "record_count", "record_relay", "ls_options", "ls_count", "ls_first",
                       "ls_last", "ls_entry", "ls_address", "ls_incoming", "ls_outgoing",
                       "cluster", "tsn", "zdo_address", "zdo_ieee", "zdo_node", "zdo_status",
                       "request_type", "start_index", "capability", "cap_alt", "cap_router",
                       "cap_mains", "cap_rx", "cap_security", "cap_allocate", "mac", "join",
                       "assoc_address", "assoc_status", "beacon_src", "superframe",
                       "beacon_order", "superframe_order", "final_cap", "battery_ext",
                       "pan_coordinator", "permit_join", "protocol_id", "stack_profile",
                       "beacon_version", "device_info", "router_capacity", "depth",
                       "end_device_capacity", "epid", "tx_offset", "update_id" }) do
    fields[#fields + 1] = f[key]
end
proto.fields = fields

-- `tvb` holds exactly `size` bytes from `at`, else malformed (too short or trailing bytes).
local function exact(tvb, root, at, size, what)
    if not common.need(tvb, root, ex, at, size, what) then
        return false
    end
    return not common.trailing(tvb, root, ex, at + size, what)
end

-- Notes any bit of `value` outside `used`: meshnet sends those as 0 and ignores them.
local function add_reserved(item, value, used)
    local bit = 1
    while value > 0 do
        if value % 2 == 1 and math.floor(used / bit) % 2 == 0 then
            item:add_proto_expert_info(ex.reserved)
            return
        end
        value, bit = math.floor(value / 2), bit * 2
    end
end

local function add_capability(tree, range)
    local item = tree:add(f.capability, range)
    for _, key in ipairs({ "cap_alt", "cap_router", "cap_mains", "cap_rx", "cap_security",
                           "cap_allocate" }) do
        item:add(f[key], range)
    end
end

local function route_request(tvb, at, root)
    if not common.need(tvb, root, ex, at, 6, "route request") then
        return "Route request (truncated)"
    end
    local opts = tvb(at + 1, 1):uint()
    local opts_item = root:add(f.rreq_options, tvb(at + 1, 1))
    local m2o_item = opts_item:add(f.many_to_one, tvb(at + 1, 1))
    opts_item:add(f.rreq_ieee_present, tvb(at + 1, 1))
    add_reserved(opts_item, opts, 0x38)
    root:add(f.rreq_id, tvb(at + 2, 1))
    root:add_le(f.rreq_dst, tvb(at + 3, 2))
    root:add(f.rreq_cost, tvb(at + 5, 1))
    local has_ieee = math.floor(opts / 0x20) % 2 == 1
    if not exact(tvb, root, at, has_ieee and 14 or 6, "route request") then
        return "Route request (malformed)"
    end
    if has_ieee then
        add_ieee(root, ex, f.rreq_dst_ieee, f.rreq_dst_node, tvb(at + 6, 8))
    end
    if math.floor(opts / 8) % 4 == 3 then
        common.malformed(m2o_item, ex, tvb(at + 1, 1),
                         "route request many-to-one field 3 is reserved")
    end
    return string.format("Route request id=%d dst=%s cost=%d%s", tvb(at + 2, 1):uint(),
                         hex16(tvb(at + 3, 2)), tvb(at + 5, 1):uint(),
                         math.floor(opts / 8) % 4 ~= 0 and " many-to-one" or "")
end

local function route_reply(tvb, at, root)
    if not common.need(tvb, root, ex, at, 8, "route reply") then
        return "Route reply (truncated)"
    end
    local opts = tvb(at + 1, 1):uint()
    local opts_item = root:add(f.rrep_options, tvb(at + 1, 1))
    opts_item:add(f.rrep_orig_present, tvb(at + 1, 1))
    opts_item:add(f.rrep_resp_present, tvb(at + 1, 1))
    add_reserved(opts_item, opts, 0x30)
    root:add(f.rrep_id, tvb(at + 2, 1))
    root:add_le(f.rrep_orig, tvb(at + 3, 2))
    root:add_le(f.rrep_resp, tvb(at + 5, 2))
    root:add(f.rrep_cost, tvb(at + 7, 1))
    local orig_ieee = math.floor(opts / 0x10) % 2 == 1
    local resp_ieee = math.floor(opts / 0x20) % 2 == 1
    local size = 8 + (orig_ieee and 8 or 0) + (resp_ieee and 8 or 0)
    if not exact(tvb, root, at, size, "route reply") then
        return "Route reply (malformed)"
    end
    local i = at + 8
    if orig_ieee then
        add_ieee(root, ex, f.rrep_orig_ieee, f.rrep_orig_node, tvb(i, 8))
        i = i + 8
    end
    if resp_ieee then
        add_ieee(root, ex, f.rrep_resp_ieee, f.rrep_resp_node, tvb(i, 8))
    end
    return string.format("Route reply id=%d %s -> %s cost=%d", tvb(at + 2, 1):uint(),
                         hex16(tvb(at + 5, 2)), hex16(tvb(at + 3, 2)), tvb(at + 7, 1):uint())
end

local function network_status(tvb, at, root)
    if not exact(tvb, root, at, 4, "network status") then
        return "Network status (malformed)"
    end
    root:add(f.status_code, tvb(at + 1, 1))
    root:add_le(f.status_dst, tvb(at + 2, 2))
    return string.format("Network status 0x%02x (%s) for %s", tvb(at + 1, 1):uint(),
                         STATUS_CODES[tvb(at + 1, 1):uint()] or "unknown",
                         hex16(tvb(at + 2, 2)))
end

local function route_record(tvb, at, root)
    if not common.need(tvb, root, ex, at, 2, "route record") then
        return "Route record (truncated)"
    end
    local count = tvb(at + 1, 1):uint()
    root:add(f.record_count, tvb(at + 1, 1))
    if not exact(tvb, root, at, 2 + 2 * count, string.format("route record of %d relays",
                                                              count)) then
        return "Route record (malformed)"
    end
    local relays = {}
    for k = 0, count - 1 do
        root:add_le(f.record_relay, tvb(at + 2 + 2 * k, 2))
        relays[#relays + 1] = hex16(tvb(at + 2 + 2 * k, 2))
    end
    return "Route record via " .. (count > 0 and table.concat(relays, " ") or "no relay")
end

local function link_status(tvb, at, root)
    if not common.need(tvb, root, ex, at, 2, "link status") then
        return "Link status (truncated)"
    end
    local opts = tvb(at + 1, 1):uint()
    local count = opts % 0x20
    local opts_item = root:add(f.ls_options, tvb(at + 1, 1))
    opts_item:add(f.ls_count, tvb(at + 1, 1))
    opts_item:add(f.ls_first, tvb(at + 1, 1))
    opts_item:add(f.ls_last, tvb(at + 1, 1))
    add_reserved(opts_item, opts, 0x7F)
    if not exact(tvb, root, at, 2 + 3 * count, string.format("link status of %d entries",
                                                              count)) then
        return "Link status (malformed)"
    end
    for k = 0, count - 1 do
        local off = at + 2 + 3 * k
        local costs = tvb(off + 2, 1):uint()
        local item = root:add(f.ls_entry, tvb(off, 3))
        item:set_text(string.format("Link: %s, incoming cost %d, outgoing cost %d",
                                    hex16(tvb(off, 2)), costs % 8, math.floor(costs / 16) % 8))
        item:add_le(f.ls_address, tvb(off, 2))
        item:add(f.ls_incoming, tvb(off + 2, 1))
        item:add(f.ls_outgoing, tvb(off + 2, 1))
        add_reserved(item, costs, 0x77)
    end
    return "Link status, " .. common.count(count, "neighbour", "neighbours")
end

local COMMAND_BODY = { [ROUTE_REQUEST] = route_request, [ROUTE_REPLY] = route_reply,
                       [NETWORK_STATUS] = network_status, [ROUTE_RECORD] = route_record,
                       [LINK_STATUS] = link_status }

local function dissect_command(tvb, at, root)
    if not common.need(tvb, root, ex, at, 1, "NWK command") then
        return "NWK command (truncated)"
    end
    local id = tvb(at, 1):uint()
    local item = root:add(f.command, tvb(at, 1))
    local handler = COMMAND_BODY[id]
    if handler == nil then
        common.malformed(item, ex, tvb(at, 1), string.format("unknown NWK command 0x%02x", id))
        return string.format("NWK command 0x%02x", id)
    end
    return handler(tvb, at, root)
end

local function dissect_zdo(tvb, at, root)
    if not common.need(tvb, root, ex, at, 3, "ZDO command") then
        return "ZDO (truncated)"
    end
    local cluster = tvb(at, 2):le_uint()
    local item = root:add_le(f.cluster, tvb(at, 2))
    root:add(f.tsn, tvb(at + 2, 1))
    local name = CLUSTERS[cluster]
    if name == nil then
        common.malformed(item, ex, tvb(at, 2), string.format("unknown ZDO cluster 0x%04x",
                                                             cluster))
        return string.format("ZDO cluster 0x%04x", cluster)
    end
    local size = cluster == NWK_ADDR_REQ and 13 or 14
    if not exact(tvb, root, at, size, name) then
        return name .. " (malformed)"
    end
    local info
    if cluster == DEVICE_ANNCE then
        root:add_le(f.zdo_address, tvb(at + 3, 2))
        add_ieee(root, ex, f.zdo_ieee, f.zdo_node, tvb(at + 5, 8))
        add_capability(root, tvb(at + 13, 1))
        info = string.format("Device_annce %s is %s", tvb(at + 5, 4):le_ipv4(),
                             hex16(tvb(at + 3, 2)))
    elseif cluster == NWK_ADDR_REQ then
        add_ieee(root, ex, f.zdo_ieee, f.zdo_node, tvb(at + 3, 8))
        root:add(f.request_type, tvb(at + 11, 1))
        root:add(f.start_index, tvb(at + 12, 1))
        info = string.format("NWK_addr_req for %s", tvb(at + 3, 4):le_ipv4())
    else
        root:add(f.zdo_status, tvb(at + 3, 1))
        add_ieee(root, ex, f.zdo_ieee, f.zdo_node, tvb(at + 4, 8))
        root:add_le(f.zdo_address, tvb(at + 12, 2))
        info = string.format("NWK_addr_rsp %s is %s (%s)", tvb(at + 4, 4):le_ipv4(),
                             hex16(tvb(at + 12, 2)),
                             ZDO_STATUS[tvb(at + 3, 1):uint()] or "status " .. tvb(at + 3, 1):uint())
    end
    return string.format("%s tsn=%d", info, tvb(at + 2, 1):uint())
end

local function dissect_beacon(tvb, root)
    if not exact(tvb, root, 0, 21, "beacon") then
        return "Beacon (malformed)"
    end
    root:add_le(f.beacon_src, tvb(2, 2))
    local sf = root:add_le(f.superframe, tvb(4, 2))
    for _, key in ipairs({ "beacon_order", "superframe_order", "final_cap", "battery_ext",
                           "pan_coordinator", "permit_join" }) do
        sf:add_le(f[key], tvb(4, 2))
    end
    local id_item = root:add(f.protocol_id, tvb(6, 1))
    root:add(f.stack_profile, tvb(7, 1))
    local version_item = root:add(f.beacon_version, tvb(7, 1))
    local info = root:add(f.device_info, tvb(8, 1))
    info:add(f.router_capacity, tvb(8, 1))
    info:add(f.depth, tvb(8, 1))
    info:add(f.end_device_capacity, tvb(8, 1))
    add_reserved(info, tvb(8, 1):uint(), 0xFC)
    root:add_le(f.epid, tvb(9, 8))
    root:add_le(f.tx_offset, tvb(17, 3))
    root:add(f.update_id, tvb(20, 1))
    if tvb(6, 1):uint() ~= 0 then
        common.malformed(id_item, ex, tvb(6, 1), string.format(
            "beacon protocol id %d, expected 0 (ZigBee)", tvb(6, 1):uint()))
    end
    local version = math.floor(tvb(7, 1):uint() / 16)
    if version ~= PROTOCOL_VERSION then
        common.malformed(version_item, ex, tvb(7, 1), string.format(
            "beacon protocol version %d, expected %d", version, PROTOCOL_VERSION))
    end
    local byte = tvb(8, 1):uint()
    local flags = {}
    if math.floor(tvb(4, 2):le_uint() / 0x8000) == 1 then
        flags[#flags + 1] = "permit join"
    end
    if math.floor(byte / 4) % 2 == 1 then
        flags[#flags + 1] = "router capacity"
    end
    if byte >= 0x80 then
        flags[#flags + 1] = "end device capacity"
    end
    return string.format("Beacon from %s depth %d%s", hex16(tvb(2, 2)),
                         math.floor(byte / 8) % 16,
                         #flags > 0 and ", " .. table.concat(flags, ", ") or "")
end

local function dissect_join(tvb, root)
    root:add(f.mac, tvb(0, 1))
    if not common.need(tvb, root, ex, 0, 2, "join frame") then
        return "Join frame (truncated)"
    end
    local kind = tvb(1, 1):uint()
    local item = root:add(f.join, tvb(1, 1))
    if kind == BEACON_REQUEST then
        exact(tvb, root, 0, 2, "beacon request")
        return "Beacon request"
    elseif kind == ASSOCIATION_REQUEST then
        if not exact(tvb, root, 0, 3, "association request") then
            return "Association request (malformed)"
        end
        add_capability(root, tvb(2, 1))
        return string.format("Association request (%s)", math.floor(tvb(2, 1):uint() / 2) % 2
                             == 1 and "router" or "end device")
    elseif kind == ASSOCIATION_RESPONSE then
        if not exact(tvb, root, 0, 5, "association response") then
            return "Association response (malformed)"
        end
        root:add_le(f.assoc_address, tvb(2, 2))
        root:add(f.assoc_status, tvb(4, 1))
        return string.format("Association response %s: %s", hex16(tvb(2, 2)),
                             ASSOC_STATUS[tvb(4, 1):uint()] or "status " .. tvb(4, 1):uint())
    elseif kind == BEACON then
        return dissect_beacon(tvb, root)
    end
    common.malformed(item, ex, tvb(1, 1), string.format(
        "unknown join frame kind 0x%02x (expected 0x00 beacon, 0x01/0x02 association "
        .. "request/response, 0x07 beacon request)", kind))
    return string.format("Join frame 0x%02x", kind)
end

-- A frame on the port: a join frame (first byte MAC) or an NWK frame; the Info text.
local function dissect_frame(tvb, root)
    if tvb(0, 1):uint() == MAC then
        return dissect_join(tvb, root)
    end
    local kind, at = dissect_nwk(tvb, root, n, ex)
    if kind == nil then
        return "NWK frame (malformed)"
    end
    local head = string.format("%s -> %s seq=%d: ", hex16(tvb(4, 2)), hex16(tvb(2, 2)),
                               tvb(7, 1):uint())
    return head .. (kind == COMMAND and dissect_command(tvb, at, root)
                    or dissect_zdo(tvb, at, root))
end

common.udp_port(proto, PORT, common.message_dissector(proto, ex, "ZigBee", "ZigBee frame",
                                                      dissect_frame))

-- Data packets' NWK header (IPv4 option 222) -----------------------------------------------

local header, hex = common.proto("meshnet.zigbee.header", "meshnet ZigBee NWK header")

local hf = nwk_fields("meshnet.zigbee.header")
hf.option_type = ProtoField.uint8("meshnet.zigbee.header.option_type", "IPv4 option type",
                                  base.HEX)
hf.option_length = ProtoField.uint8("meshnet.zigbee.header.option_length", "IPv4 option length",
                                    base.DEC)
local header_fields = field_list(hf, NWK_ORDER)
header_fields[#header_fields + 1] = hf.option_type
header_fields[#header_fields + 1] = hf.option_length
header.fields = header_fields

local function dissect_header(option, pinfo, tree)
    local root = tree:add(header, option)
    root:add(hf.option_type, option(0, 1))
    root:add(hf.option_length, option(1, 1))
    if option:len() <= 2 then
        common.malformed(root, hex, option, "ZigBee NWK header: empty")
        return
    end
    local body = option(2):tvb()
    local kind, size = dissect_nwk(body, root, hf, hex)
    if kind == nil then
        return
    end
    if kind ~= DATA then
        common.malformed(root, hex, body(0, 2), "a data packet's NWK header must be a data frame")
        return
    end
    common.trailing(body, root, hex, size, "NWK header")
    local info = string.format("ZigBee %s -> %s radius %d seq %d", hex16(body(4, 2)),
                               hex16(body(2, 2)), body(6, 1):uint(), body(7, 1):uint())
    root:append_text(", " .. info)
    pinfo.cols.info:append(" [" .. info .. "]")
end

common.ipv4_option_postdissector(header, IP_OPTION, dissect_header)
