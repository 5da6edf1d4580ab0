//! `fleetctl check --snapshot` on status dumps written for the tests: the real phase 1 and 2 criteria
//! must give the right verdict, and a hint that names the likely cause.

mod common;

use serde_json::Value;

fn check(dump: &str) -> (i32, Value) {
    common::check_snapshot("all", "openshift", dump)
}

fn status<'a>(r: &'a Value, id: &str) -> (&'a str, String) {
    let c = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"));
    (
        c["status"].as_str().unwrap(),
        c["hint"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn all_healthy_passes_every_criterion_the_probe_is_skipped() {
    let (code, r) = check("healthy.yaml");
    assert_eq!(code, 0, "{r:#}");
    for id in [
        "p1.operator-installed",
        "p1.default-instance-absent",
        "p1.argocd-available",
        "p1.root-app-synced",
        "p1.argocd-self-managed",
        "p1.layer-live",
        "p2.layer-live",
        "p3.layer-live",
        "p6.layer-live",
        "p2.gateway-programmed",
        "p2.wildcard-cert-ready",
        "p2.default-storageclass",
        "p2.secretstore-ready",
        "p3.redlib-synced",
        "p3.overlay-delta",
    ] {
        assert_eq!(status(&r, id).0, "pass", "{id}: {r:#}");
    }
    assert_eq!(status(&r, "p1.argocd-reachable").0, "skipped");
    assert_eq!(status(&r, "p3.redlib-reachable").0, "skipped");
}

#[test]
fn an_operator_still_installing_is_pending_not_failed() {
    let (code, r) = check("installing.yaml");
    assert_eq!(code, 1);
    let (s, hint) = status(&r, "p1.operator-installed");
    assert_eq!(s, "pending");
    assert!(hint.contains("still installing"), "{hint}");
}

#[test]
fn a_failed_csv_fails_with_its_message() {
    let (code, r) = check("csv-failed.yaml");
    assert_eq!(code, 1);
    let (s, hint) = status(&r, "p1.operator-installed");
    assert_eq!(s, "fail");
    assert!(hint.contains("CSV failed"), "{hint}");
    let c = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "p1.operator-installed")
        .unwrap();
    assert!(c["evidence"]["status.message"]
        .as_str()
        .unwrap()
        .contains("not available"));
}

#[test]
fn the_default_instance_present_fails_naming_the_env_var() {
    let (code, r) = check("default-instance.yaml");
    assert_eq!(code, 1);
    let (s, hint) = status(&r, "p1.default-instance-absent");
    assert_eq!(s, "fail");
    assert!(hint.contains("DISABLE_DEFAULT_ARGOCD_INSTANCE"), "{hint}");
}

#[test]
fn a_gateway_with_a_pending_address_points_at_the_missing_load_balancer() {
    let (code, r) = check("gateway-pending.yaml");
    assert_eq!(code, 1);
    let (s, hint) = status(&r, "p2.gateway-programmed");
    assert_eq!(s, "pending");
    assert!(hint.contains("MetalLB"), "{hint}");
}

#[test]
fn two_default_storage_classes_fail_the_one_and_only_default() {
    let (code, r) = check("two-defaults.yaml");
    assert_eq!(code, 1);
    let (s, _) = status(&r, "p2.default-storageclass");
    assert_eq!(s, "fail");
    let c = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "p2.default-storageclass")
        .unwrap();
    assert_eq!(c["evidence"]["matched"], serde_json::json!(["gp3-csi", "lvms-vg1"]));
}

#[test]
fn an_empty_snapshot_is_refused_rather_than_judged_pending() {
    let empty = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::bin())
        .arg("--repo")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .env("FLEETCTL_STATE_DIR", state.path())
        .args(["check", "--phase", "1", "--cluster", "openshift", "--snapshot"])
        .arg(empty.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing to check"), "{err}");
    assert!(err.contains(&empty.path().display().to_string()), "{err}");
}
