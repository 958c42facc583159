-- meshnet DSDV routing updates (protocols/dsdv/wire.py), UDP port 269.
--
-- Header: version (1), flags (0x01 = full dump), entry count (uint16); then per entry the
-- destination IPv4 address, its sequence number (uint32) and the sender's metric (uint8, 255 =
-- unreachable). Odd sequence numbers, and only they, carry metric 255.
--
-- Port 269 is IANA's MANET port, which Wireshark gives to PacketBB (RFC 5444). A PacketBB packet
-- starts with version 0 and never has the low flag bits set, so its first byte is one of 0x00,
-- 0x04, 0x08, 0x0C; a meshnet update starts with version 1. Datagrams on 269 that do not start
-- with 1 still go to PacketBB.

local common = require "meshnet_common"

local VERSION = 1
local FLAG_FULL = 0x01
local INFINITY = 255
local HEADER_SIZE = 4
local ENTRY_SIZE = 9
local PORT = 269

local proto, ex = common.proto("meshnet.dsdv", "meshnet DSDV")

local f = {
    version = ProtoField.uint8("meshnet.dsdv.version", "Version", base.DEC),
    flags = ProtoField.uint8("meshnet.dsdv.flags", "Flags", base.HEX),
    full = ProtoField.bool("meshnet.dsdv.full", "Full dump", 8,
                           { "full dump of the table", "incremental update" }, FLAG_FULL),
    flags_reserved = ProtoField.uint8("meshnet.dsdv.flags.reserved", "Reserved flags", base.HEX,
                                      nil, 0xFE),
    count = ProtoField.uint16("meshnet.dsdv.count", "Entry count", base.DEC),
    entry = ProtoField.none("meshnet.dsdv.entry", "Entry"),
    dest = ProtoField.ipv4("meshnet.dsdv.dest", "Destination"),
    seqno = ProtoField.uint32("meshnet.dsdv.seqno", "Sequence number", base.DEC),
    metric = ProtoField.uint8("meshnet.dsdv.metric", "Metric", base.DEC),
    broken = ProtoField.bool("meshnet.dsdv.broken", "Broken route (odd sequence number)"),
}
proto.fields = { f.version, f.flags, f.full, f.flags_reserved, f.count, f.entry, f.dest, f.seqno,
                 f.metric, f.broken }

local function dissect(tvb, pinfo, tree)
    local root = tree:add(proto, tvb())
    common.columns(pinfo, "DSDV", "DSDV update")
    if not common.need(tvb, root, ex, 0, HEADER_SIZE, "DSDV header") then
        return tvb:len()
    end
    local version = tvb(0, 1):uint()
    local item = root:add(f.version, tvb(0, 1))
    if version ~= VERSION then
        common.malformed(item, ex, tvb(0, 1),
                         string.format("unsupported DSDV version %d (expected %d)", version, VERSION))
        return tvb:len()
    end
    local flags = tvb(1, 1):uint()
    local flags_item = root:add(f.flags, tvb(1, 1))
    flags_item:add(f.full, tvb(1, 1))
    flags_item:add(f.flags_reserved, tvb(1, 1))
    if flags >= 2 then
        common.malformed(flags_item, ex, tvb(1, 1),
                         string.format("reserved DSDV flag bits set: 0x%02x", flags))
    end
    local full = flags % 2 == 1
    local count = tvb(2, 2):uint()
    local count_item = root:add(f.count, tvb(2, 2))
    local expected = HEADER_SIZE + count * ENTRY_SIZE
    if tvb:len() ~= expected then
        common.malformed(count_item, ex, nil, string.format(
            "DSDV update length %d does not match %d entries (%d bytes)", tvb:len(), count, expected))
    end
    local broken = 0
    local i = 0
    while i < count and HEADER_SIZE + (i + 1) * ENTRY_SIZE <= tvb:len() do
        local at = HEADER_SIZE + i * ENTRY_SIZE
        local dest, seqno, metric = tvb(at, 4), tvb(at + 4, 4):uint(), tvb(at + 8, 1):uint()
        local entry = root:add(f.entry, tvb(at, ENTRY_SIZE))
        entry:set_text(string.format("Entry %d: %s seq %d metric %s", i, dest:ipv4(), seqno,
                                     metric == INFINITY and "unreachable" or tostring(metric)))
        entry:add(f.dest, dest)
        entry:add(f.seqno, tvb(at + 4, 4))
        local metric_item = entry:add(f.metric, tvb(at + 8, 1))
        if metric == INFINITY then
            metric_item:append_text(" (unreachable)")
        end
        local odd = seqno % 2 == 1
        entry:add(f.broken, odd):set_generated()
        if odd then
            broken = broken + 1
        end
        if odd ~= (metric == INFINITY) then
            common.malformed(entry, ex, tvb(at, ENTRY_SIZE), string.format(
                "entry %d: sequence number %d and metric %d disagree (odd sequence numbers, "
                .. "and only they, carry metric %d)", i, seqno, metric, INFINITY))
        end
        i = i + 1
    end
    local info = string.format("%s, %s", full and "Full dump" or "Incremental update",
                               common.count(count, "entry", "entries"))
    if broken > 0 then
        info = info .. string.format(" (%d broken)", broken)
    end
    common.columns(pinfo, "DSDV", info)
    root:append_text(", " .. info)
    return tvb:len()
end

-- A complete, valid update: what the heuristic (other ports) accepts.
local function looks_like(tvb)
    local n = tvb:len()
    if n < HEADER_SIZE + ENTRY_SIZE or tvb(0, 1):uint() ~= VERSION or tvb(1, 1):uint() > 1 then
        return false
    end
    local count = tvb(2, 2):uint()
    if n ~= HEADER_SIZE + count * ENTRY_SIZE then
        return false
    end
    for i = 0, count - 1 do
        local at = HEADER_SIZE + i * ENTRY_SIZE
        if (tvb(at + 4, 4):uint() % 2 == 1) ~= (tvb(at + 8, 1):uint() == INFINITY) then
            return false
        end
    end
    return true
end

common.share_udp_port(proto, PORT, "packetbb", function(tvb)
    return tvb:len() > 0 and tvb(0, 1):uint() == VERSION
end, dissect)
common.udp_heuristic(proto, looks_like, dissect)
