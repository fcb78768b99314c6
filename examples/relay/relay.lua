-- Stateful relay for examples/relay/kamailio.cfg, in Lua through
-- Kamailio's KEMI API: what the Lua example of Kamailio's KEMI
-- interpreter documentation does (relay to a fixed next hop with branch,
-- onreply and failure callbacks), plus what a real relay needs:
-- retransmission and CANCEL handling, record-routing, and a failover
-- next hop tried from the failure route.

-- Where requests go; FAILOVER_HOP (optional) takes over when NEXT_HOP
-- fails. Both are config defines (see kamailio.cfg), read on the first
-- request (Kamailio's Lua engine has no KSR while the script loads).
local NEXT_HOP, FAILOVER_HOP

-- A define's value as written, without the quotes of a string literal.
local function define(name)
    local v = KSR.kx.get_def(name)
    if type(v) ~= "string" or v == "" then
        return nil
    end
    return (string.gsub(v, '^"(.*)"$', "%1"))
end

local function read_defines()
    if NEXT_HOP == nil then
        NEXT_HOP = define("NEXT_HOP") or "sip:127.0.0.1:5080"
        FAILOVER_HOP = define("FAILOVER_HOP") or false
    end
end

-- request_route {}
function ksr_request_route()
    read_defines()
    if KSR.maxfwd.process_maxfwd(10) < 0 then
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    end

    -- CANCEL: only for a transaction this proxy relays.
    if KSR.is_CANCEL() then
        if KSR.tm.t_check_trans() > 0 then
            ksr_route_relay()
        end
        return
    end

    -- Requests within a dialog follow the Route set recorded at setup.
    if KSR.siputils.has_totag() > 0 then
        if KSR.rr.loose_route() > 0 then
            ksr_route_relay()
            return
        end
        if KSR.is_ACK() then
            -- An ACK for a negative reply ends its transaction here; an
            -- ACK for a 2xx without Route goes to the next hop.
            if KSR.tm.t_check_trans() == 0 then
                return
            end
        end
    end

    -- Retransmissions of a request being relayed get the last reply.
    if KSR.tmx.t_precheck_trans() > 0 then
        KSR.tm.t_check_trans()
        return
    end

    -- Dialog-creating requests: stay on the path.
    if KSR.is_method_in("IS") then
        KSR.rr.record_route()
    end

    KSR.pv.sets("$du", NEXT_HOP)
    ksr_route_relay()
end

-- Relays statefully with the callbacks below.
function ksr_route_relay()
    KSR.tm.t_on_branch("ksr_branch_route_one")
    KSR.tm.t_on_reply("ksr_onreply_route_one")
    KSR.tm.t_on_failure("ksr_failure_route_one")
    if KSR.tm.t_relay() < 0 then
        KSR.sl.send_reply(500, "Server error")
    end
end

-- reply_route {}: every reply received.
function ksr_reply_route()
    KSR.dbg("===== response - from kamailio lua script\n")
end

-- branch_route: each branch before it is sent.
function ksr_branch_route_one()
    KSR.dbg("===== branch route - from kamailio lua script\n")
end

-- onreply_route: replies of the transaction.
function ksr_onreply_route_one()
    KSR.dbg("===== onreply route - from kamailio lua script\n")
end

-- failure_route: every branch failed. Try the failover hop once, unless
-- the caller cancelled.
function ksr_failure_route_one()
    KSR.info("===== failure route: " .. tostring(KSR.pv.get("$T_reply_code")) .. "\n")
    if KSR.tm.t_is_canceled() > 0 then
        return
    end
    read_defines()
    if FAILOVER_HOP and KSR.pv.get("$du") ~= FAILOVER_HOP
            and KSR.tm.t_check_status("^[45][0-9][0-9]$") > 0 then
        KSR.pv.sets("$du", FAILOVER_HOP)
        KSR.tm.t_on_failure("ksr_failure_route_one")
        if KSR.tm.t_relay() < 0 then
            KSR.tm.t_reply(503, "Service Unavailable")
        end
    end
end
