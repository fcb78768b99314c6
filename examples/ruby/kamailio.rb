# Routing for examples/ruby/kamailio.cfg, in Ruby through Kamailio's KEMI
# API: the same routing as examples/kamailio.lua.
#
# Initial checks (hops, sanity), keepalive OPTIONS to this proxy answered,
# and every other request relayed to a fixed next hop. Each ksr_* method
# stands in for a routing block of a native kamailio.cfg.
#
# In Ruby the core functions are methods of KSR (KSR.info) and every
# module is an upper-cased constant (KSR::SL.send_reply, KSR::PV.get).
# Ruby's `exit` ends the routing callback (not the proxy), as in Kamailio.
#
# Modules the proxy may not have are feature-tested: KSR::<MODULE> only
# exists when the config loads that module (see STATELESS in kamailio.cfg):
#   * without tm, requests are relayed statelessly with KSR.forward and
#     replies come back through ksr_reply_route;
#   * without rr, no Record-Route is added, so in-dialog requests follow
#     the same path as initial ones (to the next hop).

# Where requests go: the next hop for everything this proxy relays.
NEXT_HOP = "sip:127.0.0.1:5080"

# request_route {}
def ksr_request_route
  KSR.info("===== request - from kamailio ruby script\n")
  ksr_route_reqinit

  # Keepalive OPTIONS for this proxy itself (no user in the R-URI).
  if KSR.is_OPTIONS && KSR.is_myself_ruri && KSR::COREX.has_ruri_user < 0
    KSR::SL.send_reply(200, "Keepalive")
    exit
  end

  # CANCEL: with tm, only for a transaction we know; stateless, it goes
  # the way the INVITE went.
  if KSR.is_CANCEL && defined?(KSR::TM)
    ksr_route_relay if KSR::TM.t_check_trans > 0
    exit
  end

  # Requests within a dialog (To tag): with rr, they follow the
  # Record-Route set; without it they are relayed like the rest.
  if KSR::SIPUTILS.has_totag > 0 && defined?(KSR::RR)
    if KSR::RR.loose_route > 0
      ksr_route_relay
      exit
    end
  end

  # Dialog-initiating requests: remember the path when rr is there.
  KSR::RR.record_route if defined?(KSR::RR) && KSR.is_method_in("IS")

  # The destination URI overrides the Request-URI for this hop only.
  KSR::PV.sets("$du", NEXT_HOP)
  ksr_route_relay
end

# Per-request initial checks.
def ksr_route_reqinit
  # Loops and misrouted requests run out of hops.
  if KSR::MAXFWD.process_maxfwd(10) < 0
    KSR::SL.send_reply(483, "Too Many Hops")
    exit
  end

  # Malformed requests get the sanity module's error reply (400...).
  if KSR::SANITY.sanity_check(1511, 7) < 0
    KSR::XLOG.xerr("malformed SIP request from $si:$sp\n")
    exit
  end

  # Who is asking, for the log.
  if KSR::HDR.is_present("User-Agent") > 0
    KSR::XLOG.xinfo("$rm from $si:$sp by " + KSR::PV.gete("$ua") + "\n")
  end
end

# Sends the request to $du (or the R-URI): through tm when loaded,
# statelessly otherwise.
def ksr_route_relay
  if defined?(KSR::TM)
    # Stateful: the callbacks below run for this transaction.
    KSR::TM.t_on_branch("ksr_branch_route_one")
    KSR::TM.t_on_reply("ksr_onreply_route_one")
    KSR::TM.t_on_failure("ksr_failure_route_one")
    KSR::SL.send_reply(500, "Server error") if KSR::TM.t_relay < 0
    exit
  end

  # Stateless: forward as is. An ACK cannot be answered, so a failure is
  # only logged for it.
  if KSR.forward < 0
    if KSR.is_ACK
      KSR.err("cannot forward an ACK to #{KSR::PV.get("$du")}\n")
    else
      KSR::SL.send_reply(500, "Server error")
    end
  end
  exit
end

# reply_route {}: every reply received, before it is relayed.
def ksr_reply_route
  KSR.info("===== response - from kamailio ruby script\n")
end

# branch_route: each branch of a stateful relay, before it is sent.
def ksr_branch_route_one
  KSR.info("===== branch route - from kamailio ruby script\n")
end

# onreply_route: replies of the transaction.
def ksr_onreply_route_one
  KSR.info("===== onreply route - from kamailio ruby script\n")
end

# failure_route: the transaction ended with a negative reply.
def ksr_failure_route_one
  KSR.info("===== failure route - from kamailio ruby script\n")
end
