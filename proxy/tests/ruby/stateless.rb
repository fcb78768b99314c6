# Test routing script for tests/ruby_sipp.rs: answers statelessly.
#   OPTIONS  -> 200 with the reason reply_reason gives (rewritten to test
#               reloads)
#   X-Crash header -> a Ruby error (the proxy logs it and keeps serving)
#   ACK      -> absorbed
#   others   -> 404 Not Found
#   Max-Forwards exhausted -> 483

def reply_reason
  "OK"
end

def ksr_request_route
  if KSR::MAXFWD.process_maxfwd(10) < 0
    KSR::SL.send_reply(483, "Too Many Hops")
    return
  end
  exit if KSR.is_method("ACK")
  raise "crash requested by the test" if KSR::HDR.is_present("X-Crash") > 0
  if KSR.is_method("OPTIONS")
    KSR::SL.send_reply(200, reply_reason)
    return
  end
  KSR::SL.send_reply(404, "Not Found")
end
