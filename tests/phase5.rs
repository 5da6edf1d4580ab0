//! Phase 5 (Vaultwarden + kopiur backups) on both simulated clusters, whose simulated Argo CD syncs this
//! repo's working tree: non-interactive with the answers file, every criterion passes (the SCC one is
//! OpenShift-only), re-runs write nothing, and a wrong backup-design answer stops before any write.

mod common;

use common::{text, SimProc};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

use common::fleetctl_on as fleetctl;

/// Phase 3 on Talos applies the root Application (decision talos-root) that phase 5 needs; its probes are
/// pinned to the sim's loopback router.
fn talos_phase_3(repo: &Path, sim: &SimProc) {
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let out = Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .env("FLEETCTL_STATE_DIR", repo.join(".state"))
        .env("NO_COLOR", "1")
        .env("FLEETCTL_PROBE_RESOLVE", format!("*={}", sim.router))
        .env("FLEETCTL_PROBE_INSECURE", "1")
        .stdin(Stdio::null())
        .args([
            "phase",
            "3",
            "--cluster",
            "talos",
            "--answers",
            answers.to_str().unwrap(),
        ])
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success(), "phase 3 on talos: {}", text(&out));
}

use common::repo_copy as fleet_copy;

/// `fleetctl phase 5 --cluster talos --answers ANSWERS` against the sim's kubeconfig.
fn talos_phase_5(repo: &Path, answers: &Path, kubeconfig: &Path) -> std::process::Output {
    fleetctl(
        repo,
        &[
            "phase",
            "5",
            "--cluster",
            "talos",
            "--answers",
            answers.to_str().unwrap(),
        ],
        kubeconfig,
    )
}

fn criterion<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing: {r:#}"))
}

fn check5(repo: &Path, cluster: &str, kubeconfig: &Path) -> Value {
    let out = fleetctl(
        repo,
        &["check", "--phase", "5", "--cluster", cluster, "--output", "json"],
        kubeconfig,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "check --phase 5 on {cluster}: {}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn phase_5_completes_on_openshift_with_restricted_v2_and_reruns_with_zero_writes() {
    let dir = fleet_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 25.0, repo);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    for phase in ["1", "2", "5"] {
        common::set_layer(repo, &format!("phase-{phase}"));
        let out = fleetctl(
            repo,
            &["phase", phase, "--cluster", "openshift", "--answers", answers],
            &sim.kubeconfig,
        );
        assert!(out.status.success(), "phase {phase} failed: {}", text(&out));
    }
    let r = check5(repo, "openshift", &sim.kubeconfig);
    assert_eq!(r["summary"]["fail"], 0, "{r:#}");
    assert_eq!(r["summary"]["pending"], 0, "{r:#}");
    let scc = criterion(&r, "p5.scc-admitted");
    assert_eq!(scc["status"], "pass", "{scc:#}");
    let ev = scc["evidence"].as_object().unwrap();
    let annotated = ev
        .iter()
        .find(|(k, _)| k.ends_with("openshift.io/scc\"]"))
        .map(|(_, v)| v.clone());
    assert_eq!(annotated, Some(Value::from("restricted-v2")), "{scc:#}");
    // the UID the SCC assigned, from the namespace's range - not one written in Git; evidence is typed,
    // so it is a JSON number
    let uid = ev
        .iter()
        .find(|(k, _)| k.ends_with("runAsUser"))
        .and_then(|(_, v)| v.as_i64())
        .unwrap_or(0);
    assert!((1_000_600_000..1_001_000_000).contains(&uid), "{scc:#}");
    let pvc = criterion(&r, "p5.pvc-storageclass");
    assert_eq!(pvc["evidence"]["spec.storageClassName"], "lvms-vg1");
    let backup = criterion(&r, "p5.backup-succeeded");
    assert_eq!(backup["evidence"]["status.resolved.repository.name"], "truenas");
    assert_eq!(
        criterion(&r, "p5.restore-wired")["evidence"]["status.resolved.resolution"],
        "NoSnapshot"
    );

    common::assert_rerun_writes_nothing(&sim, "phase 5", || {
        fleetctl(
            repo,
            &["phase", "5", "--cluster", "openshift", "--answers", answers],
            &sim.kubeconfig,
        )
    });
}

