//! The small expression language of `#!ifexp`, `#!defexp` and `#!defexps`.
//!
//! Kamailio embeds `snexpr` for these; configs use them for simple tests
//! such as `#!ifexp KAMAILIO_VERSION >= 5008000` or `#!ifexp A && !B`.
//! Supported: integers (decimal, `0x` hex), double-quoted strings, define
//! names, parentheses, `! - + * / %`, comparisons and `&& ||`. A name
//! defined with a value evaluates to that value (a number if it parses as
//! one, the unquoted string if quoted); a name defined without a value is 1;
//! an undefined name is 0. Anything else is rejected with a clear error.

use super::defines::Defines;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExprValue {
    Int(i64),
    Str(String),
}

impl ExprValue {
    pub(crate) fn truthy(&self) -> bool {
        match self {
            ExprValue::Int(n) => *n != 0,
            ExprValue::Str(s) => !s.is_empty(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum T {
    Num(i64),
    Str(String),
    Id(String),
    Op(&'static str),
}

const OPS: [&str; 18] = [
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "~", "^",
];

fn tokenize(src: &str) -> Result<Vec<T>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(T::Num(
                parse_int(&text).ok_or(format!("invalid number '{text}'"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(T::Id(chars[start..i].iter().collect()));
        } else if c == '"' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string in expression".into()),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(n) = chars.get(i + 1) {
                            s.push(*n);
                        }
                        i += 2;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(T::Str(s));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err(format!("unexpected character '{c}' in expression"));
            };
            if *op == "~" || *op == "^" {
                return Err(format!("operator '{op}' is not supported in expressions"));
            }
            i += op.len();
            out.push(T::Op(op));
        }
    }
    Ok(out)
}

/// Decimal, `0x` hex, `0o` octal or `0b` binary, as Kamailio's lexer takes them.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()) {
        lower.parse().ok()
    } else {
        None
    }
}

/// Nesting bound for parentheses and unary operators, so that hostile input
/// cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct P<'a> {
    toks: Vec<T>,
    i: usize,
    defines: &'a Defines,
    depth: usize,
}

pub(crate) fn eval(src: &str, defines: &Defines) -> Result<ExprValue, String> {
    let toks = tokenize(src)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = P {
        toks,
        i: 0,
        defines,
        depth: 0,
    };
    let v = p.or()?;
    if p.i != p.toks.len() {
        return Err(format!("unexpected '{}' in expression", p.show(p.i)));
    }
    Ok(v)
}

