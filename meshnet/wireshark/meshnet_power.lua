-- meshnet power-aware routing (MTPR, MMBCR, CMMBCR; protocols/power/wire.py), UDP port 6550.
--
-- Every message starts with its type and carries the power it was sent at (int16, 0.01 dBm).
-- Batteries are fractions of 65535; costs are micro-units of the hop cost.
--   RREQ (1, 28 bytes): type, flags, ttl, hop count, tx power, min battery, RREQ ID,
--                       originator, originator seq, destination, cost so far
--   RREP (2, 32 bytes): type, flags, hop count, reserved, tx power, min battery, RREQ ID,
--                       originator, destination, destination seq, route cost, lifetime (ms)
--   RERR (3, 8 + 8n):   type, flags, count n, reserved, tx power, reserved,
--                       n x (unreachable destination, its sequence number)

local common = require "meshnet_common"

local PORT = 6550
local RREQ, RREP, RERR = 1, 2, 3
local RREQ_SIZE, RREP_SIZE, RERR_HEAD, RERR_ITEM = 28, 32, 8, 8
local TYPES = { [RREQ] = "RREQ", [RREP] = "RREP", [RERR] = "RERR" }

local proto, ex = common.proto("meshnet.power", "meshnet power-aware routing")

local f = {
    type = ProtoField.uint8("meshnet.power.type", "Type", base.DEC, {
        [RREQ] = "Route Request", [RREP] = "Route Reply", [RERR] = "Route Error" }),
    flags = ProtoField.uint8("meshnet.power.flags", "Flags", base.HEX),
    ttl = ProtoField.uint8("meshnet.power.ttl", "TTL", base.DEC),
    hop_count = ProtoField.uint8("meshnet.power.hop_count", "Hop count", base.DEC),
    reserved = ProtoField.bytes("meshnet.power.reserved", "Reserved"),
    tx_power = ProtoField.int16("meshnet.power.tx_power", "Transmit power (0.01 dBm)", base.DEC),
    min_battery = ProtoField.uint16("meshnet.power.min_battery",
                                    "Minimum relay battery (1/65535)", base.DEC),
    rreq_id = ProtoField.uint32("meshnet.power.rreq_id", "RREQ ID", base.DEC),
    orig = ProtoField.ipv4("meshnet.power.orig", "Originator"),
    orig_seq = ProtoField.uint32("meshnet.power.orig_seq", "Originator sequence number", base.DEC),
    dest = ProtoField.ipv4("meshnet.power.dest", "Destination"),
    dest_seq = ProtoField.uint32("meshnet.power.dest_seq", "Destination sequence number", base.DEC),
    cost = ProtoField.uint32("meshnet.power.cost", "Route cost (micro-units of hop cost)",
                             base.DEC),
    lifetime = ProtoField.uint32("meshnet.power.lifetime", "Lifetime (ms)", base.DEC),
    count = ProtoField.uint8("meshnet.power.count", "Destination count", base.DEC),
    unreachable = ProtoField.none("meshnet.power.unreachable", "Unreachable destination"),
    unreach_dest = ProtoField.ipv4("meshnet.power.unreachable.dest", "Destination"),
    unreach_seq = ProtoField.uint32("meshnet.power.unreachable.seq", "Sequence number", base.DEC),
}
proto.fields = { f.type, f.flags, f.ttl, f.hop_count, f.reserved, f.tx_power, f.min_battery,
                 f.rreq_id, f.orig, f.orig_seq, f.dest, f.dest_seq, f.cost, f.lifetime, f.count,
                 f.unreachable, f.unreach_dest, f.unreach_seq }

local function add_tx_power(tree, range)
    tree:add(f.tx_power, range):append_text(string.format(" (%.2f dBm)", range:int() / 100))
end

local function add_battery(tree, range)
    local value = range:uint()
    local item = tree:add(f.min_battery, range)
    item:append_text(value == 0xFFFF and " (full, or no relay yet)"
                     or string.format(" (%.1f %%)", value * 100 / 0xFFFF))
end

-- Fields sent as zero and ignored on reception: shown, and noted when they are not zero.
local function add_zero(tree, field, range)
    local item = tree:add(field, range)
    if range:uint() ~= 0 then
        item:add_proto_expert_info(ex.reserved)
    end
