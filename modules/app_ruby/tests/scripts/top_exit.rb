def ksr_request_route
  KSR.setflag(6)
end
exit
def never_defined
end
