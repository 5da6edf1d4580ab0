//! What real operators do that a naive simulator would let pass (issue 12), each driven through the
//! simulated cluster with kubectl or judged by the real phase criteria: the kubelet refusing a named image
//! USER under runAsNonRoot, the LVMS webhook refusing a wipe patched onto a live LVMCluster, a catalog
//! without the Subscription's channel stopping preflight, and ESO's terminal store reasons judged as
//! failures with their cause.

mod common;

use common::{fleetctl_on, text, SimProc};
use serde_json::Value;
use std::time::{Duration, Instant};

fn until(secs: u64, what: &str, mut f: impl FnMut() -> Option<String>) -> String {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out after {secs}s waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const REDLIB: &str = "apiVersion: v1
kind: Namespace
metadata: {name: redlib}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redlib, namespace: redlib}
spec:
  selector: {matchLabels: {app: redlib}}
  template:
    metadata: {labels: {app: redlib}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - {name: redlib, image: 'quay.io/redlib/redlib:latest'}
";

#[test]
fn talos_kubelet_refuses_redlibs_named_user_under_run_as_non_root_until_a_numeric_user_is_pinned() {
    let sim = SimProc::start("talos", "talos", "", 20.0);
    let out = sim.kubectl(&["apply", "-f", "-"], Some(REDLIB));
    assert!(out.status.success(), "{}", text(&out));
    // The kubelet's own words, in an event on the pod it will not start (the sim keeps no Pods for a
    // Deployment without volumes: docs/sim.md).
    let msg = until(15, "the kubelet's refusal", || {
        let o = sim.kubectl(&["-n", "redlib", "get", "events", "-o", "json"], None);
        let v: Value = serde_json::from_slice(&o.stdout).ok()?;
        v["items"].as_array()?.iter().find_map(|e| {
            let m = e["message"].as_str()?;
            m.contains("runAsNonRoot").then(|| m.to_string())
        })
    });
    assert!(msg.contains("non-numeric user (redlib)"), "{msg}");
    let avail = sim.kubectl(
        &[
            "-n",
            "redlib",
            "get",
            "deploy",
            "redlib",
            "-o",
            "jsonpath={.status.availableReplicas}",
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&avail.stdout).trim(), "0", "never Available");

    // The Talos overlay's delta: runAsUser 1000 (the live app's numeric user).
    let patch = r#"{"spec":{"template":{"spec":{"securityContext":{"runAsUser":1000}}}}}"#;
    let out = sim.kubectl(
        &[
            "-n", "redlib", "patch", "deploy", "redlib", "--type", "merge", "-p", patch,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    until(15, "redlib Available", || {
        let o = sim.kubectl(
            &[
                "-n",
                "redlib",
                "get",
                "deploy",
                "redlib",
                "-o",
                "jsonpath={.status.availableReplicas}",
            ],
            None,
        );
        (String::from_utf8_lossy(&o.stdout).trim() == "1").then(String::new)
    });
}

#[test]
fn the_lvms_webhook_refuses_a_wipe_patched_onto_a_live_lvmcluster() {
    let (_dir, sim) = common::openshift_platform_ready("");
    let name = until(30, "the LVMCluster", || {
        let o = sim.kubectl(
            &["-n", "openshift-lvm-storage", "get", "lvmclusters", "-o", "name"],
            None,
        );
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (!s.is_empty()).then_some(s)
    });
    let patch = r#"[{"op":"add","path":"/spec/storage/deviceClasses/0/deviceSelector/forceWipeDevicesAndDestroyAllData","value":true}]"#;
    let out = sim.kubectl(
        &[
            "-n",
            "openshift-lvm-storage",
            "patch",
            &name,
            "--type",
            "json",
            "-p",
            patch,
        ],
        None,
    );
    assert!(!out.status.success(), "a live wipe must be refused: {}", text(&out));
    let t = text(&out);
    assert!(t.contains("Forbidden") || t.contains("forbidden"), "{t}");
    assert!(
        t.to_lowercase().contains("forcewipedevicesanddestroyalldata"),
        "the field is named: {t}"
    );
}

#[test]
fn a_catalog_without_the_subscriptions_channel_stops_phase_1_before_any_write() {
    let dir = common::repo_copy();
    let sim = SimProc::on_fleet(
        "openshift",
        "sno-ai-lab",
        "no-channel=openshift-gitops-operator:latest",
        20.0,
        dir.path(),
    );
    let answers = dir.path().join("runbooks/answers/rehearsal.yaml");
    let out = fleetctl_on(
        dir.path(),
        &[
            "phase",
            "1",
            "--cluster",
            "openshift",
            "--answers",
            answers.to_str().unwrap(),
        ],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("latest") && t.contains("openshift-gitops-operator"),
        "the missing channel is named: {t}"
    );
    assert!(t.contains("gitops-1.18"), "the channels that exist are listed: {t}");
    assert_eq!(
        sim.writes(),
        0,
        "nothing written before preflight passed: {}",
        sim.stats()
    );
}

#[test]
fn eso_terminal_store_reasons_fail_with_their_cause_instead_of_waiting() {
    let healthy = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshots/healthy.yaml"),
    )
    .unwrap();
    let ready = "conditions: [{type: Ready, status: \"True\", reason: Valid, message: store validated}]";
    assert!(healthy.contains(ready));
    let t = tempfile::tempdir().unwrap();
    for (reason, message, said) in [
        (
            "InvalidProviderConfig",
            "unable to create client",
            "could not build a 1Password Connect client",
        ),
        ("ValidationFailed", "unable to validate store", "did not validate"),
    ] {
        let dump = t.path().join(format!("{reason}.yaml"));
        let cond = format!("conditions: [{{type: Ready, status: \"False\", reason: {reason}, message: {message}}}]");
        std::fs::write(&dump, healthy.replace(ready, &cond)).unwrap();
        let (code, r) = common::check_snapshot("2", "openshift", dump.to_str().unwrap());
        assert_eq!(code, 1, "{r:#}");
        let c = r["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "p2.secretstore-ready")
            .unwrap();
        assert_eq!(c["status"], "fail", "{reason} is terminal, not pending: {c:#}");
        assert!(c.to_string().contains(message), "{c:#}");
        assert!(c["hint"].as_str().unwrap().contains(said), "{c:#}");
    }
    // Without a reason ESO is still reconciling: that is a wait, not a failure.
    let dump = t.path().join("reconciling.yaml");
    std::fs::write(
        &dump,
        healthy.replace(ready, "conditions: [{type: Ready, status: \"False\"}]"),
    )
    .unwrap();
    let (_, r) = common::check_snapshot("2", "openshift", dump.to_str().unwrap());
    let c = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "p2.secretstore-ready")
        .unwrap();
    assert_eq!(c["status"], "pending", "{c:#}");
}
