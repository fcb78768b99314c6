//! `modparam("app_lua", "log_mode", 1)` lists every KSR export when a
//! worker builds KSR; without it nothing is listed.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kemi_core::config::{Config, LoadedModule, Value};
use kemi_mod_app_lua::testing::LuaTest;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs_with(log_mode: Option<i64>) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let mut config = Config::default();
    let mut params = Vec::new();
    if let Some(mode) = log_mode {
        params.push(("log_mode".to_string(), Value::Int(mode)));
    }
    config.modules.push(LoadedModule {
        def: &kemi_mod_app_lua::MODULE,
        params,
    });
    tracing::subscriber::with_default(subscriber, || {
        LuaTest::new(&[])
            .config(config)
            .run("function ksr_request_route() end")
            .unwrap_or_else(|e| panic!("{e}"));
    });
    let bytes = captured.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn log_mode_one_lists_the_exports() {
    let logs = logs_with(Some(1));
    assert!(logs.contains("exporting none KSR.dbg(str text)"), "{logs}");
    assert!(logs.contains("exporting bool KSR.pv.sets(str"), "{logs}");
}

#[test]
fn without_log_mode_nothing_is_listed() {
    let logs = logs_with(None);
    assert!(!logs.contains("exporting "), "{logs}");
    let logs = logs_with(Some(0));
    assert!(!logs.contains("exporting "), "{logs}");
}
