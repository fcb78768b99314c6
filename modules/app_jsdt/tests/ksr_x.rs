//! `KSR.x` has exactly the functions kemi-core lists for JavaScript, the
//! list the reference and the TypeScript stubs are rendered from.

use kemi_core::ksr::x;
use kemi_mod_app_jsdt::testing::JsTest;

#[test]
fn ksr_x_has_exactly_the_documented_functions() {
    let expected = x::sorted_names(x::JAVASCRIPT).join(",");
    let script = format!(
        r#"function ksr_request_route() {{
            var names = Object.keys(KSR.x).sort();
            names.forEach(function (n) {{
                if (typeof KSR.x[n] !== "function") throw new Error(n + " is not a function");
            }});
            var got = names.join(",");
            if (got !== "{expected}") throw new Error("KSR.x has " + got);
        }}"#
    );
    JsTest::new(&[])
        .run(&script)
        .unwrap_or_else(|e| panic!("{e}"));
}