impl P<'_> {
    fn show(&self, i: usize) -> String {
        match self.toks.get(i) {
            Some(T::Num(n)) => n.to_string(),
            Some(T::Str(s)) => format!("\"{s}\""),
            Some(T::Id(s)) => s.clone(),
            Some(T::Op(o)) => (*o).to_string(),
            None => "end".into(),
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.toks.get(self.i), Some(T::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<ExprValue, String> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = ExprValue::Int(i64::from(v.truthy() || r.truthy()));
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<ExprValue, String> {
        let mut v = self.cmp()?;
        while self.eat("&&") {
            let r = self.cmp()?;
            v = ExprValue::Int(i64::from(v.truthy() && r.truthy()));
        }
        Ok(v)
    }

    fn cmp(&mut self) -> Result<ExprValue, String> {
        let mut v = self.add()?;
        loop {
            let op = match self.toks.get(self.i) {
                Some(T::Op(o)) if ["==", "!=", "<", "<=", ">", ">="].contains(o) => *o,
                _ => return Ok(v),
            };
            self.i += 1;
            let r = self.add()?;
            let ord = match (&v, &r) {
                (ExprValue::Int(a), ExprValue::Int(b)) => a.cmp(b),
                (ExprValue::Str(a), ExprValue::Str(b)) => a.cmp(b),
                _ => {
                    return Err(format!(
                        "cannot compare a number with a string using '{op}'"
                    ))
                }
            };
            let res = match op {
                "==" => ord.is_eq(),
                "!=" => ord.is_ne(),
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                ">" => ord.is_gt(),
                _ => ord.is_ge(),
            };
            v = ExprValue::Int(i64::from(res));
        }
    }

    fn add(&mut self) -> Result<ExprValue, String> {
        let mut v = self.mul()?;
        loop {
            if self.eat("+") {
                let r = self.mul()?;
                v = match (v, r) {
                    (ExprValue::Int(a), ExprValue::Int(b)) => ExprValue::Int(a.wrapping_add(b)),
                    (ExprValue::Str(a), ExprValue::Str(b)) => ExprValue::Str(a + &b),
                    (ExprValue::Str(a), ExprValue::Int(b)) => ExprValue::Str(format!("{a}{b}")),
                    (ExprValue::Int(a), ExprValue::Str(b)) => ExprValue::Str(format!("{a}{b}")),
                };
            } else if self.eat("-") {
                let r = self.mul()?;
                v = ExprValue::Int(int(&v)?.wrapping_sub(int(&r)?));
            } else {
                return Ok(v);
            }
        }
    }

    fn mul(&mut self) -> Result<ExprValue, String> {
        let mut v = self.unary()?;
        loop {
            let op = if self.eat("*") {
                '*'
            } else if self.eat("/") {
                '/'
            } else if self.eat("%") {
                '%'
            } else {
                return Ok(v);
            };
            let r = self.unary()?;
            let (a, b) = (int(&v)?, int(&r)?);
            v = ExprValue::Int(match op {
                '*' => a.wrapping_mul(b),
                _ if b == 0 => return Err("division by zero in expression".into()),
                '/' => a.wrapping_div(b),
                _ => a.wrapping_rem(b),
            });
        }
    }

    fn unary(&mut self) -> Result<ExprValue, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let r = if self.eat("!") {
            self.unary().map(|v| ExprValue::Int(i64::from(!v.truthy())))
        } else if self.eat("-") {
            self.unary()
                .and_then(|v| Ok(ExprValue::Int(int(&v)?.wrapping_neg())))
        } else {
            self.primary()
        };
        self.depth -= 1;
        r
    }

    fn primary(&mut self) -> Result<ExprValue, String> {
        let tok = self.toks.get(self.i).cloned();
        self.i += 1;
        match tok {
            Some(T::Num(n)) => Ok(ExprValue::Int(n)),
            Some(T::Str(s)) => Ok(ExprValue::Str(s)),
            Some(T::Id(name)) => Ok(self.lookup(&name)),
            Some(T::Op("(")) => {
                let v = self.or()?;
                if !self.eat(")") {
                    return Err("missing ')' in expression".into());
                }
                Ok(v)
            }
            _ => Err(format!(
                "unexpected '{}' in expression",
                self.show(self.i - 1)
            )),
        }
    }

    fn lookup(&self, name: &str) -> ExprValue {
        match self.defines.get(name) {
            None => ExprValue::Int(0),
            Some(None) => ExprValue::Int(1),
            Some(Some(v)) => {
                let v = v.trim();
                if let Some(n) = parse_int(v) {
                    ExprValue::Int(n)
                } else if let Some(n) = v.strip_prefix('-').and_then(parse_int) {
                    ExprValue::Int(-n)
                } else if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                    ExprValue::Str(v[1..v.len() - 1].to_string())
                } else {
                    ExprValue::Str(v.to_string())
                }
            }
        }
    }
}

fn int(v: &ExprValue) -> Result<i64, String> {
    match v {
        ExprValue::Int(n) => Ok(*n),
        ExprValue::Str(s) => Err(format!("\"{s}\" is a string where a number is needed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Result<ExprValue, String> {
        let mut d = Defines::predefined();
        d.set("ONE", Some("1".into()));
        d.set("NAME", Some("\"lua\"".into()));
        d.set("FLAG", None);
        eval(s, &d)
    }

    #[test]
    fn arithmetic_and_logic() {
        assert_eq!(ev("1 + 2 * 3"), Ok(ExprValue::Int(7)));
        assert_eq!(ev("(1 + 2) * 3 == 9"), Ok(ExprValue::Int(1)));
        assert_eq!(ev("KAMAILIO_VERSION >= 5008000"), Ok(ExprValue::Int(1)));
        assert_eq!(ev("FLAG && !MISSING"), Ok(ExprValue::Int(1)));
        assert_eq!(ev("NAME == \"lua\""), Ok(ExprValue::Int(1)));
        assert_eq!(ev("ONE - -1"), Ok(ExprValue::Int(2)));
        assert_eq!(ev("\"a\" + 1"), Ok(ExprValue::Str("a1".into())));
        assert!(ev("1 / 0").is_err());
        assert!(ev("(1").is_err());
        assert!(ev("1 2").is_err());
        assert!(ev("").is_err());
        assert!(ev("NAME < 3").is_err());
        assert!(ev(&"(".repeat(200)).is_err());
        assert!(ev(&"!".repeat(200)).is_err());
    }
}
