//! The simulated Argo CD assesses a child Application's health only where Argo CD would: since v1.8 an
//! Application's health is not assessed unless argocd-cm (or the ArgoCD CR's `resourceHealthChecks`) adds
//! `resource.customizations.health.argoproj.io_Application`. So an app-of-apps' later wave waits on its
//! children only when the fleet's Git configures that check.

mod common;

use common::{text, SimProc};
use std::path::Path;
use std::time::{Duration, Instant};

/// A fleet whose `parent` path syncs a child Application (wave 0) and a ConfigMap (wave 1).
fn fleet(with_health_check: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let w = |p: &str, s: &str| {
        let f = d.path().join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, s).unwrap();
    };
    w("parent/kustomization.yaml", "resources: [child.yaml, marker.yaml]\n");
    w(
        "parent/child.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: child\n  namespace: argocd\n  annotations: {argocd.argoproj.io/sync-wave: \"0\"}\nspec:\n  project: default\n  source: {repoURL: https://example.invalid/fleet.git, path: child, targetRevision: HEAD}\n  destination: {server: https://kubernetes.default.svc, namespace: child}\n",
    );
    w(
        "parent/marker.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wave-1\n  namespace: argocd\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\ndata: {ok: \"yes\"}\n",
    );
    w("child/kustomization.yaml", "resources: [cm.yaml]\n");
    w(
        "child/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child}\ndata: {a: b}\n",
    );
    if with_health_check {
        w(
            "bootstrap/values.yaml",
            "configs:\n  cm:\n    resource.customizations.health.argoproj.io_Application: |\n      hs = {}\n      return hs\n",
        );
    }
    d
}

fn start(repo: &Path) -> SimProc {
    // The child never becomes Healthy (its health is held at Progressing).
    let sim = SimProc::on_fleet(
        "talos",
        "talos",
        "stall=Application/argocd/child=Progressing",
        20.0,
        repo,
    );
    let parent = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: parent, namespace: argocd}\nspec:\n  project: default\n  source: {repoURL: https://example.invalid/fleet.git, path: parent, targetRevision: HEAD}\n  destination: {server: https://kubernetes.default.svc, namespace: argocd}\n  syncPolicy: {automated: {}}\n";
    let out = sim.kubectl(&["apply", "-f", "-"], Some(parent));
    assert!(out.status.success(), "{}", text(&out));
    sim
}

fn wave_1_live(sim: &SimProc) -> bool {
    let o = sim.kubectl(
        &[
            "-n",
            "argocd",
            "get",
            "configmap",
            "wave-1",
            "--ignore-not-found",
            "-o",
            "name",
        ],
        None,
    );
    !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

#[test]
fn without_the_health_customization_a_later_wave_does_not_wait_for_a_child_application() {
    let repo = fleet(false);
    let sim = start(repo.path());
    let end = Instant::now() + Duration::from_secs(20);
    while !wave_1_live(&sim) {
        assert!(
            Instant::now() < end,
            "wave 1 waited on the child's health, which Argo CD does not assess by default"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn with_the_health_customization_in_git_a_later_wave_waits_for_the_child_application() {
    let repo = fleet(true);
    let sim = start(repo.path());
    // The child exists (wave 0 applied) and is Progressing; wave 1 must not go live meanwhile.
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let o = sim.kubectl(
            &[
                "-n",
                "argocd",
                "get",
                "application",
                "child",
                "-o",
                "jsonpath={.status.health.status}",
            ],
            None,
        );
        if String::from_utf8_lossy(&o.stdout).trim() == "Progressing" {
            break;
        }
        assert!(
            Instant::now() < end,
            "the child Application never appeared: {}",
            text(&o)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4)); // 80 s of simulated time at speed 20
    assert!(!wave_1_live(&sim), "wave 1 went live while the child was Progressing");
}
