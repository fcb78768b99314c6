//! Shared by the integration tests: a fixed, hand-built registry covering
//! every return and parameter kind, a registry built from the whole Kamailio
//! TSV, temporary directories, and running the languages' own tools.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kemi_core::export::Param;
use kemi_core::{Arg, ArgError, Context, Export, ParamKind, Ret, ReturnKind, Submodule};
use kemi_docs::lang::group;
use kemi_docs::KamExport;

/// The call glue of the hand-built exports; never called by the renderers.
pub fn dummy(_: &mut Context, _: &[Arg<'_>]) -> Result<Ret, ArgError> {
    Ok(Ret::None)
}

const fn param(name: &'static str, kind: ParamKind) -> Param {
    Param { name, kind }
}

const fn export(
    module: &'static str,
    name: &'static str,
    ret: ReturnKind,
    params: &'static [Param],
    doc: &'static str,
    line: u32,
) -> Export {
    Export {
        module,
        name,
        ret,
        params,
        doc,
        file: file!(),
        line,
        call: dummy,
    }
}

pub static CORE: Submodule = Submodule {
    name: "",
    doc: "Functions on `KSR` itself.",
    exports: &[
        export(
            "",
            "info",
            ReturnKind::None,
            &[param("msg", ParamKind::Str)],
            "Writes `msg` to the log at info level.",
            line!(),
        ),
        export(
            "",
            "is_INVITE",
            ReturnKind::Bool,
            &[],
            "Tells whether the message is an INVITE request.",
            line!(),
        ),
    ],
};

pub static PV: Submodule = Submodule {
    name: "pv",
    doc: "Pseudo-variables.",
    exports: &[
        export(
            "pv",
            "get",
            ReturnKind::Xval,
            &[param("name", ParamKind::Str)],
            "The value of pseudo-variable `name`,\nor null when it has none.",
            line!(),
        ),
        export(
            "pv",
            "seti",
            ReturnKind::None,
            &[
                param("name", ParamKind::Str),
                param("value", ParamKind::Int),
            ],
            "Sets an integer pseudo-variable.",
            line!(),
        ),
        export(
            "pv",
            "setl",
            ReturnKind::Bool,
            &[
                param("name", ParamKind::Str),
                param("value", ParamKind::Long),
            ],
            "Sets a pseudo-variable to a 64-bit integer.",
            line!(),
        ),
    ],
};

pub static HDR: Submodule = Submodule {
    name: "hdr",
    doc: "Headers.",
    exports: &[export(
        "hdr",
        // Kamailio has `int KSR.hdr.append(str txt)`: same kinds, another name.
        "append",
        ReturnKind::Int,
        &[param("text", ParamKind::Str)],
        "Appends a header line after the last header.",
        line!(),
    )],
};

pub static SL: Submodule = Submodule {
    name: "sl",
    doc: "Stateless replies.",
    exports: &[
        export(
            "sl",
            "sreply",
            ReturnKind::Int,
            &[
                param("code", ParamKind::Int),
                param("reason", ParamKind::Str),
            ],
            "Sends a stateless reply with `code` and `reason`.",
            line!(),
        ),
        export(
            "sl",
            // Kamailio has `int KSR.sl.send_reply(int code, str reason)`: different kinds.
            "send_reply",
            ReturnKind::Bool,
            &[param("code", ParamKind::Str)],
            "A deliberately different signature, for the parity tests.",
            line!(),
        ),
    ],
};

/// The fixed test registry, in registry order.
pub fn test_submodules() -> Vec<&'static Submodule> {
    vec![&CORE, &PV, &HDR, &SL]
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn kind(name: &str) -> ParamKind {
    match name {
        "int" => ParamKind::Int,
        "long" => ParamKind::Long,
        "str" => ParamKind::Str,
        other => panic!("unknown parameter kind {other} in the Kamailio TSV"),
    }
}

fn ret_kind(name: &str) -> ReturnKind {
    match name {
        "none" => ReturnKind::None,
        "int" => ReturnKind::Int,
        "bool" => ReturnKind::Bool,
        "xval" => ReturnKind::Xval,
        other => panic!("unknown return kind {other} in the Kamailio TSV"),
    }
}

/// The committed Kamailio TSV, parsed.
pub fn kamailio() -> Vec<KamExport> {
    let path = kemi_docs::repo_root().join(kemi_docs::parity::TSV);
    kemi_docs::load_kamailio(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A registry with every Kamailio export, as descriptors built (and
/// leaked) from the TSV: the real names, to check the stubs at full size.
pub fn kamailio_submodules() -> Vec<&'static Submodule> {
    let mut by_name: Vec<(String, Vec<Export>)> = Vec::new();
    for k in kamailio() {
        let params: Vec<Param> = k
            .params
            .iter()
            .map(|(kd, name)| param(leak(name), kind(kd)))
            .collect();
        let e = Export {
            module: leak(&k.submodule),
            name: leak(&k.function),
            ret: ret_kind(&k.ret),
            params: Box::leak(params.into_boxed_slice()),
            doc: leak(&format!(
                "Kamailio's {} (module {}).",
                k.path(),
                k.kamailio_module
            )),
            file: file!(),
            line: 1,
            call: dummy,
        };
        match by_name.iter_mut().find(|(n, _)| *n == k.submodule) {
            Some((_, v)) => v.push(e),
            None => by_name.push((k.submodule.clone(), vec![e])),
        }
    }
    by_name
        .into_iter()
        .map(|(name, exports)| {
            let sub: &'static Submodule = Box::leak(Box::new(Submodule {
                name: leak(&name),
                doc: "",
                exports: Box::leak(exports.into_boxed_slice()),
            }));
            sub
        })
        .collect()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kemi-docs-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// Writes the stubs of `submodules` under `dir` (as `dir/stubs/...`) and
/// returns `dir/stubs`.
pub fn write_stubs(submodules: &[&'static Submodule], dir: &Path) -> PathBuf {
    let files = kemi_docs::stubs::render(&group(submodules));
    kemi_docs::write(&files, dir).unwrap_or_else(|e| panic!("{e}"));
    dir.join("stubs")
}

/// A sample script of `bindings-docs/tests/samples/`.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name)
}

/// The committed stubs directory of the repository.
pub fn committed_stubs() -> PathBuf {
    kemi_docs::repo_root().join("stubs")
}

/// Panics, saying to run scripts/setup, when `program` cannot be started.
pub fn require_tool(program: &str, version_arg: &str) {
    match Command::new(program).arg(version_arg).output() {
        Ok(_) => {}
        Err(e) => panic!(
            "`{program}` is needed to check the generated stubs but cannot be run ({e}): \
             run scripts/setup to install it"
        ),
    }
}

/// Runs `cmd`, returning its status and combined, colourless output.
pub fn run(cmd: &mut Command) -> (bool, String) {
    let shown = format!("{cmd:?}");
    let out: Output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}; run scripts/setup"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A command running the executable of a Ruby gem bundled with Ruby
/// (`rbs`, `typeprof`); panics, saying to run scripts/setup, if missing.
pub fn ruby_gem(gem: &str) -> Command {
    require_tool("ruby", "--version");
    let probe = format!("Gem.bin_path({gem:?}, {gem:?})");
    let (ok, text) = run(Command::new("ruby").args(["-e", &probe]));
    assert!(
        ok,
        "the Ruby gem `{gem}` is needed to check the Ruby stubs but is not installed \
         (run scripts/setup): {text}"
    );
    let mut cmd = Command::new("ruby");
    cmd.args(["-e", &format!("load Gem.bin_path({gem:?}, {gem:?})"), "--"]);
    cmd
}
