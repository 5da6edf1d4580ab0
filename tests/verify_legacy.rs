//! `verify` on the legacy layout (issue 11): a single-cluster Talos repo with top-level trees, the real
//! repo's shape (scripts/gen-legacy-fleet.py --real), before phase 4 moves anything. It must be the safety
//! net then: exit 0 or 1, never 2, with and without helm on PATH.

#[path = "fixtures/verify/common.rs"]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn generate(dir: &Path) -> bool {
    let ok = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-legacy-fleet.py"))
        .arg(dir)
        .args(["--apps", "30", "--seed", "3", "--real", "--no-git"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP: python3 scripts/gen-legacy-fleet.py did not run");
    }
    ok
}

/// `fleetctl verify --output json` with PATH holding only `path` (plus what the test adds).
fn verify_json(repo: &Path, path: &Path) -> (Output, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    cmd.arg("--repo").arg(repo).args(["verify", "--output", "json"]);
    cmd.env("PATH", path).env("HOME", repo.join(".home"));
    if let Some(c) = crds_dir() {
        cmd.arg("--crds").arg(c);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, json)
}

/// A PATH directory with kubectl (or kustomize) and, when asked, helm: nothing else.
fn tools(dir: &Path, with_helm: bool) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mut names = vec!["kubectl", "kustomize"];
    if with_helm {
        names.push("helm");
    }
    for n in names {
        if let Ok(p) = which::which(n) {
            std::os::unix::fs::symlink(p, bin.join(n)).unwrap();
        }
    }
    bin
}

fn rules(j: &serde_json::Value) -> Vec<String> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["rule"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect()
}

#[test]
fn verify_runs_on_the_legacy_layout_without_helm() {
    if !have_kustomize() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("fleet");
    if !generate(&repo) {
        return;
    }
    let (out, j) = verify_json(&repo, &tools(tmp.path(), false));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{j}\n{stderr}");
    // The only finding: the helm root, said as such (not a render failure).
    let r = rules(&j);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].starts_with("helm-unavailable infrastructure/controllers/"),
        "{r:?}"
    );
    let roots: Vec<&str> = j["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    for expected in [
        "infrastructure/controllers/argocd",
        "infrastructure/controllers/argocd/apps",
        "my-apps/privacy/redlib",
    ] {
        assert!(roots.contains(&expected), "{expected} not among {roots:?}");
    }
    assert!(
        roots.iter().all(|r| !r.starts_with("my-apps/common")),
        "a Component is not a root: {roots:?}"
    );
    assert!(j["roots"].as_array().unwrap().iter().all(|r| r["cluster"] == "talos"));
    // The root Application, applied by the bootstrap script, is checked as a loose file.
    assert_eq!(
        j["looseFiles"],
        serde_json::json!(["infrastructure/controllers/argocd/root.yaml"])
    );
    let notes = j["notes"].to_string();
    assert!(notes.contains("legacy layout"), "{notes}");
    assert!(
        notes.contains("bootstrap/values.yaml"),
        "the build options come from the argo-cd values: {notes}"
    );
    // Everything else was rendered and, with the CRDs, validated.
    if crds_dir().is_some() {
        assert!(j["summary"]["validated"].as_u64().unwrap() >= 40, "{}", j["summary"]);
    }
}

#[test]
fn verify_validates_the_helm_root_of_the_legacy_layout_with_helm() {
    if !have_kustomize() {
        return;
    }
    if which::which("helm").is_err() {
        eprintln!("SKIP: helm is not on PATH, so the with-helm path is not tested here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("fleet");
    if !generate(&repo) {
        return;
    }
    let (out, j) = verify_json(&repo, &tools(tmp.path(), true));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{j}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chart = j["roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"].as_str().unwrap().starts_with("infrastructure/controllers/") && r["objects"] == 1)
        .expect("the chart's root rendered its ConfigMap");
    assert_eq!(chart["cache"], "miss");
}

/// verify is the safety net run just before `migrate` (and `share`), which refuse a dirty tree: its cache in
/// `<repo>/.fleetctl/` ignores itself, so the tree stays clean.
#[test]
fn verify_leaves_the_working_tree_clean_for_migrate() {
    if !have_kustomize() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("fleet");
    if !generate(&repo) {
        return;
    }
    let (out, _) = verify_json(&repo, &tools(tmp.path(), false));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        repo.join(".fleetctl/cache/render").is_dir(),
        "verify cached its renders"
    );
    let status = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "", "git status after verify");
}
