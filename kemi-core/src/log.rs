//! Logging shared by the core and the modules: Kamailio's numeric levels,
//! the config's `log_prefix` for script log lines, and the
//! `latency_limit_action` check of KSR calls.
//!
//! The proxy binary installs the `tracing` subscriber that writes the lines
//! (stderr or syslog); this module only decides what is logged.

use std::time::Duration;

use tracing::Level;

use crate::context::Context;
use crate::pv::{self, PvSpec};
use crate::xval::NULL_PRINT;

/// Maps Kamailio's `debug=` scale to the most verbose `tracing` level shown:
/// L_ALERT..L_ERR (-5..-1) -> error, L_WARN (0) -> warn, L_NOTICE and
/// L_INFO (1, 2) -> info, L_DBG (3) -> debug, above -> trace.
pub fn level_for(debug: i32) -> Level {
    match debug {
        i32::MIN..=-1 => Level::ERROR,
        0 => Level::WARN,
        1 | 2 => Level::INFO,
        3 => Level::DEBUG,
        _ => Level::TRACE,
    }
}

/// Logs `text` at a level only known at run time (`tracing`'s macros want
/// a constant one).
pub fn log_at(level: Level, target_is_script: bool, text: &str) {
    // `target` must be a constant too, hence the two arms per level.
    macro_rules! at {
        ($mac:ident) => {
            if target_is_script {
                tracing::$mac!(target: "script", "{text}")
            } else {
                tracing::$mac!("{text}")
            }
        };
    }
    match level {
        Level::ERROR => at!(error),
        Level::WARN => at!(warn),
        Level::INFO => at!(info),
        Level::DEBUG => at!(debug),
        _ => at!(trace),
    }
}

/// A `log_prefix` value, parsed once: literal text and pseudo-variables.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPrefix {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Pv(PvSpec),
}

impl LogPrefix {
    /// Splits `text` into literal runs and pseudo-variables; a `$` that
    /// does not start a valid one stays literal, as in `xlog`.
    pub fn parse(text: &str) -> LogPrefix {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            rest = &rest[at..];
            match pv::parse_prefix(rest) {
                Ok((spec, used)) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Pv(spec));
                    rest = &rest[used..];
                }
                Err(_) => {
                    literal.push('$');
                    rest = &rest[1..];
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        LogPrefix { parts }
    }

    /// The prefix for the message in `ctx` (null values print as
    /// `<null>`, as in `xlog`).
    pub fn expand(&self, ctx: &Context) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Pv(spec) => match pv::get(ctx, spec) {
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str(NULL_PRINT),
                },
            }
        }
        out
    }
}

/// Writes a script's log line (`KSR.info`, `KSR.log`, `xlog`...) at
/// `level`, after the config's `log_prefix` and without the trailing
/// newline Kamailio scripts habitually add.
pub fn script_line(ctx: &Context, level: Level, text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    // Checked first so a line the level hides costs no prefix expansion.
    if level > level_for(ctx.runtime().debug_level()) {
        return;
    }
    match ctx.runtime().log_prefix() {
        Some(prefix) => log_at(level, true, &format!("{}{text}", prefix.expand(ctx))),
        None => log_at(level, true, text),
    }
}

/// `latency_limit_action`: logs a KSR call that took longer than the
/// limit, at the `latency_log` level. `path` is only formatted then.
pub fn slow_call(ctx: &Context, path: impl FnOnce() -> String, took: Duration) {
    let latency = &ctx.runtime().config().latency;
    if let Some(line) = slow_call_line(latency.limit_action, path, took) {
        log_at(level_for(latency.log), false, &line);
    }
}

