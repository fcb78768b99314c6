//! The RPC control interface of the real binary: every method over the
//! Unix socket and over HTTP, JSON-RPC errors, the `rpc` client command,
//! and the HTTP listener's loopback default.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A proxy with its RPC socket and HTTP port in a temp dir.
struct Rpc {
    child: Child,
    dir: tempfile::TempDir,
    sock: PathBuf,
    http: u16,
    /// The SIP port (UDP on 127.0.0.1).
    sip: u16,
}

impl Drop for Rpc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SCRIPT: &str = "function ksr_request_route()\nend\n";

impl Rpc {
    /// Starts the proxy; `extra` is appended to the config (`DIR` is the
    /// temp dir) and waits until the socket answers.
    fn start(extra: &str) -> Rpc {
        Rpc::start_at(extra, None)
    }

    /// As `start`, with the socket at `sock` instead of the temp dir.
    fn start_at(extra: &str, sock: Option<&Path>) -> Rpc {
        Rpc::start_script(extra, sock, SCRIPT)
    }

    /// As `start_at`, with `script` as a.lua (b.lua stays empty routing).
    fn start_script(extra: &str, sock: Option<&Path>, script: &str) -> Rpc {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("a.lua"), script).unwrap();
        std::fs::write(dir.path().join("b.lua"), SCRIPT).unwrap();
        let sip = free_port("127.0.0.1");
        let http = free_port("127.0.0.1");
        let sock = sock.map_or_else(|| dir.path().join("rpc.sock"), Path::to_path_buf);
        let cfg = format!(
            "listen=udp:127.0.0.1:{sip}\nchildren=1\ndisable_tcp=yes\n\
             loadmodule \"app_lua.so\"\nloadmodule \"jsonrpcs.so\"\n\
             modparam(\"app_lua\", \"load\", \"{d}/a.lua\")\n\
             modparam(\"app_lua\", \"load\", \"{d}/b.lua\")\n\
             modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
             modparam(\"jsonrpcs\", \"http_listen\", \"127.0.0.1:{http}\")\n{}\n",
            sock.display(),
            extra.replace("DIR", &d)
        );
        let path = dir.path().join("kamailio.cfg");
        std::fs::write(&path, cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(BIN)
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let rpc = Rpc {
            child,
            dir,
            sock,
            http,
            sip,
        };
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if UnixStream::connect(&rpc.sock).is_ok()
                && TcpStream::connect(("127.0.0.1", http)).is_ok()
            {
                return rpc;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("RPC never came up; log:\n{}", rpc.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn unix_raw(&self, body: &[u8]) -> String {
        unix_raw(&self.sock, body)
    }

    fn http_raw(&self, request: &[u8]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.http)).unwrap();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        s.write_all(request).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    fn http_post(&self, body: &str) -> (String, String) {
        let req = format!(
            "POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let out = self.http_raw(req.as_bytes());
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        (head.to_string(), body.to_string())
    }

    /// A full reply over `via` ("unix" or "http").
    fn call(&self, via: &str, method: &str, params: Value) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).to_string();
        let text = match via {
            "unix" => self.unix_raw(body.as_bytes()),
            _ => {
                let (head, body) = self.http_post(&body);
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                body
            }
        };
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn result(&self, via: &str, method: &str, params: Value) -> Value {
        let reply = self.call(via, method, params);
        assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
        assert_eq!(reply["id"], 1, "{reply}");
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    fn error(&self, via: &str, method: &str, params: Value) -> (i64, String) {
        let reply = self.call(via, method, params);
        (
            reply["error"]["code"].as_i64().unwrap(),
            reply["error"]["message"].as_str().unwrap().to_string(),
        )
    }

    /// Runs `kemi-proxy rpc ARGS`.
    fn client(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN).arg("rpc").args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn unix_raw(sock: &Path, body: &[u8]) -> String {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(body).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

const ALL_METHODS: [&str; 8] = [
    "core.version",
    "core.uptime",
    "system.listMethods",
    "system.methodHelp",
    "stats.get_statistics",
    "app_lua.reload",
    "app_lua.list",
    "app_lua.api_list",
];

#[test]
fn every_method_over_unix_and_http() {
    let p = Rpc::start("");
    let d = p.dir.path().display().to_string();
    for via in ["unix", "http"] {
        let v = p.result(via, "core.version", json!([]));
        assert!(v.as_str().unwrap().starts_with("kemi-proxy "), "{v}");
        let up = p.result(via, "core.uptime", json!([]));
        assert!(up["uptime"].is_u64() && up["now"].is_string() && up["up_since"].is_string());
        let names = p.result(via, "system.listMethods", json!([]));
        for m in ALL_METHODS {
            assert!(
                names.as_array().unwrap().contains(&json!(m)),
                "{m}: {names}"
            );
        }
        let help = p.result(via, "system.methodHelp", json!(["app_lua.reload"]));
        assert!(help.as_str().unwrap().contains("eload"), "{help}");
        let stats = p.result(via, "stats.get_statistics", json!(["all"]));
        let stats: Vec<&str> = stats
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for c in [
            "received",
            "replied",
            "dropped",
            "malformed",
            "script_errors",
        ] {
            assert!(
                stats.contains(&format!("core:{c} = 0").as_str()),
                "{stats:?}"
            );
            assert!(
                stats
                    .iter()
                    .any(|s| s.starts_with("worker:udp:") && s.contains(&format!(".{c} = "))),
                "{stats:?}"
            );
        }
        let core = p.result(via, "stats.get_statistics", json!(["core:"]));
        assert_eq!(core.as_array().unwrap().len(), 5, "{core}");
        assert_eq!(
            p.result(via, "app_lua.list", json!([])),
            json!([format!("0: [{d}/a.lua]"), format!("1: [{d}/b.lua]")])
        );
        let api = p.result(via, "app_lua.api_list", json!([]));
        assert!(api["msize"].as_u64().unwrap() > 0);
    }
}

/// The value of one counter in a `stats.get_statistics` result.
fn counter(stats: &Value, name: &str) -> Option<u64> {
    stats.as_array()?.iter().find_map(|s| {
        s.as_str()?
            .strip_prefix(name)?
            .strip_prefix(" = ")?
            .parse()
            .ok()
    })
}

#[test]
fn replies_sent_by_the_script_are_counted() {
    if kemi_proxy::module_table::find("sl").is_none() {
        eprintln!("skipped: the sl module is not compiled in");
        return;
    }
    // b.lua is loaded after a.lua and would redefine the request route:
    // a.lua's route lives under another name that b.lua does not touch.
    let script = "function answer()\n    KSR.sl.send_reply(200, \"OK\")\nend\n";
    let p = Rpc::start_script(
        "loadmodule \"sl.so\"\nkemi.request_route_callback=\"answer\"\ncfgengine \"lua\"\n",
        None,
        script,
    );
    let proxy: std::net::SocketAddr = format!("127.0.0.1:{}", p.sip).parse().unwrap();
    let sock = udp_socket(proxy);
    let me = sock.local_addr().unwrap();
    const N: u64 = 7;
    for i in 0..N {
        let req = options("UDP", &me, &format!("count-{i}"));
        let reply = udp_exchange(&sock, proxy, req.as_bytes(), DEADLINE)
            .unwrap_or_else(|| panic!("no reply to OPTIONS {i}; log:\n{}", p.log()));
        assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    }
    // The counters are bumped after routing, just after the reply left.
    let start = Instant::now();
    let stats = loop {
        let stats = p.result("unix", "stats.get_statistics", json!(["core:"]));
        if counter(&stats, "core:replied") == Some(N) || start.elapsed() > DEADLINE {
            break stats;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(counter(&stats, "core:replied"), Some(N), "{stats}");
    assert_eq!(counter(&stats, "core:received"), Some(N), "{stats}");
    let workers = p.result("unix", "stats.get_statistics", json!(["worker:"]));
    let per_worker: u64 = workers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .filter(|s| s.contains(".replied = "))
        .filter_map(|s| s.rsplit(" = ").next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(per_worker, N, "{workers}");
}

#[test]
fn api_list_has_kamailios_exact_shape() {
    let p = Rpc::start("");
    let raw = p.unix_raw(br#"{"jsonrpc":"2.0","method":"app_lua.api_list","id":1}"#);
    // Member order as Kamailio's jsonrpcs writes it.
    assert!(
        raw.starts_with(r#"{"jsonrpc":"2.0","result":{"msize":"#),
        "{}",
        &raw[..80.min(raw.len())]
    );
    assert!(
        raw.contains(r#"{"func":{"ret":"#),
        "{}",
        &raw[..200.min(raw.len())]
    );
    let reply: Value = serde_json::from_str(&raw).unwrap();
    let result = &reply["result"];
    assert_eq!(result.as_object().unwrap().len(), 2);
    let methods = result["methods"].as_array().unwrap();
    assert_eq!(result["msize"].as_u64().unwrap(), methods.len() as u64);
    let mut saw_none = false;
    for m in methods {
        let m = m.as_object().unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["func"]);
        let f = m["func"].as_object().unwrap();
        assert_eq!(
            f.keys().collect::<Vec<_>>(),
            ["ret", "module", "name", "params"]
        );
        for k in ["ret", "module", "name"] {
            assert!(f[k].is_string(), "{k}: {f:?}");
        }
        // Null only where Kamailio prints null: a `long` parameter (pv.setl).
        let long_param = f["module"] == "pv" && f["name"] == "setl";
        assert_eq!(f["params"].is_null(), long_param, "{f:?}");
        assert!(f["params"].is_string() || long_param, "{f:?}");
        assert!(
            ["none", "int", "str", "bool", "xval"].contains(&f["ret"].as_str().unwrap()),
            "{f:?}"
        );
        saw_none |= f["params"] == "none";
    }
    assert!(saw_none, "no function without parameters says \"none\"");
    // Core KSR functions come first, with module "".
    assert_eq!(methods[0]["func"]["module"], "");
    // The same list the registry of the loaded modules gives.
    let registry = kemi_core::Registry::new(&[&kemi_mod_app_lua::MODULE]);
    assert_eq!(*result, registry.api_list());
}

#[test]
fn reload_increments_and_fails_like_kamailio() {
    let p = Rpc::start("");
    assert_eq!(
        p.result("unix", "app_lua.reload", json!([])),
        json!({"old": 0, "new": 1})
    );
    assert_eq!(
        p.result("http", "app_lua.reload", json!([1])),
        json!({"old": 1, "new": 2})
    );
    assert_eq!(
        p.result("unix", "app_lua.reload", json!([-1])),
        json!({"old": 2, "new": 3})
    );
    assert_eq!(
        p.error("unix", "app_lua.reload", json!([2])),
        (500, "Reload Failed".into())
    );
    assert_eq!(p.error("unix", "app_lua.reload", json!(["x"])).0, -32602);

    let off = Rpc::start("modparam(\"app_lua\", \"reload\", 0)");
    assert_eq!(
        off.error("http", "app_lua.reload", json!([])),
        (500, "Reload Failed".into())
    );
}

#[test]
fn bad_requests_get_json_rpc_errors_and_the_server_goes_on() {
    let p = Rpc::start("");
    let code = |text: &str| -> i64 {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        v["error"]["code"].as_i64().unwrap()
    };
    assert_eq!(code(&p.unix_raw(b"{bad json")), -32700);
    assert_eq!(code(&p.unix_raw(b"\xff\xfe")), -32700);
    assert_eq!(code(&p.http_post("{bad json").1), -32700);
    assert_eq!(code(&p.unix_raw(b"[]")), -32600);
    assert_eq!(code(&p.unix_raw(br#"{"jsonrpc":"2.0","id":1}"#)), -32600);
    assert_eq!(code(&p.http_post(r#""just a string""#).1), -32600);
    assert_eq!(p.error("unix", "no.such", json!([])).0, -32601);
    assert_eq!(p.error("http", "no.such", json!([])).0, -32601);
    assert_eq!(p.error("unix", "core.version", json!({"a": 1})).0, -32602);
    assert_eq!(p.error("http", "system.methodHelp", json!([])).0, -32602);
    assert_eq!(
        p.error("unix", "stats.get_statistics", json!([1])).0,
        -32602
    );
    // A batch answers each request in it.
    let batch = p.unix_raw(
        br#"[{"jsonrpc":"2.0","method":"core.version","id":1},{"jsonrpc":"2.0","method":"x","id":2}]"#,
    );
    let batch: Value = serde_json::from_str(&batch).unwrap();
    assert_eq!(batch[1]["error"]["code"], -32601);
    assert!(batch[0]["result"].is_string());
    // HTTP misuse gets HTTP errors.
    assert!(p
        .http_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .starts_with("HTTP/1.1 405"));
    assert!(p
        .http_raw(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        .starts_with("HTTP/1.1 411"));
    assert!(p
        .http_raw(b"POST / HTTP/1.1\r\nOrigin: http://evil.example\r\nContent-Length: 2\r\n\r\n{}")
        .starts_with("HTTP/1.1 403"));
    assert!(p.http_raw(b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    // A client that connects and says nothing, then one that sends half.
    drop(UnixStream::connect(&p.sock).unwrap());
    {
        let mut s = TcpStream::connect(("127.0.0.1", p.http)).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
    }
    // Still answering on both.
    assert!(p.result("unix", "core.version", json!([])).is_string());
    assert!(p.result("http", "core.version", json!([])).is_string());
}

#[test]
fn client_prints_results_and_errors() {
    let p = Rpc::start("");
    let sock = p.sock.to_str().unwrap();
    let (code, out, err) = p.client(&["-s", sock, "core.version"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("\"kemi-proxy "), "{out}");

    let (code, out, err) = p.client(&["-s", sock, "app_lua.reload", "-1"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, json!({"old": 0, "new": 1}));
    assert!(out.contains("\n  \"old\": 0"), "not indented: {out}");

    let url = format!("http://127.0.0.1:{}/RPC", p.http);
    let (code, out, err) = p.client(&["--http", &url, "stats.get_statistics", "core:"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("core:received = "), "{out}");

    let (code, _, err) = p.client(&["-s", sock, "app_lua.reload", "9"]);
    assert_ne!(code, 0);
    assert!(err.contains("Reload Failed"), "{err}");
    let (code, _, err) = p.client(&["-s", sock, "no.such"]);
    assert_ne!(code, 0);
    assert!(err.contains("Method not found"), "{err}");

    let missing = p.dir.path().join("nothing.sock");
    let (code, _, err) = p.client(&["-s", missing.to_str().unwrap(), "core.version"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("cannot connect to") && err.contains("is kemi-proxy running?"),
        "{err}"
    );
    let port = free_port("127.0.0.1");
    let (code, _, err) = p.client(&[
        "--http",
        &format!("http://127.0.0.1:{port}/"),
        "core.version",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("is kemi-proxy running?"), "{err}");
}

/// An address of this host other hosts could use, if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the source
    // address the host would route from.
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn http_listens_on_loopback_only_by_default() {
    // No http_listen: the default address. Another proxy of a parallel
    // test may hold the port; either way only loopback is ever tried.
    let dir = tempfile::tempdir().unwrap();
    let sip = free_port("127.0.0.1");
    let sock = dir.path().join("rpc.sock");
    let cfg = cfg_path(
        dir.path(),
        "k.cfg",
        &format!(
            "listen=udp:127.0.0.1:{sip}\nchildren=1\ndisable_tcp=yes\nloadmodule \"jsonrpcs.so\"\n\
             modparam(\"jsonrpcs\", \"socket\", \"{}\")\n",
            sock.display()
        ),
    );
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while UnixStream::connect(&sock).is_err() && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        text.contains("RPC on http://127.0.0.1:5071/")
            || text.contains("RPC over HTTP not available on 127.0.0.1:5071"),
        "{text}"
    );
    assert!(!text.contains("reachable from other hosts"), "{text}");

    // A proxy with the default address bound: other addresses of this
    // host get no answer on the port.
    let p = Rpc::start("");
    if let Some(ip) = non_loopback_ip() {
        assert!(
            TcpStream::connect_timeout(&(ip, p.http).into(), Duration::from_secs(2)).is_err(),
            "HTTP RPC reachable on {ip}"
        );
    }
    assert!(TcpStream::connect(("127.0.0.1", p.http)).is_ok());
}

#[test]
fn socket_file_is_removed_on_exit_and_stale_ones_replaced() {
    let mut p = Rpc::start("");
    let pid = libc::pid_t::try_from(p.child.id()).unwrap();
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = wait_exit(&mut p.child);
    assert!(status.success(), "{}", p.log());
    assert!(!p.sock.exists(), "socket left behind");

    // A stale socket file (no one listening) is replaced.
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let q = Rpc::start_at("", Some(&stale));
    let reply = unix_raw(
        &stale,
        br#"{"jsonrpc":"2.0","method":"core.version","id":3}"#,
    );
    assert!(reply.contains("kemi-proxy"), "{reply}\n{}", q.log());
}

#[test]
fn a_second_proxy_does_not_take_a_live_socket() {
    let first = Rpc::start("");
    assert_eq!(
        first.result("unix", "app_lua.reload", json!([])),
        json!({"old": 0, "new": 1})
    );
    let second = Rpc::start_at("", Some(&first.sock));
    let start = Instant::now();
    while !second.log().contains("another process serves this socket") {
        assert!(start.elapsed() < DEADLINE, "{}", second.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The socket still leads to the first proxy (its reload version).
    assert_eq!(
        first.result("unix", "app_lua.reload", json!([])),
        json!({"old": 1, "new": 2})
    );
    // The second still serves HTTP.
    assert!(second.result("http", "core.version", json!([])).is_string());
}
