// A routing script using the functions of the test registry.
function ksr_request_route() {
    KSR.info("is INVITE: " + KSR.is_INVITE());
    var ruri = KSR.pv.get("$ru");
    if (ruri === null) {
        KSR.sl.sreply(404, "Not Found");
        KSR.x.exit();
    }
    if (typeof ruri === "string" && ruri.indexOf("sip:") === 0) {
        KSR.pv.seti("$var(n)", 1);
    }
    if (KSR.pv.setl("$var(big)", 1099511627776)) {
        KSR.hdr.append("X-Checked: yes\r\n");
    }
    KSR.x.modf("sl_send_reply", "200", "OK");
    if (KSR.sl.sreply(200, "OK") < 0) {
        KSR.x.drop();
    }
}
