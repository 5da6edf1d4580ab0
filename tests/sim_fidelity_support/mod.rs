//! Support for the fidelity suite (tests/sim_fidelity_*.rs): each test starts a simulated cluster with
//! `fleetctl sim serve` and probes it with the real `kubectl` (and raw HTTP where kubectl cannot say
//! it), asserting what a real kube-apiserver does.
//!
//! `FLEETCTL_SIM_BIN` runs the probes against another fleetctl binary: that is how the suite was shown
//! to fail on the simulator as it was before these behaviours (every test fails there).
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn sim_bin() -> PathBuf {
    std::env::var_os("FLEETCTL_SIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_fleetctl")))
}

/// The real kubectl, or None (the test then says SKIPPED and passes: it needs kubectl).
pub fn kubectl_bin() -> Option<PathBuf> {
    which::which("kubectl").ok()
}

pub struct Sim {
    child: Child,
    pub addr: String,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Sim {
    pub fn start(platform: &str) -> Sim {
        Self::start_with(platform, &[])
    }

    pub fn start_with(platform: &str, extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(sim_bin())
            .args([
                "sim",
                "serve",
                "--platform",
                platform,
                "--context",
                "sim",
                "--speed",
                "20",
            ])
            .args(extra)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fleetctl sim serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut addr = String::new();
        while !kubeconfig.exists() || addr.is_empty() {
            assert!(Instant::now() < deadline, "the simulated cluster did not start");
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            if let Some(u) = line.split("http://").nth(1) {
                addr = u.trim().to_string();
            }
        }
        std::thread::spawn(move || for _ in out.lines() {});
        Sim {
            child,
            addr,
            kubeconfig,
            dir,
        }
    }

    /// Runs kubectl against the simulated cluster, with `stdin` as its input.
    pub fn kubectl(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = Command::new(kubectl_bin().expect("kubectl"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            // This sim's own discovery cache: a port reused from an earlier sim must not serve stale discovery.
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    }

    /// kubectl that must succeed; its stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let o = self.kubectl(args, stdin);
        assert!(o.status.success(), "kubectl {args:?} failed: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// kubectl that must fail; its stderr.
    pub fn fails(&self, args: &[&str], stdin: &str) -> String {
        let o = self.kubectl(args, stdin);
        assert!(!o.status.success(), "kubectl {args:?} should have failed: {}", text(&o));
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// `kubectl get -o json` of one object.
    pub fn get(&self, args: &[&str]) -> Value {
        let mut a: Vec<&str> = vec!["get"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&a, "")).unwrap()
    }

    /// A raw HTTP/1.1 request: (status, headers, body).
    pub fn http(&self, method: &str, path: &str, ctype: &str, body: &[u8]) -> (u16, String, String) {
        raw(&self.addr, method, path, ctype, body)
    }

    /// A raw request whose body is JSON; (status, body as JSON or Null).
    pub fn json(&self, method: &str, path: &str, ctype: &str, body: &str) -> (u16, Value) {
        let (code, _, b) = self.http(method, path, ctype, body.as_bytes());
        (code, serde_json::from_str(&b).unwrap_or(Value::Null))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            out.push_str(&tail[..n.min(tail.len())]);
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn raw(addr: &str, method: &str, path: &str, ctype: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nAccept: application/json\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let t = String::from_utf8_lossy(&buf).into_owned();
    let (h, b) = t.split_once("\r\n\r\n").unwrap_or((&t, ""));
    let code = h.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let b = if h.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(b)
    } else {
        b.to_string()
    };
    (code, h.to_string(), b)
}

/// Polls `f` until it returns Some, or panics after `secs`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out after {secs}s waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Skips (with a message) when kubectl is not installed.
#[macro_export]
macro_rules! need_kubectl {
    () => {
        if sim_fidelity_support::kubectl_bin().is_none() {
            eprintln!("SKIPPED: kubectl is not on PATH; the fidelity suite probes with the real kubectl");
            return;
        }
    };
}

/// A namespaced CRD `widgets.fidelity.example.com` (v1) with `schema` as its spec's schema, Established.
pub fn widget_crd(sim: &Sim, spec_schema: &str) {
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: widgets.fidelity.example.com}}\nspec:\n  group: fidelity.example.com\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec: {spec_schema}\n"
    );
    sim.ok(&["apply", "--server-side", "-f", "-"], &crd);
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let o = sim.kubectl(&["get", "widgets", "-A"], "");
        if o.status.success() {
            return;
        }
        let why = String::from_utf8_lossy(&o.stderr);
        assert!(
            Instant::now() < end,
            "timed out after 60s waiting for the Widget CRD to be served: {why}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}
