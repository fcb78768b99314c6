// Stateless answering for the engine benchmarks (scripts/bench-engines),
// in JavaScript for app_jsdt: the same as kamailio.lua next to it. Hops and
// sanity checked, OPTIONS answered 200, ACK absorbed, anything else 404.

function ksr_request_route() {
    if (KSR.maxfwd.process_maxfwd(10) < 0) {
        KSR.sl.send_reply(483, "Too Many Hops");
        return;
    }
    if (KSR.sanity.sanity_check(1511, 7) < 0) {
        KSR.xlog.xerr("malformed SIP request from $si:$sp\n");
        KSR.x.exit();
    }
    if (KSR.is_method("ACK")) {
        return;
    }
    if (KSR.is_method("OPTIONS")) {
        KSR.sl.send_reply(200, "OK");
        return;
    }
    KSR.sl.send_reply(404, "Not Found");
}
