# Uses only what every generated KSR stub has: for the committed stubs.
def ksr_request_route
  KSR::X.exit if KSR::X.modf("sl_send_reply", "200", "OK") > 0
  KSR::X.drop
end

ksr_request_route
