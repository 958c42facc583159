-- meshnet GPSR (protocols/gpsr/wire.py): position beacons on UDP port 61500, and the
-- per-packet GPSR header that data packets carry as IPv4 option 158 (0x9E).
--
-- Positions are int32 millimetres.
--   Beacon (12 bytes): type (1), version (1), reserved (2), x, y of the sender
--   Header (14 bytes greedy, 38 perimeter): version (high 4 bits) = 1 | mode (low 4 bits:
--     0 greedy, 1 perimeter), perimeter hops, sender IPv4, D.x, D.y; perimeter mode adds
--     Lp.x, Lp.y, Lf.x, Lf.y, e0 tail IPv4, e0 head IPv4
--
-- Wireshark's IPv4 dissector shows option 158 as "Unknown"; the header is decoded by a
-- post-dissector that finds the option in the IPv4 header of every frame. Z-Wave's data header
-- travels as option 158 too: a body of 5 to 9 bytes is left to meshnet_zwave.lua.

local common = require "meshnet_common"

local PORT = 61500
local IP_OPTION = common.OPTION_158
local VERSION = 1
local BEACON = 1
local BEACON_SIZE = 12
local GREEDY, PERIMETER = 0, 1
local GREEDY_SIZE, PERIMETER_SIZE = 14, 38
local MODES = { [GREEDY] = "greedy", [PERIMETER] = "perimeter" }
local MESSAGES = { [BEACON] = "Beacon" }

-- Beacons -----------------------------------------------------------------------------------

local beacon, bex = common.proto("meshnet.gpsr", "meshnet GPSR")

local b = {
    type = ProtoField.uint8("meshnet.gpsr.type", "Type", base.DEC, MESSAGES),
    version = ProtoField.uint8("meshnet.gpsr.version", "Version", base.DEC),
    reserved = ProtoField.uint16("meshnet.gpsr.reserved", "Reserved", base.HEX),
    x = ProtoField.int32("meshnet.gpsr.x", "x (mm)", base.DEC),
    y = ProtoField.int32("meshnet.gpsr.y", "y (mm)", base.DEC),
}
beacon.fields = { b.type, b.version, b.reserved, b.x, b.y }

local function add_mm(tree, field, range)
    return tree:add(field, range):append_text(" (" .. common.metres(range:int()) .. ")")
end

local function dissect_beacon(tvb, root)
    if not common.need(tvb, root, bex, 0, BEACON_SIZE, "GPSR beacon") then
        return "Beacon (truncated)"
    end
    local version_item = root:add(b.version, tvb(1, 1))
    if tvb(1, 1):uint() ~= VERSION then
        common.malformed(version_item, bex, tvb(1, 1), string.format(
            "GPSR beacon version %d, expected %d", tvb(1, 1):uint(), VERSION))
    end
    local reserved_item = root:add(b.reserved, tvb(2, 2))
    if tvb(2, 2):uint() ~= 0 then
        reserved_item:add_proto_expert_info(bex.reserved)
    end
    add_mm(root, b.x, tvb(4, 4))
    add_mm(root, b.y, tvb(8, 4))
    common.trailing(tvb, root, bex, BEACON_SIZE, "GPSR beacon")
    return string.format("Beacon at (%s, %s)", common.metres(tvb(4, 4):int()),
                         common.metres(tvb(8, 4):int()))
end

common.udp_port(beacon, PORT, common.typed_dissector(beacon, bex, {
    column = "GPSR", placeholder = "GPSR beacon", what = "GPSR message", type_field = b.type,
    names = MESSAGES, handlers = { [BEACON] = dissect_beacon },
}))

-- Per-packet header (IPv4 option 158) ------------------------------------------------------

local header, hex = common.proto("meshnet.gpsr.header", "meshnet GPSR header")

