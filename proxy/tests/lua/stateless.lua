-- Test routing script for tests/lua_*.rs: answers everything statelessly.
--   OPTIONS  -> 200 OK
--   any request with an X-Crash header -> a Lua error (to test how
--            script errors are handled)
--   ACK      -> absorbed
--   others   -> 404 Not Found
--   Max-Forwards exhausted -> 483

function ksr_request_route()
    if KSR.maxfwd.process_maxfwd(10) < 0 then
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    end
    if KSR.is_method("ACK") then
        KSR.x.exit()
    end
    if KSR.hdr.is_present("X-Crash") > 0 then
        error("crash requested by the test")
    end
    if KSR.is_method("OPTIONS") then
        KSR.sl.send_reply(200, "OK")
        return
    end
    KSR.sl.send_reply(404, "Not Found")
end
