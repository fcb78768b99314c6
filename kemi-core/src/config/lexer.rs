//! Tokens of a `kamailio.cfg`, with the pre-processor folded in, as in
//! Kamailio's flex lexer: `#!` directives, skipped `#!ifdef` regions,
//! includes and define substitution all happen while tokens are produced,
//! so that `MOD_<name>` defined by a `loadmodule` is visible to the very
//! next `#!ifdef`.
//!
//! The input is a stack of frames: the main file, included files, and the
//! values of defines being re-lexed. Tokens carry the file and line where
//! they were written (for a define's value: where the define was used).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::defines::{check_define_name, Defines, Subst};
use super::error::{ConfigError, ErrorKind};
use super::expr::{self, ExprValue};

/// Kamailio's `MAX_IFDEFS`.
pub(crate) const MAX_IFDEFS: usize = 512;
/// Kamailio's include depth limit.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 10;
/// Defines expanding into defines: deeper than this is a loop.
const MAX_MACRO_DEPTH: usize = 32;
/// Total define expansions in one load; bounds `#!define A A A`-style blowups.
const MAX_EXPANSIONS: usize = 10_000;
/// Past this many errors the rest of the input is not worth reading.
pub(crate) const MAX_ERRORS: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    /// A string literal after escapes, concatenation and `#!subst`.
    Str(String),
    /// Also `yes`/`no`/`on`/`off`/`true`/`false`/`enable`/`disable`.
    Int(i64),
    Punct(char),
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    /// The text as written (for strings: the value), used to rebuild
    /// addresses such as `udp:[::1]:5060` from their pieces.
    pub raw: String,
    pub file: Rc<str>,
    pub line: u32,
    /// Whitespace or a comment separates it from the previous token.
    pub space_before: bool,
    /// A newline separates it from the previous token.
    pub line_start: bool,
}

impl Token {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Int(_) => format!("number {}", self.raw),
            Tok::Punct(c) => format!("'{c}'"),
            Tok::Eof => "end of file".into(),
        }
    }
}

struct Frame {
    chars: Vec<char>,
    pos: usize,
    file: Rc<str>,
    line: u32,
    /// Set for files: the directory relative includes are also tried in.
    dir: Option<PathBuf>,
    /// For define values: how many define values enclose this one.
    macro_depth: usize,
}

impl Frame {
    fn is_file(&self) -> bool {
        self.dir.is_some()
    }
}

struct IfFrame {
    file: Rc<str>,
    line: u32,
    directive: String,
    parent_active: bool,
    cond: bool,
    in_else: bool,
}

