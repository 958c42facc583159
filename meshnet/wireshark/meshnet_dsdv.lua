-- meshnet DSDV routing updates (protocols/dsdv/wire.py), UDP port 269.
--
-- Header: version (1), flags (0x01 = full dump, 0x02 = authenticated), entry count (uint16);
-- then per entry the destination IPv4 address, its sequence number (uint32) and the sender's
-- metric (uint8, 255 = unreachable). Odd sequence numbers, and only they, carry metric 255. An
-- authenticated update ends with a 28-byte trailer: signer IPv4 address, counter (uint64) and
-- HMAC-SHA256 tag truncated to 16 bytes (docs/security.md; the key is not known here, so the tag
-- is shown, not checked).
--
-- Port 269 is IANA's MANET port, which Wireshark gives to PacketBB (RFC 5444). A PacketBB packet
-- starts with version 0 and never has the low flag bits set, so its first byte is one of 0x00,
-- 0x04, 0x08, 0x0C; a meshnet update starts with version 1. Datagrams on 269 that do not start
-- with 1 still go to PacketBB.

local common = require "meshnet_common"

local VERSION = 1
local FLAG_FULL = 0x01
local FLAG_AUTH = 0x02
local TRAILER_SIZE = 28
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
    auth = ProtoField.bool("meshnet.dsdv.authenticated", "Authenticated", 8,
                           { "authentication trailer follows", "no trailer" }, FLAG_AUTH),
    flags_reserved = ProtoField.uint8("meshnet.dsdv.flags.reserved", "Reserved flags", base.HEX,
                                      nil, 0xFC),
    count = ProtoField.uint16("meshnet.dsdv.count", "Entry count", base.DEC),
    entry = ProtoField.none("meshnet.dsdv.entry", "Entry"),
    dest = ProtoField.ipv4("meshnet.dsdv.dest", "Destination"),
    seqno = ProtoField.uint32("meshnet.dsdv.seqno", "Sequence number", base.DEC),
    metric = ProtoField.uint8("meshnet.dsdv.metric", "Metric", base.DEC),
    broken = ProtoField.bool("meshnet.dsdv.broken", "Broken route (odd sequence number)"),
    trailer = ProtoField.none("meshnet.dsdv.auth", "Authentication trailer"),
    signer = ProtoField.ipv4("meshnet.dsdv.auth.signer", "Signer"),
    counter = ProtoField.uint64("meshnet.dsdv.auth.counter", "Counter", base.DEC),
    tag = ProtoField.bytes("meshnet.dsdv.auth.tag", "HMAC-SHA256 tag (truncated)"),
}
proto.fields = { f.version, f.flags, f.full, f.auth, f.flags_reserved, f.count, f.entry, f.dest,
                 f.seqno, f.metric, f.broken, f.trailer, f.signer, f.counter, f.tag }

local function dissect_update(tvb, root)
    if not common.need(tvb, root, ex, 0, HEADER_SIZE, "DSDV header") then
        return nil
    end
    local version = tvb(0, 1):uint()
    local item = root:add(f.version, tvb(0, 1))
    if version ~= VERSION then
        common.malformed(item, ex, tvb(0, 1),
                         string.format("unsupported DSDV version %d (expected %d)", version, VERSION))
        return nil
    end
    local flags = tvb(1, 1):uint()
    local flags_item = root:add(f.flags, tvb(1, 1))
    flags_item:add(f.full, tvb(1, 1))
    flags_item:add(f.auth, tvb(1, 1))
    flags_item:add(f.flags_reserved, tvb(1, 1))
    if flags >= 4 then
        common.malformed(flags_item, ex, tvb(1, 1),
                         string.format("reserved DSDV flag bits set: 0x%02x", flags))
    end
    local full = flags % 2 == 1
    local authenticated = math.floor(flags / 2) % 2 == 1
    local count = tvb(2, 2):uint()
    local count_item = root:add(f.count, tvb(2, 2))
    local entries_end = HEADER_SIZE + count * ENTRY_SIZE
    local expected = entries_end + (authenticated and TRAILER_SIZE or 0)
    if tvb:len() ~= expected then
        common.malformed(count_item, ex, nil, string.format(
            "DSDV update length %d does not match %d entries%s (%d bytes)", tvb:len(), count,
            authenticated and " and the authentication trailer" or "", expected))
    end
    local broken = 0
    local i = 0
    local room = tvb:len() - (authenticated and TRAILER_SIZE or 0)
    while i < count and HEADER_SIZE + (i + 1) * ENTRY_SIZE <= room do
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
    if authenticated and tvb:len() == expected then
        local trailer = root:add(f.trailer, tvb(entries_end, TRAILER_SIZE))
        trailer:add(f.signer, tvb(entries_end, 4))
        trailer:add(f.counter, tvb(entries_end + 4, 8))
        trailer:add(f.tag, tvb(entries_end + 12, 16))
    end
    local info = string.format("%s, %s", full and "Full dump" or "Incremental update",
                               common.count(count, "entry", "entries"))
    if broken > 0 then
        info = info .. string.format(" (%d broken)", broken)
    end
    if authenticated then
        info = info .. ", authenticated"
    end
    return info
end

local dissect = common.message_dissector(proto, ex, "DSDV", "DSDV header", dissect_update,
                                         "DSDV update")

-- A complete, valid update: what the heuristic (other ports) accepts.
local function looks_like(tvb)
    local n = tvb:len()
    if n < HEADER_SIZE + ENTRY_SIZE or tvb(0, 1):uint() ~= VERSION or tvb(1, 1):uint() > 3 then
        return false
    end
    local count = tvb(2, 2):uint()
    local trailer = tvb(1, 1):uint() >= FLAG_AUTH and TRAILER_SIZE or 0
    if n ~= HEADER_SIZE + count * ENTRY_SIZE + trailer then
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
