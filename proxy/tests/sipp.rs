//! 1,000 OPTIONS from sipp (Debian's sip-tester) at a modest rate: every
//! one must get its 200. No timing assertions. Skipped where sipp is not
//! installed (`scripts/setup` installs it).

mod common;

use common::sipp::{self, Sipp};
use common::*;

#[test]
fn sipp_1000_options_over_udp_all_answered() {
    if !sipp::installed() {
        return;
    }
    let mut proxy = Proxy::start("children=2\nlisten=udp:127.0.0.1:PORT\n");
    Sipp::uac("options.xml", 1000, 500)
        .args(&["-l", "50"])
        .run(proxy.addr())
        .assert_ok(&mut proxy);
}
