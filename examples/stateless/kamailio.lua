-- Stateless routing for examples/stateless/kamailio.cfg.
-- Nothing is relayed and no state is kept: each request gets its answer
-- from the sl module, built from the request itself.

function ksr_request_route()
    -- Loops and misrouted requests run out of hops: stop them first.
    if KSR.maxfwd.process_maxfwd(10) < 0 then
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    end

    -- Malformed requests get the sanity module's error reply (400...).
    if KSR.sanity.sanity_check(1511, 7) < 0 then
        KSR.xlog.xerr("malformed SIP request from $si:$sp\n")
        KSR.x.exit()
    end

    -- An ACK is never answered (it acknowledges a final reply we sent).
    if KSR.is_method("ACK") then
        KSR.x.exit()
    end

    -- Keepalive probes from phones, trunks and monitoring.
    if KSR.is_method("OPTIONS") then
        KSR.sl.send_reply(200, "OK")
        return
    end

    -- There is nobody behind this server.
    KSR.sl.send_reply(404, "Not Found")
end
