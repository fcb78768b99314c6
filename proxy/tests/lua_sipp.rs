//! sipp against the real binary routed by a Lua script that answers
//! statelessly (tests/lua/stateless.lua): 10,000 OPTIONS and 10,000
//! INVITEs at 2,000/s, all answered; Max-Forwards 0 gets 483. No timing
//! assertions. Fails when sipp is not installed (`scripts/setup` installs it).

mod common;

use common::sipp::{self, Sipp};
use common::*;

fn lua_cfg() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lua/stateless.lua");
    format!(
        "children=2\nlisten=udp:127.0.0.1:PORT\ndisable_tcp=yes\n\
         loadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"app_lua.so\"\n\
         modparam(\"app_lua\", \"load\", \"{script}\")\ncfgengine \"lua\"\n"
    )
}

#[test]
fn sipp_against_lua_script() {
    sipp::require();
    if kemi_proxy::module_table::find("sl").is_none() {
        eprintln!("skipped: the sl module is not compiled in");
        return;
    }
    let mut proxy = Proxy::start(&lua_cfg());
    // One proxy, scenarios one after the other: in parallel they would
    // compete for this machine's cores and the rate could not be held.
    Sipp::uac("options_retrans.xml", 10_000, 2_000)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    Sipp::uac("invite_rejected.xml", 10_000, 2_000)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    Sipp::uac("options_max_forwards_0.xml", 200, 200)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
}
