def ksr_request_route
end
raise ArgumentError, "broken at load"
