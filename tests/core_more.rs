//! More of the core's behaviour through the binary: --dry-run writes nothing, a second concurrent run is
//! refused by the lock, and status reports where each phase stands.

mod common;

use common::{text, Fleet, SimProc};
use std::time::Duration;

fn answers(fleet: &Fleet) -> std::path::PathBuf {
    let tok = fleet.path().join("token.txt");
    std::fs::write(&tok, "x").unwrap();
    let a = fleet.path().join("answers.yaml");
    std::fs::write(&a, format!("replicas-ok: \"yes\"\ntoken-file: {}\n", tok.display())).unwrap();
    a
}

#[test]
fn dry_run_plans_every_object_and_writes_nothing() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet);
    let out = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--dry-run", "--answers"])
        .arg(&a)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(t.contains("Deployment demo/web would be created"), "{t}");
    assert!(t.contains("ConfigMap demo/web-settings would be created"), "{t}");
    assert_eq!(sim.writes(), 0, "a dry run must not write: {}", sim.stats());
    assert!(
        !fleet.state.join("lab/journal.json").exists(),
        "a dry run records no run"
    );
}

#[test]
fn a_misspelled_answer_id_is_named_not_silently_ignored() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet);
    let text_a = std::fs::read_to_string(&a).unwrap();
    std::fs::write(&a, format!("{text_a}replicas-okk: \"no\"\n")).unwrap();
    let out = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--dry-run", "--answers"])
        .arg(&a)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(t.contains("'replicas-okk' is not a decision of any runbook"), "{t}");
    assert!(!t.contains("'replicas-ok' is not"), "{t}");
}

#[test]
fn a_second_concurrent_run_is_refused_by_the_lock_and_status_shows_progress() {
    let sim = SimProc::start("openshift", "sim-lab", "stall=Deployment/demo/web=Progressing", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let a = answers(&fleet);
    let mut first = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--answers"])
        .arg(&a)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run is inside its (stalled) wait.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let st = fleet.run(&["status", "--cluster", "lab"]);
        if String::from_utf8_lossy(&st.stdout).contains("at step wait-app") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never reached wait-app"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--answers"])
        .arg(&a)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(
        text(&second).contains("another fleetctl run is in progress"),
        "{}",
        text(&second)
    );
    assert!(
        text(&second).contains(&format!("pid {}", first.id())),
        "the holder is named: {}",
        text(&second)
    );
    let _ = first.kill();
    let _ = first.wait();
    // The killed holder's lock is free: status says the run was killed, not that it is in progress.
    let st = fleet.run(&["status", "--cluster", "lab", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let p9 = v.as_array().unwrap().iter().find(|r| r["phase"] == 9).unwrap();
    assert_eq!(p9["state"], "killed", "{p9}");
    assert_eq!(p9["decisions"]["replicas-ok"], "yes");
    sim.set_faults("");
}

#[test]
fn a_repo_matches_step_after_a_write_still_stops_the_run_in_preflight() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        "phase: 7\ntitle: Git must match\nplatforms: [openshift]\nsteps:\n  - id: apply-app\n    apply: {path: sample/app}\n  \
         - id: git-check\n    builtin:\n      name: repo-matches\n      args: {path: sample/app, kind: Deployment, name: web, \
         field: spec.replicas, equals: \"3\", fix: set replicas to 3 in sample/app/deployment.yaml}\n",
    )
    .unwrap();
    let out = fleet
        .cmd()
        .args(["phase", "7", "--cluster", "lab", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("Git does not match") && text(&out).contains("git-check"),
        "{}",
        text(&out)
    );
    assert_eq!(
        sim.writes(),
        0,
        "the apply before it must not have run: {}",
        sim.stats()
    );
}
