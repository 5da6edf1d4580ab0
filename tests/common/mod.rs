//! Test support: a `fleetctl sim serve` process, a copy of a fixture fleet, and the fleetctl binary.
#![allow(dead_code)]

pub mod legacy;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fleetctl"))
}

/// A simulated cluster served by `fleetctl sim serve` in its own process.
pub struct SimProc {
    child: Child,
    pub url: String,
    /// The simulated HTTPS router's address (`127.0.0.1:PORT`), printed as `router: https://...`.
    pub router: String,
    /// The simulated Gateway listener (`gateway: https://...`) and LAN DNS (`dns: ...`).
    pub gateway: String,
    pub dns: String,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimProc {
    pub fn start(platform: &str, context: &str, faults: &str, speed: f64) -> SimProc {
        Self::start_with(platform, context, faults, speed, &[])
    }

    /// With extra `sim serve` arguments (e.g. `--fleet DIR`, `--crds DIR`).
    /// A simulated cluster whose simulated Argo CD syncs the fleet working tree at `repo`.
    pub fn on_fleet(platform: &str, context: &str, faults: &str, speed: f64, repo: &Path) -> SimProc {
        SimProc::start_with(platform, context, faults, speed, &["--fleet", repo.to_str().unwrap()])
    }

    pub fn start_with(platform: &str, context: &str, faults: &str, speed: f64, extra: &[&str]) -> SimProc {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(bin())
            .args([
                "sim",
                "serve",
                "--platform",
                platform,
                "--context",
                context,
                "--speed",
                &speed.to_string(),
                "--faults",
                faults,
            ])
            .args(extra)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start fleetctl sim serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while url.is_empty() && Instant::now() < deadline {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(i) = line.find("http://") {
                url = line[i..].split_whitespace().next().unwrap().to_string();
            }
        }
        assert!(!url.is_empty(), "sim serve printed no address");
        let (mut router, mut gateway, mut dns) = (String::new(), String::new(), String::new());
        for _ in 0..3 {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            for (tag, slot) in [
                ("router: https://", &mut router),
                ("gateway: https://", &mut gateway),
                ("dns: ", &mut dns),
            ] {
                if let Some(i) = line.find(tag) {
                    *slot = line[i + tag.len()..].trim().to_string();
                }
            }
        }
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        while !kubeconfig.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        SimProc {
            child,
            url,
            router,
            gateway,
            dns,
            kubeconfig,
            _dir: dir,
        }
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        let hostport = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut s = std::net::TcpStream::connect(hostport).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let body = resp.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default();
        if resp.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(&body)
        } else {
            body
        }
    }

    /// GET a path of the simulated API (e.g. `/api/v1/namespaces/demo/secrets/x`) as JSON.
    pub fn api_get(&self, path: &str) -> Value {
        serde_json::from_str(&self.http("GET", path, "")).unwrap_or(Value::Null)
    }
    pub fn stats(&self) -> Value {
        serde_json::from_str(&self.http("GET", "/_sim/stats", "")).expect("stats JSON")
    }
    pub fn writes(&self) -> u64 {
        self.stats()["writes"].as_u64().unwrap()
    }
    pub fn creates(&self) -> u64 {
        self.stats()["creates"].as_u64().unwrap()
    }
    pub fn reset_stats(&self) {
        self.http("POST", "/_sim/stats/reset", "");
    }
    /// Real kubectl against this sim, with `stdin` fed to it (e.g. `apply -f -`).
    #[allow(dead_code)]
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.kubeconfig.with_file_name("kube-cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl on PATH");
        if let Some(s) = stdin {
            c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(c.stdin.take());
        c.wait_with_output().unwrap()
    }

