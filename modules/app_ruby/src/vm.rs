//! The one Ruby VM of the process: started on first use, on the calling
//! thread, and usable only from that thread afterwards.
//!
//! Two facts decide this (measured, see the architecture notes): the Ruby
//! VM works only on the thread that initialised it (other threads error or
//! crash), and it can be initialised once per process. Ruby also installs
//! its own handlers for SIGINT, SIGTERM and friends while starting; the
//! proxy handles those signals itself, so the handlers in place before
//! Ruby started are put back (see [`start`]).

use std::sync::OnceLock;
use std::thread::ThreadId;

use magnus::prelude::*;
use magnus::Ruby;

/// The thread the VM was started on, once it was, and whether it started.
static VM: OnceLock<(ThreadId, Result<(), String>)> = OnceLock::new();

/// Signals Ruby traps when it starts and the proxy (or the default action)
/// must keep. SIGSEGV and SIGBUS stay Ruby's: its handler turns a script's
/// runaway recursion into a `SystemStackError` instead of a crash.
const RESTORED_SIGNALS: &[libc::c_int] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGALRM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
];

/// Ruby code run once after the VM starts: `exit!` would end the whole
/// proxy without cleanup, so in routing scripts it is an error instead (a
/// plain `exit` ends the callback only and stays allowed).
const PRELUDE: &str = r#"
module Kernel
  def exit!(*)
    raise RuntimeError, "exit! is disabled in routing scripts (it would stop the proxy); use exit or KSR::X.exit to end the callback"
  end
  module_function :exit!
end
module Process
  def self.exit!(*)
    raise RuntimeError, "Process.exit! is disabled in routing scripts (it would stop the proxy); use exit or KSR::X.exit to end the callback"
  end
end
"#;

/// Ruby on this thread: starts the VM if no thread did yet. Fails when the
/// VM was started on another thread.
pub fn ruby() -> Result<Ruby, String> {
    let here = std::thread::current().id();
    let (owner, started) = VM.get_or_init(|| (here, start()));
    if *owner != here {
        return Err(
            "the Ruby VM runs only on the thread that started it; this thread cannot use it"
                .to_string(),
        );
    }
    started.clone()?;
    Ruby::get().map_err(|e| format!("Ruby VM unavailable: {e}"))
}

/// Starts the VM (with the standard load path and RubyGems, as the `ruby`
/// command has) and puts back the signal handlers Ruby replaced.
fn start() -> Result<(), String> {
    let saved: Vec<(libc::c_int, libc::sigaction)> = RESTORED_SIGNALS
        .iter()
        .filter_map(|&sig| {
            // SAFETY: querying the current action into a zeroed struct.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(sig, std::ptr::null(), &mut old) == 0).then_some((sig, old))
            }
        })
        .collect();
    // SAFETY: called once per process (guarded by VM); the cleanup guard
    // is leaked on purpose: the VM lives as long as the process. magnus
    // panics when Ruby's start-up code fails (a bad RUBYOPT, for example).
    let started = std::panic::catch_unwind(|| std::mem::forget(unsafe { magnus::embed::init() }))
        .map_err(|_| {
            "the Ruby VM failed to start (check RUBYOPT and the Ruby installation)".to_string()
        });
    for (sig, old) in &saved {
        // SAFETY: re-installing an action read from the kernel above.
        unsafe {
            libc::sigaction(*sig, old, std::ptr::null_mut());
        }
    }
    started?;
    let ruby = Ruby::get().map_err(|e| format!("Ruby VM unavailable: {e}"))?;
    ruby.eval::<magnus::Value>(PRELUDE)
        .map_err(|e| format!("Ruby VM prelude failed: {e}"))?;
    let baseline: magnus::Value = ruby
        .eval(OWN_METHODS)
        .map_err(|e| format!("Ruby VM start: {e}"))?;
    ruby.class_object()
        .ivar_set(BASELINE, baseline)
        .map_err(|e| format!("Ruby VM start: {e}"))?;
    Ok(())
}

/// The top-level methods (Object's own, public or private) as Ruby code.
const OWN_METHODS: &str =
    "Object.private_instance_methods(false) + Object.public_instance_methods(false)";

/// Where the top-level methods present after start-up are kept: a hidden
/// attribute of Object (no `@`, so scripts cannot see it).
const BASELINE: &str = "__kemi_baseline";

/// Removes the top-level methods defined since the VM started: a new
/// engine starts from a clean top level (a reload, by contrast, keeps
/// them, as Kamailio does). Globals and constants stay: the VM is shared.
pub fn forget_script_methods(ruby: &Ruby) -> Result<(), magnus::Error> {
    let baseline: magnus::Value = ruby.class_object().ivar_get(BASELINE)?;
    let forget: magnus::block::Proc = ruby.eval(
        "->(baseline) { (Object.private_instance_methods(false) + Object.public_instance_methods(false) - baseline).each { |m| Object.send(:remove_method, m) } }",
    )?;
    forget.call::<_, magnus::Value>((baseline,)).map(drop)
}
