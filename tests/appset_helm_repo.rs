//! `fleetctl appset generate` on a repository like a real single-cluster one: kustomize
//! `helmCharts`, an Application from a Helm repository, and Argo CD's own config in Git
//! (`configs.cm."kustomize.buildOptions"` in the argo-cd chart's values). It must never exit
//! 2: what cannot be rendered here is said per root, and the Applications are still listed.
//!
//! helm is not installed on this machine (nor available from crates.io, PyPI, npm or Debian),
//! so the path where helm renders the charts is not exercised; the runs below put only
//! kubectl and git on PATH, so they hold wherever helm is installed too.

mod appset_common;

use appset_common::repo;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const APPSETS: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: infrastructure
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: https://example.com/homelab.git
        revision: HEAD
        directories:
          - path: infrastructure/*
  template:
    metadata:
      name: '{{ .path.basename }}'
    spec:
      project: infrastructure
      source:
        repoURL: https://example.com/homelab.git
        targetRevision: HEAD
        path: '{{ .path.path }}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ .path.basename }}'
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: charts
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - {chart: podinfo, version: 6.0.0}
  template:
    metadata:
      name: '{{ .chart }}'
    spec:
      project: default
      source:
        repoURL: https://charts.example.test
        chart: '{{ .chart }}'
        targetRevision: '{{ .version }}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ .chart }}'
"#;

/// kustomize helmCharts from a loopback repository nothing listens on: nothing leaves the machine.
const HELM_ROOT: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\nhelmCharts:\n  - name: cert-manager\n    repo: https://127.0.0.1:9/charts\n    version: v1.16.0\n    releaseName: cert-manager\n";

fn fleet(build_options: &str) -> tempfile::TempDir {
    repo(
        &[],
        &[
            (
                "argocd/values.yaml",
                &format!("configs:\n  cm:\n    kustomize.buildOptions: {build_options}\n"),
            ),
            ("argocd/apps/appsets.yaml", APPSETS),
            ("infrastructure/cert-manager/kustomization.yaml", HELM_ROOT),
            (
                "infrastructure/cert-manager/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cert-manager\n",
            ),
            (
                "infrastructure/web/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n",
            ),
            (
                "infrastructure/web/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
            ),
        ],
    )
}

/// A PATH with kubectl and git only; kubectl logs each call to `calls` and runs the real one.
fn path_without_helm(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("kubectl-calls");
    let kubectl = which::which("kubectl").expect("kubectl on PATH");
    let git = which::which("git").expect("git on PATH");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
        calls.display(),
        kubectl.display()
    );
    std::fs::write(bin.join("kubectl"), script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("kubectl"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(git, bin.join("git")).unwrap();
    }
    (bin, calls)
}

fn run(repo: &Path, bin: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetctl"))
        .args(["appset", "generate", "--repo"])
        .arg(repo)
        .args(args)
        .env("PATH", bin)
        .output()
        .unwrap()
}

#[test]
fn without_helm_the_helm_root_is_noted_and_every_application_is_listed() {
    let t = fleet("--enable-helm");
    let tools = tempfile::tempdir().unwrap();
    let (bin, _) = path_without_helm(tools.path());
    let out = run(t.path(), &bin, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for app in ["cert-manager", "web", "podinfo"] {
        assert!(
            stdout.lines().any(|l| l.split_whitespace().nth(1) == Some(app)),
            "{app} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("not rendered offline: infrastructure/cert-manager (Applications cert-manager): uses kustomize helmCharts and helm is not on PATH"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not rendered offline: https://charts.example.test podinfo 6.0.0 (Applications podinfo): chart 'podinfo' from a Helm repository"),
        "{stdout}"
    );
    assert!(
        stderr.contains("3 Applications, 0 shared-resource conflicts, 2 sources not checked (0 failed to render)"),
        "{stderr}"
    );

    let out = run(t.path(), &bin, &["--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["applications"].as_array().unwrap().len(), 3);
    assert_eq!(v["applications"][2]["source"]["chart"], "podinfo");
    let unchecked = v["unchecked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 2);
    assert_eq!(unchecked[0]["source"], "infrastructure/cert-manager");
    assert_eq!(unchecked[0]["apps"], serde_json::json!(["cert-manager"]));
    assert_eq!(unchecked[0]["failed"], false);
}

#[test]
fn build_options_without_enable_helm_fail_with_kustomizes_whole_error() {
    // The repo's Argo CD would fail the same way: kustomize refuses helmCharts without --enable-helm.
    let t = fleet("--load-restrictor LoadRestrictionsNone");
    let tools = tempfile::tempdir().unwrap();
    let (bin, _) = path_without_helm(tools.path());
    let out = run(t.path(), &bin, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("render failed: infrastructure/cert-manager (Applications cert-manager)"),
        "{stdout}"
    );
    // kubectl prints this error over several lines; all of them reach the user.
    assert!(stdout.contains("HelmChartInflationGenerator"), "{stdout}");
    assert!(stdout.contains("must specify --enable-helm"), "{stdout}");
    assert!(!stdout.contains("err=<"), "{stdout}");
    assert!(
        stdout.contains("add --enable-helm to kustomize.buildOptions (argocd/values.yaml)"),
        "{stdout}"
    );
    // The other Applications are still listed and checked.
    assert!(
        stdout.lines().any(|l| l.split_whitespace().nth(1) == Some("web")),
        "{stdout}"
    );
}

#[test]
fn a_warm_render_cache_runs_no_kustomize() {
    let t = fleet("--enable-helm");
    let tools = tempfile::tempdir().unwrap();
    let (bin, calls) = path_without_helm(tools.path());
    assert_eq!(run(t.path(), &bin, &[]).status.code(), Some(0));
    let first = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        first.lines().any(|l| l.starts_with("kustomize")),
        "the cold run renders: {first:?}"
    );
    std::fs::remove_file(&calls).unwrap();
    assert_eq!(run(t.path(), &bin, &[]).status.code(), Some(0));
    assert!(
        !calls.exists(),
        "the warm run called kubectl: {:?}",
        std::fs::read_to_string(&calls)
    );
    // A changed input renders that root again.
    std::fs::write(
        t.path().join("infrastructure/web/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: c\n",
    )
    .unwrap();
    assert_eq!(run(t.path(), &bin, &[]).status.code(), Some(0));
    let again = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(
        again.lines().filter(|l| l.starts_with("kustomize")).count(),
        1,
        "{again:?}"
    );
}

#[test]
fn a_multi_source_application_is_expanded_and_its_chart_noted() {
    // Multiple Sources (Argo CD docs, multiple_sources.md): a chart from a Helm repository with
    // values from Git (`ref: values`). The ref-only source lends files and renders nothing.
    let y = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: charts
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - list:
        elements: [{app: grafana}]
  template:
    metadata:
      name: '{{ .app }}'
    spec:
      project: default
      sources:
        - repoURL: https://grafana.example.test/charts
          chart: '{{ .app }}'
          targetRevision: 8.0.0
          helm:
            valueFiles: ['$values/values/{{ .app }}.yaml']
        - repoURL: https://example.com/homelab.git
          targetRevision: HEAD
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ .app }}'
"#;
    let t = repo(
        &[],
        &[("argocd/charts.yaml", y), ("values/grafana.yaml", "replicas: 1\n")],
    );
    let sets = fleetctl::appset::load_appsets(t.path(), None).unwrap();
    let apps = fleetctl::appset::generate(t.path(), &sets).unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].sources.len(), 2);
    assert_eq!(apps[0].rendered_sources().len(), 1);
    let check = fleetctl::appset::check(t.path(), &apps);
    assert!(check.conflicts.is_empty());
    assert_eq!(check.unchecked.len(), 1);
    assert_eq!(
        check.unchecked[0].source,
        "https://grafana.example.test/charts grafana 8.0.0"
    );
    assert!(!check.unchecked[0].failed);
}
