//! Errors found while loading a config. Loading keeps going after most
//! errors so that one `-c` run reports everything it can (every missing
//! module at once, for instance).

use std::fmt;

/// What went wrong, for callers that need more than the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not read the file, or a required include is missing.
    Io,
    /// Lexical or statement-level syntax error.
    Syntax,
    /// A `#!` directive is malformed, misplaced or unbalanced.
    Preprocessor,
    /// `loadmodule` names a module that is not compiled in.
    UnknownModule { name: String },
    /// `modparam` names a module that is not loaded, a parameter the module
    /// does not declare, or gives a value of the wrong type.
    ModParam,
    /// A core parameter name that does not exist.
    UnknownCoreParam { name: String },
    /// A core parameter with a value of the wrong type or out of range.
    CoreParamValue,
    /// `cfgengine` names an unknown engine or one whose module is not loaded.
    Engine,
    /// A construct that Kamailio accepts but this proxy cannot honour.
    Unsupported,
}

/// One error, located at the file and line where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as it was named (the `-f` argument or the include path);
    /// `"command line"` for `-A` defines.
    pub file: String,
    /// 1-based; 0 when the error has no line (unreadable file, `-A`).
    pub line: u32,
    pub message: String,
    pub kind: ErrorKind,
}

impl ConfigError {
    pub(crate) fn new(
        file: impl Into<String>,
        line: u32,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.into(),
            line,
            message: message.into(),
            kind,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in one load, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors {
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }

    /// The names of the modules that `loadmodule` asked for but that are not
    /// compiled in, in the order they were asked for.
    pub fn unknown_modules(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter_map(|e| match &e.kind {
                ErrorKind::UnknownModule { name } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}
