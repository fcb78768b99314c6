# Wrong argument type: typeprof with the signatures must report it.
def ksr_request_route
  KSR::SL.sreply("200", "OK")
end

ksr_request_route
