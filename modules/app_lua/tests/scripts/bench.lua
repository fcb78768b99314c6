-- Used by benches/lua_call.rs.
function ksr_request_route()
end

function one_call()
    KSR.setflag(1)
end

local N = 10000

function loop_ksr_ret_int()
    local f = KSR.ktest.ret_int
    for i = 1, N do f(1) end
end

function loop_ksr_concat()
    local f = KSR.ktest.concat
    for i = 1, N do f("a", "b") end
end

function loop_ksr_setflag()
    for i = 1, N do KSR.setflag(1) end
end

function loop_lua_function()
    local f = function(x) return x end
    for i = 1, N do f(1) end
end

function loop_mlua_function()
    local f = mlua_ret_int
    for i = 1, N do f(1) end
end
