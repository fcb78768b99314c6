//! Logs to stderr through `tracing`, at the level of the config's `debug=`,
//! read on every event so a run-time change of the level (the `KSR.dbg`
//! family, RPC) takes effect at once.

use std::io::IsTerminal;
use std::sync::Arc;

use kemi_core::Runtime;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

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

/// Installs the stderr logger; the level follows `runtime`'s debug level.
/// A second call (tests) leaves the first logger in place.
pub fn init(runtime: Arc<Runtime>) {
    let filter = filter_fn(move |meta| *meta.level() <= level_for(runtime.debug_level()));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_thread_names(true)
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer).try_init();
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
}
