-- A routing script using the functions of the test registry.
function ksr_request_route()
    KSR.info("is INVITE: " .. tostring(KSR.is_INVITE()))
    local ruri = KSR.pv.get("$ru")
    if ruri == nil then
        KSR.sl.sreply(404, "Not Found")
        KSR.x.exit()
    end
    if type(ruri) == "string" and ruri:sub(1, 4) == "sip:" then
        KSR.pv.seti("$var(n)", 1)
    end
    if KSR.pv.setl("$var(big)", 1099511627776) then
        KSR.hdr.append("X-Checked: yes\r\n")
    end
    KSR.x.modf("sl_send_reply", "200", "OK")
    if KSR.sl.sreply(200, "OK") < 0 then
        KSR.x.drop()
    end
end