local h = {
    option_type = ProtoField.uint8("meshnet.gpsr.header.option_type", "IPv4 option type",
                                   base.HEX),
    option_length = ProtoField.uint8("meshnet.gpsr.header.option_length", "IPv4 option length",
                                     base.DEC),
    version = ProtoField.uint8("meshnet.gpsr.header.version", "Version", base.DEC, nil, 0xF0),
    mode = ProtoField.uint8("meshnet.gpsr.header.mode", "Mode", base.DEC, MODES, 0x0F),
    perimeter_hops = ProtoField.uint8("meshnet.gpsr.header.perimeter_hops", "Perimeter hops",
                                      base.DEC),
    sender = ProtoField.ipv4("meshnet.gpsr.header.sender", "Sender (this hop)"),
    dest_x = ProtoField.int32("meshnet.gpsr.header.dest_x", "D.x, destination (mm)", base.DEC),
    dest_y = ProtoField.int32("meshnet.gpsr.header.dest_y", "D.y, destination (mm)", base.DEC),
    lp_x = ProtoField.int32("meshnet.gpsr.header.lp_x", "Lp.x, entered perimeter mode (mm)",
                            base.DEC),
    lp_y = ProtoField.int32("meshnet.gpsr.header.lp_y", "Lp.y, entered perimeter mode (mm)",
                            base.DEC),
    lf_x = ProtoField.int32("meshnet.gpsr.header.lf_x", "Lf.x, entered current face (mm)",
                            base.DEC),
    lf_y = ProtoField.int32("meshnet.gpsr.header.lf_y", "Lf.y, entered current face (mm)",
                            base.DEC),
    e0_tail = ProtoField.ipv4("meshnet.gpsr.header.e0_tail", "e0 tail (first edge of the face)"),
    e0_head = ProtoField.ipv4("meshnet.gpsr.header.e0_head", "e0 head"),
}
header.fields = { h.option_type, h.option_length, h.version, h.mode, h.perimeter_hops, h.sender,
                  h.dest_x, h.dest_y, h.lp_x, h.lp_y, h.lf_x, h.lf_y, h.e0_tail, h.e0_head }

local function dissect_header(option, pinfo, tree)
    local root = tree:add(header, option)
    root:add(h.option_type, option(0, 1))
    root:add(h.option_length, option(1, 1))
    local size = option:len() - 2
    if size < 1 then
        common.malformed(root, hex, option, "GPSR header: empty")
        return
    end
    local body = option(2, size)
    local first = body(0, 1):uint()
    local version, mode = math.floor(first / 16), first % 16
    local version_item = root:add(h.version, body(0, 1))
    local mode_item = root:add(h.mode, body(0, 1))
    if version ~= VERSION then
        common.malformed(version_item, hex, body(0, 1), string.format(
            "GPSR header: version %d, expected %d", version, VERSION))
        return
    end
    local expected = (mode == GREEDY and GREEDY_SIZE) or (mode == PERIMETER and PERIMETER_SIZE)
    if not expected then
        common.malformed(mode_item, hex, body(0, 1),
                         string.format("GPSR header: unknown mode %d", mode))
        return
    end
    if size ~= expected then
        common.malformed(root, hex, body, string.format(
            "GPSR header: %s mode needs %d bytes, got %d", MODES[mode], expected, size))
        return
    end
    root:add(h.perimeter_hops, body(1, 1))
    root:add(h.sender, body(2, 4))
    add_mm(root, h.dest_x, body(6, 4))
    add_mm(root, h.dest_y, body(10, 4))
    local info = string.format("GPSR %s, D=(%s, %s)", MODES[mode], common.metres(body(6, 4):int()),
                               common.metres(body(10, 4):int()))
    if mode == PERIMETER then
        add_mm(root, h.lp_x, body(14, 4))
        add_mm(root, h.lp_y, body(18, 4))
        add_mm(root, h.lf_x, body(22, 4))
        add_mm(root, h.lf_y, body(26, 4))
        root:add(h.e0_tail, body(30, 4))
        root:add(h.e0_head, body(34, 4))
        info = info .. string.format(", perimeter hop %d", body(1, 1):uint())
    end
    root:append_text(", " .. info)
    pinfo.cols.info:append(" [" .. info .. "]")
end

-- Option 158 is also Z-Wave's data header (5 to 9 bytes), decoded by meshnet_zwave.lua.
common.ipv4_option_postdissector(header, IP_OPTION, function(option, pinfo, tree)
    if not common.option_158_is_zwave(option) then
        dissect_header(option, pinfo, tree)
    end
end)
