//! Functions on `KSR` itself: logging, flags, the destination URI and send
//! options. Every script has them, whatever modules are loaded.

use crate::context::{flag_bit, Context, RouteKind, MAX_BRANCHES};

/// Writes a script's log line at `level`, without the trailing newline
/// Kamailio scripts habitually add.
fn script_log(level: LogLevel, text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    match level {
        LogLevel::Debug => tracing::debug!(target: "script", "{text}"),
        LogLevel::Info | LogLevel::Notice => tracing::info!(target: "script", "{text}"),
        LogLevel::Warn => tracing::warn!(target: "script", "{text}"),
        LogLevel::Error | LogLevel::Critical => tracing::error!(target: "script", "{text}"),
    }
}

/// Kamailio's log levels, as `KSR.log` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogLevel {
    Debug,
    Info,
    Notice,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    /// `KSR.log`'s level names; anything else logs as an error, as in Kamailio.
    fn from_name(name: &str) -> LogLevel {
        match name.to_ascii_lowercase().as_str() {
            "dbg" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "notice" => LogLevel::Notice,
            "warn" => LogLevel::Warn,
            "crit" => LogLevel::Critical,
            _ => LogLevel::Error,
        }
    }
}

fn set_bit(word: &mut u32, flag: i32, on: bool) -> bool {
    match flag_bit(flag) {
        Some(bit) if on => *word |= bit,
        Some(bit) => *word &= !bit,
        None => return false,
    }
    true
}

fn test_bit(word: u32, flag: i32) -> bool {
    flag_bit(flag).is_some_and(|bit| word & bit != 0)
}

fn branch_flags(ctx: &mut Context, branch: i32) -> Option<&mut u32> {
    usize::try_from(branch)
        .ok()
        .filter(|b| *b < MAX_BRANCHES)
        .map(|b| &mut ctx.bflags[b])
}

#[crate::kemi_module(name = "")]
pub mod kemi {
    //! Functions on `KSR` itself: logging, flags, the destination URI and
    //! send options.
    use super::*;

    /// Logs `text` at debug level.
    #[kemi_export]
    pub fn dbg(text: &str) {
        script_log(LogLevel::Debug, text)
    }

    /// Logs `text` at error level.
    #[kemi_export]
    pub fn err(text: &str) {
        script_log(LogLevel::Error, text)
    }

    /// Logs `text` at info level.
    #[kemi_export]
    pub fn info(text: &str) {
        script_log(LogLevel::Info, text)
    }

    /// Logs `text` at warning level.
    #[kemi_export]
    pub fn warn(text: &str) {
        script_log(LogLevel::Warn, text)
    }

    /// Logs `text` at notice level.
    #[kemi_export]
    pub fn notice(text: &str) {
        script_log(LogLevel::Notice, text)
    }

    /// Logs `text` at critical level.
    #[kemi_export]
    pub fn crit(text: &str) {
        script_log(LogLevel::Critical, text)
    }

    /// Logs `text` at the level named by `level`: `dbg`, `info`, `notice`,
    /// `warn`, `err` or `crit` (any other name logs as an error).
    #[kemi_export]
    pub fn log(level: &str, text: &str) {
        script_log(LogLevel::from_name(level), text)
    }

    /// Marks the message to be dropped when the current callback ends. It
    /// does not stop the script, and has no effect in the request route,
    /// where not relaying is how a request is dropped.
    #[kemi_export]
    pub fn set_drop(ctx: &mut Context) {
        if ctx.route != RouteKind::Request {
            ctx.drop = true;
        }
    }

