//! `kemi-proxy rpc METHOD [ARGS...]`: calls a method of a running proxy
//! and prints the result as indented JSON.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};

use super::default_socket_paths;

/// How long the client waits for the proxy.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Call an RPC method of a running kemi-proxy and print the result.
///
/// Arguments that read as numbers are sent as numbers, the rest as
/// strings. By default the client connects to the first existing default
/// Unix socket (/run/kemi-proxy/kemi-proxy_rpc.sock,
/// $XDG_RUNTIME_DIR/kemi-proxy/kemi-proxy_rpc.sock,
/// /tmp/kemi-proxy-<uid>/kemi-proxy_rpc.sock).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  kemi-proxy rpc system.listMethods\n  kemi-proxy rpc app_lua.reload\n  kemi-proxy rpc stats.get_statistics core:\n  kemi-proxy rpc --http http://127.0.0.1:5071/ core.uptime"
)]
pub struct RpcArgs {
    /// The proxy's Unix socket.
    #[arg(
        short = 's',
        long = "socket",
        value_name = "PATH",
        conflicts_with = "http"
    )]
    pub socket: Option<PathBuf>,

    /// Use HTTP instead: http://HOST:PORT[/PATH].
    #[arg(long = "http", value_name = "URL")]
    pub http: Option<String>,

    /// The method, e.g. core.version.
    pub method: String,

    /// The method's parameters.
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

/// A command-line argument as a JSON parameter.
pub fn param(arg: &str) -> Value {
    if let Ok(n) = arg.parse::<i64>() {
        return json!(n);
    }
    match arg.parse::<f64>() {
        // "inf"/"nan" parse as floats but are words here.
        Ok(f) if f.is_finite() && arg.bytes().any(|b| b.is_ascii_digit()) => json!(f),
        _ => json!(arg),
    }
}

/// Runs the command; prints the result, or the error on stderr.
pub fn run(args: &RpcArgs) -> ExitCode {
    let request = json!({
        "jsonrpc": "2.0",
        "method": args.method,
        "params": args.args.iter().map(|a| param(a)).collect::<Vec<_>>(),
        "id": 1,
    });
    let body = request.to_string();
    let reply = match &args.http {
        Some(url) => call_http(url, &body),
        None => call_unix(args.socket.clone(), &body),
    };
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kemi-proxy rpc: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reply: Value = match serde_json::from_slice(&reply) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("kemi-proxy rpc: the reply is not JSON: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(err) = reply.get("error") {
        let code = err.get("code").cloned().unwrap_or(Value::Null);
        let message = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("(no message)");
        eprintln!("error: {code} {message}");
        return ExitCode::FAILURE;
    }
    let result = reply.get("result").cloned().unwrap_or(Value::Null);
    match serde_json::to_string_pretty(&result) {
        Ok(s) => println!("{s}"),
        Err(_) => println!("{result}"),
    }
    ExitCode::SUCCESS
}

fn call_unix(socket: Option<PathBuf>, body: &str) -> Result<Vec<u8>, String> {
    let path = match socket {
        Some(p) => p,
        None => {
            let paths = default_socket_paths();
            let first = paths.first().cloned().unwrap_or_default();
            paths.into_iter().find(|p| p.exists()).unwrap_or(first)
        }
    };
    let not_running = |e: io::Error| {
        format!(
            "cannot connect to {}: {e}; is kemi-proxy running? (-s PATH names another socket)",
            path.display()
        )
    };
    let mut s = UnixStream::connect(&path).map_err(not_running)?;
    let io_err = |e: io::Error| format!("RPC over {} failed: {e}", path.display());
    s.set_read_timeout(Some(TIMEOUT)).map_err(io_err)?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(io_err)?;
    s.write_all(body.as_bytes()).map_err(io_err)?;
    // Ends the request: the server answers and closes.
    s.shutdown(Shutdown::Write).map_err(io_err)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(io_err)?;
    if out.is_empty() {
        return Err(format!("no reply from {}", path.display()));
    }
    Ok(out)
}

/// Splits `http://host:port/path` (port defaults to 80, path to `/`).
fn parse_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let has_port = match authority.rfind(']') {
        Some(i) => authority[i..].contains(':'),
        None => authority.contains(':'),
    };
    let authority = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

fn call_http(url: &str, body: &str) -> Result<Vec<u8>, String> {
    let (authority, path) = parse_url(url)?;
    let not_running =
        |e: io::Error| format!("cannot connect to {url}: {e}; is kemi-proxy running?");
    let addr = authority
        .to_socket_addrs()
        .map_err(not_running)?
        .next()
        .ok_or_else(|| format!("{url}: host not found"))?;
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(not_running)?;
    let io_err = |e: io::Error| format!("RPC over {url} failed: {e}");
    s.set_read_timeout(Some(TIMEOUT)).map_err(io_err)?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(io_err)?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(io_err)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(io_err)?;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: not an HTTP reply"))?;
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let body = out.split_off(split + 4);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        let first = head.lines().next().unwrap_or("");
        return Err(format!(
            "{url}: {first}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_numbers_else_strings() {
        assert_eq!(param("1"), json!(1));
        assert_eq!(param("-1"), json!(-1));
        assert_eq!(param("1.5"), json!(1.5));
        assert_eq!(param("all"), json!("all"));
        assert_eq!(param("inf"), json!("inf"));
        assert_eq!(param("core:"), json!("core:"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:5071/RPC"),
            Ok(("127.0.0.1:5071".into(), "/RPC".into()))
        );
        assert_eq!(
            parse_url("http://localhost"),
            Ok(("localhost:80".into(), "/".into()))
        );
        assert_eq!(
            parse_url("http://[::1]:9"),
            Ok(("[::1]:9".into(), "/".into()))
        );
        assert!(parse_url("https://x").is_err());
    }
}
