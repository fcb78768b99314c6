//! What routing through Python costs: one KSR call round trip, and one
//! whole callback including taking and releasing the GIL.
//!
//! - `per_call/*` run 10 000 calls inside one callback and report the time
//!   per call; `loop_python_function` is a plain Python call, the floor.
//! - `callback/empty_request_route` is one callback on a worker engine,
//!   which keeps its thread state (what the proxy does per message).
//! - `attach/fresh_thread_state` is `Python::attach` on a thread without a
//!   kept thread state (created and destroyed per call), the cost the
//!   engine avoids; `attach/kept_thread_state` is the same with one kept.
//!
//! Run with `cargo bench -p kemi-mod-app-python3`.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_python3::testing::write_script;
use kemi_mod_app_python3::{CallbackNames, PyEngine, PyScript, ScriptEngine, Style};
use pyo3::prelude::*;

const N: u64 = 10_000;

const SCRIPT: &str = "import KSR
N = 10000
def ksr_request_route():
    pass
def plain(n):
    return n
def loop_ksr_ret_int():
    f = KSR.ktest.ret_int
    for i in range(N):
        f(i)
def loop_ksr_setflag():
    f = KSR.setflag
    for i in range(N):
        f(1)
def loop_ksr_concat():
    f = KSR.ktest.concat
    for i in range(N):
        f('a', 'b')
def loop_python_function():
    for i in range(N):
        plain(i)
";

fn engine() -> PyEngine {
    let path = write_script(SCRIPT).expect("bench script");
    let runtime = Arc::new(Runtime::default());
    let script = PyScript::load(
        &Registry::new(&[&kemi_mod_ktest::MODULE]),
        &path,
        Style::module(),
        "ksr_request_route".into(),
        runtime,
    )
    .expect("bench script loads");
    PyEngine::new(script, CallbackNames::default(), 1).expect("bench engine")
}

fn bench(c: &mut Criterion) {
    let mut e = engine();
    let mut ctx = Context::new(Arc::new(Runtime::default()));

    let mut per_call = c.benchmark_group("per_call");
    per_call.throughput(Throughput::Elements(N));
    for name in [
        "loop_ksr_ret_int",
        "loop_ksr_setflag",
        "loop_ksr_concat",
        "loop_python_function",
    ] {
        per_call.bench_function(name, |b| {
            b.iter(|| e.run_callback(&mut ctx, name, None).expect("callback"))
        });
    }
    per_call.finish();

    let mut callback = c.benchmark_group("callback");
    callback.bench_function("empty_request_route", |b| {
        b.iter(|| e.request_route(&mut ctx).expect("callback"))
    });
    callback.finish();

    // On threads of their own: the thread that started Python keeps its
    // first thread state for good.
    let script = Arc::clone(e.script());
    let mut attach = c.benchmark_group("attach");
    attach.bench_function("kept_thread_state", |b| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let _worker = PyEngine::new(Arc::clone(&script), CallbackNames::default(), 2)
                    .expect("worker engine");
                b.iter(|| Python::attach(|_py| ()))
            });
        })
    });
    attach.bench_function("fresh_thread_state", |b| {
        std::thread::scope(|s| {
            s.spawn(|| b.iter(|| Python::attach(|_py| ())));
        })
    });
    attach.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
