-- meshnet ODMRP (draft-ietf-manet-odmrp-04 §5; protocols/odmrp/wire.py), UDP port 61504.
-- Network byte order; reserved fields are sent as 0 and ignored.
--
--   Join Query (1, 20 bytes): type, reserved, TTL, hop count, multicast group, the source's
--     sequence number, source, previous hop (the node that (re)broadcast this copy)
--   Join Reply (2, 12 + 12n bytes): type, reserved, n (1..255), reserved, multicast group,
--     sender of this reply, n x (source, sequence number of the Join Query answered, next hop
--     towards that source)
-- The group must be an IPv4 multicast address (224.0.0.0/4).

local common = require "meshnet_common"

local PORT = 61504
local JOIN_QUERY, JOIN_REPLY = 1, 2
local QUERY_SIZE, REPLY_HEAD, ENTRY = 20, 12, 12
local TYPES = { [JOIN_QUERY] = "Join Query", [JOIN_REPLY] = "Join Reply" }

local proto, ex = common.proto("meshnet.odmrp", "meshnet ODMRP")

local f = {
    type = ProtoField.uint8("meshnet.odmrp.type", "Type", base.DEC, TYPES),
    reserved = ProtoField.uint8("meshnet.odmrp.reserved", "Reserved", base.HEX),
    ttl = ProtoField.uint8("meshnet.odmrp.ttl", "TTL", base.DEC),
    hop_count = ProtoField.uint8("meshnet.odmrp.hop_count", "Hop count", base.DEC),
    group = ProtoField.ipv4("meshnet.odmrp.group", "Multicast group"),
    seq = ProtoField.uint32("meshnet.odmrp.seq", "Sequence number", base.DEC),
    source = ProtoField.ipv4("meshnet.odmrp.source", "Source"),
    prev_hop = ProtoField.ipv4("meshnet.odmrp.prev_hop", "Previous hop"),
    count = ProtoField.uint8("meshnet.odmrp.count", "Entry count", base.DEC),
    sender = ProtoField.ipv4("meshnet.odmrp.sender", "Sender"),
    entry = ProtoField.none("meshnet.odmrp.entry", "Entry"),
    entry_source = ProtoField.ipv4("meshnet.odmrp.entry.source", "Source"),
    entry_seq = ProtoField.uint32("meshnet.odmrp.entry.seq", "Join Query sequence number",
                                  base.DEC),
    next_hop = ProtoField.ipv4("meshnet.odmrp.entry.next_hop", "Next hop towards the source"),
}
proto.fields = { f.type, f.reserved, f.ttl, f.hop_count, f.group, f.seq, f.source, f.prev_hop,
                 f.count, f.sender, f.entry, f.entry_source, f.entry_seq, f.next_hop }

local function add_reserved(tree, range)
    local item = tree:add(f.reserved, range)
    if range:uint() ~= 0 then
        item:add_proto_expert_info(ex.reserved)
    end
end

-- The group field, flagged when it is not a multicast address.
local function add_group(tree, range)
    local item = tree:add(f.group, range)
    local first = range(0, 1):uint()
    if first < 224 or first > 239 then
        common.malformed(item, ex, range, string.format(
            "ODMRP message for %s, not a multicast group", range:ipv4()))
    end
end

local function dissect_query(tvb, root)
    if not common.need(tvb, root, ex, 0, QUERY_SIZE, "Join Query") then
        return "Join Query (truncated)"
    end
    common.trailing(tvb, root, ex, QUERY_SIZE, "Join Query")
    add_reserved(root, tvb(1, 1))
    root:add(f.ttl, tvb(2, 1))
    root:add(f.hop_count, tvb(3, 1))
    add_group(root, tvb(4, 4))
    root:add(f.seq, tvb(8, 4))
    root:add(f.source, tvb(12, 4))
    root:add(f.prev_hop, tvb(16, 4))
    return string.format("Join Query %s from %s seq=%d ttl=%d hops=%d", tvb(4, 4):ipv4(),
                         tvb(12, 4):ipv4(), tvb(8, 4):uint(), tvb(2, 1):uint(), tvb(3, 1):uint())
end

local function dissect_reply(tvb, root)
    if not common.need(tvb, root, ex, 0, REPLY_HEAD, "Join Reply") then
        return "Join Reply (truncated)"
    end
    add_reserved(root, tvb(1, 1))
    local count = tvb(2, 1):uint()
    local count_item = root:add(f.count, tvb(2, 1))
    add_reserved(root, tvb(3, 1))
    add_group(root, tvb(4, 4))
    root:add(f.sender, tvb(8, 4))
    if count == 0 then
        common.malformed(count_item, ex, tvb(2, 1), "Join Reply with no entries")
    end
    local size = REPLY_HEAD + count * ENTRY
    if tvb:len() ~= size then
        common.malformed(count_item, ex, nil, string.format(
            "Join Reply with %s must be %d bytes, got %d", common.count(count, "entry", "entries"),
            size, tvb:len()))
    end
    local k = 0
    while k < count and REPLY_HEAD + (k + 1) * ENTRY <= tvb:len() do
        local at = REPLY_HEAD + k * ENTRY
        local item = root:add(f.entry, tvb(at, ENTRY))
        item:set_text(string.format("Entry: source %s seq %d via %s", tvb(at, 4):ipv4(),
                                    tvb(at + 4, 4):uint(), tvb(at + 8, 4):ipv4()))
        item:add(f.entry_source, tvb(at, 4))
        item:add(f.entry_seq, tvb(at + 4, 4))
        item:add(f.next_hop, tvb(at + 8, 4))
        k = k + 1
    end
    return string.format("Join Reply %s by %s, %s", tvb(4, 4):ipv4(), tvb(8, 4):ipv4(),
                         common.count(count, "entry", "entries"))
end

common.udp_port(proto, PORT, common.typed_dissector(proto, ex, {
    column = "ODMRP", what = "ODMRP message", type_field = f.type, names = TYPES,
    handlers = { [JOIN_QUERY] = dissect_query, [JOIN_REPLY] = dissect_reply },
}))
