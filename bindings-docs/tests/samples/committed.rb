# Uses only what every generated KSR stub has: for the committed stubs.
def ksr_request_route
  KSR::X.modf("sl_send_reply", "200", "OK")
end

ksr_request_route
