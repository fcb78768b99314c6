//! Top-level statements of a `kamailio.cfg`: global parameters, `listen`,
//! `alias`, `socket`, `loadpath`, `loadmodule`, `modparam`, `cfgengine`,
//! and native routing blocks (skipped, see [`Parser::route_block`]).
//!
//! After an error the parser skips to the next line and goes on, so that
//! one run reports every problem it can.

use super::core_params::{self, Kind};
use super::defines::build_regex;
use super::error::ErrorKind;
use super::lexer::{Lexer, Tok, Token};
use super::listen::parse_sock;
use super::model::{
    Advertise, Alias, CfgVar, Config, ListenSpec, LoadedModule, NativeRoute, Value,
};
use crate::module::{ModParamKind, ModuleDef};

/// Raised after an error has been recorded: the statement is abandoned.
struct Reported;

type PResult<T> = Result<T, Reported>;

/// Engine names `cfgengine` accepts and the modules that provide them.
const ENGINES: &[(&str, &[&str])] = &[
    ("jsdt", &["app_jsdt"]),
    ("lua", &["app_lua"]),
    ("python", &["app_python", "app_python3", "app_python3s"]),
    ("ruby", &["app_ruby", "app_ruby_proc"]),
    ("sqlang", &["app_sqlang"]),
];

const ROUTE_BLOCKS: &[&str] = &[
    "route",
    "request_route",
    "failure_route",
    "branch_route",
    "branch_failure_route",
    "onreply_route",
    "reply_route",
    "onsend_route",
    "event_route",
];

/// A parameter value as written: a bare name is kept apart from a string
/// because only some parameters accept it.
enum Raw {
    Int(i64),
    Str(String),
    Id(String),
}

impl Raw {
    fn describe(&self) -> String {
        match self {
            Raw::Int(n) => format!("the number {n}"),
            Raw::Str(s) => format!("the string \"{s}\""),
            Raw::Id(s) => format!("the name '{s}'"),
        }
    }
}

struct Word {
    first: Token,
    text: String,
    is_str: bool,
}

pub(crate) struct Parser<'m> {
    pub lx: Lexer,
    peeked: Option<Token>,
    modules: &'m [&'static ModuleDef],
    pub cfg: Config,
    /// `loadmodule` names that are not compiled in. Their `modparam`s and
    /// `cfgengine` stay quiet: the `loadmodule` error already says it all.
    failed_modules: Vec<String>,
}

