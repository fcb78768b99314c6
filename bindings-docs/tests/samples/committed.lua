-- Uses only what every generated KSR stub has: for the committed stubs.
function ksr_request_route()
    if KSR.x.modf("sl_send_reply", "200", "OK") < 0 then
        KSR.x.exit()
    end
end
