-- meshnet Z-Wave source routing (protocols/zwave/wire.py): control frames on UDP port 61501,
-- and the data header that data packets carry as IPv4 option 158 (0x9E). Network byte order.
--
-- Node IDs are one byte, 1..232. A route lists at most 4 repeaters, none of them twice nor an
-- end of the route. The hop index is the position of the node transmitting the frame: 0 the
-- originator, 1..k the repeaters, k + 1 the target.
--   find nodes in range (1), node in range (2): type, sender ID
--   routed (3):   type, originator, target, sequence number, flags (bit 0: inbound; the others
--                 must be 0), repeater count (high 4 bits) | hop index (low 4 bits), the
--                 repeaters, body
--   explorer (4): type, originator, target, sequence number, max repeaters (high 4 bits, <= 4)
--                 | repeaters collected (low 4 bits), those repeaters, body
-- Bodies (first byte: kind): range info (1: reporter IPv4, 29-byte node mask, each listed
-- neighbour's IPv4 in ID order), assign routes (2: destination ID, its IPv4, n, n x (count,
-- IDs)), route request (3: IPv4), unreachable (4: IPv4, reason 1 too far / 2 no route, hops),
-- ack (5), error (6: node that could not deliver, node it could not reach), nop (7), neighbor
-- update (8).
-- Data header (5 + k bytes): version 1 (high 4 bits) with the low 4 bits 0, source, destination,
-- sequence number, repeater count | hop index, the repeaters.
--
-- Option 158 is GPSR's header too; a body of 5 to 9 bytes is Z-Wave's (meshnet_common.lua).

local common = require "meshnet_common"

local PORT = 61501
local MAX_NODE_ID, MAX_REPEATERS = 232, 4
local FIND_NODES, NODE_IN_RANGE, ROUTED, EXPLORER = 1, 2, 3, 4
local RANGE_INFO, ASSIGN_ROUTES, ROUTE_REQUEST, UNREACHABLE = 1, 2, 3, 4
local ACK, ERROR, NOP, NEIGHBOR_UPDATE = 5, 6, 7, 8
local MASK_BYTES = 29
local HEADER_FIRST = 0x10 -- version 1, reserved bits 0

local TYPES = { [FIND_NODES] = "Find nodes in range", [NODE_IN_RANGE] = "Node in range",
                [ROUTED] = "Routed", [EXPLORER] = "Explorer" }
local BODIES = { [RANGE_INFO] = "Range info", [ASSIGN_ROUTES] = "Assign routes",
                 [ROUTE_REQUEST] = "Route request", [UNREACHABLE] = "Unreachable", [ACK] = "Ack",
                 [ERROR] = "Error", [NOP] = "Nop", [NEIGHBOR_UPDATE] = "Neighbor update" }
local EMPTY_BODIES = { [ACK] = true, [NOP] = true, [NEIGHBOR_UPDATE] = true }
local REASONS = { [1] = "more than the repeater limit away", [2] = "no route known" }

local proto, ex = common.proto("meshnet.zwave", "meshnet Z-Wave")