    pub fn set_faults(&self, spec: &str) {
        self.http("PUT", "/_sim/faults", spec);
    }
    /// The `sim serve` process id (to stop it with a signal).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

impl Drop for SimProc {
    fn drop(&mut self) {
        // A sim that stopped on its own explains a test's "connection refused": say how it ended.
        if let Ok(Some(status)) = self.child.try_wait() {
            eprintln!(
                "note: `fleetctl sim serve` at {} had already exited: {status}",
                self.url
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fixture fleet copied into a temp dir, with its own state dir.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub state: PathBuf,
}

impl Fleet {
    pub fn copy(fixture: &str) -> Fleet {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&src, dir.path());
        let state = dir.path().join(".state");
        Fleet { dir, state }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.arg("--repo")
            .arg(self.path())
            .env("FLEETCTL_STATE_DIR", &self.state)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        c
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
    pub fn journal(&self, cluster: &str) -> Value {
        let p = self.state.join(cluster).join("journal.json");
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).expect("journal parses")
    }
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let p = e.path();
        let t = dst.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// fleetctl on a fleet copy at `repo` (its state in `repo/.state`) against a simulated cluster's kubeconfig.
pub fn fleetctl_on(repo: &Path, args: &[&str], kubeconfig: &Path) -> Output {
    Command::new(bin())
        .arg("--repo")
        .arg(repo)
        .env("FLEETCTL_STATE_DIR", repo.join(".state"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .output()
        .unwrap()
}

/// A temporary copy of this repo's runbooks, clusters and shared apps.
pub fn repo_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for d in ["runbooks", "clusters", "apps-shared"] {
        copy_dir(&root.join(d), &dir.path().join(d));
    }
    dir
}

/// Runs `run` again (a re-run of a phase that already completed) and asserts it succeeds and writes nothing.
pub fn assert_rerun_writes_nothing(sim: &SimProc, what: &str, run: impl FnOnce() -> Output) {
    sim.reset_stats();
    let out = run();
    assert!(out.status.success(), "re-running {what}: {}", text(&out));
    assert_eq!(sim.writes(), 0, "re-running {what} must write nothing: {}", sim.stats());
}

/// Sets the OpenShift layer switch (clusters/openshift/apps/kustomization.yaml) of a fleet copy to `layer`,
/// as the owner's commit would.
pub fn set_layer(repo: &Path, layer: &str) {
    fleetctl::steps::git_layer::set_switch(repo, "openshift", layer).expect("set the layer switch");
}

/// The rehearsal answers (runbooks/answers/rehearsal.yaml) with some `key: value` lines replaced, written
/// to `repo/name`; returns that path.
pub fn rehearsal_answers_with(repo: &Path, name: &str, changes: &[(&str, &str)]) -> String {
    let mut s = std::fs::read_to_string(repo.join("runbooks/answers/rehearsal.yaml")).unwrap();
    for (k, v) in changes {
        let line = s
            .lines()
            .find(|l| l.starts_with(&format!("{k}:")))
            .unwrap_or_else(|| panic!("{k} is not in the rehearsal answers"))
            .to_string();
        s = s.replace(&line, &format!("{k}: {v}"));
    }
    let p = repo.join(name);
    std::fs::write(&p, s).unwrap();
    p.to_str().unwrap().to_string()
}

/// A copy of the repo's fleet and a simulated sno-ai-lab syncing it, with phases 1 and 2 done (rehearsal answers).
pub fn openshift_platform_ready(faults: &str) -> (tempfile::TempDir, SimProc) {
    openshift_through(&["1", "2"], faults)
}

/// A copy of the repo's fleet and a simulated sno-ai-lab syncing it, with `phases` done in order (rehearsal
/// answers), each after the owner's commit that turns its layer on. Phase 6 needs 1, 2, 3 and 5: its layer
/// includes phase 5's, whose decisions must be taken first.
pub fn openshift_through(phases: &[&str], faults: &str) -> (tempfile::TempDir, SimProc) {
    let dir = repo_copy();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", faults, 20.0, dir.path());
    let answers = dir.path().join("runbooks/answers/rehearsal.yaml");
    for phase in phases {
        set_layer(dir.path(), &format!("phase-{phase}"));
        let args = [
            "phase",
            phase,
            "--cluster",
            "openshift",
            "--answers",
            answers.to_str().unwrap(),
        ];
        let out = fleetctl_on(dir.path(), &args, &sim.kubeconfig);
        assert!(out.status.success(), "phase {phase} failed: {}", text(&out));
    }
    (dir, sim)
}

/// The upstream CRDs (`FLEETCTL_TEST_CRDS`, else `../shared/crds`); `None`, said on stderr, when absent.
pub fn test_crds() -> Option<PathBuf> {
    let p = std::env::var_os("FLEETCTL_TEST_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/crds"));
    if p.join("argocds.argoproj.io.yaml").exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: upstream CRDs not found at {} (set FLEETCTL_TEST_CRDS)",
            p.display()
        );
        None
    }
}

/// `fleetctl check --phase PHASE --cluster CLUSTER --output json --snapshot tests/fixtures/snapshots/DUMP`
/// on this repo; returns the exit code and the JSON report.
pub fn check_snapshot(phase: &str, cluster: &str, dump: &str) -> (i32, Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .arg("--repo")
        .arg(root)
        .env("FLEETCTL_STATE_DIR", state.path())
        .stdin(Stdio::null())
        .args([
            "check",
            "--phase",
            phase,
            "--cluster",
            cluster,
            "--output",
            "json",
            "--snapshot",
        ])
        .arg(root.join("tests/fixtures/snapshots").join(dump))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON report: {}", text(&out)));
    (out.status.code().unwrap(), report)
}