impl IfFrame {
    fn active(&self) -> bool {
        self.parent_active && (self.cond != self.in_else)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum DefMode {
    New,
    Try,
    Replace,
}

pub(crate) struct Lexer {
    frames: Vec<Frame>,
    pub defines: Defines,
    ifs: Vec<IfFrame>,
    substs: Vec<Subst>,
    pub errors: Vec<ConfigError>,
    /// Names that must not be replaced by defines: Kamailio's lexer matches
    /// its keywords before it looks identifiers up in the define table.
    keywords: fn(&str) -> bool,
    expansions: usize,
    expansion_error_reported: bool,
    nesting_error_reported: bool,
    pending_space: bool,
    pending_newline: bool,
    /// Reading stopped early (a define loop, too many errors): errors about
    /// the missing rest would only be noise.
    pub aborted: bool,
    last_file: Rc<str>,
    last_line: u32,
    finished: bool,
}

fn is_id_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Lexer {
    pub fn new(defines: Defines, keywords: fn(&str) -> bool) -> Self {
        Lexer {
            frames: Vec::new(),
            defines,
            ifs: Vec::new(),
            substs: Vec::new(),
            errors: Vec::new(),
            keywords,
            expansions: 0,
            expansion_error_reported: false,
            nesting_error_reported: false,
            pending_space: false,
            pending_newline: true,
            aborted: false,
            last_file: Rc::from(""),
            last_line: 0,
            finished: false,
        }
    }

    /// Starts reading a file's text; `name` is how errors will name it.
    pub fn push_file(&mut self, name: &str, text: &str, dir: PathBuf) {
        let file: Rc<str> = Rc::from(name);
        self.last_file = file.clone();
        self.last_line = 1;
        self.frames.push(Frame {
            chars: text.chars().collect(),
            pos: 0,
            file,
            line: 1,
            dir: Some(dir),
            macro_depth: 0,
        });
        self.pending_newline = true;
    }

    pub fn error(&mut self, file: &str, line: u32, kind: ErrorKind, msg: impl Into<String>) {
        self.errors.push(ConfigError::new(file, line, kind, msg));
    }

    fn here(&self) -> (Rc<str>, u32) {
        match self.frames.last() {
            Some(f) => (f.file.clone(), f.line),
            None => (self.last_file.clone(), self.last_line),
        }
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        let f = self.frames.last()?;
        f.chars.get(f.pos + k).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let f = self.frames.last_mut()?;
        let c = *f.chars.get(f.pos)?;
        f.pos += 1;
        if c == '\n' && f.is_file() {
            f.line += 1;
        }
        Some(c)
    }

    fn at_frame_end(&self) -> bool {
        self.frames.last().is_none_or(|f| f.pos >= f.chars.len())
    }

    fn pop_frame(&mut self) {
        if let Some(f) = self.frames.pop() {
            if f.is_file() {
                self.last_file = f.file;
                self.last_line = f.line;
            }
        }
    }

    fn active(&self) -> bool {
        self.ifs.last().is_none_or(IfFrame::active)
    }

    /// The next token, after directives, comments and define substitution.
    pub fn next_token(&mut self) -> Token {
        loop {
            if self.errors.len() >= MAX_ERRORS {
                return self.abort();
            }
            if self.frames.is_empty() {
                return self.eof_token();
            }
            if self.at_frame_end() {
                self.pop_frame();
                continue;
            }
            if !self.active() {
                self.skip_inactive();
                continue;
            }
            let Some(c) = self.peek_at(0) else { continue };
            let c1 = self.peek_at(1);
            match c {
                '\n' => {
                    self.bump();
                    self.pending_newline = true;
                    self.pending_space = true;
                }
                ' ' | '\t' | '\r' | '\u{8}' | '\u{c}' => {
                    self.bump();
                    self.pending_space = true;
                }
                // An escaped newline is plain whitespace.
                '\\' if c1 == Some('\n') => {
                    self.bump();
                    self.bump();
                    self.pending_space = true;
                }
                '\\' if c1 == Some('\r') && self.peek_at(2) == Some('\n') => {
                    self.bump();
                    self.bump();
                    self.bump();
                    self.pending_space = true;
                }
                '#' | '!' if c1 == Some('!') && self.peek_at(2).is_some_and(is_id_start) => {
                    self.directive();
                    self.pending_newline = true;
                    self.pending_space = true;
                }
                '#' => self.line_comment(),
                '/' if c1 == Some('/') => self.line_comment(),
                '/' if c1 == Some('*') => self.block_comment(),
                _ => {
                    if let Some(t) = self.lex_token() {
                        return t;
                    }
                }
            }
        }
    }

    fn abort(&mut self) -> Token {
        if !self.finished {
            self.finished = true;
            self.aborted = true;
            let (file, line) = self.here();
            self.error(&file, line, ErrorKind::Syntax, "too many errors, giving up");
            self.frames.clear();
        }
        self.make_token(
            Tok::Eof,
            String::new(),
            self.last_file.clone(),
            self.last_line,
        )
    }

    fn eof_token(&mut self) -> Token {
        if !self.finished {
            self.finished = true;
            let open: Vec<(Rc<str>, u32, String)> = self
                .ifs
                .iter()
                .map(|f| (f.file.clone(), f.line, f.directive.clone()))
                .collect();
            for (file, line, d) in open {
                self.error(
                    &file,
                    line,
                    ErrorKind::Preprocessor,
                    format!("#!{d} without a matching #!endif"),
                );
            }
        }
        self.make_token(
            Tok::Eof,
            String::new(),
            self.last_file.clone(),
            self.last_line,
        )
    }

    fn make_token(&mut self, tok: Tok, raw: String, file: Rc<str>, line: u32) -> Token {
        let t = Token {
            tok,
            raw,
            file,
            line,
            space_before: self.pending_space,
            line_start: self.pending_newline,
        };
        self.pending_space = false;
        self.pending_newline = false;
        t
    }

    fn line_comment(&mut self) {
        while let Some(c) = self.peek_at(0) {
            if c == '\n' {
                break;
            }
            self.bump();
        }
        self.pending_space = true;
    }

    /// `/* */` comments nest, as in Kamailio.
    fn block_comment(&mut self) {
        let (file, line) = self.here();
        self.bump();
        self.bump();
        let mut depth = 1usize;
        while depth > 0 {
            match (self.peek_at(0), self.peek_at(1)) {
                (None, _) => {
                    self.error(&file, line, ErrorKind::Syntax, "unterminated /* comment");
                    break;
                }
                (Some('/'), Some('*')) => {
                    self.bump();
                    self.bump();
                    depth += 1;
                }
                (Some('*'), Some('/')) => {
                    self.bump();
                    self.bump();
                    depth -= 1;
                }
                (Some(c), _) => {
                    if c == '\n' {
                        self.pending_newline = true;
                    }
                    self.bump();
                }
            }
        }
        self.pending_space = true;
    }

    /// Lexes one token at the current position. `None` when the input
    /// produced no token (a define was expanded, an include was opened).
    fn lex_token(&mut self) -> Option<Token> {
        let (file, line) = self.here();
        let c = self.peek_at(0)?;
        if is_id_start(c) {
            let word = self.take_while(is_id_char);
            let value = match word.as_str() {
                "yes" | "true" | "on" | "enable" => Some(1),
                "no" | "false" | "off" | "disable" => Some(0),
                _ => None,
            };
            if let Some(v) = value {
                return Some(self.make_token(Tok::Int(v), word, file, line));
            }
            if word == "include_file" || word == "import_file" {
                self.include_statement(&word, &file, line);
                return None;
            }
            if !(self.keywords)(&word) {
                if let Some(value) = self.defines.get(&word) {
                    let value = value.map(str::to_string);
                    self.expand(&word, value, &file, line);
                    return None;
                }
            }
            return Some(self.make_token(Tok::Ident(word.clone()), word, file, line));
        }
        if c.is_ascii_digit() {
            let word = self.take_while(is_id_char);
            let tok = match expr::parse_int(&word) {
                Some(n) => Tok::Int(n),
                None if word.bytes().all(|b| b.is_ascii_digit()) => {
                    self.error(
                        &file,
                        line,
                        ErrorKind::Syntax,
                        format!("number {word} is too large"),
                    );
                    Tok::Int(0)
                }
                // Kamailio's NUM_ID: parts of host names and addresses.
                None => Tok::Ident(word.clone()),
            };
            return Some(self.make_token(tok, word, file, line));
        }
        if c == '"' {
            let mut s = self.double_string(&file, line);
            // Adjacent double-quoted strings are one string.
            loop {
                let mut k = 0;
                while matches!(self.peek_at(k), Some(' ' | '\t' | '\r' | '\n')) {
                    k += 1;
                }
                if self.peek_at(k) != Some('"') {
                    break;
                }
                for _ in 0..k {
                    self.bump();
                }
                s.push_str(&self.double_string(&file, line));
            }
            let s = self.apply_substs(s);
            return Some(self.make_token(Tok::Str(s.clone()), s, file, line));
        }
        if c == '\'' {
            self.bump();
            let mut s = String::new();
            loop {
                match self.bump() {
                    None => {
                        self.error(&file, line, ErrorKind::Syntax, "unterminated ' string");
                        break;
                    }
                    Some('\'') => break,
                    Some(ch) => s.push(ch),
                }
            }
            let s = self.apply_substs(s);
            return Some(self.make_token(Tok::Str(s.clone()), s, file, line));
        }
        self.bump();
        Some(self.make_token(Tok::Punct(c), c.to_string(), file, line))
    }

    fn take_while(&mut self, f: fn(char) -> bool) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek_at(0) {
            if !f(c) {
                break;
            }
            s.push(c);
            self.bump();
        }
        s
    }

    fn apply_substs(&self, mut s: String) -> String {
        for rule in &self.substs {
            s = rule.apply(&s);
        }
        s
    }

    /// A `"..."` string with Kamailio's escapes; unknown escapes keep their
    /// backslash (regular expressions in strings rely on that).
    fn double_string(&mut self, file: &str, line: u32) -> String {
        self.bump();
        let mut s = String::new();
        loop {
            let Some(c) = self.bump() else {
                self.error(file, line, ErrorKind::Syntax, "unterminated \" string");
                return s;
            };
            match c {
                '"' => return s,
                '\\' => self.string_escape(&mut s),
                _ => s.push(c),
            }
        }
    }

    fn string_escape(&mut self, s: &mut String) {
        let Some(e) = self.peek_at(0) else {
            s.push('\\');
            return;
        };
        let simple = match e {
            'n' => Some('\n'),
            'r' => Some('\r'),
            'a' => Some('\u{7}'),
            't' => Some('\t'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(ch) = simple {
            self.bump();
            s.push(ch);
        } else if e == '\n' {
            self.bump();
        } else if e == 'x' && self.peek_at(1).is_some_and(|c| c.is_ascii_hexdigit()) {
            self.bump();
            let v = self.escaped_number(16, 2);
            s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
        } else if e.is_digit(8) && self.peek_at(1).is_some_and(|c| c.is_digit(8)) {
            let v = self.escaped_number(8, 3);
            s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
        } else {
            s.push('\\');
        }
    }

    /// Reads up to `max` digits in `radix` (the `\xHH` and `\ooo` escapes).
    fn escaped_number(&mut self, radix: u32, max: usize) -> u32 {
        let mut v = 0u32;
        for _ in 0..max {
            match self.peek_at(0).and_then(|c| c.to_digit(radix)) {
                Some(d) => {
                    v = v * radix + d;
                    self.bump();
                }
                None => break,
            }
        }
        v
    }

    /// Replaces an identifier by its define's value (pushes it as input).
    /// A loop or a blow-up is a fatal error that ends the input.
    fn expand(&mut self, name: &str, value: Option<String>, file: &Rc<str>, line: u32) {
        let depth = self.frames.last().map_or(0, |f| f.macro_depth) + 1;
        if depth > MAX_MACRO_DEPTH || self.expansions >= MAX_EXPANSIONS {
            // Fatal: what follows would be an endless (or enormous) stream of
            // tokens, so reading stops here.
            if !self.expansion_error_reported {
                self.expansion_error_reported = true;
                self.finished = true;
                self.aborted = true;
                self.frames.clear();
                self.error(
                    file,
                    line,
                    ErrorKind::Preprocessor,
                    format!("define '{name}' expands into itself (or expands too much)"),
                );
            }
            return;
        }
        self.expansions += 1;
        let chars: Vec<char> = value.unwrap_or_default().chars().collect();
        self.frames.push(Frame {
            chars,
            pos: 0,
            file: file.clone(),
            line,
            dir: None,
            macro_depth: depth,
        });
    }

    /// Reads the rest of the directive's line (consuming the newline). With
    /// `continuation`, a backslash before the newline joins the next line.
    fn read_line(&mut self, continuation: bool) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek_at(0) {
            if c == '\n' {
                self.bump();
                break;
            }
            if continuation && c == '\\' {
                let next = self.peek_at(1);
                if next == Some('\n') {
                    self.bump();
                    self.bump();
                    continue;
                }
                if next == Some('\r') && self.peek_at(2) == Some('\n') {
                    self.bump();
                    self.bump();
                    self.bump();
                    continue;
                }
            }
            s.push(c);
            self.bump();
        }
        if s.ends_with('\r') {
            s.pop();
        }
        s
    }

    /// A `#!name ...` (or `!!name ...`) directive in active text.
    fn directive(&mut self) {
        let (file, line) = self.here();
        self.bump();
        self.bump();
        let name = self.take_while(is_id_char);
        let continuation = matches!(
            name.as_str(),
            "define" | "def" | "trydef" | "trydefine" | "redefine" | "redef"
        );
        let rest = self.read_line(continuation);
        let pp = || ErrorKind::Preprocessor;
        match name.as_str() {
            "KAMAILIO" | "OPENSER" | "SER" | "MAXCOMPAT" | "ALL" => {
                if !rest.trim().is_empty() {
                    self.error(
                        &file,
                        line,
                        pp(),
                        format!("#!{name} must be alone on its line"),
                    );
                } else {
                    tracing::debug!("{file}:{line}: compatibility mode #!{name}");
                }
            }
            "define" | "def" => self.define_directive(&name, &rest, DefMode::New, &file, line),
            "trydef" | "trydefine" => {
                self.define_directive(&name, &rest, DefMode::Try, &file, line)
            }
            "redefine" | "redef" => {
                self.define_directive(&name, &rest, DefMode::Replace, &file, line)
            }
            "undef" | "undefine" | "tryundef" | "tryundefine" => {
                let id = rest.trim();
                if let Err(e) = check_define_name(id) {
                    self.error(&file, line, pp(), format!("#!{name}: {e}"));
                } else if !self.defines.remove(id) && !name.starts_with("try") {
                    self.error(
                        &file,
                        line,
                        pp(),
                        format!("#!{name}: '{id}' is not defined"),
                    );
                }
            }
            "ifdef" | "ifndef" | "ifexp" | "else" | "endif" => {
                self.cond_directive(&name, &rest, &file, line, false);
            }
            "defexp" | "defexps" => self.defexp_directive(&name, &rest, &file, line),
            "defenv" | "defenvs" | "trydefenv" | "trydefenvs" => {
                self.defenv_directive(&name, &rest, &file, line)
            }
            "subst" | "substdef" | "substdefs" => self.subst_directive(&name, &rest, &file, line),
            "include_file" | "import_file" => {
                let arg = rest.trim();
                if arg.len() >= 2 && arg.starts_with('"') && arg.ends_with('"') {
                    let path = arg[1..arg.len() - 1].to_string();
                    self.include(&path, name == "include_file", &file, line);
                } else {
                    self.error(
                        &file,
                        line,
                        ErrorKind::Syntax,
                        format!("#!{name} expects a quoted file name"),
                    );
                }
            }
            _ => self.error(
                &file,
                line,
                pp(),
                format!("unknown pre-processor directive '#!{name}'"),
            ),
        }
    }

    fn define(
        &mut self,
        directive: &str,
        name: &str,
        value: Option<String>,
        mode: DefMode,
        file: &str,
        line: u32,
    ) {
        match mode {
            DefMode::New if self.defines.is_defined(name) => self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!(
                    "#!{directive}: '{name}' is already defined (use #!redefine to change it, \
                     #!trydef to keep the first value)"
                ),
            ),
            DefMode::Try if self.defines.is_defined(name) => {}
            _ => self.defines.set(name, value),
        }
    }

    fn define_directive(
        &mut self,
        directive: &str,
        rest: &str,
        mode: DefMode,
        file: &str,
        line: u32,
    ) {
        let rest = rest.trim_start();
        let end = rest
            .find(|c: char| !(is_id_char(c) || c == '-'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        if name.is_empty() {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive} needs a name"),
            );
            return;
        }
        if let Err(e) = check_define_name(name) {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: {e}"),
            );
            return;
        }
        if !after.is_empty() && !after.starts_with([' ', '\t']) {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!(
                    "#!{directive}: invalid define name '{name}{}'",
                    after.chars().next().unwrap_or(' ')
                ),
            );
            return;
        }
        let value = after.trim();
        let value = (!value.is_empty()).then(|| value.to_string());
        self.define(directive, name, value, mode, file, line);
    }

    fn defexp_directive(&mut self, directive: &str, rest: &str, file: &str, line: u32) {
        let rest = rest.trim_start();
        let end = rest
            .find(|c: char| !(is_id_char(c) || c == '-'))
            .unwrap_or(rest.len());
        let (name, expr_text) = rest.split_at(end);
        if let Err(e) = check_define_name(name) {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: {e}"),
            );
            return;
        }
        match expr::eval(expr_text, &self.defines) {
            Ok(v) => {
                let value = match (v, directive == "defexps") {
                    (ExprValue::Int(n), false) => n.to_string(),
                    (ExprValue::Int(n), true) => format!("\"{n}\""),
                    (ExprValue::Str(s), false) => s,
                    (ExprValue::Str(s), true) => format!("\"{s}\""),
                };
                self.define(directive, name, Some(value), DefMode::New, file, line);
            }
            Err(e) => self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: {e}"),
            ),
        }
    }

    fn defenv_directive(&mut self, directive: &str, rest: &str, file: &str, line: u32) {
        let arg = rest.trim();
        let (name, var) = arg.split_once('=').unwrap_or((arg, arg));
        let (name, var) = (name.trim(), var.trim());
        if let Err(e) = check_define_name(name) {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: {e}"),
            );
            return;
        }
        match std::env::var(var) {
            Ok(v) => {
                let v = if directive.ends_with('s') {
                    format!("\"{v}\"")
                } else {
                    v
                };
                self.define(directive, name, Some(v), DefMode::New, file, line);
            }
            Err(_) if directive.starts_with("try") => {}
            Err(_) => self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: environment variable '{var}' is not set"),
            ),
        }
    }

    fn subst_directive(&mut self, directive: &str, rest: &str, file: &str, line: u32) {
        let arg = rest.trim();
        if !(arg.len() >= 2 && arg.starts_with('"') && arg.ends_with('"')) {
            self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive} expects a quoted \"/regex/replacement/flags\""),
            );
            return;
        }
        let spec = &arg[1..arg.len() - 1];
        match Subst::parse(spec) {
            Ok((rule, pattern, repl)) => {
                if directive != "subst" {
                    if let Err(e) = check_define_name(&pattern) {
                        self.error(
                            file,
                            line,
                            ErrorKind::Preprocessor,
                            format!("#!{directive}: {e}"),
                        );
                        return;
                    }
                    let value = if directive == "substdefs" {
                        format!("\"{repl}\"")
                    } else {
                        repl
                    };
                    self.define(directive, &pattern, Some(value), DefMode::New, file, line);
                }
                self.substs.push(rule);
            }
            Err(e) => self.error(
                file,
                line,
                ErrorKind::Preprocessor,
                format!("#!{directive}: {e}"),
            ),
        }
    }

    /// `#!ifdef`, `#!ifndef`, `#!ifexp`, `#!else`, `#!endif`. A malformed
    /// one is reported and still applied (a nameless `#!ifdef` opens a false
    /// region), so one mistake gives one error rather than a cascade of
    /// unbalanced ones. With `well_formed_only` (skipped text not at the
    /// start of a line) a malformed one is left alone as ordinary text.
    /// Returns whether the directive was applied.
    fn cond_directive(
        &mut self,
        name: &str,
        rest: &str,
        file: &Rc<str>,
        line: u32,
        well_formed_only: bool,
    ) -> bool {
        let pp = || ErrorKind::Preprocessor;
        let arg = rest.trim();
        let problem = match name {
            "ifexp" if arg.is_empty() => Some(format!("#!{name} needs an expression")),
            "ifdef" | "ifndef" if check_define_name(arg).is_err() => {
                Some(format!("#!{name} needs one define name"))
            }
            "else" | "endif" if !arg.is_empty() => Some(format!(
                "#!{name} must be alone on its line (found '{arg}' after it)"
            )),
            _ => None,
        };
        if let Some(msg) = &problem {
            if well_formed_only {
                return false;
            }
            self.error(file, line, pp(), msg.clone());
        }
        match name {
            "ifdef" | "ifndef" | "ifexp" => {
                let parent_active = self.active();
                let cond = if !parent_active || problem.is_some() {
                    false
                } else if name == "ifexp" {
                    match expr::eval(arg, &self.defines) {
                        Ok(v) => v.truthy(),
                        Err(e) => {
                            self.error(file, line, pp(), format!("#!ifexp: {e}"));
                            false
                        }
                    }
                } else {
                    self.defines.is_defined(arg) == (name == "ifdef")
                };
                if self.ifs.len() >= MAX_IFDEFS && !self.nesting_error_reported {
                    self.nesting_error_reported = true;
                    self.error(
                        file,
                        line,
                        pp(),
                        format!("#!{name} nested deeper than {MAX_IFDEFS} levels"),
                    );
                }
                self.ifs.push(IfFrame {
                    file: file.clone(),
                    line,
                    directive: name.to_string(),
                    parent_active,
                    cond,
                    in_else: false,
                });
            }
            _ => {
                let Some(top) = self.ifs.last_mut() else {
                    self.error(file, line, pp(), format!("#!{name} without #!ifdef"));
                    return true;
                };
                if name == "endif" {
                    self.ifs.pop();
                } else if top.in_else {
                    let (f, l) = (top.file.clone(), top.line);
                    self.error(
                        file,
                        line,
                        pp(),
                        format!("second #!else for the #!ifdef at {f}:{l}"),
                    );
                } else {
                    top.in_else = true;
                }
            }
        }
        true
    }

    /// Consumes skipped (`#!ifdef` false) text up to the next conditional
    /// directive, which is applied. Anything else in the region, even
    /// unbalanced quotes or comments, is ignored, as in Kamailio.
    fn skip_inactive(&mut self) {
        // Only whitespace since the last newline: a malformed directive
        // here is surely meant as one, and is reported.
        let mut at_line_start = self
            .frames
            .last()
            .is_some_and(|f| f.pos == 0 || f.chars.get(f.pos - 1) == Some(&'\n'));
        loop {
            if self.at_frame_end() {
                self.pop_frame();
                return;
            }
            let c = self.peek_at(0);
            if matches!(c, Some('#' | '!')) && self.peek_at(1) == Some('!') {
                // Look ahead at the name and the rest of the line.
                let mut k = 2;
                let mut name = String::new();
                while let Some(ch) = self.peek_at(k).filter(|c| is_id_char(*c)) {
                    name.push(ch);
                    k += 1;
                }
                if matches!(
                    name.as_str(),
                    "ifdef" | "ifndef" | "ifexp" | "else" | "endif"
                ) {
                    let mut rest = String::new();
                    while let Some(ch) = self.peek_at(k).filter(|c| *c != '\n') {
                        rest.push(ch);
                        k += 1;
                    }
                    let (file, line) = self.here();
                    if self.cond_directive(&name, &rest, &file, line, !at_line_start) {
                        for _ in 0..=k {
                            self.bump();
                        }
                        return;
                    }
                }
            }
            match self.bump() {
                Some('\n') => at_line_start = true,
                Some(' ' | '\t' | '\r') => {}
                _ => at_line_start = false,
            }
        }
    }

    /// `include_file "path"` / `import_file "path"` written as a statement.
    fn include_statement(&mut self, word: &str, file: &Rc<str>, line: u32) {
        while matches!(self.peek_at(0), Some(' ' | '\t')) {
            self.bump();
        }
        if self.peek_at(0) != Some('"') {
            self.error(
                file,
                line,
                ErrorKind::Syntax,
                format!("{word} expects a quoted file name"),
            );
            return;
        }
        let path = self.double_string(file, line);
        self.include(&path, word == "include_file", file, line);
    }

    /// Opens an included file: a relative path is tried from the current
    /// directory, then from the including file's directory.
    fn include(&mut self, path: &str, required: bool, file: &str, line: u32) {
        let depth = self.frames.iter().filter(|f| f.is_file()).count();
        if depth > MAX_INCLUDE_DEPTH {
            self.error(
                file,
                line,
                ErrorKind::Io,
                format!("cannot include \"{path}\": includes nested deeper than {MAX_INCLUDE_DEPTH} levels (an include loop?)"),
            );
            return;
        }
        let p = Path::new(path);
        let mut candidates = vec![p.to_path_buf()];
        if p.is_relative() {
            if let Some(dir) = self.frames.iter().rev().find_map(|f| f.dir.clone()) {
                candidates.push(dir.join(p));
            }
        }
        let Some(found) = candidates.into_iter().find(|c| c.is_file()) else {
            if required {
                self.error(
                    file,
                    line,
                    ErrorKind::Io,
                    format!("include file \"{path}\" not found"),
                );
            } else {
                tracing::debug!(
                    "{file}:{line}: optional import file \"{path}\" not found, skipped"
                );
            }
            return;
        };
        match std::fs::read(&found) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let dir = found.parent().map(Path::to_path_buf).unwrap_or_default();
                let name = found.display().to_string();
                self.push_file(&name, &text, dir);
                // The included text starts a new line.
                self.pending_newline = true;
            }
            Err(e) => self.error(
                file,
                line,
                ErrorKind::Io,
                format!("cannot read include file \"{path}\": {e}"),
            ),
        }
    }
}
