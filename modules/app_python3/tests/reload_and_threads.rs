//! Reload (good and bad scripts), several workers sharing the script on
//! their own threads, and faults in modules.

use std::path::Path;
use std::sync::Arc;

use kemi_core::engine::{CallbackNames, CallbackOutcome, ScriptEngine};
use kemi_core::export::Param;
use kemi_core::{Arg, ArgError, Context, Export, ModuleDef, ParamKind, Ret, ReturnKind, Submodule};
use kemi_mod_app_python3::testing::{self, write_script, PyTest};
use kemi_mod_app_python3::PyEngine;
use pyo3::prelude::*;

fn global(engine: &PyEngine, name: &str) -> String {
    Python::attach(|py| {
        let module = engine.script().module();
        let value = module.bind(py).getattr(name).unwrap();
        value.str().unwrap().to_string()
    })
}

fn flags(test: &PyTest, e: &mut PyEngine) -> u32 {
    let mut ctx = test.context(Arc::clone(e.script().runtime())).unwrap();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    ctx.flags
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
}

const HANDLER: &str = "import KSR
started = []
class H:
    def child_init(self, rank):
        started.append(rank)
        return 0
    def ksr_request_route(self, msg):
        KSR.setflag(FLAG)
def mod_init():
    return H()
";

fn handler_script(flag: u32) -> String {
    format!("FLAG = {flag}\n{HANDLER}")
}

#[test]
fn reload_runs_the_new_script_and_keeps_the_old_on_failure() {
    let test = testing::handler_style(&[]);
    let path = write_script(&handler_script(1)).unwrap();
    let (mut e, _) = testing::engine(&test, &path).unwrap();
    let mut second = PyEngine::new(Arc::clone(e.script()), CallbackNames::default(), 2).unwrap();
    assert_eq!(flags(&test, &mut e), 1 << 1);
    assert_eq!(global(&e, "started"), "[1, 2]");

    write(&path, &handler_script(2));
    assert!(!e.reload_if_changed(0), "same version: nothing to do");
    assert!(e.reload_if_changed(1));
    assert_eq!(e.version(), 1);
    assert_eq!(flags(&test, &mut e), 1 << 2);
    // A fresh module: child_init ran again on the new code, per worker.
    assert_eq!(global(&e, "started"), "[1]");
    assert!(second.reload_if_changed(1));
    assert_eq!(global(&second, "started"), "[1, 2]");
    assert_eq!(flags(&test, &mut second), 1 << 2);

    // Broken scripts: reported, the previous code keeps running.
    for (version, broken) in [
        (2, "def mod_init(:\n".to_string()),
        (
            3,
            "class H:\n    pass\ndef mod_init():\n    return H()\n".to_string(),
        ),
        (
            4,
            "def mod_init():\n    raise RuntimeError('no')\n".to_string(),
        ),
        (
            5,
            handler_script(3).replace("import KSR", "import KSR\nundefined_name"),
        ),
    ] {
        write(&path, &broken);
        assert!(e.reload_if_changed(version));
        assert_eq!(flags(&test, &mut e), 1 << 2, "version {version}");
        assert!(second.reload_if_changed(version));
        assert_eq!(flags(&test, &mut second), 1 << 2, "version {version}");
        assert_eq!(
            global(&e, "started"),
            "[1, 2]",
            "no child_init for failed loads"
        );
    }

    write(&path, &handler_script(4));
    assert!(second.reload_if_changed(6));
    assert!(e.reload_if_changed(6));
    assert_eq!(flags(&test, &mut e), 1 << 4);
    assert_eq!(global(&e, "started"), "[2, 1]");
}

#[test]
fn module_style_reload_reruns_script_init() {
    let test = testing::module_style(&[]).engine(kemi_mod_app_python3::Style::Module {
        script_init: Some("init".into()),
        script_child_init: Some("child".into()),
    });
    let script = |n: u32| {
        format!("import KSR\nlog = []\ndef init():\n    log.append('init {n}')\ndef child(rank):\n    log.append(rank)\ndef ksr_request_route():\n    KSR.setflag({n})\n")
    };
    let path = write_script(&script(1)).unwrap();
    let (mut e, _) = testing::engine(&test, &path).unwrap();
    assert_eq!(global(&e, "log"), "['init 1', 1]");
    write(&path, &script(2));
    assert!(e.reload_if_changed(1));
    assert_eq!(global(&e, "log"), "['init 2', 1]");
    assert_eq!(flags(&test, &mut e), 1 << 2);
}

#[test]
fn workers_on_their_own_threads_share_the_script() {
    let test = testing::module_style(&[]).engine(kemi_mod_app_python3::Style::Module {
        script_init: None,
        script_child_init: Some("child".into()),
    });
    let path = write_script(
        "import KSR\nimport threading\nranks = []\ncount = 0\nlock = threading.Lock()\n\
         def child(rank):\n    ranks.append(rank)\n\
         def ksr_request_route():\n    global count\n    with lock:\n        count += 1\n    for i in range(32):\n        KSR.setflag(i)\n",
    )
    .unwrap();
    let (first, _) = testing::engine(&test, &path).unwrap();
    let script = Arc::clone(first.script());
    let handles: Vec<_> = (2..=4)
        .map(|rank| {
            let script = Arc::clone(&script);
            std::thread::spawn(move || {
                let mut e = PyEngine::new(script, CallbackNames::default(), rank).unwrap();
                let test = testing::module_style(&[]);
                let mut all = u32::MAX;
                for _ in 0..200 {
                    let mut ctx = test.context(Arc::clone(e.script().runtime())).unwrap();
                    assert_eq!(
                        e.request_route(&mut ctx).unwrap(),
                        CallbackOutcome::Returned
                    );
                    all &= ctx.flags;
                }
                all
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), u32::MAX);
    }
    assert_eq!(global(&first, "count"), "600");
    let mut ranks = global(&first, "ranks");
    ranks.retain(|c| c.is_ascii_digit());
    let mut ranks: Vec<char> = ranks.chars().collect();
    ranks.sort_unstable();
    assert_eq!(ranks, ['1', '2', '3', '4'], "child init once per worker");
}

fn panicking_thunk(_ctx: &mut Context, _args: &[Arg<'_>]) -> Result<Ret, ArgError> {
    panic!("module bug")
}

static PANIC_EXPORTS: [Export; 1] = [Export {
    module: "faulty",
    name: "boom",
    ret: ReturnKind::Int,
    params: &[Param {
        name: "n",
        kind: ParamKind::Int,
    }],
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
fn a_panicking_export_is_a_python_error_not_a_crash() {
    let out = testing::module_style(&[&FAULTY])
        .run(
            "import KSR\ndef ksr_request_route():\n    try:\n        KSR.faulty.boom(1)\n    except RuntimeError as e:\n        assert 'KSR.faulty.boom: the function panicked' in str(e), str(e)\n        KSR.setflag(7)\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.ctx.flags, 1 << 7);
}

#[test]
fn ksr_calls_from_a_thread_the_script_started_fail_softly() {
    let out = testing::module_style(&[])
        .run(
            "import KSR\nimport threading\nresult = []\n\
             def ksr_request_route():\n    t = threading.Thread(target=lambda: result.append(KSR.setflag(3)))\n    t.start()\n    t.join()\n    assert result == [False], result\n    KSR.setflag(4)\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.ctx.flags, 1 << 4);
}
