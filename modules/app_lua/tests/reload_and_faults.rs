//! Hot reload, a panicking export, and engines on several threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kemi_core::{
    Arg, ArgError, Context, Export, ModuleDef, Registry, Ret, ReturnKind, Runtime, Submodule,
};
use kemi_mod_app_lua::{CallbackNames, CallbackOutcome, LuaEngine, ScriptEngine};

fn context() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

/// A script file of its own per test, under the build's temp directory.
fn temp_script(name: &str, body: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app_lua");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    write(&path, body);
    path
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
}

#[test]
fn reload_runs_the_new_script_and_keeps_the_old_on_failure() {
    let path = temp_script(
        "reload.lua",
        "function ksr_request_route() KSR.setflag(1) end\n",
    );
    let registry = Registry::new(&[]);
    let mut e = LuaEngine::new(
        &registry,
        std::slice::from_ref(&path),
        CallbackNames::default(),
    )
    .unwrap();
    let flags = |e: &mut LuaEngine| {
        let mut ctx = context();
        e.request_route(&mut ctx).unwrap();
        ctx.flags
    };
    assert_eq!(flags(&mut e), 1 << 1);
    // same version: nothing happens even though the file changed
    write(&path, "function ksr_request_route() KSR.setflag(2) end\n");
    assert!(!e.try_reload(0).unwrap());
    assert_eq!(flags(&mut e), 1 << 1);
    // new version: the new code runs
    assert!(e.try_reload(1).unwrap());
    assert_eq!(e.version(), 1);
    assert_eq!(flags(&mut e), 1 << 2);
    // a syntax error: reported, the previous code keeps running
    write(&path, "function ksr_request_route( KSR.setflag(3) end\n");
    let err = e.try_reload(2).unwrap_err();
    assert!(err.to_string().contains("reload.lua"), "{err}");
    assert_eq!(flags(&mut e), 1 << 2);
    // reported once: the version is recorded
    assert!(!e.try_reload(2).unwrap());
    // a runtime error while loading: reported, old functions stay
    write(
        &path,
        "local t = nil\nt.x = 1\nfunction ksr_request_route() KSR.setflag(4) end\n",
    );
    assert!(e.try_reload(3).is_err());
    assert_eq!(flags(&mut e), 1 << 2);
}

fn panicking_thunk(_ctx: &mut Context, _args: &[Arg<'_>]) -> Result<Ret, ArgError> {
    panic!("module bug")
}

static PANIC_EXPORTS: [Export; 1] = [Export {
    module: "faulty",
    name: "boom",
    ret: ReturnKind::Int,
    params: &[],
    doc: "Panics.",
    file: file!(),
    line: line!(),
    call: panicking_thunk,
}];

static FAULTY_SUB: Submodule = Submodule {
    name: "faulty",
    doc: "",
    exports: &PANIC_EXPORTS,
};

static FAULTY: ModuleDef = ModuleDef {
    name: "faulty",
    summary: "panics",
    kemi: Some(&FAULTY_SUB),
    params: &[],
    rpc: &[],
};

#[test]
fn a_panicking_export_is_a_lua_error_not_a_crash() {
    let path = temp_script(
        "panic.lua",
        "function ksr_request_route()\n\
         local ok, err = pcall(KSR.faulty.boom)\n\
         caught = err\n\
         KSR.faulty.boom()\n\
         end\n",
    );
    let mut e = LuaEngine::new(
        &Registry::new(&[&FAULTY]),
        &[path],
        CallbackNames::default(),
    )
    .unwrap();
    let err = e.request_route(&mut context()).unwrap_err();
    assert!(
        err.to_string()
            .contains("KSR.faulty.boom: the function panicked"),
        "{err}"
    );
    let caught: String = e.lua().globals().get("caught").unwrap();
    assert!(caught.contains("KSR.faulty.boom"), "{caught}");
    // the engine still works afterwards
    assert!(e.run_callback(&mut context(), "print", None).is_ok());
}

#[test]
fn one_engine_per_thread_in_parallel() {
    let path = temp_script(
        "threads.lua",
        "function ksr_request_route() for i = 1, 1000 do KSR.setflag(i % 32) end end\n",
    );
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut e =
                    LuaEngine::new(&Registry::new(&[]), &[path], CallbackNames::default()).unwrap();
                let mut ctx = context();
                for _ in 0..50 {
                    assert_eq!(
                        e.request_route(&mut ctx).unwrap(),
                        CallbackOutcome::Returned
                    );
                }
                ctx.flags
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), u32::MAX);
    }
}

#[test]
fn scripts_load_in_order_each_with_a_fresh_scratch_context() {
    let a = temp_script(
        "order_a.lua",
        "function ksr_request_route() KSR.setflag(1) end\n\
         KSR.setflag(9)\n\
         KSR.x.exit()\n\
         not_reached = true\n",
    );
    let b = temp_script(
        "order_b.lua",
        "function ksr_request_route() KSR.setflag(2) end\n\
         b_saw_flag_9 = KSR.isflagset(9)\n\
         b_setflag = KSR.setflag(3)\n",
    );
    let mut e = LuaEngine::new(&Registry::new(&[]), &[a, b], CallbackNames::default()).unwrap();
    let globals = e.lua().globals();
    assert_eq!(globals.get::<Option<bool>>("not_reached").unwrap(), None);
    assert!(!globals.get::<bool>("b_saw_flag_9").unwrap());
    assert!(globals.get::<bool>("b_setflag").unwrap());
    let mut ctx = context();
    e.request_route(&mut ctx).unwrap();
    assert_eq!(ctx.flags, 1 << 2, "the later script's definition wins");
}
