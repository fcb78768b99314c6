-- Misspelt KSR functions: luacheck with the generated globals must report them.
function ksr_request_route()
    KSR.sl.sreplyy(200, "OK")
    KSR.inf("hello")
end
