-- meshnet's AODV extensions (protocols/aodv/wire.py), UDP port 654.
--
-- AODV itself is RFC 3561 and Wireshark's own AODV dissector decodes it (fields aodv.*). This
-- dissector runs it first and then decodes what it leaves opaque: the extensions after the
-- fixed part (RFC 3561 section 9: type, length, value), in particular meshnet's RREQ TTL
-- extension (type 200, one byte: the remaining IP TTL of a flooded RREQ, which the node context
-- does not expose) and the hello interval (type 1, uint32 ms).

local common = require "meshnet_common"

local PORT = 654
local EXT_HELLO_INTERVAL = 1
local EXT_TTL = 200
local RREQ, RREP, RERR, RREP_ACK = 1, 2, 3, 4
local FIXED = { [RREQ] = 24, [RREP] = 20, [RREP_ACK] = 2 }
local RERR_HEAD, RERR_ITEM = 4, 8

local proto, ex = common.proto("meshnet.aodv", "meshnet AODV extensions", {
    ttl_ignored = ProtoExpert.new("meshnet.aodv.ttl_ignored", "TTL extension not of 1 byte",
                                  expert.group.PROTOCOL, expert.severity.WARN) })

local f = {
    count = ProtoField.uint8("meshnet.aodv.extensions", "Extensions", base.DEC),
    ext = ProtoField.none("meshnet.aodv.ext", "Extension"),
    ext_type = ProtoField.uint8("meshnet.aodv.ext.type", "Type", base.DEC, {
        [EXT_HELLO_INTERVAL] = "Hello interval", [EXT_TTL] = "meshnet RREQ TTL" }),
    ext_length = ProtoField.uint8("meshnet.aodv.ext.length", "Length", base.DEC),
    ext_value = ProtoField.bytes("meshnet.aodv.ext.value", "Value"),
    ttl = ProtoField.uint8("meshnet.aodv.ttl", "Remaining RREQ TTL", base.DEC),
    hello_interval = ProtoField.uint32("meshnet.aodv.hello_interval", "Hello interval (ms)",
                                       base.DEC),
}
proto.fields = { f.count, f.ext, f.ext_type, f.ext_length, f.ext_value, f.ttl, f.hello_interval }

local rfc_aodv = common.udp_port_owner(PORT, "aodv")

-- Where the extensions start: the end of the message's fixed part, or nil if the message is too
-- short or of unknown type (Wireshark's AODV dissector reports those).
local function fixed_size(tvb)
    if tvb:len() < 1 then
        return nil
    end
    local kind = tvb(0, 1):uint()
    local size = FIXED[kind]
    if kind == RERR and tvb:len() >= RERR_HEAD then
        size = RERR_HEAD + tvb(3, 1):uint() * RERR_ITEM
    end
    if size == nil or tvb:len() < size then
        return nil
    end
    return size
end

local function add_value(item, kind, value, length)
    if kind == EXT_TTL then
        if length ~= 1 then
            -- not malformed: the decoder keeps it as an extension and reads no TTL from it
            item:add_tvb_expert_info(ex.ttl_ignored, value, string.format(
                "TTL extension of %d bytes: only a 1-byte one carries a TTL", length))
            return nil
        end
        item:add(f.ttl, value)
        return "TTL=" .. value:uint()
    elseif kind == EXT_HELLO_INTERVAL and length == 4 then
        item:add(f.hello_interval, value)
        return "Hello=" .. value:uint() .. "ms"
    end
    return nil
end

local function dissect(tvb, pinfo, tree)
    local rfc_ok, rfc_error = true, nil
    if rfc_aodv ~= nil then
        -- It throws on some malformed messages (an extension running past the end); catch
        -- that, so the extensions are still decoded and the frame is reported, not a Lua error.
        rfc_ok, rfc_error = pcall(Dissector.call, rfc_aodv, tvb, pinfo, tree)
    end
    local start = fixed_size(tvb)
    if start == nil then
        if not rfc_ok then
            common.malformed(tree:add(proto, tvb()), ex, nil, "AODV: " .. tostring(rfc_error))
        end
        return tvb:len()
    end
    local root = tree:add(proto, tvb(start, tvb:len() - start))
    local offset, count, notes = start, 0, {}
    while offset < tvb:len() do
        if offset + 2 > tvb:len() then
            common.malformed(root, ex, tvb(offset), string.format(
                "%d trailing byte(s) are not a valid extension", tvb:len() - offset))
            break
        end
        local kind, length = tvb(offset, 1):uint(), tvb(offset + 1, 1):uint()
        if offset + 2 + length > tvb:len() then
            common.malformed(root, ex, tvb(offset), string.format(
                "extension type %d claims %d bytes, only %d left", kind, length,
                tvb:len() - offset - 2))
            break
        end
        local item = root:add(f.ext, tvb(offset, 2 + length))
        item:set_text(string.format("Extension type %d, %s", kind,
                                    common.count(length, "byte", "bytes")))
        item:add(f.ext_type, tvb(offset, 1))
        item:add(f.ext_length, tvb(offset + 1, 1))
        if length > 0 then
            local value = tvb(offset + 2, length)
            item:add(f.ext_value, value)
            local note = add_value(item, kind, value, length)
            if note ~= nil then
                item:append_text(": " .. note)
                notes[#notes + 1] = note
            end
        end
        count = count + 1
        offset = offset + 2 + length
    end
    root:add(f.count, count):set_generated()
    root:append_text(string.format(" (%d)", count))
    if #notes > 0 then
        root:append_text(": " .. table.concat(notes, ", "))
        pinfo.cols.info:append(" " .. table.concat(notes, ", "))
    end
    return tvb:len()
end

common.udp_port(proto, PORT, dissect)
