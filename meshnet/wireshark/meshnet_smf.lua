-- meshnet SMF (RFC 6621; protocols/smf/wire.py): the neighbourhood HELLO, a simplified NHDP
-- HELLO, on UDP port 61503. Network byte order.
--
--   Header (8 bytes): type = 1 (HELLO), version = 1, sender's router priority, flags (bit 0:
--     the sender is an E-CDS relay; others reserved), validity (uint16, 10 ms units, > 0),
--     link count n
--   n links (8 bytes each): neighbour IPv4, status (1 heard, 2 symmetric; bit 7: selected as
--     MPR by the sender), the neighbour's router priority, reserved (2)

local common = require "meshnet_common"

local PORT = 61503
local HELLO, VERSION = 1, 1
local HEAD, LINK = 8, 8
local HEARD, SYMMETRIC = 1, 2
local STATUS = { [HEARD] = "heard", [SYMMETRIC] = "symmetric" }
local TYPES = { [HELLO] = "HELLO" }

local proto, ex = common.proto("meshnet.smf", "meshnet SMF")

local f = {
    type = ProtoField.uint8("meshnet.smf.type", "Type", base.DEC, TYPES),
    version = ProtoField.uint8("meshnet.smf.version", "Version", base.DEC),
    priority = ProtoField.uint8("meshnet.smf.priority", "Router priority", base.DEC),
    flags = ProtoField.uint8("meshnet.smf.flags", "Flags", base.HEX),
    relay = ProtoField.bool("meshnet.smf.flags.relay", "E-CDS relay", 8, nil, 0x01),
    validity = ProtoField.uint16("meshnet.smf.validity", "Validity (10 ms)", base.DEC),
    count = ProtoField.uint16("meshnet.smf.count", "Link count", base.DEC),
    link = ProtoField.none("meshnet.smf.link", "Link"),
    address = ProtoField.ipv4("meshnet.smf.link.address", "Neighbour"),
    status = ProtoField.uint8("meshnet.smf.link.status", "Link status", base.DEC, STATUS, 0x7F),
    mpr = ProtoField.bool("meshnet.smf.link.mpr", "Selected as MPR", 8, nil, 0x80),
    link_priority = ProtoField.uint8("meshnet.smf.link.priority", "Neighbour's router priority",
                                     base.DEC),
    reserved = ProtoField.uint16("meshnet.smf.link.reserved", "Reserved", base.HEX),
}
proto.fields = { f.type, f.version, f.priority, f.flags, f.relay, f.validity, f.count, f.link,
                 f.address, f.status, f.mpr, f.link_priority, f.reserved }

local function add_link(root, tvb, at, k)
    local code = tvb(at + 4, 1):uint() % 0x80
    local mpr = tvb(at + 4, 1):uint() >= 0x80
    local item = root:add(f.link, tvb(at, LINK))
    item:set_text(string.format("Link: %s %s%s, priority %d", tvb(at, 4):ipv4(),
                                STATUS[code] or string.format("status %d", code),
                                mpr and ", MPR" or "", tvb(at + 5, 1):uint()))
    item:add(f.address, tvb(at, 4))
    local status_item = item:add(f.status, tvb(at + 4, 1))
    item:add(f.mpr, tvb(at + 4, 1))
    item:add(f.link_priority, tvb(at + 5, 1))
    local reserved_item = item:add(f.reserved, tvb(at + 6, 2))
    if tvb(at + 6, 2):uint() ~= 0 then
        reserved_item:add_proto_expert_info(ex.reserved)
    end
    if STATUS[code] == nil then
        common.malformed(status_item, ex, tvb(at + 4, 1), string.format(
            "link %d: status %d (expected 1 heard or 2 symmetric, bit 7 MPR)", k, code))
    end
    return mpr
end

local function dissect_hello(tvb, root)
    if not common.need(tvb, root, ex, 0, HEAD, "SMF HELLO") then
        return "HELLO (truncated)"
    end
    local version_item = root:add(f.version, tvb(1, 1))
    if tvb(1, 1):uint() ~= VERSION then
        common.malformed(version_item, ex, tvb(1, 1), string.format(
            "SMF HELLO version %d, expected %d", tvb(1, 1):uint(), VERSION))
    end
    root:add(f.priority, tvb(2, 1))
    local flags_item = root:add(f.flags, tvb(3, 1))
    flags_item:add(f.relay, tvb(3, 1))
    if tvb(3, 1):uint() >= 2 then
        flags_item:add_proto_expert_info(ex.reserved)
    end
    local units = tvb(4, 2):uint()
    local validity_item = root:add(f.validity, tvb(4, 2))
    validity_item:append_text(string.format(" (%.2f s)", units / 100))
    if units == 0 then
        common.malformed(validity_item, ex, tvb(4, 2), "SMF HELLO validity 0")
    end
    local count = tvb(6, 2):uint()
    local count_item = root:add(f.count, tvb(6, 2))
    local size = HEAD + count * LINK
    if tvb:len() ~= size then
        common.malformed(count_item, ex, nil, string.format(
            "SMF HELLO with %s must be %d bytes, got %d", common.count(count, "link", "links"),
            size, tvb:len()))
    end
    local mprs, k = 0, 0
    while k < count and HEAD + (k + 1) * LINK <= tvb:len() do
        if add_link(root, tvb, HEAD + k * LINK, k) then
            mprs = mprs + 1
        end
        k = k + 1
    end
    return string.format("HELLO, %s, %d MPR, priority %d%s",
                         common.count(count, "link", "links"), mprs, tvb(2, 1):uint(),
                         tvb(3, 1):uint() % 2 == 1 and ", E-CDS relay" or "")
end

common.udp_port(proto, PORT, common.typed_dissector(proto, ex, {
    column = "SMF", what = "SMF message", type_field = f.type, names = TYPES,
    handlers = { [HELLO] = dissect_hello },
}))
