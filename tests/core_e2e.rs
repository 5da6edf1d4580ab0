//! The core's must-shows, end to end: the fleetctl binary against `fleetctl sim serve` through a kubeconfig.

mod common;

use common::{text, Fleet, SimProc};
use std::time::{Duration, Instant};

const CTX: &str = "sim-lab";

fn answers(fleet: &Fleet, token: &str) -> std::path::PathBuf {
    let tok = fleet.path().join("token.txt");
    std::fs::write(&tok, token).unwrap();
    let a = fleet.path().join("answers.yaml");
    std::fs::write(&a, format!("replicas-ok: \"yes\"\ntoken-file: {}\n", tok.display())).unwrap();
    a
}

fn phase9(fleet: &Fleet, sim: &SimProc, answers: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut c = fleet.cmd();
    c.args(["phase", "9", "--cluster", "lab", "--answers"])
        .arg(answers)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(extra);
    c.output().unwrap()
}

#[test]
fn sample_phase_completes_with_a_passing_report_and_a_rerun_writes_nothing() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet, "s3cr3t-value-1");
    let out = phase9(&fleet, &sim, &a, &["--output", "json"]);
    assert!(out.status.success(), "phase failed: {}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report on stdout");
    assert_eq!(report["summary"]["pass"], 3, "{report:#}");
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["decisions"]["replicas-ok"], "yes");
    let first_writes = sim.writes();
    assert_eq!(
        first_writes, 4,
        "the first run writes namespace, configmap, deployment, secret once each"
    );

    sim.reset_stats();
    let again = phase9(&fleet, &sim, &a, &[]);
    assert!(again.status.success(), "re-run failed: {}", text(&again));
    assert_eq!(
        sim.writes(),
        0,
        "a second run must write nothing; stats: {}",
        sim.stats()
    );
    let j = fleet.journal("lab");
    assert_eq!(j["runs"].as_array().unwrap().len(), 2);
    assert_eq!(j["runs"][1]["status"], "done");
}

#[test]
fn a_seeded_secret_never_reaches_output_journal_or_report() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let value = format!("tok-{}-zz9", std::process::id());
    let a = answers(&fleet, &value);
    let out = phase9(&fleet, &sim, &a, &["-v", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&value);
    let mut haystacks = vec![text(&out)];
    for e in walk(&fleet.state) {
        haystacks.push(std::fs::read_to_string(e).unwrap_or_default());
    }
    for h in &haystacks {
        assert!(!h.contains(&value) && !h.contains(&b64), "the secret leaked into: {h}");
    }
    // And it did reach the cluster.
    let secret = std::process::Command::new("kubectl")
        .args(["--kubeconfig"])
        .arg(&sim.kubeconfig)
        .args([
            "-n",
            "demo",
            "get",
            "secret",
            "sample-token",
            "-o",
            "jsonpath={.data.token}",
        ])
        .output();
    if let Ok(s) = secret {
        if s.status.success() {
            assert_eq!(String::from_utf8_lossy(&s.stdout), b64);
        }
    }
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn an_openshift_phase_refuses_a_talos_cluster_with_zero_writes() {
    let sim = SimProc::start("talos", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet, "x");
    let out = phase9(&fleet, &sim, &a, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("wrong cluster"), "{}", text(&out));
    assert_eq!(sim.writes(), 0);
}

#[test]
fn a_missing_answer_stops_before_any_write_and_yes_refuses_destructive_decisions() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let out = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("replicas-ok"),
        "the decision id must be named: {}",
        text(&out)
    );
    assert_eq!(sim.writes(), 0);

    let out = fleet
        .cmd()
        .args(["phase", "8", "--cluster", "lab", "--yes", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("wipe-disk") && text(&out).contains("destructive"),
        "{}",
        text(&out)
    );
    assert_eq!(sim.writes(), 0);
}

