//! `KSR.x` has exactly the functions kemi-core lists for Python, the list
//! the reference and the `.pyi` stubs are rendered from, in both script
//! styles (app_python3 and app_python3s).

use kemi_core::ksr::x;
use kemi_mod_app_python3::testing;

/// A Python `check()` that fails unless `KSR.x` holds exactly `expected`.
fn check_function() -> String {
    let expected = x::sorted_names(x::PYTHON).join(",");
    format!(
        "import KSR\n\n\
         def check():\n\
         \x20   got = ','.join(sorted(n for n in dir(KSR.x) if not n.startswith('_')))\n\
         \x20   assert got == '{expected}', 'KSR.x has ' + got\n\
         \x20   assert all(callable(getattr(KSR.x, n)) for n in got.split(','))\n\n"
    )
}

#[test]
fn ksr_x_has_exactly_the_documented_functions() {
    let module = format!(
        "{}def ksr_request_route():\n    check()\n",
        check_function()
    );
    testing::module_style(&[])
        .run(&module)
        .unwrap_or_else(|e| panic!("module style: {e}"));
    let handler = format!(
        "{}class Handler:\n    def ksr_request_route(self, msg):\n        check()\n        return 1\n\n\
         def mod_init():\n    return Handler()\n",
        check_function()
    );
    testing::handler_style(&[])
        .run(&handler)
        .unwrap_or_else(|e| panic!("handler style: {e}"));
}
