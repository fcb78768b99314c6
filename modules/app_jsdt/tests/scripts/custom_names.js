function my_route() { KSR.setflag(7); }
function my_event(name) { seen_event = name; }
