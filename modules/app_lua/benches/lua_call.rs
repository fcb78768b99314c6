//! One Lua -> KSR call round trip, and one whole callback.
//!
//! The loop benches run 10 000 calls inside one callback and report the
//! time per call (throughput in elements). `loop_lua_function` is a plain
//! Lua call for the floor; `loop_mlua_function` is the same function made
//! with `mlua::Lua::create_function`, the alternative to our C closure.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_lua::{CallbackNames, LuaEngine, ScriptEngine};

const N: u64 = 10_000;

fn engine() -> LuaEngine {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/bench.lua");
    let e = LuaEngine::new(
        &Registry::new(&[&kemi_mod_ktest::MODULE]),
        &[script],
        CallbackNames::default(),
    )
    .expect("bench engine");
    let f = e
        .lua()
        .create_function(|_, n: i64| Ok(n))
        .expect("mlua function");
    e.lua().globals().set("mlua_ret_int", f).expect("global");
    e
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
        "loop_lua_function",
        "loop_mlua_function",
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
    callback.bench_function("one_ksr_call", |b| {
        b.iter(|| {
            e.run_callback(&mut ctx, "one_call", None)
                .expect("callback")
        })
    });
    callback.bench_function("with_event_arg", |b| {
        b.iter(|| {
            e.run_callback(&mut ctx, "one_call", Some("core:x"))
                .expect("callback")
        })
    });
    callback.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
