function my_route()
    KSR.setflag(7)
end

function my_event(name)
    seen_event = name
end
