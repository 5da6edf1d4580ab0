//! Phase 4 test support: legacy fleets from scripts/gen-legacy-fleet.py, fleetctl and git in such a repo,
//! and the Applications its ApplicationSets generate.

use super::text;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn gen(dir: &Path, apps: usize, seed: u64, db_dir: &str) {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-legacy-fleet.py"))
        .arg(dir)
        .args([
            "--apps",
            &apps.to_string(),
            "--seed",
            &seed.to_string(),
            "--database-dir",
            db_dir,
        ])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out));
}

/// `migrate --yes` alone never moves trees (destructive): the tests confirm with `p4-move` in an answers file.
pub fn fleetctl(repo: &Path, args: &[&str]) -> Output {
    fleetctl_with_path(repo, args, None)
}

/// [`fleetctl`] with its own `PATH` (e.g. helm put first), when given.
pub fn fleetctl_with_path(repo: &Path, args: &[&str], path: Option<&std::ffi::OsStr>) -> Output {
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let confirming = args.iter().any(|a| a == "--yes") && !args.iter().any(|a| a == "--answers");
    if args.first().map(String::as_str) == Some("migrate") && confirming {
        let confirm = std::env::temp_dir().join(format!("p4-confirm-{}.yaml", std::process::id()));
        std::fs::write(&confirm, "p4-move: move-to-defaults\n").unwrap();
        args.push("--answers".into());
        args.push(confirm.display().to_string());
    }
    let mut c = Command::new(super::bin());
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.arg("--repo")
        .arg(repo)
        .args(args)
        .env("NO_COLOR", "1")
        .env("FLEETCTL_STATE_DIR", repo.join(".git/fleetctl-test-state"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `git add -A` and a commit by a test identity.
pub fn commit_all(repo: &Path, msg: &str) {
    git(repo, &["add", "-A"]);
    git(
        repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            msg,
        ],
    );
}

/// What kubectl's own kustomize renders for `dir`.
pub fn kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        text(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(repo).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `appset generate --output json` as (name, project, dest namespace, path) rows.
pub fn generated(repo: &Path, cluster: Option<&str>) -> Vec<(String, String, String, String)> {
    let mut args = vec!["appset", "generate", "--output", "json"];
    if let Some(c) = cluster {
        args.extend(["--cluster", c]);
    }
    let out = fleetctl(repo, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut rows: Vec<_> = v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["project"].as_str().unwrap().to_string(),
                a["destination"]["namespace"].as_str().unwrap_or("").to_string(),
                a["source"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A realistic single-cluster Talos fleet from scripts/gen-real-fleet.py (`variant`: `plain` or `concat`).
pub fn gen_real(dir: &Path, apps: usize, seed: u64, variant: &str) {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-real-fleet.py"))
        .arg(dir)
        .args([
            "--apps",
            &apps.to_string(),
            "--seed",
            &seed.to_string(),
            "--variant",
            variant,
        ])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out));
}

/// The Argo CD CRDs and namespace, for a simulated cluster that runs the fleet's Applications.
pub const ARGO_CRDS: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applications.argoproj.io}
spec:
  group: argoproj.io
  scope: Namespaced
  names: {kind: Application, plural: applications, singular: application, listKind: ApplicationList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applicationsets.argoproj.io}
spec:
  group: argoproj.io
  scope: Namespaced
  names: {kind: ApplicationSet, plural: applicationsets, singular: applicationset, listKind: ApplicationSetList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: appprojects.argoproj.io}
spec:
  group: argoproj.io
  scope: Namespaced
  names: {kind: AppProject, plural: appprojects, singular: appproject, listKind: AppProjectList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: Namespace
metadata: {name: argocd}
"#;