/// The line for a call that took `took`, when that is over `limit_us`
/// (0: no limit), in Kamailio's words.
fn slow_call_line(limit_us: u64, path: impl FnOnce() -> String, took: Duration) -> Option<String> {
    let us = took.as_micros();
    (limit_us > 0 && us > u128::from(limit_us))
        .then(|| format!("alert - action {}(...) took too long [{us} us]", path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamailio_levels_map_to_tracing() {
        assert_eq!(level_for(-3), Level::ERROR);
        assert_eq!(level_for(0), Level::WARN);
        assert_eq!(level_for(2), Level::INFO);
        assert_eq!(level_for(3), Level::DEBUG);
        assert_eq!(level_for(4), Level::TRACE);
    }

    #[test]
    fn prefix_is_parsed_into_text_and_variables() {
        let p = LogPrefix::parse("LUA {$rm}: $ ");
        assert_eq!(
            p.parts,
            vec![
                Part::Text("LUA {".into()),
                Part::Pv(pv::parse("$rm").unwrap()),
                Part::Text("}: $ ".into()),
            ]
        );
        assert_eq!(LogPrefix::parse("").parts, vec![]);
    }

    #[test]
    fn slow_calls_are_those_over_a_set_limit() {
        let path = || "KSR.sl.send_reply".to_string();
        let ms = Duration::from_millis;
        assert_eq!(slow_call_line(0, path, ms(5000)), None, "0: no limit");
        assert_eq!(slow_call_line(1000, path, ms(1)), None, "at the limit");
        assert_eq!(
            slow_call_line(1000, path, ms(2)).as_deref(),
            Some("alert - action KSR.sl.send_reply(...) took too long [2000 us]")
        );
    }

    /// Keeps the text of the events logged on this thread.
    #[derive(Default)]
    struct Grab(std::sync::Mutex<Vec<(Level, String)>>);

    impl tracing::Subscriber for Grab {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Message(String);
            impl tracing::field::Visit for Message {
                fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                    if f.name() == "message" {
                        self.0 = format!("{v:?}");
                    }
                }
            }
            let mut m = Message(String::new());
            event.record(&mut m);
            let level = *event.metadata().level();
            self.0.lock().unwrap().push((level, m.0));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    fn logged(f: impl FnOnce()) -> Vec<(Level, String)> {
        let grab = std::sync::Arc::new(Grab::default());
        tracing::subscriber::with_default(grab.clone(), f);
        let lines = grab.0.lock().unwrap().clone();
        lines
    }

    fn runtime(config: crate::config::Config) -> std::sync::Arc<crate::Runtime> {
        std::sync::Arc::new(crate::Runtime::with_config(
            config,
            std::sync::Arc::new(crate::net::Capture::default()),
        ))
    }

    #[test]
    fn script_lines_get_the_expanded_prefix_and_follow_the_level() {
        let config = crate::config::Config {
            log_prefix: Some("LUA {$rm}: ".into()),
            debug: 2,
            ..Default::default()
        };
        let ctx = Context::new(runtime(config));
        let lines = logged(|| {
            script_line(&ctx, Level::INFO, "hello\n");
            script_line(&ctx, Level::DEBUG, "hidden at debug=2");
        });
        let method = ctx.msg.method_str().to_string();
        assert_eq!(
            lines,
            vec![(Level::INFO, format!("LUA {{{method}}}: hello"))]
        );
        let plain = Context::new(runtime(Default::default()));
        let lines = logged(|| script_line(&plain, Level::WARN, "no prefix"));
        assert_eq!(lines, vec![(Level::WARN, "no prefix".to_string())]);
    }

    fn sleepy(_: &mut Context, _: &[crate::Arg<'_>]) -> Result<crate::Ret, crate::ArgError> {
        std::thread::sleep(Duration::from_millis(5));
        Ok(crate::Ret::Int(1))
    }

    static SLEEPY: crate::Export = crate::Export {
        module: "test",
        name: "sleepy",
        ret: crate::ReturnKind::Int,
        params: &[],
        doc: "",
        file: file!(),
        line: line!(),
        call: sleepy,
    };

    #[test]
    fn invoke_logs_calls_over_latency_limit_action() {
        let mut config = crate::config::Config::default();
        config.latency.limit_action = 1000;
        config.latency.log = 0;
        let mut ctx = Context::new(runtime(config));
        let lines = logged(|| {
            SLEEPY.invoke(&mut ctx, &[]).unwrap();
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].0, Level::WARN, "latency_log=0 is L_WARN");
        assert!(
            lines[0]
                .1
                .starts_with("alert - action KSR.test.sleepy(...) took too long ["),
            "{lines:?}"
        );
        // Not timed at all with the default 0.
        let mut ctx = Context::new(runtime(Default::default()));
        assert_eq!(logged(|| drop(SLEEPY.invoke(&mut ctx, &[]))), vec![]);
    }
}
