//! `kemi-docs generate [--out DIR]` writes the API reference, the parity
//! table and the editor stubs; `kemi-docs check [--out DIR]` lists the files
//! that are not up to date and fails if there are any.

use std::path::PathBuf;
use std::process::ExitCode;

use kemi_docs::{check, lang::REGENERATE, load_kamailio, parity, proxy_submodules, render_all};
use kemi_docs::{repo_root, write, Error};

const USAGE: &str = "\
usage: kemi-docs <command> [options]

commands:
  generate   write docs/api/ and stubs/ from the registry
  check      list the generated files that are out of date; exit 1 if any

options:
  --out DIR  root under which docs/api/ and stubs/ are written or checked
             (default: the repository root)
  --tsv FILE Kamailio exports to compare against
             (default: bindings-docs/data/kamailio-kemi-exports.tsv)
  -h, --help show this help";

enum Command {
    Generate,
    Check,
}

struct Args {
    command: Command,
    out: PathBuf,
    tsv: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, Error> {
    let mut command = None;
    let mut out = None;
    let mut tsv = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" | "help" => return Ok(None),
            "generate" if command.is_none() => command = Some(Command::Generate),
            "check" if command.is_none() => command = Some(Command::Check),
            "--out" | "--tsv" => {
                let value = args
                    .next()
                    .ok_or_else(|| Error::new(format!("{arg} needs a value")))?;
                let slot = if arg == "--out" { &mut out } else { &mut tsv };
                *slot = Some(PathBuf::from(value));
            }
            other => return Err(Error::new(format!("unexpected argument `{other}`"))),
        }
    }
    let command = command.ok_or_else(|| Error::new("missing command (generate or check)"))?;
    let root = repo_root();
    Ok(Some(Args {
        command,
        out: out.unwrap_or_else(|| root.clone()),
        tsv: tsv.unwrap_or_else(|| root.join(parity::TSV)),
    }))
}

fn run() -> Result<ExitCode, Error> {
    let Some(args) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    let kamailio = load_kamailio(&args.tsv)?;
    let files = render_all(&proxy_submodules(), &kamailio, &repo_root());
    match args.command {
        Command::Generate => {
            let changed = write(&files, &args.out)?;
            for c in &changed {
                println!("updated {c}");
            }
            println!(
                "{} files generated under {} ({} changed)",
                files.len(),
                args.out.display(),
                changed.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let stale = check(&files, &args.out)?;
            if stale.is_empty() {
                println!("{} generated files are up to date", files.len());
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("kemi-docs: {} generated files are stale:", stale.len());
            for s in &stale {
                eprintln!("  {s}");
            }
            eprintln!("regenerate them with `{REGENERATE}`");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kemi-docs: error: {e}");
            eprintln!("run `kemi-docs --help` for usage");
            ExitCode::from(2)
        }
    }
}
