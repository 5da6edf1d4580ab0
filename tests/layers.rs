//! Each OpenShift phase turns on only its own layer, and a decision is taken before its consequence is live
//! (docs/multicluster-prd.md, "Layers"): the real runbooks, the real manifests and the simulated Argo CD.

mod common;

use common::{fleetctl_on, repo_copy, set_layer, text, SimProc};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CTX: &str = "sno-ai-lab";

/// Only phase 1's decisions: the Argo CD name and the Connect files (the trust bootstrap).
fn phase1_answers(repo: &Path) -> String {
    let p = repo.join("phase1-answers.yaml");
    std::fs::write(
        &p,
        "argocd-name: argocd\nconnect-credentials-file: runbooks/answers/rehearsal-connect-credentials.json\nconnect-token-file: runbooks/answers/rehearsal-connect-token.txt\n",
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

fn kubectl(sim: &SimProc, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .arg("--cache-dir")
        .arg(sim.kubeconfig.with_file_name("kube-cache"))
        .args(args)
        .output()
        .expect("kubectl");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The objects of a kind (by plural.group) that exist, as `namespace/name` lines ("" when the kind is not
/// served at all).
fn names(sim: &SimProc, resource: &str) -> String {
    kubectl(sim, &["get", resource, "-A", "-o", "name", "--ignore-not-found"])
}

/// Waits until `f` holds, or panics with `what` after `secs`.
fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn phase_1_turns_on_only_its_layer_for_90_simulated_seconds() {
    let dir = repo_copy();
    let speed = 20.0;
    let sim = SimProc::on_fleet("openshift", CTX, "", speed, dir.path());
    let answers = phase1_answers(dir.path());
    let out = fleetctl_on(
        dir.path(),
        &["phase", "1", "--cluster", "openshift", "--answers", &answers],
        &sim.kubeconfig,
    );
    assert!(
        out.status.success(),
        "phase 1 with its own decisions only: {}",
        text(&out)
    );
    let t = text(&out);
    // The trust bootstrap comes first: the seeds are steps 4-6, before the operator is installed.
    let seed = t.find("Pre-seed the token External Secrets uses").expect("seeded");
    let operator = t.find("Install the OpenShift GitOps operator").expect("operator");
    assert!(seed < operator, "the Connect secrets are seeded before Argo CD: {t}");
    // 90 s of simulated Argo CD: nothing a later phase decides goes live.
    let window = Duration::from_secs_f64(90.0 / speed);
    let until = Instant::now() + window;
    while Instant::now() < until {
        for (what, res) in [
            ("a MetalLB pool", "ipaddresspools.metallb.io"),
            ("an LVMCluster", "lvmclusters.lvm.topolvm.io"),
            ("a ClusterSecretStore", "clustersecretstores.external-secrets.io"),
            ("a generated platform Application", "applicationsets.argoproj.io"),
        ] {
            assert_eq!(names(&sim, res).trim(), "", "{what} is live after phase 1");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let gw = kubectl(
        &sim,
        &[
            "-n",
            "openshift-ingress",
            "get",
            "gateway",
            "apps-gateway",
            "-o",
            "jsonpath={.status.addresses}",
            "--ignore-not-found",
        ],
    );
    assert!(gw.trim().is_empty(), "no Gateway has an address: {gw}");
    // What is live: root syncs layer phase-1, the AppProjects.
    assert!(names(&sim, "appprojects.argoproj.io").contains("infrastructure"));
    let check = fleetctl_on(
        dir.path(),
        &["check", "--phase", "all", "--cluster", "openshift", "--output", "json"],
        &sim.kubeconfig,
    );
    let r: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap_or_else(|_| panic!("{}", text(&check)));
    let status = |id: &str| {
        r["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {r}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("p1.layer-live"), "pass");
    assert_ne!(status("p2.layer-live"), "pass", "the platform layer is not live");
    assert_ne!(status("p6.layer-live"), "pass");
    common::assert_rerun_writes_nothing(&sim, "phase 1", || {
        fleetctl_on(
            dir.path(),
            &["phase", "1", "--cluster", "openshift", "--answers", &answers],
            &sim.kubeconfig,
        )
    });
}

#[test]
fn phase_1_refuses_a_root_that_would_turn_on_a_later_phases_decisions() {
    let dir = repo_copy();
    set_layer(dir.path(), "phase-2");
    let sim = SimProc::on_fleet("openshift", CTX, "", 20.0, dir.path());
    let answers = phase1_answers(dir.path());
    let out = fleetctl_on(
        dir.path(),
        &["phase", "1", "--cluster", "openshift", "--answers", &answers],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("step 'apply-root' would make clusters/openshift/infrastructure/"),
        "{t}"
    );
    assert!(
        t.contains("of phase 2 governs") && t.contains("not been answered"),
        "{t}"
    );
    assert!(t.contains("nothing was written"), "{t}");
    assert_eq!(sim.creates(), 0, "preflight refused before any write: {}", sim.stats());
}

#[test]
fn phase_2_takes_its_decisions_then_stops_until_git_turns_its_layer_on() {
    let dir = repo_copy();
    let sim = SimProc::on_fleet("openshift", CTX, "", 20.0, dir.path());
    let answers = dir.path().join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    let p1 = fleetctl_on(
        dir.path(),
        &["phase", "1", "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    );
    assert!(p1.status.success(), "{}", text(&p1));
    sim.reset_stats();
    let out = fleetctl_on(
        dir.path(),
        &["phase", "2", "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("replace `- ../layers/phase-1` with `- ../layers/phase-2`")
            && t.contains("clusters/openshift/apps/kustomization.yaml"),
        "the one-line change to commit: {t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
    // The owner commits it; phase 2 turns the platform on.
    set_layer(dir.path(), "phase-2");
    let out = fleetctl_on(
        dir.path(),
        &["phase", "2", "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("p2.layer-live"), "{}", text(&out));
    wait_until(30, "the LVMCluster", || {
        names(&sim, "lvmclusters.lvm.topolvm.io").contains("lvmcluster")
    });
}
