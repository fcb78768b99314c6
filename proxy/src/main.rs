//! The `kemi-proxy` command line. Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use kemi_core::Runtime;
use kemi_proxy::router::{Network, ProxyTransport};
use kemi_proxy::server::{Bound, Server};
use kemi_proxy::stats::Stats;
use kemi_proxy::worker::Shutdown;
use kemi_proxy::{config, engine, logging};

/// Kamailio's default config path: a Kamailio user's setup works unchanged.
const DEFAULT_CONFIG: &str = "/etc/kamailio/kamailio.cfg";

/// A SIP proxy whose routing is a Kamailio KEMI script.
///
/// It reads a kamailio.cfg (global parameters, loadmodule, modparam,
/// cfgengine) and runs in the foreground, logging at the level set by
/// debug= in the config, to stderr (or to syslog with log_stderror=no).
/// Stop it with Ctrl-C or SIGTERM.
#[derive(Parser, Debug)]
#[command(
    name = "kemi-proxy",
    version,
    after_help = "Examples:\n  kemi-proxy -f kamailio.cfg                 run in the foreground\n  kemi-proxy -c -f kamailio.cfg              check the config and exit\n  kemi-proxy -A WITH_DEBUG -f kamailio.cfg   define WITH_DEBUG for #!ifdef"
)]
struct Cli {
    /// The config file to run or check.
    #[arg(short = 'f', value_name = "FILE", default_value = DEFAULT_CONFIG)]
    file: PathBuf,

    /// Only check the config: print each error as file:line: message and
    /// exit 1, or print a short summary and exit 0.
    #[arg(short = 'c')]
    check: bool,

    /// Define NAME (optionally with VALUE) for #!ifdef and #!define in the
    /// config. Repeatable.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    define: Vec<String>,

    /// Accepted for Kamailio compatibility: kemi-proxy always runs in the
    /// foreground.
    #[arg(short = 'D', action = clap::ArgAction::Count, hide = true)]
    no_daemon: u8,

    /// Log to stderr even when the config says log_stderror=no.
    #[arg(short = 'E')]
    log_stderr: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Call an RPC method of a running kemi-proxy and print the result.
    Rpc(kemi_proxy::rpc::client::RpcArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Rpc(args)) = &cli.command {
        return kemi_proxy::rpc::client::run(args);
    }
    // Installed first: the loader logs too (parameters it ignores, skipped
    // route blocks), and those lines wait for the config's level.
    logging::init();
    let loaded = match config::load(&cli.file, &cli.define) {
        Ok(loaded) => loaded,
        Err(errors) => {
            // What the loader logged before failing, at the default level.
            logging::configure(
                Arc::new(Runtime::default()),
                logging::Output::Stderr { color: false },
            );
            for e in &errors {
                eprintln!("{e}");
            }
            return ExitCode::FAILURE;
        }
    };
    // Sends go through the proxy's sockets once they are bound; the runtime
    // exists before that so the scripts can be loaded (and checked) first.
    let transport = Arc::new(ProxyTransport::default());
    let runtime = Arc::new(Runtime::with_config(
        loaded.config.clone(),
        Arc::clone(&transport) as Arc<dyn kemi_core::net::Transport>,
    ));
    // A check always answers on the terminal.
    let output = if cli.check {
        logging::Output::Stderr { color: false }
    } else {
        logging::Output::for_config(&loaded.config, cli.log_stderr)
    };
    logging::configure(Arc::clone(&runtime), output);
    kemi_proxy::sipmsg::set_server_header(&runtime.signature().server);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    if cli.check {
        // Resolving the listen names now makes the check fail where the
        // start would (an unknown interface or host name).
        if let Err(e) = loaded.settings.sockets() {
            eprintln!("{}: {e}", cli.file.display());
            return ExitCode::FAILURE;
        }
        // Loading the scripts is part of the check: a syntax error or a
        // missing ksr_request_route must fail here, not at start.
        if let Err(e) = engine::check(&runtime) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        println!("{}", loaded.summary);
        return ExitCode::SUCCESS;
    }

    tracing::info!(
        "kemi-proxy {} starting with {}",
        env!("CARGO_PKG_VERSION"),
        cli.file.display()
    );

    let factory = match engine::factory_for(&runtime) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("kemi-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };

    let shutdown = Shutdown::new();
    if let Err(e) = watch_signals(Arc::clone(&shutdown)) {
        tracing::error!("cannot install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    let stats = Arc::new(Stats::default());
    let rpc = kemi_proxy::rpc::start(Arc::clone(&runtime), Arc::clone(&stats));
    let server = Server {
        settings: loaded.settings,
        factory,
        shutdown,
        stats,
    };
    let on_network = |net: &Arc<Network>, bound: &Bound| {
        transport.attach(Arc::clone(net));
        runtime.set_sockets(
            bound
                .sockets
                .iter()
                .map(|(proto, addr)| (proto.to_net(), *addr))
                .collect(),
        );
    };
    let outcome = server.run_with(on_network, |_| {});
    drop(rpc);
    match outcome {
        Ok(()) => {
            tracing::info!("kemi-proxy stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            // The logger may be quieter than error; say it plainly too.
            eprintln!("kemi-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT/SIGTERM: stop cleanly; a second one while stopping exits at once.
fn watch_signals(shutdown: Arc<Shutdown>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0;
            for sig in signals.forever() {
                seen += 1;
                if seen > 1 {
                    tracing::warn!("signal {sig} again: exiting now");
                    std::process::exit(1);
                }
                tracing::info!("signal {sig}: stopping");
                shutdown.trigger();
            }
        })?;
    Ok(())
}
