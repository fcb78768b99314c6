# Misspelt KSR function: typeprof with the signatures must report it.
def ksr_request_route
  KSR::SL.sreplyy(200, "OK")
end

ksr_request_route
