//! 1,000 OPTIONS from sipp (Debian's sip-tester) at a modest rate: every
//! one must get its 200. No timing assertions. Fails when sipp is not
//! installed (`scripts/setup` installs it).

mod common;

use common::sipp::{self, Sipp};
use common::*;

#[test]
fn sipp_1000_options_over_udp_all_answered() {
    sipp::require();
    let mut proxy = Proxy::start("children=2\nlisten=udp:127.0.0.1:PORT\n");
    Sipp::uac("options.xml", 1000, 500)
        .args(&["-l", "50"])
        .run(proxy.addr())
        .assert_ok(&mut proxy);
}

/// Without sipp a sipp test fails and says how to get it, rather than
/// passing without having run.
#[test]
#[should_panic(expected = "sipp not installed: run scripts/setup")]
fn a_missing_sipp_fails_the_test_with_the_fix() {
    sipp::require_at(std::path::Path::new("/nonexistent/bin/sipp"));
}