local f = {
    type = ProtoField.uint8("meshnet.zwave.type", "Type", base.DEC, TYPES),
    sender = ProtoField.uint8("meshnet.zwave.sender", "Sender node ID", base.DEC),
    orig = ProtoField.uint8("meshnet.zwave.orig", "Originator node ID", base.DEC),
    target = ProtoField.uint8("meshnet.zwave.target", "Target node ID", base.DEC),
    seq = ProtoField.uint8("meshnet.zwave.seq", "Sequence number", base.DEC),
    flags = ProtoField.uint8("meshnet.zwave.flags", "Flags", base.HEX),
    inbound = ProtoField.bool("meshnet.zwave.flags.inbound", "Inbound (walks the route back)", 8,
                              nil, 0x01),
    repeater_count = ProtoField.uint8("meshnet.zwave.repeater_count", "Repeater count", base.DEC,
                                      nil, 0xF0),
    hop = ProtoField.uint8("meshnet.zwave.hop", "Hop index (position of the transmitter)",
                           base.DEC, nil, 0x0F),
    max_repeaters = ProtoField.uint8("meshnet.zwave.max_repeaters", "Max repeaters", base.DEC,
                                     nil, 0xF0),
    collected = ProtoField.uint8("meshnet.zwave.collected", "Repeaters collected", base.DEC, nil,
                                 0x0F),
    repeater = ProtoField.uint8("meshnet.zwave.repeater", "Repeater node ID", base.DEC),
    body = ProtoField.uint8("meshnet.zwave.body", "Body", base.DEC, BODIES),
    address = ProtoField.ipv4("meshnet.zwave.address", "IPv4 address"),
    node_mask = ProtoField.bytes("meshnet.zwave.node_mask", "Neighbour node mask"),
    neighbor = ProtoField.none("meshnet.zwave.neighbor", "Neighbour"),
    neighbor_id = ProtoField.uint8("meshnet.zwave.neighbor.id", "Node ID", base.DEC),
    neighbor_address = ProtoField.ipv4("meshnet.zwave.neighbor.address", "IPv4 address"),
    dest = ProtoField.uint8("meshnet.zwave.dest", "Destination node ID", base.DEC),
    routes = ProtoField.uint8("meshnet.zwave.routes", "Route count", base.DEC),
    route = ProtoField.none("meshnet.zwave.route", "Route"),
    route_count = ProtoField.uint8("meshnet.zwave.route.count", "Repeater count", base.DEC),
    route_repeater = ProtoField.uint8("meshnet.zwave.route.repeater", "Repeater node ID",
                                      base.DEC),
    reason = ProtoField.uint8("meshnet.zwave.reason", "Reason", base.DEC, REASONS),
    hops = ProtoField.uint8("meshnet.zwave.hops", "Hops of the shortest known route (0: none)",
                            base.DEC),
    failed_from = ProtoField.uint8("meshnet.zwave.failed_from", "Node that could not deliver",
                                   base.DEC),
    failed_to = ProtoField.uint8("meshnet.zwave.failed_to", "Node it could not reach", base.DEC),
}
proto.fields = { f.type, f.sender, f.orig, f.target, f.seq, f.flags, f.inbound,
                 f.repeater_count, f.hop, f.max_repeaters, f.collected, f.repeater, f.body,
                 f.address, f.node_mask, f.neighbor, f.neighbor_id, f.neighbor_address, f.dest,
                 f.routes, f.route, f.route_count, f.route_repeater, f.reason, f.hops,
                 f.failed_from, f.failed_to }

-- Checks ------------------------------------------------------------------------------------
-- Each adds its field and reports the frame as malformed (on `e`, the expert fields of the
-- protocol it belongs to) when the Python decoder would reject it; true when it is good.

local function add_id(tree, e, field, range, what)
    local item = tree:add(field, range)
    local id = range:uint()
    if id < 1 or id > MAX_NODE_ID then
        common.malformed(item, e, range, string.format("%s node ID %d not in 1..%d", what, id,
                                                       MAX_NODE_ID))
        return false
    end
    return true
end

local function add_ends(tree, e, fields, tvb, at)
    local ok = add_id(tree, e, fields[1], tvb(at, 1), "originator")
    ok = add_id(tree, e, fields[2], tvb(at + 1, 1), "target") and ok
    if tvb(at, 1):uint() == tvb(at + 1, 1):uint() then
        common.malformed(tree, e, tvb(at, 2), string.format("from node %d to itself",
                                                            tvb(at, 1):uint()))
        return false
    end
    return ok
end