#[test]
fn phase_5_completes_on_talos_and_reruns_with_zero_writes() {
    let dir = fleet_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("talos", "talos", "", 25.0, repo);
    talos_phase_3(repo, &sim);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    let out = fleetctl(
        repo,
        &["phase", "5", "--cluster", "talos", "--answers", answers],
        &sim.kubeconfig,
    );
    assert!(out.status.success(), "phase 5 on talos: {}", text(&out));
    let t = text(&out);
    assert!(
        !t.contains("kopiur-scc-grant"),
        "an OpenShift-only decision was asked on Talos: {t}"
    );
    let r = check5(repo, "talos", &sim.kubeconfig);
    assert_eq!(r["summary"]["fail"], 0, "{r:#}");
    assert_eq!(criterion(&r, "p5.scc-admitted")["status"], "skipped");
    assert_eq!(
        criterion(&r, "p5.pvc-storageclass")["evidence"]["spec.storageClassName"],
        "longhorn"
    );
    assert_eq!(criterion(&r, "p5.backup-succeeded")["status"], "pass");

    common::assert_rerun_writes_nothing(&sim, "phase 5", || {
        fleetctl(
            repo,
            &["phase", "5", "--cluster", "talos", "--answers", answers],
            &sim.kubeconfig,
        )
    });
}

#[test]
fn a_backup_design_git_does_not_use_stops_before_any_write() {
    let dir = fleet_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("talos", "talos", "", 25.0, repo);
    let answers = std::fs::read_to_string(repo.join("runbooks/answers/rehearsal.yaml"))
        .unwrap()
        .replace("backup-design: kopiur", "backup-design: pvc-plumber");
    let other = repo.join("other-answers.yaml");
    std::fs::write(&other, answers).unwrap();
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &["phase", "5", "--cluster", "talos", "--answers", other.to_str().unwrap()],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Git uses kopiur") && t.contains("backup-design: kopiur"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0);
}

#[test]
fn yes_takes_the_backup_design_fleetctl_read_from_git() {
    let dir = fleet_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("talos", "talos", "", 25.0, repo);
    let out = fleetctl(
        repo,
        &["phase", "5", "--cluster", "talos", "--yes", "--dry-run"],
        &sim.kubeconfig,
    );
    let t = text(&out);
    assert!(t.contains("found in Git: kopiur"), "{t}");
    let journal = std::fs::read_to_string(repo.join(".state/talos/journal.json")).unwrap_or_default();
    assert!(!journal.contains("pvc-plumber"), "{journal}");
}

#[test]
fn a_failed_backup_stops_phase_5_at_once_with_its_cause() {
    let dir = fleet_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet(
        "talos",
        "talos",
        "stall=Snapshot/vaultwarden/fleetctl-phase5=MoverFailed",
        25.0,
        repo,
    );
    talos_phase_3(repo, &sim);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let out = talos_phase_5(repo, &answers, &sim.kubeconfig);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("wait-backup") && t.contains("Failed"), "{t}");
}

#[test]
fn a_degraded_application_that_recovers_within_failfastafter_does_not_fail_phase_5() {
    let dir = fleet_copy();
    let repo = dir.path();
    // shared-vaultwarden reports Degraded (as while an ExternalSecret waits for its store), then recovers.
    let stall = "stall=Application/argocd/shared-vaultwarden=Degraded";
    let sim = SimProc::on_fleet("talos", "talos", stall, 25.0, repo);
    talos_phase_3(repo, &sim);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let run = std::thread::spawn({
        let (repo, kc, answers) = (repo.to_path_buf(), sim.kubeconfig.clone(), answers.clone());
        move || talos_phase_5(&repo, &answers, &kc)
    });
    std::thread::sleep(std::time::Duration::from_secs(8));
    sim.set_faults("");
    let out = run.join().unwrap();
    assert!(
        out.status.success(),
        "a Degraded that cleared within 60 s must not fail the wait: {}",
        text(&out)
    );

    // Held for good, the same Degraded fails the wait after failFastAfter, naming how long it held.
    sim.set_faults(stall);
    let t0 = std::time::Instant::now();
    let yaml = repo.join("runbooks/phase-5.yaml");
    let rb = std::fs::read_to_string(&yaml)
        .unwrap()
        .replace("failFastAfter: 60s", "failFastAfter: 3s");
    std::fs::write(&yaml, rb).unwrap();
    let out = talos_phase_5(repo, &answers, &sim.kubeconfig);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("Degraded") && t.contains("for 3s"), "{t}");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(60),
        "failed after the grace, not the 10m timeout"
    );
}
