-- Routing for examples/kamailio.cfg, in Lua through Kamailio's KEMI API.
--
-- Each ksr_* function stands in for a routing block of a native
-- kamailio.cfg. Modules the proxy may not have (tm) are feature-tested:
-- KSR.<module> only exists when the config loads that module.

-- Where requests go: the next hop for everything this proxy receives.
local NEXT_HOP = "sip:127.0.0.1:5080"

-- request_route {}
function ksr_request_route()
    KSR.info("request " .. (KSR.tm and "(stateful)" or "(stateless)") .. "\n")

    if KSR.maxfwd.process_maxfwd(10) < 0 then
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    end

    -- The destination URI overrides the Request-URI for this hop only.
    KSR.setdsturi(NEXT_HOP)

    if KSR.tm then
        -- Stateful: the callbacks below run for this transaction.
        KSR.tm.t_on_branch("ksr_branch_route_one")
        KSR.tm.t_on_reply("ksr_onreply_route_one")
        KSR.tm.t_on_failure("ksr_failure_route_one")
        if KSR.tm.t_relay() < 0 then
            KSR.sl.send_reply(500, "Server error")
        end
        return
    end

    -- Stateless: forward as is; replies come back through ksr_reply_route
    -- and are relayed by the proxy. An ACK cannot be answered, so a
    -- failure is only logged for it.
    if KSR.forward() < 0 then
        if KSR.is_method("ACK") then
            KSR.err("cannot forward an ACK to " .. NEXT_HOP .. "\n")
        else
            KSR.sl.send_reply(500, "Server error")
        end
    end
end

-- reply_route {}: every reply received, before it is relayed.
function ksr_reply_route()
    KSR.info("reply\n")
end

-- branch_route: each branch of a stateful relay, before it is sent.
function ksr_branch_route_one()
    KSR.info("branch route\n")
end

-- onreply_route: replies of the transaction.
function ksr_onreply_route_one()
    KSR.info("onreply route\n")
end

-- failure_route: the transaction ended with a negative reply.
function ksr_failure_route_one()
    KSR.info("failure route\n")
end