end

local function exact(tvb, root, size, name)
    if not common.need(tvb, root, ex, 0, size, name) then
        return false
    end
    common.trailing(tvb, root, ex, size, name)
    return true
end

local function dissect_rreq(tvb, root)
    if not exact(tvb, root, RREQ_SIZE, "RREQ") then
        return "RREQ (truncated)"
    end
    add_zero(root, f.flags, tvb(1, 1))
    root:add(f.ttl, tvb(2, 1))
    root:add(f.hop_count, tvb(3, 1))
    add_tx_power(root, tvb(4, 2))
    add_battery(root, tvb(6, 2))
    root:add(f.rreq_id, tvb(8, 4))
    root:add(f.orig, tvb(12, 4))
    root:add(f.orig_seq, tvb(16, 4))
    root:add(f.dest, tvb(20, 4))
    root:add(f.cost, tvb(24, 4))
    return string.format("RREQ id=%d %s -> %s ttl=%d hops=%d cost=%d", tvb(8, 4):uint(),
                         tvb(12, 4):ipv4(), tvb(20, 4):ipv4(), tvb(2, 1):uint(),
                         tvb(3, 1):uint(), tvb(24, 4):uint())
end

local function dissect_rrep(tvb, root)
    if not exact(tvb, root, RREP_SIZE, "RREP") then
        return "RREP (truncated)"
    end
    add_zero(root, f.flags, tvb(1, 1))
    root:add(f.hop_count, tvb(2, 1))
    add_zero(root, f.reserved, tvb(3, 1))
    add_tx_power(root, tvb(4, 2))
    add_battery(root, tvb(6, 2))
    root:add(f.rreq_id, tvb(8, 4))
    root:add(f.orig, tvb(12, 4))
    root:add(f.dest, tvb(16, 4))
    root:add(f.dest_seq, tvb(20, 4))
    root:add(f.cost, tvb(24, 4))
    root:add(f.lifetime, tvb(28, 4))
    return string.format("RREP id=%d %s -> %s hops=%d cost=%d", tvb(8, 4):uint(),
                         tvb(12, 4):ipv4(), tvb(16, 4):ipv4(), tvb(2, 1):uint(),
                         tvb(24, 4):uint())
end

local function dissect_rerr(tvb, root)
    if not common.need(tvb, root, ex, 0, RERR_HEAD, "RERR header") then
        return "RERR (truncated)"
    end
    add_zero(root, f.flags, tvb(1, 1))
    local count = tvb(2, 1):uint()
    local count_item = root:add(f.count, tvb(2, 1))
    add_zero(root, f.reserved, tvb(3, 1))
    add_tx_power(root, tvb(4, 2))
    add_zero(root, f.reserved, tvb(6, 2))
    if count == 0 then
        common.malformed(count_item, ex, tvb(2, 1),
                         "RERR with count 0: it must list at least one destination")
    end
    local size = RERR_HEAD + count * RERR_ITEM
    if tvb:len() ~= size then
        common.malformed(count_item, ex, nil, string.format(
            "RERR with count %d must be %d bytes, got %d", count, size, tvb:len()))
    end
    local i = 0
    while i < count and RERR_HEAD + (i + 1) * RERR_ITEM <= tvb:len() do
        local at = RERR_HEAD + i * RERR_ITEM
        local item = root:add(f.unreachable, tvb(at, RERR_ITEM))
        item:set_text(string.format("Unreachable: %s seq %d", tvb(at, 4):ipv4(),
                                    tvb(at + 4, 4):uint()))
        item:add(f.unreach_dest, tvb(at, 4))
        item:add(f.unreach_seq, tvb(at + 4, 4))
        i = i + 1
    end
    return "RERR " .. common.count(count, "destination", "destinations")
end

common.udp_port(proto, PORT, common.typed_dissector(proto, ex, {
    column = "meshnet-power", placeholder = "power-aware routing", what = "power-aware message",
    type_field = f.type, names = TYPES,
    handlers = { [RREQ] = dissect_rreq, [RREP] = dissect_rrep, [RERR] = dissect_rerr },
}))