-- `count` repeater IDs at `at` (all present): each 1..232, none twice, none in `ends`.
local function add_route(tree, e, field, tvb, at, count, ends)
    local ok = true
    if count > MAX_REPEATERS then
        common.malformed(tree, e, tvb(at, count), string.format(
            "a route with %d repeaters (at most %d)", count, MAX_REPEATERS))
        ok = false
    end
    local seen = {}
    for _, id in ipairs(ends) do
        seen[id] = true
    end
    local ids = {}
    for k = 0, count - 1 do
        local range = tvb(at + k, 1)
        local id = range:uint()
        local good = add_id(tree, e, field, range, "repeater")
        ok = good and ok
        if good and seen[id] then
            common.malformed(tree, e, range, string.format("the route repeats node %d", id))
            ok = false
        end
        seen[id] = true
        ids[#ids + 1] = tostring(id)
    end
    return ok, table.concat(ids, " ")
end

local function check_hop(tree, e, range, hop, count)
    if hop > count + 1 then
        common.malformed(tree, e, range, string.format(
            "hop index %d beyond the route (0..%d)", hop, count + 1))
    end
end

-- Bodies ------------------------------------------------------------------------------------

-- The body `rest` bytes long at `at` must be `size` bytes after its kind byte.
local function body_size(tree, tvb, at, size, name)
    local have = tvb:len() - at - 1
    if have ~= size then
        common.malformed(tree, ex, have > 0 and tvb(at + 1) or tvb(at, 1), string.format(
            "%s body must be %d bytes, got %d", name, size + 1, have + 1))
        return false
    end
    return true
end

local function bits(byte)
    local out, b = {}, 0
    while byte > 0 do
        if byte % 2 == 1 then
            out[#out + 1] = b
        end
        byte, b = math.floor(byte / 2), b + 1
    end
    return out
end

local function range_info(tvb, at, tree)
    local rest = at + 1
    if not common.need(tvb, tree, ex, rest, 4 + MASK_BYTES, "range info") then
        return "range info (truncated)"
    end
    tree:add(f.address, tvb(rest, 4))
    tree:add(f.node_mask, tvb(rest + 4, MASK_BYTES))
    local nodes = {}
    for i = 0, MASK_BYTES - 1 do
        for _, b in ipairs(bits(tvb(rest + 4 + i, 1):uint())) do
            nodes[#nodes + 1] = 8 * i + b + 1
        end
    end
    local first = rest + 4 + MASK_BYTES
    local size = first + 4 * #nodes
    if tvb:len() ~= size then
        common.malformed(tree, ex, nil, string.format(
            "range info with %s must be %d bytes, got %d",
            common.count(#nodes, "neighbour", "neighbours"), size - at, tvb:len() - at))
    end
    for k, node in ipairs(nodes) do
        local off = first + 4 * (k - 1)
        if off + 4 > tvb:len() then
            break
        end
        local item = tree:add(f.neighbor, tvb(off, 4))
        item:set_text(string.format("Neighbour %d: %s", node, tvb(off, 4):ipv4()))
        item:add(f.neighbor_id, tvb(off, 4), node):set_generated()
        item:add(f.neighbor_address, tvb(off, 4))
    end
    return string.format("range info of %s: %s", tvb(rest, 4):ipv4(),
                         common.count(#nodes, "neighbour", "neighbours"))
end

local function assign_routes(tvb, at, tree)
    local rest = at + 1
    if not common.need(tvb, tree, ex, rest, 6, "assign routes") then
        return "assign routes (truncated)"
    end
    add_id(tree, ex, f.dest, tvb(rest, 1), "destination")
    local dest = tvb(rest, 1):uint()
    tree:add(f.address, tvb(rest + 1, 4))
    local n = tvb(rest + 5, 1):uint()
    tree:add(f.routes, tvb(rest + 5, 1))
    local i = rest + 6
    for k = 1, n do
        if i >= tvb:len() or i + 1 + tvb(i, 1):uint() > tvb:len() then
            common.malformed(tree, ex, i < tvb:len() and tvb(i) or nil, string.format(
                "assign routes: truncated after %d of %d routes", k - 1, n))
            return "assign routes (truncated)"
        end
        local count = tvb(i, 1):uint()
        local item = tree:add(f.route, tvb(i, 1 + count))
        item:add(f.route_count, tvb(i, 1))
        local _, ids = add_route(item, ex, f.route_repeater, tvb, i + 1, count, { dest })
        item:set_text(count == 0 and "Route: direct" or "Route: via " .. ids)
        i = i + 1 + count
    end
    common.trailing(tvb, tree, ex, i, "assign routes")
    return string.format("assign routes to node %d (%s): %s", dest, tvb(rest + 1, 4):ipv4(),
                         common.count(n, "route", "routes"))
end

local function route_request(tvb, at, tree)
    if not body_size(tree, tvb, at, 4, "route request") then
        return "route request (malformed)"
    end
    tree:add(f.address, tvb(at + 1, 4))
    return "route request for " .. tostring(tvb(at + 1, 4):ipv4())
end

local function unreachable(tvb, at, tree)
    if not body_size(tree, tvb, at, 6, "unreachable") then
        return "unreachable (malformed)"
    end
    tree:add(f.address, tvb(at + 1, 4))
    local reason = tvb(at + 5, 1):uint()
    local item = tree:add(f.reason, tvb(at + 5, 1))
    if REASONS[reason] == nil then
        common.malformed(item, ex, tvb(at + 5, 1), string.format(
            "unreachable: reason %d (expected 1 or 2)", reason))
    end
    tree:add(f.hops, tvb(at + 6, 1))
    return "unreachable " .. tostring(tvb(at + 1, 4):ipv4())
end

local function error_body(tvb, at, tree)
    if not body_size(tree, tvb, at, 2, "error") then
        return "error (malformed)"
    end
    add_id(tree, ex, f.failed_from, tvb(at + 1, 1), "failed hop")
    add_id(tree, ex, f.failed_to, tvb(at + 2, 1), "unreachable hop")
    return string.format("error: %d could not reach %d", tvb(at + 1, 1):uint(),
                         tvb(at + 2, 1):uint())
end

local BODY = { [RANGE_INFO] = range_info, [ASSIGN_ROUTES] = assign_routes,
               [ROUTE_REQUEST] = route_request, [UNREACHABLE] = unreachable,
               [ERROR] = error_body }

-- The body at offset `at` (to the end of the frame); a short text for the Info column.
local function dissect_body(tvb, at, root)
    if at >= tvb:len() then
        common.malformed(root, ex, nil, "frame without a body")
        return "no body"
    end
    local kind = tvb(at, 1):uint()
    local item = root:add(f.body, tvb(at, 1))
    if BODIES[kind] == nil then
        common.malformed(item, ex, tvb(at, 1), string.format(
            "unknown body kind %d (expected 1..8)", kind))
        return string.format("body %d", kind)
    end
    if EMPTY_BODIES[kind] then
        body_size(root, tvb, at, 0, BODIES[kind]:lower())
        return BODIES[kind]:lower()
    end
    return BODY[kind](tvb, at, root)
end

-- Control frames ----------------------------------------------------------------------------

local function dissect_hello(tvb, root, kind)
    local name = TYPES[kind]:lower()
    if not common.need(tvb, root, ex, 0, 2, name) then
        return name .. " (truncated)"
    end
    common.trailing(tvb, root, ex, 2, name .. " frame")
    add_id(root, ex, f.sender, tvb(1, 1), "sender")
    return string.format("%s, from node %d", TYPES[kind], tvb(1, 1):uint())
end

local function dissect_routed(tvb, root)
    if not common.need(tvb, root, ex, 0, 7, "routed frame") then
        return "Routed (truncated)"
    end
    local orig, target = tvb(1, 1):uint(), tvb(2, 1):uint()
    add_ends(root, ex, { f.orig, f.target }, tvb, 1)
    root:add(f.seq, tvb(3, 1))
    local flags_item = root:add(f.flags, tvb(4, 1))
    flags_item:add(f.inbound, tvb(4, 1))
    if tvb(4, 1):uint() >= 2 then
        common.malformed(flags_item, ex, tvb(4, 1), string.format(
            "reserved flag bits set (0x%02x)", tvb(4, 1):uint()))
    end
    local count, hop = math.floor(tvb(5, 1):uint() / 16), tvb(5, 1):uint() % 16
    root:add(f.repeater_count, tvb(5, 1))
    root:add(f.hop, tvb(5, 1))
    if not common.need(tvb, root, ex, 0, 7 + count, string.format(
            "routed frame with %d repeaters and a body", count)) then
        return "Routed (truncated)"
    end
    local _, ids = add_route(root, ex, f.repeater, tvb, 6, count, { orig, target })
    check_hop(root, ex, tvb(5, 1), hop, count)
    local body = dissect_body(tvb, 6 + count, root)
    return string.format("Routed %d -> %d%s seq=%d hop=%d%s: %s", orig, target,
                         count > 0 and " via " .. ids or "", tvb(3, 1):uint(), hop,
                         tvb(4, 1):uint() % 2 == 1 and " inbound" or "", body)
end

local function dissect_explorer(tvb, root)
    if not common.need(tvb, root, ex, 0, 6, "explorer frame") then
        return "Explorer (truncated)"
    end
    local orig, target = tvb(1, 1):uint(), tvb(2, 1):uint()
    add_ends(root, ex, { f.orig, f.target }, tvb, 1)
    root:add(f.seq, tvb(3, 1))
    local limit, count = math.floor(tvb(4, 1):uint() / 16), tvb(4, 1):uint() % 16
    local limit_item = root:add(f.max_repeaters, tvb(4, 1))
    root:add(f.collected, tvb(4, 1))
    if limit > MAX_REPEATERS or count > limit then
        common.malformed(limit_item, ex, tvb(4, 1), string.format(
            "%d repeaters collected, limit %d (at most %d)", count, limit, MAX_REPEATERS))
    end
    if not common.need(tvb, root, ex, 0, 6 + count, string.format(
            "explorer frame with %d repeaters and a body", count)) then
        return "Explorer (truncated)"
    end
    local _, ids = add_route(root, ex, f.repeater, tvb, 5, count, { orig, target })
    local body = dissect_body(tvb, 5 + count, root)
    return string.format("Explorer %d -> %d%s seq=%d max=%d: %s", orig, target,
                         count > 0 and " via " .. ids or "", tvb(3, 1):uint(), limit, body)
end

common.udp_port(proto, PORT, common.typed_dissector(proto, ex, {
    column = "Z-Wave", what = "Z-Wave frame", type_field = f.type, names = TYPES,
    handlers = { [FIND_NODES] = dissect_hello, [NODE_IN_RANGE] = dissect_hello,
                 [ROUTED] = dissect_routed, [EXPLORER] = dissect_explorer },
}))

-- Data header (IPv4 option 158, 5 to 9 bytes) ----------------------------------------------

local header, hex = common.proto("meshnet.zwave.header", "meshnet Z-Wave data header")

local h = {
    option_type = ProtoField.uint8("meshnet.zwave.header.option_type", "IPv4 option type",
                                   base.HEX),
    option_length = ProtoField.uint8("meshnet.zwave.header.option_length", "IPv4 option length",
                                     base.DEC),
    version = ProtoField.uint8("meshnet.zwave.header.version", "Version", base.DEC, nil, 0xF0),
    reserved = ProtoField.uint8("meshnet.zwave.header.reserved", "Reserved", base.HEX, nil, 0x0F),
    src = ProtoField.uint8("meshnet.zwave.header.src", "Source node ID", base.DEC),
    dst = ProtoField.uint8("meshnet.zwave.header.dst", "Destination node ID", base.DEC),
    seq = ProtoField.uint8("meshnet.zwave.header.seq", "Sequence number", base.DEC),
    repeater_count = ProtoField.uint8("meshnet.zwave.header.repeater_count", "Repeater count",
                                      base.DEC, nil, 0xF0),
    hop = ProtoField.uint8("meshnet.zwave.header.hop", "Hop index (position of the transmitter)",
                           base.DEC, nil, 0x0F),
    repeater = ProtoField.uint8("meshnet.zwave.header.repeater", "Repeater node ID", base.DEC),
}
header.fields = { h.option_type, h.option_length, h.version, h.reserved, h.src, h.dst, h.seq,
                  h.repeater_count, h.hop, h.repeater }

local function dissect_header(option, pinfo, tree)
    local root = tree:add(header, option)
    root:add(h.option_type, option(0, 1))
    root:add(h.option_length, option(1, 1))
    local body = option(2):tvb()
    if not common.need(body, root, hex, 0, 5, "Z-Wave data header") then
        return
    end
    root:add(h.version, body(0, 1))
    root:add(h.reserved, body(0, 1))
    if body(0, 1):uint() ~= HEADER_FIRST then
        common.malformed(root, hex, body(0, 1), string.format(
            "version/flags byte 0x%02x, expected 0x%02x", body(0, 1):uint(), HEADER_FIRST))
    end
    local src, dst = body(1, 1):uint(), body(2, 1):uint()
    add_ends(root, hex, { h.src, h.dst }, body, 1)
    root:add(h.seq, body(3, 1))
    local count, hop = math.floor(body(4, 1):uint() / 16), body(4, 1):uint() % 16
    root:add(h.repeater_count, body(4, 1))
    root:add(h.hop, body(4, 1))
    if body:len() ~= 5 + count then
        common.malformed(root, hex, body(4, 1), string.format(
            "%d repeaters need %d bytes, got %d", count, 5 + count, body:len()))
        return
    end
    local _, ids = add_route(root, hex, h.repeater, body, 5, count, { src, dst })
    check_hop(root, hex, body(4, 1), hop, count)
    local info = string.format("Z-Wave %d -> %d%s, hop %d", src, dst,
                               count > 0 and " via " .. ids or "", hop)
    root:append_text(", " .. info)
    pinfo.cols.info:append(" [" .. info .. "]")
end

common.ipv4_option_postdissector(header, common.OPTION_158, function(option, pinfo, tree)
    if common.option_158_is_zwave(option) then
        dissect_header(option, pinfo, tree)
    end
end)
