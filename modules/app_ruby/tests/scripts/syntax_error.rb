def ksr_request_route
  if true
end
