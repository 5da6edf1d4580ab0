//! `fleetctl check --phase 5 --snapshot` on status dumps written for the tests (taken from the simulated
//! cluster, then broken on purpose): each failure mode gets the right verdict and a hint naming its cause.

mod common;

use serde_json::Value;

fn check(dump: &str, cluster: &str) -> (i32, Value) {
    common::check_snapshot("5", cluster, &format!("phase5/{dump}"))
}

fn get<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing: {r:#}"))
}

#[test]
fn a_healthy_dump_passes_every_criterion_despite_a_stale_provisioning_event() {
    let (code, r) = check("healthy.yaml", "openshift");
    assert_eq!(code, 0, "{r:#}");
    for id in [
        "p5.app-synced",
        "p5.pvc-storageclass",
        "p5.scc-admitted",
        "p5.backup-succeeded",
        "p5.restore-wired",
    ] {
        assert_eq!(get(&r, id)["status"], "pass", "{id}: {r:#}");
    }
}

#[test]
fn a_pod_refused_by_the_scc_fails_with_the_admission_message() {
    let (code, r) = check("scc-rejected.yaml", "openshift");
    assert_eq!(code, 1);
    let c = get(&r, "p5.scc-admitted");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["hint"].as_str().unwrap().contains("OpenShift refused the pod"),
        "{c:#}"
    );
    assert!(
        c["evidence"]["event"]
            .as_str()
            .unwrap()
            .contains("unable to validate against any security context constraint"),
        "{c:#}"
    );
    // the rest of the app is fine: only the SCC criterion fails
    assert_eq!(get(&r, "p5.pvc-storageclass")["status"], "pass");
}

#[test]
fn a_pvc_pending_on_a_missing_storage_class_fails_naming_the_class() {
    let (code, r) = check("pvc-missing-sc.yaml", "openshift");
    assert_eq!(code, 1);
    let c = get(&r, "p5.pvc-storageclass");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["evidence"]["event"]
            .as_str()
            .unwrap()
            .contains("\"lvms-vg1\" not found"),
        "{c:#}"
    );
    assert!(c["hint"].as_str().unwrap().contains("overlays/openshift"), "{c:#}");
    // no pod yet is pending, not failed: nothing refused it
    assert_eq!(get(&r, "p5.scc-admitted")["status"], "pending");
}

#[test]
fn a_failed_backup_fails_with_its_cause_in_the_evidence() {
    let (code, r) = check("backup-failed.yaml", "openshift");
    assert_eq!(code, 1);
    let c = get(&r, "p5.backup-succeeded");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["evidence"]["status.failure.message"]
            .as_str()
            .unwrap()
            .contains("403 Forbidden"),
        "{c:#}"
    );
    assert!(c["hint"].as_str().unwrap().contains("status.failure"), "{c:#}");
    assert_eq!(get(&r, "p5.restore-wired")["status"], "pass");
}

#[test]
fn on_talos_the_scc_criterion_is_not_applicable_and_the_class_is_longhorn() {
    let (code, r) = check("healthy.yaml", "talos");
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(get(&r, "p5.scc-admitted")["status"], "skipped");
    // the OpenShift dump's PVC is on lvms-vg1, which is wrong for Talos
    let c = get(&r, "p5.pvc-storageclass");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(c["title"].as_str().unwrap().contains("longhorn"), "{c:#}");
}
