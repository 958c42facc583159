-- Helpers shared by meshnet's Wireshark dissectors (meshnet_<protocol>.lua).
--
-- Each dissector loads this file with `require "meshnet_common"`; Wireshark puts the folder of
-- a plug-in (and of a `-X lua_script:` file) on package.path, so it is found beside them. Loaded
-- on its own, as Wireshark does with every .lua file in the plug-in folder, it defines nothing.
-- Written for Lua 5.2 (Wireshark 3.x/4.0) and 5.4 (Wireshark 4.2 and later): no bit operators.

local M = {}

-- A Proto with the expert fields every meshnet dissector reports through:
--   malformed  the bytes do not follow the format (error, shown as a malformed frame)
--   reserved   reserved bits are set (a note: meshnet sends them as zero and ignores them)
-- `extra` adds protocol-specific ones: { key = ProtoExpert.new(...) }.
function M.proto(filter, title, extra)
    local proto = Proto(filter, title)
    local ex = {
        malformed = ProtoExpert.new(filter .. ".malformed", "Malformed " .. title .. " message",
                                    expert.group.MALFORMED, expert.severity.ERROR),
        reserved = ProtoExpert.new(filter .. ".reserved_set", "Reserved bits set",
                                   expert.group.PROTOCOL, expert.severity.NOTE),
    }
    local list = { ex.malformed, ex.reserved }
    for key, e in pairs(extra or {}) do
        ex[key] = e
        list[#list + 1] = e
    end
    proto.experts = list
    return proto, ex
end

-- Report a malformed message on `item`, over `range` (nil: the whole item).
function M.malformed(item, ex, range, text)
    if range ~= nil then
        item:add_tvb_expert_info(ex.malformed, range, text)
    else
        item:add_proto_expert_info(ex.malformed, text)
    end
end

-- True if `tvb` holds at least `size` bytes from `offset`; otherwise reports the frame as
-- malformed (naming `what`) and returns false, so no read ever runs past the end.
function M.need(tvb, item, ex, offset, size, what)
    local have = tvb:len() - offset
    if have >= size then
        return true
    end
    M.malformed(item, ex, have > 0 and tvb(offset) or nil,
                string.format("%s truncated: %d bytes, need %d", what, math.max(have, 0), size))
    return false
end

-- Report bytes left over after a message whose length is fixed by its own fields.
function M.trailing(tvb, item, ex, offset, what)
    local extra = tvb:len() - offset
    if extra > 0 then
        M.malformed(item, ex, tvb(offset),
                    string.format("%d trailing byte(s) after the %s", extra, what))
        return true
    end
    return false
end

-- "1 entry", "3 entries": `n` and the word that goes with it.
function M.count(n, one, many)
    return string.format("%d %s", n, n == 1 and one or many)
end

-- An int32 in millimetres, as text in metres.
function M.metres(mm)
    return string.format("%.3f m", mm / 1000)
end

-- Sets the Protocol and Info columns.
function M.columns(pinfo, protocol, info)
    pinfo.cols.protocol:set(protocol)
    pinfo.cols.info:set(info)
end

-- A dissector for one UDP payload of `proto`: adds its subtree, shows `column` in the Protocol
-- column (and `placeholder`, default `column`, in Info while decoding), reports an empty payload
-- as malformed (`what` names it: "ODMRP message"), and otherwise calls `decode(tvb, root)`. The
-- text that returns goes into Info and after the subtree's title; nil leaves the placeholder
-- (the message was reported as malformed before anything could be said of it).
function M.message_dissector(proto, ex, column, what, decode, placeholder)
    return function(tvb, pinfo, tree)
        local root = tree:add(proto, tvb())
        M.columns(pinfo, column, placeholder or column)
        if not M.need(tvb, root, ex, 0, 1, what) then
            return tvb:len()
        end
        local info = decode(tvb, root)
        if info ~= nil then
            M.columns(pinfo, column, info)
            root:append_text(", " .. info)
        end
        return tvb:len()
    end
end

-- "1 Join Query, 2 Join Reply": the types `handlers` takes, in order, with their `names`.
local function known_types(handlers, names)
    local kinds = {}
    for kind in pairs(handlers) do
        kinds[#kinds + 1] = kind
    end
    table.sort(kinds)
    for i, kind in ipairs(kinds) do
        kinds[i] = string.format("%d %s", kind, names[kind])
    end
    return table.concat(kinds, ", ")
end

-- A message_dissector for messages whose first byte is their type: shows that byte as
-- `spec.type_field` and hands the message to `spec.handlers[type](tvb, root, type)`, which
-- returns the Info text; a type with no handler is malformed, the message naming the types
-- there are (`spec.names`: type -> name). `spec.column`, `spec.what`, `spec.placeholder` are
-- message_dissector's.
function M.typed_dissector(proto, ex, spec)
    local expected = known_types(spec.handlers, spec.names)
    return M.message_dissector(proto, ex, spec.column, spec.what, function(tvb, root)
        local kind = tvb(0, 1):uint()
        local type_item = root:add(spec.type_field, tvb(0, 1))
        local handler = spec.handlers[kind]
        if handler == nil then
            M.malformed(type_item, ex, tvb(0, 1), string.format(
                "unknown %s type %d (expected %s)", spec.what, kind, expected))
            return nil
        end
        return handler(tvb, root, kind)
    end, spec.placeholder)
end

-- Sets `dissect` as proto's dissector and registers it on UDP `port`.
function M.udp_port(proto, port, dissect)
    proto.dissector = dissect
    DissectorTable.get("udp.port"):add(port, proto)
end

-- The dissector Wireshark has on UDP `port` before a meshnet one is registered there, else the
-- one registered under `name`; nil if there is neither.
function M.udp_port_owner(port, name)
    local current = DissectorTable.get("udp.port"):get_dissector(port)
    if current ~= nil then
        return current
    end
    local ok, named = pcall(Dissector.get, name)
    return ok and named or nil
end

-- Registers `proto` on UDP `port`, which Wireshark gives to dissector `previous` (e.g. "packetbb"
-- on 269), and hands every datagram for which `is_ours(tvb)` is false back to that dissector: the
-- port is shared, not taken.
function M.share_udp_port(proto, port, previous, is_ours, dissect)
    local fallback = M.udp_port_owner(port, previous)
    M.udp_port(proto, port, function(tvb, pinfo, tree)
        if fallback ~= nil and not is_ours(tvb) then
            return fallback:call(tvb, pinfo, tree)
        end
        return dissect(tvb, pinfo, tree)
    end)
end

-- Also tries `dissect` on UDP datagrams of other ports, taking those for which `looks_like(tvb)`
-- holds (it must be strict: it sees everyone's traffic).
function M.udp_heuristic(proto, looks_like, dissect)
    proto:register_heuristic("udp", function(tvb, pinfo, tree)
        if not looks_like(tvb) then
            return false
        end
        dissect(tvb, pinfo, tree)
        return true
    end)
end

-- The bytes (type, length, body) of the first IPv4 option of type `kind` in the IPv4 header
-- `ip` (a TvbRange), or nil; a malformed option list (as Wireshark's IPv4 dissector also
-- reports) yields nil. Per-packet protocol headers travel this way (meshnet/netns/ipopt.py).
function M.ipv4_option(ip, kind)
    if ip:len() < 21 then
        return nil
    end
    local ihl = (ip(0, 1):uint() % 16) * 4
    local i = 20
    while i < ihl and i < ip:len() do
        local this = ip(i, 1):uint()
        if this == 0 then
            return nil
        elseif this == 1 then
            i = i + 1
        else
            if i + 1 >= ihl or i + 1 >= ip:len() then
                return nil
            end
            local length = ip(i + 1, 1):uint()
            if length < 2 or i + length > ihl or i + length > ip:len() then
                return nil
            end
            if this == kind then
                return ip(i, length)
            end
            i = i + length
        end
    end
    return nil
end

-- Registers `proto` as a post-dissector that calls `dissect(option, pinfo, tree)` with every
-- IPv4 header's option of type `kind` (the whole option: type, length, body).
function M.ipv4_option_postdissector(proto, kind, dissect)
    local ip_field = Field.new("ip")
    function proto.dissector(tvb, pinfo, tree)
        for _, ip in ipairs({ ip_field() }) do
            local range = ip.range
            if range ~= nil then
                local option = M.ipv4_option(range, kind)
                if option ~= nil then
                    dissect(option, pinfo, tree)
                end
            end
        end
    end
    register_postdissector(proto)
end

-- IPv4 option 158 carries two headers: GPSR's (14 or 38 bytes) and Z-Wave's data header (5 to
-- 9 bytes: 5 + at most 4 repeaters). A network runs one protocol and the lengths never meet, so
-- the body's length says whose it is: Z-Wave's for 5 to 9 bytes, GPSR's otherwise.
M.OPTION_158 = 0x9E
M.ZWAVE_HEADER_MIN, M.ZWAVE_HEADER_MAX = 5, 9

function M.option_158_is_zwave(option)
    local size = option:len() - 2
    return size >= M.ZWAVE_HEADER_MIN and size <= M.ZWAVE_HEADER_MAX
end

return M
