//! Running sipp (Debian's sip-tester) as a caller or a callee next to the
//! proxy, and reading its outcome: exit status and the call counters of its
//! final statistics screen.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Proxy;

pub const SIPP: &str = "/usr/bin/sipp";

/// What a sipp test fails with when sipp is missing.
pub const MISSING: &str = "sipp not installed: run scripts/setup";

/// Fails the test when sipp is not installed: a sipp test that silently
/// passed without running would hide a broken CI set-up.
pub fn require() {
    require_at(Path::new(SIPP));
}

/// [`require`] for a sipp expected at `path`.
pub fn require_at(path: &Path) {
    assert!(path.exists(), "{MISSING} (no {})", path.display());
}

/// One sipp process to run: a scenario (`uac`/`uas` are sipp's built-in
/// ones, `name.xml` a file in tests/scenarios, `../sipp/name.xml` one in
/// tests/sipp) on 127.0.0.1:`port` (0: any).
pub struct Sipp {
    name: String,
    args: Vec<String>,
    timeout: Duration,
    dir: tempfile::TempDir,
}

impl Sipp {
    pub fn new(scenario: &str, port: u16) -> Sipp {
        let mut args: Vec<String> = if scenario.ends_with(".xml") {
            let path = format!("{}/tests/scenarios/{scenario}", env!("CARGO_MANIFEST_DIR"));
            vec!["-sf".into(), path]
        } else {
            vec!["-sn".into(), scenario.into()]
        };
        args.extend(["-i", "127.0.0.1", "-p"].map(String::from));
        args.push(port.to_string());
        let mut sipp = Sipp {
            name: format!("{scenario}@{port}"),
            args,
            timeout: Duration::from_secs(60),
            dir: tempfile::tempdir().unwrap(),
        };
        let errors = sipp.dir.path().join("errors.log").display().to_string();
        sipp = sipp.args(&["-nostdin", "-trace_err", "-error_file", &errors]);
        sipp
    }

    /// A caller from any port running `tests/sipp/<scenario>` for `calls`
    /// calls at `rate` per second.
    pub fn uac(scenario: &str, calls: u32, rate: u32) -> Sipp {
        Sipp::new(&format!("../sipp/{scenario}"), 0)
            .calls(calls)
            .rate(rate)
    }

    pub fn args(mut self, args: &[&str]) -> Sipp {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Stop after `n` calls (`-m`).
    pub fn calls(self, n: u32) -> Sipp {
        self.args(&["-m", &n.to_string()])
    }

    /// New calls per second (`-r`).
    pub fn rate(self, per_second: u32) -> Sipp {
        self.args(&["-r", &per_second.to_string()])
    }

    /// sipp gives up (and fails) after this long (`-timeout`).
    pub fn timeout(mut self, t: Duration) -> Sipp {
        self.timeout = t;
        self
    }

    /// Starts sipp in the background (a callee, or a caller to `target`).
    pub fn spawn(self, target: Option<SocketAddr>) -> Running {
        require();
        let out = std::fs::File::create(self.dir.path().join("stdout.log")).unwrap();
        let mut cmd = Command::new(SIPP);
        cmd.args(&self.args)
            .args(["-timeout", &format!("{}s", self.timeout.as_secs())])
            .arg("-timeout_error");
        if let Some(t) = target {
            cmd.arg(t.to_string());
        }
        let child = cmd
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Running {
            child,
            sipp: self,
            started: Instant::now(),
        }
    }

    /// Runs a caller to `target` until it is done.
    pub fn run(self, target: SocketAddr) -> Finished {
        self.spawn(Some(target)).wait()
    }
}

/// A sipp process that runs; killed if dropped before it ended.
pub struct Running {
    child: Child,
    sipp: Sipp,
    started: Instant,
}

impl Running {
    /// True until sipp exits.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits until sipp exits (its own `-timeout` ends it; a margin on top
    /// catches a sipp that hangs).
    pub fn wait(mut self) -> Finished {
        let limit = self.sipp.timeout + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{} did not exit:\n{}", self.sipp.name, self.read().report());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut finished = self.read();
        finished.code = status.code();
        finished
    }

    fn read(&self) -> Finished {
        let read =
            |f: &str| std::fs::read_to_string(self.sipp.dir.path().join(f)).unwrap_or_default();
        Finished {
            name: self.sipp.name.clone(),
            code: None,
            stdout: read("stdout.log"),
            errors: read("errors.log"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a sipp run reported.
pub struct Finished {
    pub name: String,
    /// The exit status: 0 when every call succeeded.
    pub code: Option<i32>,
    pub stdout: String,
    pub errors: String,
}

impl Finished {
    /// The cumulative value of a counter of the statistics screen, e.g.
    /// "Successful call"; `None` when sipp did not print it.
    pub fn counter(&self, label: &str) -> Option<u64> {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with(label) && l.contains('|'))?;
        line.split('|').nth(2)?.trim().parse().ok()
    }

    /// Fails the test unless sipp exited 0 (every call succeeded), with
    /// its report and the proxy's log; then checks the proxy still runs.
    pub fn assert_ok(&self, proxy: &mut Proxy) {
        assert_eq!(
            self.code,
            Some(0),
            "sipp failed:\n{}\nproxy log:\n{}",
            self.report(),
            proxy.log()
        );
        proxy.assert_alive();
    }

    pub fn successful(&self) -> u64 {
        self.counter("Successful call").unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.counter("Failed call").unwrap_or(0)
    }

    /// The end of sipp's output and the start of its error log, for
    /// assertion messages.
    pub fn report(&self) -> String {
        let tail: Vec<&str> = self.stdout.lines().rev().take(45).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let errors: String = self.errors.chars().take(4000).collect();
        format!(
            "--- {} (exit {:?}) ---\n{}\n--- errors ---\n{errors}",
            self.name,
            self.code,
            tail.join("\n")
        )
    }
}
