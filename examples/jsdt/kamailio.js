// Routing for examples/jsdt/kamailio.cfg, in JavaScript through Kamailio's
// KEMI API (cfgengine "jsdt").
//
// The same routing as examples/kamailio.lua, which follows Kamailio's basic
// KEMI example: initial checks (hops, sanity), keepalive OPTIONS to this
// proxy answered, and every other request relayed to a fixed next hop.
// Each ksr_* function stands in for a routing block of a native
// kamailio.cfg.
//
// Modules the proxy may not have yet are feature-tested: KSR.<module> only
// exists when the config loads that module (see STATELESS in kamailio.cfg):
//   * without tm, requests are relayed statelessly with KSR.forward() and
//     replies come back through ksr_reply_route;
//   * without rr, no Record-Route is added, so in-dialog requests follow
//     the same path as initial ones (to the next hop);
//   * registrar and auth (user location, digest) are not used here.
//
// Type-check it against the editor stubs with
//   tsc --allowJs --checkJs --noEmit --strict stubs/typescript/KSR.d.ts examples/jsdt/kamailio.js

// Where requests go: the next hop for everything this proxy relays.
var NEXT_HOP = "sip:127.0.0.1:5080";

// request_route {}
function ksr_request_route() {
    KSR.info("===== request - from kamailio javascript script\n");
    ksr_route_reqinit();

    // Keepalive OPTIONS for this proxy itself (no user in the R-URI).
    if (KSR.is_OPTIONS() && KSR.is_myself_ruri()
            && KSR.corex.has_ruri_user() < 0) {
        KSR.sl.send_reply(200, "Keepalive");
        KSR.x.exit();
    }

    // CANCEL: with tm, only for a transaction we know; stateless, it goes
    // the way the INVITE went.
    if (KSR.is_CANCEL() && KSR.tm) {
        if (KSR.tm.t_check_trans() > 0) {
            ksr_route_relay();
        }
        KSR.x.exit();
    }

    // Requests within a dialog (To tag): with rr, they follow the
    // Record-Route set; without it they are relayed like the rest.
    if (KSR.siputils.has_totag() > 0 && KSR.rr) {
        if (KSR.rr.loose_route() > 0) {
            ksr_route_relay();
        }
    }

    // Dialog-initiating requests: remember the path when rr is there.
    if (KSR.rr && KSR.is_method_in("IS")) {
        KSR.rr.record_route();
    }

    // The destination URI overrides the Request-URI for this hop only.
    KSR.pv.sets("$du", NEXT_HOP);
    ksr_route_relay();
}

// Per-request initial checks.
function ksr_route_reqinit() {
    // Loops and misrouted requests run out of hops.
    if (KSR.maxfwd.process_maxfwd(10) < 0) {
        KSR.sl.send_reply(483, "Too Many Hops");
        KSR.x.exit();
    }

    // Malformed requests get the sanity module's error reply (400...).
    if (KSR.sanity.sanity_check(1511, 7) < 0) {
        KSR.xlog.xerr("malformed SIP request from $si:$sp\n");
        KSR.x.exit();
    }

    // Who is asking, for the log.
    if (KSR.hdr.is_present("User-Agent") > 0) {
        KSR.xlog.xinfo(`$rm from $si:$sp by ${KSR.pv.gete("$ua")}\n`);
    }
}

// Sends the request to $du (or the R-URI): through tm when loaded,
// statelessly otherwise. Never returns: every path ends the callback.
/** @returns {never} */
function ksr_route_relay() {
    if (KSR.tm) {
        // Stateful: the callbacks below run for this transaction.
        KSR.tm.t_on_branch("ksr_branch_route_one");
        KSR.tm.t_on_reply("ksr_onreply_route_one");
        KSR.tm.t_on_failure("ksr_failure_route_one");
        if (KSR.tm.t_relay() < 0) {
            KSR.sl.send_reply(500, "Server error");
        }
        KSR.x.exit();
    }

    // Stateless: forward as is. An ACK cannot be answered, so a failure is
    // only logged for it.
    if (KSR.forward() < 0) {
        if (KSR.is_ACK()) {
            KSR.err(`cannot forward an ACK to ${KSR.pv.get("$du")}\n`);
        } else {
            KSR.sl.send_reply(500, "Server error");
        }
    }
    KSR.x.exit();
}

// reply_route {}: every reply received, before it is relayed.
function ksr_reply_route() {
    KSR.info("===== response - from kamailio javascript script\n");
}

// branch_route: each branch of a stateful relay, before it is sent.
function ksr_branch_route_one() {
    KSR.info("===== branch route - from kamailio javascript script\n");
}

// onreply_route: replies of the transaction.
function ksr_onreply_route_one() {
    KSR.info("===== onreply route - from kamailio javascript script\n");
}

// failure_route: the transaction ended with a negative reply.
function ksr_failure_route_one() {
    KSR.info("===== failure route - from kamailio javascript script\n");
}
