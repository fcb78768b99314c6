//! The `xlog` module: log lines in which pseudo-variables (`$ru`, `$ci`,
//! `$var(x)`...) are replaced by their values before logging.

use kemi_core::{kemi_module, Context, ModuleDef};

/// Log levels, from Kamailio's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Alert,
    Bug,
    Crit,
    Err,
    Warn,
    Notice,
    Info,
    Dbg,
}

impl Level {
    /// Accepts `L_ERR`, `err`, `ERR`...: with or without the `L_` prefix,
    /// any case.
    fn from_name(name: &str) -> Option<Level> {
        let upper = name.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("L_").unwrap_or(&upper);
        Some(match bare {
            "ALERT" => Level::Alert,
            "BUG" => Level::Bug,
            "CRIT" | "CRIT2" => Level::Crit,
            "ERR" | "ERROR" => Level::Err,
            "WARN" | "WARNING" => Level::Warn,
            "NOTICE" => Level::Notice,
            "INFO" => Level::Info,
            "DBG" | "DEBUG" => Level::Dbg,
            _ => return None,
        })
    }
}

/// Expands `lmsg` and logs it at `level` (after the config's
/// `log_prefix`). The facility, a syslog detail, is not used: the proxy
/// logs everything with the config's `log_facility`.
fn emit(ctx: &Context, level: Level, lmsg: &str) -> i32 {
    let level = match level {
        Level::Dbg => tracing::Level::DEBUG,
        Level::Info | Level::Notice => tracing::Level::INFO,
        Level::Warn => tracing::Level::WARN,
        Level::Err | Level::Crit | Level::Alert | Level::Bug => tracing::Level::ERROR,
    };
    // Checked first so a hidden line costs no expansion.
    if level <= kemi_core::log::level_for(ctx.runtime().debug_level()) {
        kemi_core::log::script_line(ctx, level, &kemi_core::pv::format(ctx, lmsg));
    }
    1
}

/// Formatted logging: the message text may hold pseudo-variables, which
/// are expanded (null values print as `<null>`).
#[kemi_module(name = "xlog")]
pub mod kemi {
    use super::*;

    /// Logs the expanded `lmsg` at debug level. Always 1.
    #[kemi_export]
    pub fn xdbg(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Dbg, lmsg)
    }

    /// Logs the expanded `lmsg` at info level. Always 1.
    #[kemi_export]
    pub fn xinfo(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Info, lmsg)
    }

    /// Logs the expanded `lmsg` at notice level. Always 1.
    #[kemi_export]
    pub fn xnotice(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Notice, lmsg)
    }

    /// Logs the expanded `lmsg` at warning level. Always 1.
    #[kemi_export]
    pub fn xwarn(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Warn, lmsg)
    }

    /// Logs the expanded `lmsg` at error level. Always 1.
    #[kemi_export]
    pub fn xerr(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Err, lmsg)
    }

    /// Logs the expanded `lmsg` at alert level (an error-level line here).
    /// Always 1.
    #[kemi_export]
    pub fn xalert(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Alert, lmsg)
    }

    /// Logs the expanded `lmsg` at critical level (an error-level line
    /// here). Always 1.
    #[kemi_export]
    pub fn xcrit(ctx: &mut Context, lmsg: &str) -> i32 {
        emit(ctx, Level::Crit, lmsg)
    }

    /// Logs the expanded `lmsg` at the level named `slevel` (`L_DBG`,
    /// `L_INFO`, `L_NOTICE`, `L_WARN`, `L_ERR`, `L_CRIT`, `L_ALERT`,
    /// `L_BUG`; the `L_` prefix and case are optional). 1, or -1 for an
    /// unknown level.
    #[kemi_export]
    pub fn xlog(ctx: &mut Context, slevel: &str, lmsg: &str) -> i32 {
        match Level::from_name(slevel) {
            Some(level) => emit(ctx, level, lmsg),
            None => {
                tracing::error!(target: "xlog", "unknown log level '{slevel}'");
                -1
            }
        }
    }

    /// As `xlog`; the syslog facility `lfacility` (`LOG_LOCAL0`...) is
    /// accepted but the line goes where all the proxy's logs go.
    #[kemi_export]
    pub fn xlog_facility(ctx: &mut Context, lfacility: &str, slevel: &str, lmsg: &str) -> i32 {
        let _ = lfacility;
        match Level::from_name(slevel) {
            Some(level) => emit(ctx, level, lmsg),
            None => {
                tracing::error!(target: "xlog", "unknown log level '{slevel}'");
                -1
            }
        }
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "xlog",
    summary: "log lines with pseudo-variables expanded",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names() {
        assert_eq!(Level::from_name("L_ERR"), Some(Level::Err));
        assert_eq!(Level::from_name("l_dbg"), Some(Level::Dbg));
        assert_eq!(Level::from_name("info"), Some(Level::Info));
        assert_eq!(Level::from_name("L_CRIT2"), Some(Level::Crit));
        assert_eq!(Level::from_name("loud"), None);
    }
}