impl<'m> Parser<'m> {
    pub fn new(lx: Lexer, modules: &'m [&'static ModuleDef]) -> Self {
        Parser {
            lx,
            peeked: None,
            modules,
            cfg: Config::default(),
            failed_modules: Vec::new(),
        }
    }

    fn next(&mut self) -> Token {
        match self.peeked.take() {
            Some(t) => t,
            None => self.lx.next_token(),
        }
    }

    fn peek(&mut self) -> &Token {
        self.peeked.get_or_insert_with(|| self.lx.next_token())
    }

    fn err(&mut self, at: &Token, kind: ErrorKind, msg: impl Into<String>) -> Reported {
        if !self.lx.aborted {
            self.lx.error(&at.file, at.line, kind, msg);
        }
        Reported
    }

    /// Skips the rest of the current line.
    fn recover(&mut self) {
        loop {
            let p = self.peek();
            if p.tok == Tok::Eof || p.line_start {
                return;
            }
            self.next();
        }
    }

    pub fn run(&mut self) {
        loop {
            let t = self.next();
            let res = match &t.tok {
                Tok::Eof => break,
                Tok::Punct(';') => Ok(()),
                Tok::Ident(w) => {
                    let w = w.clone();
                    self.statement(&w, &t)
                }
                _ => Err(self.err(
                    &t,
                    ErrorKind::Syntax,
                    format!("unexpected {} at the start of a statement", t.describe()),
                )),
            };
            if res.is_err() {
                self.recover();
            }
        }
    }

    fn statement(&mut self, word: &str, t: &Token) -> PResult<()> {
        match word {
            "loadmodule" | "loadmodulex" => self.loadmodule(word, t),
            "modparam" | "modparamx" => self.modparam(word, t),
            "loadpath" | "mpath" => {
                self.eat_punct('=');
                let path = self.expect_str(word)?;
                tracing::debug!(
                    "{}:{}: {word} \"{path}\" ignored: modules are compiled in",
                    t.file,
                    t.line
                );
                self.cfg.loadpath.push(path);
                Ok(())
            }
            "cfgengine" => {
                self.eat_punct('=');
                let name = self.expect_str("cfgengine")?;
                self.cfgengine(&name, t)
            }
            "listen" => {
                self.expect_punct('=', "listen")?;
                self.listen(t)
            }
            "alias" => {
                self.expect_punct('=', "alias")?;
                self.alias()
            }
            "socket" => self.socket_block(t),
            "flags" | "avpflags" => {
                tracing::warn!("{}:{}: '{word}' declarations are ignored", t.file, t.line);
                self.recover();
                Ok(())
            }
            _ if ROUTE_BLOCKS.contains(&word) => self.route_block(word, t),
            _ => self.assignment(word, t),
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek().tok == Tok::Punct(c) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char, ctx: &str) -> PResult<()> {
        if self.eat_punct(c) {
            return Ok(());
        }
        let p = self.peek().clone();
        Err(self.err(
            &p,
            ErrorKind::Syntax,
            format!("{ctx}: expected '{c}', found {}", p.describe()),
        ))
    }

    fn expect_str(&mut self, ctx: &str) -> PResult<String> {
        let p = self.peek().clone();
        if let Tok::Str(s) = p.tok {
            self.next();
            return Ok(s);
        }
        let hint = if matches!(p.tok, Tok::Ident(_)) {
            " (an undefined name?)"
        } else {
            ""
        };
        Err(self.err(
            &p,
            ErrorKind::Syntax,
            format!(
                "{ctx}: expected a quoted string, found {}{hint}",
                p.describe()
            ),
        ))
    }

    /// A number (possibly negative), a string, or a bare name.
    fn value(&mut self, ctx: &str) -> PResult<Raw> {
        let p = self.peek().clone();
        match p.tok {
            // The lexer already reported a number too large for an i64
            // (and made it 0): one error is enough, so the parameter's own
            // range check must not see that 0.
            Tok::Int(_)
                if p.raw.bytes().all(|b| b.is_ascii_digit()) && p.raw.parse::<i64>().is_err() =>
            {
                self.next();
                Err(Reported)
            }
            Tok::Int(n) => {
                self.next();
                Ok(Raw::Int(n))
            }
            Tok::Str(s) => {
                self.next();
                Ok(Raw::Str(s))
            }
            Tok::Ident(s) => {
                self.next();
                Ok(Raw::Id(s))
            }
            Tok::Punct('-') => {
                self.next();
                let n = self.peek().clone();
                if let Tok::Int(v) = n.tok {
                    self.next();
                    Ok(Raw::Int(v.wrapping_neg()))
                } else {
                    Err(self.err(
                        &n,
                        ErrorKind::Syntax,
                        format!("{ctx}: expected a number after '-'"),
                    ))
                }
            }
            _ => Err(self.err(
                &p,
                ErrorKind::Syntax,
                format!("{ctx}: expected a value, found {}", p.describe()),
            )),
        }
    }

    // ----- loadmodule -----------------------------------------------------

    fn loadmodule(&mut self, word: &str, t: &Token) -> PResult<()> {
        let (path, opts) = if self.eat_punct('(') {
            let path = self.expect_str(word)?;
            let opts = if self.eat_punct(',') {
                Some(self.expect_str(word)?)
            } else {
                None
            };
            self.expect_punct(')', word)?;
            (path, opts)
        } else {
            // No peeking past the name: the next line may test MOD_<name>.
            (self.expect_str(word)?, None)
        };
        if let Some(o) = &opts {
            if let Some(bad) = o.chars().find(|c| !matches!(c, 'g' | 'o')) {
                return Err(self.err(
                    t,
                    ErrorKind::Syntax,
                    format!("{word}: unknown flag '{bad}' (known flags: g, o)"),
                ));
            }
        }
        if word == "loadmodulex" && path.contains('$') {
            return Err(self.err(
                t,
                ErrorKind::Unsupported,
                format!("loadmodulex \"{path}\": variables in module names are not supported"),
            ));
        }
        let file = path.rsplit('/').next().unwrap_or(&path);
        let name = file.strip_suffix(".so").unwrap_or(file);
        if name.is_empty() {
            return Err(self.err(t, ErrorKind::Syntax, format!("{word}: empty module name")));
        }
        let Some(def) = self.modules.iter().copied().find(|m| m.name == name) else {
            let mut names: Vec<&str> = self.modules.iter().map(|m| m.name).collect();
            names.sort_unstable();
            let hint = suggest(name, names.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            let msg = format!(
                "unknown module '{name}' in loadmodule \"{path}\"{hint}; available modules: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
            self.lx.error(
                &t.file,
                t.line,
                ErrorKind::UnknownModule {
                    name: name.to_string(),
                },
                msg,
            );
            self.failed_modules.push(name.to_string());
            return Ok(());
        };
        if self.cfg.is_loaded(def.name) {
            tracing::debug!("{}:{}: module {} already loaded", t.file, t.line, def.name);
            return Ok(());
        }
        self.cfg.modules.push(LoadedModule {
            def,
            params: Vec::new(),
        });
        let define = format!("MOD_{}", def.name);
        if !self.lx.defines.is_defined(&define) {
            self.lx.defines.set(&define, None);
        }
        Ok(())
    }

    // ----- modparam -------------------------------------------------------

    fn modparam(&mut self, word: &str, t: &Token) -> PResult<()> {
        self.expect_punct('(', word)?;
        let module = self.expect_str(word)?;
        self.expect_punct(',', word)?;
        let param = self.expect_str(word)?;
        self.expect_punct(',', word)?;
        let vt = self.peek().clone();
        let value = match self.value(word)? {
            Raw::Int(n) => Value::Int(n),
            Raw::Str(s) => Value::Str(s),
            Raw::Id(s) => {
                return Err(self.err(
                    &vt,
                    ErrorKind::Syntax,
                    format!("{word}(\"{module}\", \"{param}\", ...): the value must be a number or a quoted string, not the name '{s}' (an undefined define?)"),
                ))
            }
        };
        self.expect_punct(')', word)?;
        if word == "modparamx" {
            if let Value::Str(s) = &value {
                if s.contains('$') {
                    return Err(self.err(
                        t,
                        ErrorKind::Unsupported,
                        format!("modparamx(\"{module}\", \"{param}\", \"{s}\"): variables in values are not supported"),
                    ));
                }
            }
        }
        self.set_modparam(t, &module, &param, value)
    }

    fn set_modparam(&mut self, t: &Token, module: &str, param: &str, value: Value) -> PResult<()> {
        // Kamailio matches the module name as an anchored, case-insensitive
        // regular expression, so "nathelper|registrar" sets both.
        let re = match build_regex(&format!("^(?:{module})$"), true) {
            Ok(re) => re,
            Err(e) => {
                return Err(self.err(t, ErrorKind::ModParam, format!("modparam module name: {e}")))
            }
        };
        let matched: Vec<usize> = (0..self.cfg.modules.len())
            .filter(|i| re.is_match(self.cfg.modules[*i].def.name))
            .collect();
        if matched.is_empty() {
            if self.failed_modules.iter().any(|n| re.is_match(n)) {
                return Ok(());
            }
            let loaded: Vec<&str> = self.cfg.modules.iter().map(|m| m.def.name).collect();
            let msg = if self.modules.iter().any(|m| re.is_match(m.name)) {
                format!("modparam(\"{module}\", \"{param}\", ...): module '{module}' is not loaded; add loadmodule \"{module}.so\" before this line")
            } else {
                format!(
                    "modparam(\"{module}\", \"{param}\", ...): no loaded module matches '{module}' (loaded: {})",
                    if loaded.is_empty() { "none".to_string() } else { loaded.join(", ") }
                )
            };
            return Err(self.err(t, ErrorKind::ModParam, msg));
        }
        let mut failed = false;
        for i in matched {
            let def = self.cfg.modules[i].def;
            let Some(p) = def.param(param) else {
                let names: Vec<&str> = def.params.iter().map(|p| p.name).collect();
                let hint = suggest(param, names.iter().copied())
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                let list = if names.is_empty() {
                    "it has no parameters".to_string()
                } else {
                    format!("its parameters: {}", names.join(", "))
                };
                self.err(
                    t,
                    ErrorKind::ModParam,
                    format!(
                        "module {} has no parameter '{param}'{hint}; {list}",
                        def.name
                    ),
                );
                failed = true;
                continue;
            };
            let ok = matches!(
                (p.kind, &value),
                (ModParamKind::Int, Value::Int(_)) | (ModParamKind::Str, Value::Str(_))
            );
            if !ok {
                let want = match p.kind {
                    ModParamKind::Int => "an integer",
                    ModParamKind::Str => "a string",
                };
                let got = match &value {
                    Value::Int(n) => format!("the number {n}"),
                    Value::Str(s) => format!("the string \"{s}\""),
                };
                self.err(
                    t,
                    ErrorKind::ModParam,
                    format!(
                        "parameter '{param}' of module {} takes {want}, not {got}",
                        def.name
                    ),
                );
                failed = true;
                continue;
            }
            let params = &mut self.cfg.modules[i].params;
            match params.iter_mut().find(|(n, _)| n == param) {
                Some(slot) if !p.repeatable => slot.1 = value.clone(),
                _ => params.push((param.to_string(), value.clone())),
            }
        }
        if failed {
            Err(Reported)
        } else {
            Ok(())
        }
    }

    // ----- cfgengine ------------------------------------------------------

    fn cfgengine(&mut self, name: &str, t: &Token) -> PResult<()> {
        let lower = name.to_ascii_lowercase();
        if lower == "native" || lower == "default" {
            self.cfg.engine = Some("native".into());
            return Ok(());
        }
        let Some((engine, mods)) = ENGINES.iter().find(|(e, _)| *e == lower) else {
            let known: Vec<&str> = ENGINES.iter().map(|(e, _)| *e).chain(["native"]).collect();
            return Err(self.err(
                t,
                ErrorKind::Engine,
                format!(
                    "cfgengine \"{name}\": unknown engine; known engines: {}",
                    known.join(", ")
                ),
            ));
        };
        if mods.iter().any(|m| self.cfg.is_loaded(m)) {
            self.cfg.engine = Some((*engine).to_string());
            return Ok(());
        }
        if mods
            .iter()
            .any(|m| self.failed_modules.iter().any(|f| f == m))
        {
            return Ok(());
        }
        Err(self.err(
            t,
            ErrorKind::Engine,
            format!(
                "cfgengine \"{name}\": the engine's module is not loaded; put loadmodule \"{}.so\" before cfgengine",
                mods.first().copied().unwrap_or_default()
            ),
        ))
    }

    // ----- listen, alias, socket -----------------------------------------

    /// Address-like values rebuilt from adjacent tokens, up to the end of
    /// the line, a `;` or a `}`.
    fn words(&mut self) -> Vec<Word> {
        let mut words = Vec::new();
        loop {
            let p = self.peek();
            if p.tok == Tok::Eof || p.line_start || p.tok == Tok::Punct('}') {
                break;
            }
            if p.tok == Tok::Punct(';') {
                self.next();
                break;
            }
            let first = self.next();
            let is_str = matches!(first.tok, Tok::Str(_));
            let mut text = first.raw.clone();
            if !is_str {
                loop {
                    let p = self.peek();
                    let stop = p.space_before
                        || p.line_start
                        || matches!(p.tok, Tok::Eof | Tok::Str(_) | Tok::Punct(';' | '}'));
                    if stop {
                        break;
                    }
                    let t = self.next();
                    text.push_str(&t.raw);
                }
            }
            words.push(Word {
                first,
                text,
                is_str,
            });
        }
        words
    }

    fn listen(&mut self, t: &Token) -> PResult<()> {
        let words = self.words();
        if words.is_empty() {
            return Err(self.err(t, ErrorKind::Syntax, "listen: expected an address"));
        }
        let mut specs: Vec<ListenSpec> = Vec::new();
        let mut it = words.into_iter();
        while let Some(w) = it.next() {
            let keyword = if w.is_str { "" } else { w.text.as_str() };
            match keyword {
                "advertise" | "ADVERTISE" => {
                    let Some(a) = it.next() else {
                        return Err(self.err(
                            &w.first,
                            ErrorKind::Syntax,
                            "listen: advertise needs an address",
                        ));
                    };
                    let s = parse_sock(&a.text).map_err(|e| {
                        self.err(&a.first, ErrorKind::Syntax, format!("listen: {e}"))
                    })?;
                    let Some(last) = specs.last_mut() else {
                        return Err(self.err(
                            &w.first,
                            ErrorKind::Syntax,
                            "listen: advertise before any address",
                        ));
                    };
                    last.advertise = Some(Advertise {
                        addr: s.host,
                        port: s.port,
                    });
                }
                "name" => {
                    let n = it.next().filter(|n| n.is_str);
                    match (n, specs.last_mut()) {
                        (Some(n), Some(last)) => last.name = Some(n.text),
                        _ => {
                            return Err(self.err(
                                &w.first,
                                ErrorKind::Syntax,
                                "listen: name needs a quoted socket name after an address",
                            ))
                        }
                    }
                }
                "virtual" => match specs.last_mut() {
                    Some(last) => last.is_virtual = true,
                    None => {
                        return Err(self.err(
                            &w.first,
                            ErrorKind::Syntax,
                            "listen: virtual before any address",
                        ))
                    }
                },
                _ => {
                    let s = parse_sock(&w.text).map_err(|e| {
                        self.err(&w.first, ErrorKind::Syntax, format!("listen: {e}"))
                    })?;
                    specs.push(ListenSpec {
                        proto: s.proto,
                        addr: s.host,
                        port: s.port,
                        advertise: None,
                        name: None,
                        is_virtual: false,
                        workers: None,
                    });
                }
            }
        }
        self.cfg.listen.extend(specs);
        Ok(())
    }

    fn alias(&mut self) -> PResult<()> {
        let words = self.words();
        for w in words {
            let s = parse_sock(&w.text)
                .map_err(|e| self.err(&w.first, ErrorKind::Syntax, format!("alias: {e}")))?;
            self.cfg.alias.push(Alias {
                proto: s.proto,
                host: s.host.to_string(),
                port: s.port,
            });
        }
        Ok(())
    }

    /// `socket = { bind = ...; advertise = ...; name = "..."; workers = N; virtual = yes; }`
    fn socket_block(&mut self, t: &Token) -> PResult<()> {
        self.eat_punct('=');
        self.expect_punct('{', "socket")?;
        let res = self.socket_body(t);
        if let Ok(spec) = res {
            let Some(spec) = spec else {
                return Err(self.err(t, ErrorKind::Syntax, "socket block without 'bind'"));
            };
            self.cfg.listen.push(spec);
            return Ok(());
        }
        {
            // Resume after the block, not inside it.
            let mut depth = 1usize;
            while depth > 0 {
                let x = self.peek().clone();
                match x.tok {
                    Tok::Eof => break,
                    Tok::Punct('}') => depth -= 1,
                    Tok::Punct('{') => depth += 1,
                    _ => {}
                }
                self.next();
            }
        }
        Err(Reported)
    }

    /// The attributes up to and including the closing `}`.
    fn socket_body(&mut self, t: &Token) -> PResult<Option<ListenSpec>> {
        let mut spec: Option<ListenSpec> = None;
        let mut advertise = None;
        let mut name = None;
        let mut workers = None;
        let mut is_virtual = false;
        loop {
            let k = self.next();
            let key = match &k.tok {
                Tok::Punct('}') => break,
                Tok::Punct(';') => continue,
                Tok::Ident(s) => s.clone(),
                Tok::Eof => {
                    return Err(self.err(
                        t,
                        ErrorKind::Syntax,
                        "socket block without its closing '}'",
                    ))
                }
                _ => {
                    return Err(self.err(
                        &k,
                        ErrorKind::Syntax,
                        format!("socket: unexpected {}", k.describe()),
                    ))
                }
            };
            self.expect_punct('=', "socket")?;
            match key.as_str() {
                "bind" | "advertise" => {
                    let words = self.words();
                    let Some(w) = words.first() else {
                        return Err(self.err(&k, ErrorKind::Syntax, format!("socket: {key} needs an address")));
                    };
                    let s = parse_sock(&w.text).map_err(|e| self.err(&w.first, ErrorKind::Syntax, format!("socket: {e}")))?;
                    if key == "bind" {
                        spec = Some(ListenSpec {
                            proto: s.proto,
                            addr: s.host,
                            port: s.port,
                            advertise: None,
                            name: None,
                            is_virtual: false,
                            workers: None,
                        });
                    } else {
                        advertise = Some(Advertise { addr: s.host, port: s.port });
                    }
                }
                "name" => name = Some(self.expect_str("socket name")?),
                "workers" => match self.value("socket workers")? {
                    Raw::Int(n) if n > 0 => workers = u32::try_from(n).ok(),
                    v => return Err(self.err(&k, ErrorKind::Syntax, format!("socket: workers must be a positive number, not {}", v.describe()))),
                },
                "virtual" => match self.value("socket virtual")? {
                    Raw::Int(n) => is_virtual = n != 0,
                    v => return Err(self.err(&k, ErrorKind::Syntax, format!("socket: virtual must be yes or no, not {}", v.describe()))),
                },
                _ => {
                    return Err(self.err(
                        &k,
                        ErrorKind::Syntax,
                        format!("socket: unknown attribute '{key}' (known: bind, advertise, name, workers, virtual)"),
                    ))
                }
            }
        }
        let Some(mut spec) = spec else {
            return Ok(None);
        };
        spec.advertise = advertise;
        spec.name = name;
        spec.workers = workers;
        spec.is_virtual = is_virtual;
        Ok(Some(spec))
    }

    // ----- routing blocks -------------------------------------------------

    /// Native routing blocks cannot run here: routing is the KEMI script's.
    /// A main `request_route` (or `route {}` / `route[0]`) is an error,
    /// because Kamailio would run it instead of the script's
    /// `ksr_request_route`, so ignoring it would change behaviour silently.
    /// Other blocks (`route[X]`, `event_route[...]`, ...) are skipped with a
    /// warning and listed in `Config::native_routes`: KEMI deployments keep
    /// them for `KSR.route()` or leftovers, and they never run by themselves.
    fn route_block(&mut self, kind: &str, t: &Token) -> PResult<()> {
        let mut name: Option<String> = None;
        if self.eat_punct('[') {
            let mut n = String::new();
            loop {
                let x = self.next();
                match x.tok {
                    Tok::Punct(']') => break,
                    Tok::Eof => {
                        return Err(self.err(t, ErrorKind::Syntax, format!("{kind}: missing ']'")))
                    }
                    _ => n.push_str(&x.raw),
                }
            }
            name = Some(n);
        }
        let p = self.peek().clone();
        if p.tok != Tok::Punct('{') {
            return Err(self.err(
                &p,
                ErrorKind::Syntax,
                format!("{kind}: expected '{{', found {}", p.describe()),
            ));
        }
        self.next();
        let mut depth = 1usize;
        while depth > 0 {
            let x = self.next();
            match x.tok {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => depth -= 1,
                Tok::Eof => {
                    return Err(self.err(
                        t,
                        ErrorKind::Syntax,
                        format!("{kind} block without its closing '}}'"),
                    ));
                }
                _ => {}
            }
        }
        let main = kind == "request_route"
            || (kind == "route"
                && matches!(name.as_deref(), None | Some("0" | "main" | "DEFAULT_ROUTE")));
        if main {
            return Err(self.err(
                t,
                ErrorKind::Unsupported,
                "native request_route blocks are not supported: the routing logic must be the KEMI \
                 script's ksr_request_route (set cfgengine and remove this block)",
            ));
        }
        tracing::warn!(
            "{}:{}: native {kind}{} block skipped: it is never executed by this proxy",
            t.file,
            t.line,
            name.as_deref()
                .map(|n| format!("[{n}]"))
                .unwrap_or_default()
        );
        self.cfg.native_routes.push(NativeRoute {
            kind: kind.to_string(),
            name,
            file: t.file.to_string(),
            line: t.line,
        });
        Ok(())
    }

    // ----- name = value ---------------------------------------------------

    fn assignment(&mut self, word: &str, t: &Token) -> PResult<()> {
        let mut name = word.to_string();
        while {
            let p = self.peek();
            p.tok == Tok::Punct('.') && !p.space_before
        } {
            self.next();
            let p = self.next();
            match p.tok {
                Tok::Ident(part) if !p.space_before => {
                    name.push('.');
                    name.push_str(&part);
                }
                _ => {
                    return Err(self.err(
                        &p,
                        ErrorKind::Syntax,
                        format!("expected a name after '{name}.'"),
                    ))
                }
            }
        }
        if self.peek().tok != Tok::Punct('=') {
            let p = self.peek().clone();
            let msg = if core_params::find(&name).is_some() {
                format!("{name}: expected '=', found {}", p.describe())
            } else {
                format!("unexpected '{name}' (not a statement or core parameter)")
            };
            return Err(self.err(t, ErrorKind::Syntax, msg));
        }
        self.next();
        let Some(param) = core_params::find(&name) else {
            if let Some((group, var)) = name.split_once('.') {
                if group != "kemi" {
                    return self.cfg_var(group, var, t);
                }
            }
            let hint = suggest(&name, core_params::CORE_PARAMS.iter().map(|p| p.name))
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            return Err(self.err(
                t,
                ErrorKind::UnknownCoreParam { name: name.clone() },
                format!("unknown core parameter '{name}'{hint}"),
            ));
        };
        let raw = self.value(&name)?;
        let v = match (param.kind, raw) {
            (Kind::Int | Kind::Bool | Kind::IntOrStr, Raw::Int(n)) => Value::Int(n),
            (Kind::Str | Kind::Id | Kind::IntOrStr, Raw::Str(s)) => Value::Str(s),
            (Kind::Id | Kind::IntOrStr, Raw::Id(s)) => Value::Str(s),
            (kind, raw) => {
                let hint = if matches!(raw, Raw::Id(_)) {
                    " (an undefined name?)"
                } else {
                    ""
                };
                return Err(self.err(
                    t,
                    ErrorKind::CoreParamValue,
                    format!(
                        "{name} takes {}, not {}{hint}",
                        kind.describe(),
                        raw.describe()
                    ),
                ));
            }
        };
        core_params::apply(&mut self.cfg, param, v)
            .map_err(|m| self.err(t, ErrorKind::CoreParamValue, m))
    }

    /// `group.var = value [descr "text"]`: a custom cfg-framework variable.
    fn cfg_var(&mut self, group: &str, var: &str, t: &Token) -> PResult<()> {
        let value = match self.value(&format!("{group}.{var}"))? {
            Raw::Int(n) => Value::Int(n),
            Raw::Str(s) => Value::Str(s),
            Raw::Id(s) => {
                return Err(self.err(
                    t,
                    ErrorKind::Syntax,
                    format!("{group}.{var}: the value must be a number or a quoted string, not the name '{s}'"),
                ))
            }
        };
        let mut descr = None;
        let p = self.peek();
        if p.tok == Tok::Ident("descr".into()) && !p.line_start {
            self.next();
            descr = Some(self.expect_str("descr")?);
        }
        self.cfg.cfg_vars.push(CfgVar {
            group: group.into(),
            name: var.into(),
            value,
            descr,
        });
        Ok(())
    }
}

/// The closest candidate within a small edit distance, or one that extends
/// the name (`app_python` -> `app_python3`).
fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .filter_map(|c| {
            let d = edit_distance(&lower, &c.to_ascii_lowercase());
            let extends = c.len() > name.len() && c.starts_with(name) && c.len() - name.len() <= 2;
            (d <= 1.max(name.len() / 3) || extends).then_some((if extends { 0 } else { d }, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance where swapping two adjacent letters counts as one edit
/// (optimal string alignment), so `xlgo` is one edit from `xlog`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}
