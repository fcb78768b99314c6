//! Hot reload, loaddir, a panicking export, and engines on several threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kemi_core::{
    Arg, ArgError, Context, Export, ModuleDef, Registry, Ret, ReturnKind, Runtime, Submodule,
};
use kemi_mod_app_jsdt::{CallbackNames, CallbackOutcome, JsEngine, ScriptEngine, ScriptSource};

fn context() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

/// A directory of its own per test, under the build's temp directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("app_jsdt")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
}

fn file_engine(registry: &Registry, path: &Path) -> JsEngine {
    JsEngine::new(
        registry,
        ScriptSource::File(path.to_path_buf()),
        true,
        CallbackNames::default(),
    )
    .unwrap()
}

fn flags(e: &mut JsEngine) -> u32 {
    let mut ctx = context();
    e.request_route(&mut ctx).unwrap();
    ctx.flags
}

#[test]
fn reload_runs_the_new_script_and_keeps_the_old_on_failure() {
    let path = temp_dir("reload").join("reload.js");
    write(&path, "function ksr_request_route() { KSR.setflag(1); }\n");
    let mut e = file_engine(&Registry::new(&[]), &path);
    assert_eq!(flags(&mut e), 1 << 1);
    // same version: nothing happens even though the file changed
    write(&path, "function ksr_request_route() { KSR.setflag(2); }\n");
    assert!(!e.try_reload(0).unwrap());
    assert_eq!(flags(&mut e), 1 << 1);
    // new version: the new code runs
    assert!(e.try_reload(1).unwrap());
    assert_eq!(e.version(), 1);
    assert_eq!(flags(&mut e), 1 << 2);
    // a syntax error: reported, the previous code keeps running
    write(&path, "function ksr_request_route( { KSR.setflag(3); }\n");
    let err = e.try_reload(2).unwrap_err();
    assert!(err.to_string().contains("reload.js"), "{err}");
    assert!(err.to_string().contains("SyntaxError"), "{err}");
    assert_eq!(flags(&mut e), 1 << 2);
    // reported once: the version is recorded
    assert!(!e.try_reload(2).unwrap());
    // a runtime error while loading: reported, what the script had not
    // reached stays as it was (function declarations are hoisted, so the
    // replacement here is an assignment)
    write(
        &path,
        "null.x = 1;\nksr_request_route = function () { KSR.setflag(4); };\n",
    );
    assert!(e.try_reload(3).is_err());
    assert_eq!(flags(&mut e), 1 << 2);
    // the file is gone: reported, old code runs
    std::fs::remove_file(&path).unwrap();
    assert!(e.try_reload(4).is_err());
    assert_eq!(flags(&mut e), 1 << 2);
    // through the engine-neutral interface
    write(&path, "function ksr_request_route() { KSR.setflag(5); }\n");
    assert!(e.reload_if_changed(5));
    assert_eq!(flags(&mut e), 1 << 5);
}

#[test]
fn reload_rereads_required_modules() {
    let dir = temp_dir("reload_require");
    write(
        &dir.join("main.js"),
        "var m = require('./flag');\nfunction ksr_request_route() { KSR.setflag(m.flag); }\n",
    );
    write(&dir.join("flag.js"), "exports.flag = 1;\n");
    let mut e = file_engine(&Registry::new(&[]), &dir.join("main.js"));
    assert_eq!(flags(&mut e), 1 << 1);
    write(&dir.join("flag.js"), "exports.flag = 2;\n");
    assert!(e.try_reload(1).unwrap());
    assert_eq!(flags(&mut e), 1 << 2);
}

#[test]
fn loaddir_loads_every_js_file_in_name_order() {
    let dir = temp_dir("loaddir");
    write(
        &dir.join("b.js"),
        "function ksr_request_route() { KSR.setflag(helper()); }\n",
    );
    write(&dir.join("a.js"), "function helper() { return 6; }\n");
    write(&dir.join("notes.txt"), "not javascript (");
    write(
        &dir.join("c.js"),
        "var seen_helper = typeof helper;\nKSR.x.exit();\nnot_reached = true;\n",
    );
    let mut e = JsEngine::new(
        &Registry::new(&[]),
        ScriptSource::Dir(dir.clone()),
        true,
        CallbackNames::default(),
    )
    .unwrap();
    assert_eq!(flags(&mut e), 1 << 6);
    assert_eq!(e.global_string("seen_helper").as_deref(), Some("function"));
    // exit at the top level ends that file only
    assert_eq!(e.global_string("not_reached"), None);
    // a reload lists the directory again
    write(
        &dir.join("d.js"),
        "function ksr_request_route() { KSR.setflag(9); }\n",
    );
    assert!(e.try_reload(1).unwrap());
    assert_eq!(flags(&mut e), 1 << 9);
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
fn a_panicking_export_is_a_js_error_not_a_crash() {
    let path = temp_dir("panic").join("panic.js");
    write(
        &path,
        "function ksr_request_route() {\n\
         try { KSR.faulty.boom(); } catch (e) { caught = String(e); }\n\
         KSR.faulty.boom();\n\
         }\n",
    );
    let mut e = file_engine(&Registry::new(&[&FAULTY]), &path);
    let err = e.request_route(&mut context()).unwrap_err();
    assert!(
        err.to_string()
            .contains("KSR.faulty.boom: the function panicked"),
        "{err}"
    );
    let caught = e.global_string("caught").unwrap();
    assert!(caught.contains("KSR.faulty.boom"), "{caught}");
    // the engine still works afterwards, and KSR calls see a message again
    write(&path, "function ksr_request_route() { KSR.setflag(2); }\n");
    assert!(e.try_reload(1).unwrap());
    assert_eq!(flags(&mut e), 1 << 2);
}

#[test]
fn one_engine_per_thread_in_parallel() {
    let path = temp_dir("threads").join("threads.js");
    write(
        &path,
        "function ksr_request_route() { for (var i = 0; i < 1000; i++) KSR.setflag(i % 32); }\n",
    );
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut e = file_engine(&Registry::new(&[]), &path);
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