    /// Sets message flag `flag` (0..31). False when out of range.
    #[kemi_export]
    pub fn setflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.flags, flag, true)
    }

    /// Clears message flag `flag` (0..31). False when out of range.
    #[kemi_export]
    pub fn resetflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.flags, flag, false)
    }

    /// True when message flag `flag` is set.
    #[kemi_export]
    pub fn isflagset(ctx: &mut Context, flag: i32) -> bool {
        test_bit(ctx.flags, flag)
    }

    /// Sets branch flag `flag` on the first branch.
    #[kemi_export]
    pub fn setbflag(ctx: &mut Context, flag: i32) -> bool {
        setbiflag(ctx, flag, 0)
    }

    /// Clears branch flag `flag` on the first branch.
    #[kemi_export]
    pub fn resetbflag(ctx: &mut Context, flag: i32) -> bool {
        resetbiflag(ctx, flag, 0)
    }

    /// True when branch flag `flag` is set on the first branch.
    #[kemi_export]
    pub fn isbflagset(ctx: &mut Context, flag: i32) -> bool {
        isbiflagset(ctx, flag, 0)
    }

    /// Sets branch flag `flag` on branch number `branch`.
    #[kemi_export]
    pub fn setbiflag(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| set_bit(word, flag, true))
    }

    /// Clears branch flag `flag` on branch number `branch`.
    #[kemi_export]
    pub fn resetbiflag(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| set_bit(word, flag, false))
    }

    /// True when branch flag `flag` is set on branch number `branch`.
    #[kemi_export]
    pub fn isbiflagset(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| test_bit(*word, flag))
    }

    /// Sets script flag `flag`. Script flags start cleared in every callback.
    #[kemi_export]
    pub fn setsflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.sflags, flag, true)
    }

    /// Clears script flag `flag`.
    #[kemi_export]
    pub fn resetsflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.sflags, flag, false)
    }

    /// True when script flag `flag` is set.
    #[kemi_export]
    pub fn issflagset(ctx: &mut Context, flag: i32) -> bool {
        test_bit(ctx.sflags, flag)
    }

    /// Sets the destination URI (`$du`): where the request is sent,
    /// whatever its Request-URI says.
    #[kemi_export]
    pub fn setdsturi(ctx: &mut Context, uri: &str) -> bool {
        ctx.dst_uri = Some(uri.to_string());
        true
    }

    /// Clears the destination URI (`$du`).
    #[kemi_export]
    pub fn resetdsturi(ctx: &mut Context) -> bool {
        ctx.dst_uri = None;
        true
    }

    /// True when a non-empty destination URI (`$du`) is set.
    #[kemi_export]
    pub fn isdsturiset(ctx: &mut Context) -> bool {
        ctx.dst_uri.as_deref().is_some_and(|u| !u.is_empty())
    }

    /// Answers to the request's source port and records it in the top Via's
    /// `rport` (RFC 3581), as if the client had asked for it.
    #[kemi_export]
    pub fn force_rport(ctx: &mut Context) -> bool {
        ctx.force_rport = true;
        true
    }

    /// Adds `rport` to the Via this proxy puts on the request it forwards.
    #[kemi_export]
    pub fn add_local_rport(ctx: &mut Context) -> bool {
        ctx.add_local_rport = true;
        true
    }

    /// Closes the TCP connection once the forwarded request is sent.
    #[kemi_export]
    pub fn set_forward_close(ctx: &mut Context) -> bool {
        ctx.forward_send.close = true;
        true
    }

    /// Forwards only over an existing TCP connection, never opening one.
    #[kemi_export]
    pub fn set_forward_no_connect(ctx: &mut Context) -> bool {
        ctx.forward_send.no_connect = true;
        true
    }

    /// Closes the TCP connection once the reply is sent.
    #[kemi_export]
    pub fn set_reply_close(ctx: &mut Context) -> bool {
        ctx.reply_send.close = true;
        true
    }

    /// Sends replies only over an existing TCP connection.
    #[kemi_export]
    pub fn set_reply_no_connect(ctx: &mut Context) -> bool {
        ctx.reply_send.no_connect = true;
        true
    }

    /// The current `debug=` level of the config.
    #[kemi_export]
    pub fn get_debug(ctx: &mut Context) -> i32 {
        ctx.runtime().debug_level()
    }
}

pub use kemi::SUBMODULE;
