//! `fleetctl rehearse N`: earlier phases build the simulated cluster first; rehearsal state lives under
//! `<state-dir>/rehearsal/` and outlives the command.

mod common;

use common::text;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rehearse(repo: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .arg("--state-dir")
        .arg(state)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .arg("rehearse")
        .args(args)
        .args(["--answers", "runbooks/answers/rehearsal.yaml"])
        .current_dir(repo)
        .output()
        .unwrap()
}

#[test]
fn rehearse_2_builds_phase_1_first_and_reports_phase_2() {
    let repo = common::repo_copy();
    let state = tempfile::tempdir().unwrap();
    let out = rehearse(repo.path(), state.path(), &["2", "--output", "json"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("phase 1 runs first to build the simulated cluster"),
        "the setup phases are announced: {t}"
    );
    // Only phase 2's report reaches stdout, in the one document a rehearsal prints (a report list).
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
    assert_eq!(v["schema"], "fleetctl.reportlist/v2", "{t}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{t}");
    assert_eq!(items[0]["phases"], serde_json::json!([2]), "{t}");
    assert_eq!(items[0]["cluster"], "openshift");
    // Phase 1 really ran (journaled in the rehearsal state), it was not skipped.
    let j = std::fs::read_to_string(state.path().join("rehearsal/openshift/journal.json")).unwrap();
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    let phases: Vec<u64> = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["phase"].as_u64().unwrap())
        .collect();
    assert_eq!(phases, vec![1, 2], "{j}");
}

#[test]
fn rehearsal_state_lives_under_the_state_dir_and_outlives_the_command() {
    let repo = common::repo_copy();
    let state = tempfile::tempdir().unwrap();
    // Leftovers of an earlier rehearsal are cleared; real state beside it is left alone.
    std::fs::create_dir_all(state.path().join("rehearsal/old")).unwrap();
    let out = rehearse(repo.path(), state.path(), &["1"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        !state.path().join("rehearsal/old").exists(),
        "stale rehearsal state is cleared"
    );
    let entries: Vec<String> = std::fs::read_dir(state.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["rehearsal".to_string()], "nothing outside rehearsal/");
    // Every path fleetctl printed under the state dir exists after it exited.
    let root = state.path().to_string_lossy().into_owned();
    let printed: Vec<&str> = t
        .split_whitespace()
        .filter(|w| w.starts_with(&root))
        .map(|w| w.trim_end_matches([',', ';', ')']))
        .collect();
    assert!(
        printed.iter().any(|p| p.ends_with("reports/phase-1.json")),
        "the report's path is printed: {t}"
    );
    for p in printed {
        assert!(Path::new(p).starts_with(state.path().join("rehearsal")), "{p}");
        assert!(Path::new(p).exists(), "{p} was printed but does not exist");
    }
    for w in t.split_whitespace().filter(|w| w.contains("/reports/")) {
        assert!(
            w.starts_with(&root),
            "a report path outside the state dir (a deleted temp dir?): {w}"
        );
    }
}

#[test]
fn two_rehearsals_sharing_a_state_dir_do_not_clear_each_other() {
    let repo = common::repo_copy();
    let state = tempfile::tempdir().unwrap();
    let mut first = Command::new(common::bin())
        .arg("--repo")
        .arg(repo.path())
        .arg("--state-dir")
        .arg(state.path())
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .args(["rehearse", "1", "--answers", "runbooks/answers/rehearsal.yaml"])
        .current_dir(repo.path())
        .spawn()
        .unwrap();
    // Wait until the first holds the rehearsal lock (its pid is written there).
    let lock = state.path().join("rehearsal/.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&lock).unwrap_or_default().contains("pid") {
        assert!(
            std::time::Instant::now() < deadline,
            "the first rehearsal never took its lock"
        );
        assert!(first.try_wait().unwrap().is_none(), "the first rehearsal ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = rehearse(repo.path(), state.path(), &["1"]);
    let t = text(&second);
    assert_eq!(second.status.code(), Some(2), "{t}");
    assert!(
        t.contains("another fleetctl run is in progress against the rehearsal state"),
        "{t}"
    );
    assert!(
        first.wait().unwrap().success(),
        "the first rehearsal completes undisturbed"
    );
    assert!(state.path().join("rehearsal/openshift/reports/phase-1.json").exists());
}
