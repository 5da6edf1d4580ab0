//! Phase 1 on the simulated OpenShift cluster: the real runbook and the real manifests, through the binary.

mod common;

use common::test_crds as crds;

use common::{copy_dir, text, SimProc};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CTX: &str = "sno-ai-lab";

/// A copy of this repo's runbooks and clusters, with the Subscription wait shortened to `sub_timeout`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(sub_timeout: &str) -> Repo {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for d in ["runbooks", "clusters", "apps-shared"] {
            copy_dir(&root.join(d), &dir.path().join(d));
        }
        let rb = dir.path().join("runbooks/phase-1.yaml");
        let text = std::fs::read_to_string(&rb).unwrap();
        let marker = "      hint: \"oc -n openshift-gitops-operator describe subscription";
        let at = text.find(marker).expect("the subscription wait's hint");
        let before = &text[..at];
        let t = before.rfind("timeout: 10m").expect("the subscription wait's timeout");
        let patched = format!(
            "{}timeout: {sub_timeout}{}",
            &text[..t],
            &text[t + "timeout: 10m".len()..]
        );
        std::fs::write(&rb, patched).unwrap();
        Repo { dir }
    }
    fn phase(&self, sim: &SimProc, phase: &str) -> Output {
        Command::new(common::bin())
            .args(["--repo"])
            .arg(self.dir.path())
            .env("FLEETCTL_STATE_DIR", self.dir.path().join(".state"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .args(["phase", phase, "--cluster", "openshift", "--answers"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/answers/rehearsal.yaml"))
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .output()
            .unwrap()
    }
}

#[test]
fn phase_1_completes_passes_its_checks_and_a_rerun_writes_nothing() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let repo = Repo::new("10m");
    let out = repo.phase(&sim, "1");
    assert!(out.status.success(), "phase 1 failed: {}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("OpenShift 4.22") && t.contains("support matrix"),
        "the version and its warning are shown: {t}"
    );
    for id in [
        "p1.operator-installed",
        "p1.default-instance-absent",
        "p1.argocd-available",
        "p1.root-app-synced",
    ] {
        let line = t
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing: {t}"));
        assert!(line.contains("pass"), "{line}");
    }
    // Unpinned, the UI's real host is never contacted on a simulated cluster.
    let ui = t
        .lines()
        .find(|l| l.starts_with("p1.argocd-reachable"))
        .unwrap_or_else(|| panic!("p1.argocd-reachable missing: {t}"));
    assert!(ui.contains("skipped"), "{ui}");
    // Pinned to the sim's HTTPS router, the Route's host answers: Route -> Service -> Deployment Available.
    let pinned = Command::new(common::bin())
        .arg("--repo")
        .arg(repo.dir.path())
        .env("FLEETCTL_STATE_DIR", repo.dir.path().join(".state"))
        .env("FLEETCTL_PROBE_RESOLVE", format!("*={}", sim.router))
        .env("FLEETCTL_PROBE_INSECURE", "1")
        .stdin(Stdio::null())
        .args([
            "check",
            "--phase",
            "1",
            "--cluster",
            "openshift",
            "--output",
            "json",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(pinned.status.code(), Some(0), "{}", text(&pinned));
    let r: serde_json::Value = serde_json::from_slice(&pinned.stdout).unwrap();
    let c = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "p1.argocd-reachable")
        .unwrap();
    assert_eq!(c["status"], "pass", "{c:#}");
    assert_eq!(c["evidence"]["httpStatus"], 200, "{c:#}");
    common::assert_rerun_writes_nothing(&sim, "phase 1", || repo.phase(&sim, "1"));
}

#[test]
fn a_subscription_stalled_at_upgrade_pending_fails_within_the_timeout_and_says_why() {
    let sim = SimProc::start(
        "openshift",
        CTX,
        "stall=Subscription/openshift-gitops-operator/openshift-gitops-operator=UpgradePending",
        20.0,
    );
    let repo = Repo::new("4s");
    let t0 = Instant::now();
    let out = repo.phase(&sim, "1");
    let took = t0.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("timed out after 4s") && t.contains("state=UpgradePending"),
        "{t}"
    );
    assert!(t.contains("packagemanifest"), "the next step is named: {t}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn install_plan_failed_ends_phase_1_at_once() {
    let sim = SimProc::start(
        "openshift",
        CTX,
        "stall=Subscription/openshift-gitops-operator/openshift-gitops-operator=InstallPlanFailed",
        20.0,
    );
    let repo = Repo::new("10m");
    let t0 = Instant::now();
    let out = repo.phase(&sim, "1");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("InstallPlanFailed=True"), "{}", text(&out));
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "fail-fast must not run to the 10m timeout"
    );
}

#[test]
fn an_operator_serving_an_older_argocd_crd_stops_phase_1_before_the_cr_naming_the_field() {
    let Some(crds) = crds() else { return };
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let mut child = Command::new(common::bin())
        .args([
            "sim",
            "serve",
            "--platform",
            "openshift",
            "--context",
            CTX,
            "--speed",
            "20",
        ])
        .args([
            "--faults",
            "old-schema=argocds.argoproj.io:spec.resourceHealthChecks",
            "--crds",
        ])
        .arg(&crds)
        .arg("--kubeconfig-out")
        .arg(&kc)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kc.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let repo = Repo::new("10m");
    let out = Command::new(common::bin())
        .arg("--repo")
        .arg(repo.dir.path())
        .env("FLEETCTL_STATE_DIR", repo.dir.path().join(".state"))
        .stdin(Stdio::null())
        .args(["phase", "1", "--cluster", "openshift", "--answers"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/answers/rehearsal.yaml"))
        .arg("--kubeconfig")
        .arg(&kc)
        .output()
        .unwrap();
    let got = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["get", "argocds.argoproj.io", "-A", "-o", "name"])
        .output();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("spec.resourceHealthChecks") && t.contains("check-argocd-schema"),
        "{t}"
    );
    if let Ok(g) = got {
        assert!(
            String::from_utf8_lossy(&g.stdout).trim().is_empty(),
            "no ArgoCD may have been applied"
        );
    }
}
