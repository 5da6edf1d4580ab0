//! Phase 4 live: `fleetctl phase 4` against a simulated Talos cluster whose simulated Argo CD syncs the fleet,
//! and the `p4.apps-unchanged` criterion on a snapshot.

mod common;

use common::legacy::{fleetctl, gen, generated, git, ARGO_CRDS};
use common::{text, SimProc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn kubectl(kc: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .unwrap()
}

/// ApplicationSet-owned Applications: name -> (uid, source path).
fn live_apps(kc: &Path) -> std::collections::BTreeMap<String, (String, String)> {
    let out = kubectl(kc, &["-n", "argocd", "get", "applications.argoproj.io", "-o", "json"]);
    if !out.status.success() {
        return Default::default();
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["metadata"]["ownerReferences"].is_array())
        .map(|a| {
            (
                a["metadata"]["name"].as_str().unwrap_or("").to_string(),
                (
                    a["metadata"]["uid"].as_str().unwrap_or("").to_string(),
                    a["spec"]["source"]["path"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn phase_4_on_the_simulated_talos_cluster_migrates_and_argo_cd_adopts_every_application() {
    let t = tempfile::tempdir().unwrap();
    let repo: PathBuf = t.path().join("fleet");
    gen(&repo, 16, 11, "database");
    // fleetctl's own files in the fleet repo: the runbook and the cluster's description.
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(repo.join("runbooks")).unwrap();
    std::fs::copy(src.join("runbooks/phase-4.yaml"), repo.join("runbooks/phase-4.yaml")).unwrap();
    std::fs::create_dir_all(repo.join("clusters/talos")).unwrap();
    std::fs::copy(
        src.join("clusters/talos/cluster.yaml"),
        repo.join("clusters/talos/cluster.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "fleetctl runbook and cluster.yaml"]);
    let expected: BTreeSet<String> = generated(&repo, None).into_iter().map(|r| r.0).collect();

    let sim = SimProc::on_fleet("talos", "talos", "", 20.0, &repo);
    let crds = t.path().join("argo-crds.yaml");
    std::fs::write(&crds, ARGO_CRDS).unwrap();
    let out = kubectl(&sim.kubeconfig, &["apply", "-f", crds.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    wait_until("the Argo CD CRDs", 20, || {
        kubectl(&sim.kubeconfig, &["get", "applicationsets.argoproj.io", "-A"])
            .status
            .success()
    });
    // The legacy root Application, as bootstrap-argocd.sh applies it.
    let root = repo.join("infrastructure/controllers/argocd/apps/root.yaml");
    let out = kubectl(&sim.kubeconfig, &["apply", "-f", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    wait_until("the legacy Applications", 60, || {
        live_apps(&sim.kubeconfig).keys().cloned().collect::<BTreeSet<_>>() == expected
    });
    let before = live_apps(&sim.kubeconfig);

    let answers = t.path().join("answers.yaml");
    std::fs::write(
        &answers,
        "p4-branch: phase-4-talos-migration\np4-move: move-to-defaults\n",
    )
    .unwrap();
    let kc = sim.kubeconfig.to_str().unwrap().to_string();
    let phase = |out_fmt: &str| {
        fleetctl(
            &repo,
            &[
                "phase",
                "4",
                "--cluster",
                "talos",
                "--kubeconfig",
                &kc,
                "--answers",
                answers.to_str().unwrap(),
                "--output",
                out_fmt,
            ],
        )
    };
    let out = phase("json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &report["criteria"][0];
    assert_eq!(c["id"], "p4.apps-unchanged");
    assert_eq!(c["status"], "pass", "{report}");
    assert_eq!(c["evidence"]["expected"], expected.len(), "{report}");
    // Not merged yet: the cluster still runs the old paths, each the pre-move path of an expected one.
    assert_eq!(
        c["evidence"]["old path, moved in the repo (adopted on merge)"],
        expected.len(),
        "{report}"
    );
    assert_eq!(git(&repo, &["branch", "--show-current"]), "phase-4-talos-migration");
    assert!(
        text(&out).contains("migrated on branch phase-4-talos-migration"),
        "{}",
        text(&out)
    );

    // "Merge": re-apply root from its new path; Argo CD repoints every Application in place.
    let out = kubectl(
        &sim.kubeconfig,
        &[
            "apply",
            "-f",
            repo.join("clusters/talos/apps/root.yaml").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    wait_until("Applications repointed to clusters/talos", 60, || {
        let now = live_apps(&sim.kubeconfig);
        now.len() == before.len() && now.values().all(|(_, p)| p.starts_with("clusters/talos/"))
    });
    let after = live_apps(&sim.kubeconfig);
    for (name, (uid, _)) in &before {
        assert_eq!(&after[name].0, uid, "{name} was recreated (uid changed)");
    }
    // Phase 4 again: the repo step is a no-op, and the live set still matches.
    let out = phase("json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("already migrated"), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["criteria"][0]["status"], "pass", "{report}");

    // An Application the repo no longer generates is churn: the criterion fails and names it.
    let dir = repo.join("clusters/talos/monitoring");
    let victim = std::fs::read_dir(&dir).unwrap().flatten().next().unwrap().file_name();
    git(&repo, &["rm", "-rq", dir.join(&victim).to_str().unwrap()]);
    let out = fleetctl(
        &repo,
        &[
            "check",
            "--phase",
            "4",
            "--cluster",
            "talos",
            "--kubeconfig",
            &kc,
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["criteria"][0]["status"], "fail", "{report}");
    assert!(
        report
            .to_string()
            .contains(&format!("extra: {}", victim.to_string_lossy())),
        "{report}"
    );
}

/// `check --phase 4 --snapshot`: the criterion reads dumped Applications the same way.
#[test]
fn the_criterion_on_a_snapshot_names_an_application_whose_destination_would_change() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("fleet");
    gen(&repo, 10, 12, "database");
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(repo.join("runbooks")).unwrap();
    std::fs::copy(src.join("runbooks/phase-4.yaml"), repo.join("runbooks/phase-4.yaml")).unwrap();
    std::fs::create_dir_all(repo.join("clusters/talos")).unwrap();
    std::fs::copy(
        src.join("clusters/talos/cluster.yaml"),
        repo.join("clusters/talos/cluster.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "fleetctl files"]);
    let ok = fleetctl(&repo, &["migrate", "--yes"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    // A dump of what Argo CD runs after the merge, as `kubectl get applications -o yaml` prints it.
    let apps = generated(&repo, Some("talos"));
    let dump = |bad: Option<&str>| {
        let mut s = String::from("apiVersion: v1\nkind: List\nitems:\n");
        for (name, project, ns, path) in &apps {
            let ns = if Some(name.as_str()) == bad {
                "somewhere-else"
            } else {
                ns
            };
            s.push_str(&format!(
                "- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata:\n    name: {name}\n    namespace: argocd\n    ownerReferences: [{{apiVersion: argoproj.io/v1alpha1, kind: ApplicationSet, name: x, uid: u}}]\n  spec:\n    project: {project}\n    destination: {{server: https://kubernetes.default.svc, namespace: {ns}}}\n    source: {{repoURL: https://github.com/vanillax/homelab-fleet.git, path: {path}, targetRevision: HEAD}}\n"
            ));
        }
        s
    };
    let snap = t.path().join("apps.yaml");
    std::fs::write(&snap, dump(None)).unwrap();
    let args = [
        "check",
        "--phase",
        "4",
        "--cluster",
        "talos",
        "--snapshot",
        snap.to_str().unwrap(),
        "--output",
        "json",
    ];
    let out = fleetctl(&repo, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let victim = apps[0].0.clone();
    std::fs::write(&snap, dump(Some(&victim))).unwrap();
    let out = fleetctl(&repo, &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let details = report["criteria"][0]["details"].to_string();
    assert!(
        details.contains(&format!("differs: {victim}: destination.namespace somewhere-else")),
        "{details}"
    );
}
