//! No input makes the loader panic or hang: random bytes, random soups of
//! config fragments, and random mutations of the seed configs.

mod config_common;

use config_common::*;
use kemi_core::config;

/// xorshift64*: deterministic, so a failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn check(bytes: &[u8], seed: u64) {
    let text = String::from_utf8_lossy(bytes);
    let res = std::panic::catch_unwind(|| {
        let _ = config::parse_str(&text, "fuzz.cfg", ALL_MODULES, &[]);
    });
    assert!(res.is_ok(), "panic for seed {seed}, input:\n{text:?}");
}

const FRAGMENTS: &[&str] = &[
    "#!define ",
    "#!ifdef ",
    "#!ifndef ",
    "#!else\n",
    "#!endif\n",
    "#!trydef ",
    "#!redefine ",
    "#!undef ",
    "#!ifexp ",
    "#!defexp ",
    "#!subst \"/a/b/g\"\n",
    "#!substdef \"/X/1/\"\n",
    "#!subst \"",
    "!!define ",
    "#!KAMAILIO\n",
    "include_file \"",
    "import_file \"x\"\n",
    "A",
    "B",
    "X",
    " ",
    "\n",
    "\\\n",
    "\"",
    "'",
    "/*",
    "*/",
    "//",
    "#",
    "=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
    "-",
    "0x",
    "1",
    "99999999999999999999",
    "yes",
    "listen",
    "listen=udp:1.2.3.4:5060",
    " advertise ",
    " name ",
    "alias",
    "socket = {",
    "bind = ",
    "loadmodule",
    "loadmodule \"tm.so\"\n",
    "modparam(\"tm\", \"fr_timer\", ",
    "modparam(\"a|(\", ",
    "cfgengine \"lua\"\n",
    "debug",
    "children",
    "kemi.",
    "request_route",
    "route[X]",
    "event_route[a:b]",
    "$",
    "\\x4",
    "\\0",
    "&&",
    "||",
    "!",
    "A A A",
    "#!define A A A\n",
    "#!define B A B\n",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..3000u64 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check(&bytes, i);
    }
}

#[test]
fn fragment_soups_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for i in 0..3000u64 {
        let mut text = String::new();
        for _ in 0..rng.below(60) {
            text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
        check(text.as_bytes(), i);
    }
}

#[test]
fn seed_mutations_never_panic() {
    let seeds: Vec<Vec<u8>> = ["seed-lua.cfg", "seed-python.cfg", "include-main.cfg"]
        .iter()
        .filter_map(|f| std::fs::read(fixture(f)).ok())
        .collect();
    assert_eq!(seeds.len(), 3);
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for i in 0..1500u64 {
        let mut bytes = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(8) {
            let pos = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[pos] = rng.next() as u8,
                1 => {
                    bytes.remove(pos);
                }
                2 => {
                    let frag = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                    bytes.splice(pos..pos, frag.iter().copied());
                }
                _ => bytes.truncate(pos),
            }
            if bytes.is_empty() {
                break;
            }
        }
        check(&bytes, i);
    }
}

/// Exponential define expansion is cut off, not followed.
#[test]
fn define_bombs_stop() {
    let text = "#!define A B B B B\n#!define B C C C C\n#!define C D D D D\n#!define D E E E E\n\
                #!define E F F F F\n#!define F G G G G\n#!define G H H H H\n#!define H I I I I\n\
                #!define I J J J J\n#!define J debug=1\nA\n";
    let errs = config::parse_str(text, "bomb.cfg", ALL_MODULES, &[]).unwrap_err();
    assert!(errs.to_string().contains("expands too much"), "{errs}");
}
