# Stateless answering for the engine benchmarks (scripts/bench-engines),
# in Ruby for app_ruby: the same as kamailio.lua next to it. Hops and
# sanity checked, OPTIONS answered 200, ACK absorbed, anything else 404.

def ksr_request_route()
  if KSR::MAXFWD.process_maxfwd(10) < 0
    KSR::SL.send_reply(483, "Too Many Hops")
    return 1
  end
  if KSR::SANITY.sanity_check(1511, 7) < 0
    KSR::XLOG.xerr("malformed SIP request from $si:$sp\n")
    KSR::X.exit()
  end
  return 1 if KSR.is_method("ACK")
  if KSR.is_method("OPTIONS")
    KSR::SL.send_reply(200, "OK")
    return 1
  end
  KSR::SL.send_reply(404, "Not Found")
  1
end
