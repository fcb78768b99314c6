//! CommonJS `require` for the scripts (`mode` 1), as Kamailio's app_jsdt
//! provides through Duktape's node-style module loader.
//!
//! `require(id)` resolves `id` in Rust: `/abs/path`, `./rel` and `../rel`
//! from the requiring file's directory, any other name from the main
//! script's directory; tried as given, with `.js` added, then as
//! `<id>/index.js`. The file is wrapped in a function of `exports`,
//! `require`, `module`, `__filename` and `__dirname` and run once; later
//! calls get the cached `module.exports`. Each load of the scripts (start,
//! reload) starts with an empty cache, so a reload re-reads the modules
//! too (Duktape keeps its cache across Kamailio reloads).

use std::path::{Path, PathBuf};

use rquickjs::function::Rest;
use rquickjs::{Ctx, Exception, Function, Value};

use crate::engine::eval_sloppy;

/// The module cache and the `require` factory, in JavaScript; resolving,
/// reading and compiling are the Rust functions it is given.
const BOOTSTRAP: &str = r#"(function (read, compile) {
  var cache = Object.create(null);
  function makeRequire(dir) {
    function require(id) {
      if (typeof id !== "string") {
        throw new TypeError("require: the module id must be a string, got " + typeof id);
      }
      var found = read(id, dir);
      var file = found[0], fileDir = found[1];
      var cached = cache[file];
      if (cached) return cached.exports;
      var module = { id: file, filename: file, exports: {}, loaded: false };
      cache[file] = module;
      try {
        compile(found[2], file).call(module.exports, module.exports,
            makeRequire(fileDir), module, file, fileDir);
      } catch (e) {
        delete cache[file];
        throw e;
      }
      module.loaded = true;
      return module.exports;
    }
    require.cache = cache;
    return require;
  }
  return makeRequire;
})"#;

/// A fresh `require` (with an empty module cache) for a script in `dir`.
pub(crate) fn new_require<'js>(cx: &Ctx<'js>, dir: &Path) -> rquickjs::Result<Function<'js>> {
    let main_dir = dir.to_path_buf();
    let read = Function::new(cx.clone(), move |cx: Ctx<'js>, args: Rest<Value<'js>>| {
        read_module(&cx, &main_dir, &args.0)
    })?;
    let compile = Function::new(cx.clone(), compile_module)?;
    let bootstrap = match eval_sloppy(cx, BOOTSTRAP.as_bytes(), "app_jsdt require") {
        Ok(v) => v,
        Err(e) => return Err(cx.throw(e)),
    };
    let Some(bootstrap) = bootstrap.into_function() else {
        return Err(rquickjs::Error::new_from_js("value", "function"));
    };
    let make_require: Function = bootstrap.call((read, compile))?;
    make_require.call((dir.display().to_string(),))
}

/// `read(id, dir)`: resolves a module id and returns
/// `[file, its directory, its source]`, or throws an `Error` saying where
/// it looked.
fn read_module<'js>(
    cx: &Ctx<'js>,
    main_dir: &Path,
    args: &[Value<'js>],
) -> rquickjs::Result<Vec<String>> {
    let text = |i: usize| {
        args.get(i)
            .and_then(|v| v.as_string())
            .and_then(|s| s.to_string().ok())
            .unwrap_or_default()
    };
    let (id, dir) = (text(0), text(1));
    let base = if id.starts_with("./") || id.starts_with("../") {
        PathBuf::from(dir)
    } else {
        main_dir.to_path_buf()
    };
    let wanted = base.join(&id);
    let mut candidates = vec![wanted.clone()];
    if wanted.extension().is_none_or(|e| e != "js") {
        let mut with_js = wanted.clone().into_os_string();
        with_js.push(".js");
        candidates.push(PathBuf::from(with_js));
    }
    candidates.push(wanted.join("index.js"));
    let Some(found) = candidates.iter().find(|p| p.is_file()) else {
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        return Err(Exception::throw_message(
            cx,
            &format!(
                "require: cannot find module '{id}' (tried {})",
                tried.join(", ")
            ),
        ));
    };
    let file = found.canonicalize().unwrap_or_else(|_| found.clone());
    let source = std::fs::read(&file).map_err(|e| {
        Exception::throw_message(
            cx,
            &format!("require: cannot read module {}: {e}", file.display()),
        )
    })?;
    let file_dir = file
        .parent()
        .unwrap_or(Path::new("/"))
        .display()
        .to_string();
    Ok(vec![
        file.display().to_string(),
        file_dir,
        String::from_utf8_lossy(&source).into_owned(),
    ])
}

/// `compile(source, file)`: the module's code as a function of `exports,
/// require, module, __filename, __dirname`. The wrapper keeps the module's
/// first line on line 1, so error positions match the file.
fn compile_module<'js>(cx: Ctx<'js>, source: String, file: String) -> rquickjs::Result<Value<'js>> {
    let wrapped =
        format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
    eval_sloppy(&cx, wrapped.as_bytes(), &file).map_err(|e| cx.throw(e))
}