#[test]
fn the_sample_phase_survives_injected_transient_faults() {
    let sim = SimProc::start("openshift", CTX, "500=0.04,503=0.03,429=0.02,drop=0.02,seed=42", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet, "x");
    let out = phase9(&fleet, &sim, &a, &[]);
    assert!(out.status.success(), "phase failed under faults: {}", text(&out));
    let stats = sim.stats();
    let injected: u64 = stats["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(injected > 0, "no fault was injected: {stats}");
}

#[test]
fn a_stalled_object_fails_within_the_timeout_naming_it_and_its_conditions() {
    let sim = SimProc::start("openshift", CTX, "stall=Deployment/demo/web=Progressing", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet, "x");
    let t = Instant::now();
    let out = phase9(&fleet, &sim, &a, &[]);
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("Deployment demo/web"), "{msg}");
    assert!(msg.contains("timed out after 20s"), "{msg}");
    assert!(msg.contains("last observed"), "{msg}");
    assert!(took < Duration::from_secs(40), "took {took:?}");
    let j = fleet.journal("lab");
    assert_eq!(j["runs"][0]["status"], "failed");
}

#[test]
fn kill_9_at_any_point_then_resume_completes_with_the_same_creates() {
    // The baseline: one uninterrupted run.
    let base_sim = SimProc::start("openshift", CTX, "", 2.0);
    let base = Fleet::copy("sample-fleet");
    let a = answers(&base, "x");
    let out = phase9(&base, &base_sim, &a, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let baseline = base_sim.creates();

    for delay_ms in [150u64, 600, 1200] {
        let sim = SimProc::start("openshift", CTX, "", 2.0);
        let fleet = Fleet::copy("sample-fleet");
        let a = answers(&fleet, "x");
        let mut c = fleet.cmd();
        c.args(["phase", "9", "--cluster", "lab", "--answers"])
            .arg(&a)
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig);
        let mut child = c
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = std::process::Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status();
        let _ = child.wait();
        if fleet.state.join("lab/journal.json").exists() {
            let _ = fleet.journal("lab"); // must parse after a kill
        }
        let out = fleet.run(&["resume", "--cluster", "lab"]);
        // A kill before the journal existed leaves nothing to resume: run the phase again instead.
        let out = if out.status.code() == Some(2) && text(&out).contains("no unfinished run") {
            phase9(&fleet, &sim, &a, &[])
        } else {
            out
        };
        assert!(
            out.status.success(),
            "resume after kill at {delay_ms}ms failed: {}",
            text(&out)
        );
        assert_eq!(
            sim.creates(),
            baseline,
            "creates after kill at {delay_ms}ms + resume differ from an uninterrupted run"
        );
        assert_eq!(
            fleet.journal("lab")["runs"].as_array().unwrap().last().unwrap()["status"],
            "done"
        );
    }
}

#[test]
fn check_against_a_snapshot_gives_verdicts_without_a_cluster() {
    let fleet = Fleet::copy("sample-fleet");
    let snap = fleet.path().join("snap.yaml");
    std::fs::write(
        &snap,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: demo}\n  status:\n    availableReplicas: 0\n    conditions:\n    - {type: ReplicaFailure, status: \"True\", reason: FailedCreate, message: quota exceeded}\n",
    )
    .unwrap();
    let out = fleet.run(&[
        "check",
        "--phase",
        "9",
        "--cluster",
        "lab",
        "--snapshot",
        snap.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_id = |id: &str| {
        r["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("p9.app-available")["status"], "fail");
    assert!(by_id("p9.app-available")["details"]
        .to_string()
        .contains("quota exceeded"));
    assert_eq!(by_id("p9.token-seeded")["status"], "pending");
    assert_eq!(by_id("p9.no-stray-app")["status"], "pass");
    let junit = fleet.run(&[
        "check",
        "--phase",
        "9",
        "--cluster",
        "lab",
        "--snapshot",
        snap.to_str().unwrap(),
        "--output",
        "junit",
    ]);
    let junit = String::from_utf8_lossy(&junit.stdout);
    assert!(junit.contains("<failure type=\"fail\""), "{junit}");
    assert!(junit.contains("<testsuite name=\"lab phase 9\""), "{junit}");
    let bad = fleet.run(&[
        "check",
        "--phase",
        "42",
        "--cluster",
        "lab",
        "--snapshot",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
