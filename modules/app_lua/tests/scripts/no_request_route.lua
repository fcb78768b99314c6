-- Defines everything but the request route callback.
function ksr_reply_route()
end
