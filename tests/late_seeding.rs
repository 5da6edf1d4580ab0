//! The 1Password Connect secrets arrive late: the simulated Argo CD spends the Application's retries, then
//! skips the failed revision (as Argo CD does, even with selfHeal) although the cause is gone; fleetctl's
//! `resync-failed` step (in the next phase it runs) refreshes and syncs it again, and says so.

mod common;

use common::{fleetctl_on, repo_copy, set_layer, text, SimProc};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

fn app(sim: &SimProc, name: &str) -> Value {
    sim.api_get(&format!(
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{name}"
    ))
}

fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn argo_cd_gives_up_on_a_sync_that_lacked_the_seeded_secrets_and_fleetctl_recovers_it() {
    let dir = repo_copy();
    // Phase 1 as it was before the trust bootstrap moved first: no seeding.
    let rb = dir.path().join("runbooks/phase-1.yaml");
    let text_rb = std::fs::read_to_string(&rb).unwrap();
    let start = text_rb.find("  - id: seed-connect-credentials").unwrap();
    let end = text_rb.find("  - id: check-catalog").unwrap();
    std::fs::write(&rb, format!("{}{}", &text_rb[..start], &text_rb[end..])).unwrap();
    // Fast enough that Connect's progress deadline (600 s) and the 10 retries (about 30 min) pass in seconds.
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 100.0, dir.path());
    let answers = dir.path().join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    let p1 = fleetctl_on(
        dir.path(),
        &["phase", "1", "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    );
    assert!(p1.status.success(), "{}", text(&p1));
    // The platform layer goes live without the Connect secrets (what the old phase order did).
    set_layer(dir.path(), "phase-2");
    wait_until(120, "Argo CD to give up on external-secrets", || {
        let a = app(&sim, "external-secrets");
        a.pointer("/status/operationState/phase") == Some(&Value::from("Failed"))
            && a.pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|c| c["type"] == "SyncError"))
    });
    let failed = app(&sim, "external-secrets");
    let msg = failed
        .pointer("/status/operationState/message")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(
        msg.contains("Degraded") && msg.contains("onepassword-connect"),
        "{failed:#}"
    );
    assert_eq!(
        failed.pointer("/status/operationState/retryCount"),
        Some(&Value::from(10)),
        "the Application's retry.limit was spent"
    );
    // No store without its token: the store's wave never ran.
    assert!(sim.api_get("/apis/external-secrets.io/v1/clustersecretstores/1password")["kind"] != "ClusterSecretStore");

    // The secrets are seeded by hand; Connect can start now, but Argo CD does not try that revision again.
    for (ns, name, key, file) in [
        (
            "1passwordconnect",
            "1password-credentials",
            "1password-credentials.json",
            "rehearsal-connect-credentials.json",
        ),
        (
            "external-secrets",
            "1passwordconnect",
            "token",
            "rehearsal-connect-token.txt",
        ),
    ] {
        let src = dir.path().join("runbooks/answers").join(file);
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .arg("--cache-dir")
            .arg(sim.kubeconfig.with_file_name("kube-cache"))
            .args(["-n", ns, "create", "secret", "generic", name])
            .arg(format!("--from-file={key}={}", src.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    wait_until(60, "Connect to become Available", || {
        let d = sim.api_get("/apis/apps/v1/namespaces/1passwordconnect/deployments/onepassword-connect");
        d["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Available" && c["status"] == "True"))
    });
    // Several reconciliations later (180 s each, simulated), the revision is still skipped.
    let until = Instant::now() + Duration::from_secs_f64(600.0 / 100.0);
    while Instant::now() < until {
        let a = app(&sim, "external-secrets");
        assert_eq!(
            a.pointer("/status/operationState/phase"),
            Some(&Value::from("Failed")),
            "Argo CD retried by itself: {a:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // fleetctl's phase 2 (its decisions taken, the layer on, then resync-failed) recovers it and says so.
    let out = fleetctl_on(
        dir.path(),
        &["phase", "2", "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("refreshed and re-synced Application argocd/external-secrets") && t.contains("last sync had failed"),
        "{t}"
    );
    wait_until(60, "external-secrets to sync", || {
        let a = app(&sim, "external-secrets");
        a.pointer("/status/sync/status") == Some(&Value::from("Synced"))
    });
    wait_until(60, "the ClusterSecretStore to be Ready", || {
        let s = sim.api_get("/apis/external-secrets.io/v1/clustersecretstores/1password");
        s["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
    });
}
