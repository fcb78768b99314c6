"""Routing for examples/python3s/kamailio.cfg, in Python through Kamailio's
KEMI API (app_python3s: the callbacks are module-level functions without
arguments, like app_lua's).

It follows Kamailio's basic KEMI examples: initial checks (hops, sanity),
keepalive OPTIONS to this proxy answered, and every other request relayed
to a fixed next hop. Each ksr_* function stands in for a routing block of a
native kamailio.cfg.

Modules the proxy may not have yet are feature-tested: KSR.<module> only
exists when the config loads that module (see STATELESS in kamailio.cfg).
Without tm, requests are relayed statelessly with KSR.forward() and replies
come back through ksr_reply_route; without rr, in-dialog requests follow
the same path as initial ones.

sys.exit() ends the callback for this message (the engine catches
SystemExit); it never stops the proxy. The script runs unchanged under
Kamailio with the same config.
"""

import sys

import KSR

# Where requests go: the next hop for everything this proxy relays.
NEXT_HOP = "sip:127.0.0.1:5080"


# request_route {}
def ksr_request_route() -> None:
    KSR.info("===== request - from kamailio python3s script\n")
    ksr_route_reqinit()

    # Keepalive OPTIONS for this proxy itself (no user in the R-URI).
    if (KSR.is_OPTIONS() and KSR.is_myself_ruri()
            and KSR.corex.has_ruri_user() < 0):
        KSR.sl.send_reply(200, "Keepalive")
        sys.exit()

    # CANCEL: with tm, only for a transaction we know; stateless, it goes
    # the way the INVITE went.
    if KSR.is_CANCEL() and hasattr(KSR, "tm"):
        if KSR.tm.t_check_trans() > 0:
            ksr_route_relay()
        sys.exit()

    # Requests within a dialog (To tag): with rr, they follow the
    # Record-Route set; without it they are relayed like the rest.
    if KSR.siputils.has_totag() > 0 and hasattr(KSR, "rr"):
        if KSR.rr.loose_route() > 0:
            ksr_route_relay()

    # Dialog-initiating requests: remember the path when rr is there.
    if hasattr(KSR, "rr") and KSR.is_method_in("IS"):
        KSR.rr.record_route()

    # The destination URI overrides the Request-URI for this hop only.
    KSR.pv.sets("$du", NEXT_HOP)
    ksr_route_relay()


# Per-request initial checks.
def ksr_route_reqinit() -> None:
    # Loops and misrouted requests run out of hops.
    if KSR.maxfwd.process_maxfwd(10) < 0:
        KSR.sl.send_reply(483, "Too Many Hops")
        sys.exit()

    # Malformed requests get the sanity module's error reply (400...).
    if KSR.sanity.sanity_check(1511, 7) < 0:
        KSR.xlog.xerr("malformed SIP request from $si:$sp\n")
        sys.exit()

    # Who is asking, for the log.
    if KSR.hdr.is_present("User-Agent") > 0:
        KSR.xlog.xinfo("$rm from $si:$sp by %s\n" % KSR.pv.gete("$ua"))


# Sends the request to $du (or the R-URI): through tm when loaded,
# statelessly otherwise. Never returns.
def ksr_route_relay() -> None:
    if hasattr(KSR, "tm"):
        # Stateful: the functions below run for this transaction.
        KSR.tm.t_on_branch("ksr_branch_route_one")
        KSR.tm.t_on_reply("ksr_onreply_route_one")
        KSR.tm.t_on_failure("ksr_failure_route_one")
        if KSR.tm.t_relay() < 0:
            KSR.sl.send_reply(500, "Server error")
        sys.exit()

    # Stateless: forward as is. An ACK cannot be answered, so a failure is
    # only logged for it.
    if KSR.forward() < 0:
        if KSR.is_ACK():
            KSR.err("cannot forward an ACK to %s\n" % KSR.pv.get("$du"))
        else:
            KSR.sl.send_reply(500, "Server error")
    sys.exit()


# reply_route {}: every reply received, before it is relayed.
def ksr_reply_route() -> None:
    KSR.info("===== response - from kamailio python3s script\n")


# branch_route: each branch of a stateful relay, before it is sent.
def ksr_branch_route_one() -> None:
    KSR.info("===== branch route - from kamailio python3s script\n")


# onreply_route: replies of the transaction.
def ksr_onreply_route_one() -> None:
    KSR.info("===== onreply route - from kamailio python3s script\n")


# failure_route: the transaction ended with a negative reply.
def ksr_failure_route_one() -> None:
    KSR.info("===== failure route - from kamailio python3s script\n")
