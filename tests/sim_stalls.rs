//! Stall faults at run time (issue 14 items 3 and 10): clearing a stall with `PUT /_sim/faults` releases
//! what it held without anything else touching it; `Cond=Status` stalls parse; a spec the sim cannot parse
//! is refused with 400 and the reason; a PVC stall holds the claim Pending (under any name kubectl knows
//! the kind by); an Application stall reports the held health with a message.
mod sim_support;

use fleetctl::sim::{self, Platform, SimConfig};
use serde_json::json;
use sim_support::{apply_yaml, get_json, raw, wait_condition, wait_field};
use std::time::Duration;

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_stall_at_run_time_releases_the_object_it_held() {
    let faults = "stall=Deployment/default/web=Progressing,\
                  stall=Subscription/openshift-gitops-operator/openshift-gitops-operator=UpgradePending";
    let h = sim_support::start(Platform::Openshift, 50.0, faults, false).await;
    let c = sim_support::kube_client(&h).await;
    apply_yaml(&c, DEPLOY).await.unwrap();
    apply_yaml(
        &c,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: openshift-gitops-operator}\n",
    )
    .await
    .unwrap();
    apply_yaml(&c, "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {name: openshift-gitops-operator, namespace: openshift-gitops-operator}\nspec: {channel: latest, name: openshift-gitops-operator, source: redhat-operators, sourceNamespace: openshift-marketplace}\n").await.unwrap();
    wait_condition(
        &c,
        "apps/v1",
        "Deployment",
        Some("default"),
        "web",
        "Available",
        "False",
        10,
    )
    .await;
    wait_field(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("openshift-gitops-operator"),
        "openshift-gitops-operator",
        "/status/state",
        json!("UpgradePending"),
        10,
    )
    .await;
    assert!(
        h.settle(Duration::from_secs(10)).await,
        "the controllers settle while the stalls hold"
    );
    let web = get_json(&c, "apps/v1", "Deployment", Some("default"), "web")
        .await
        .unwrap();
    assert_eq!(web["status"]["readyReplicas"], 0, "{web}");

    // Clear every stall over HTTP, as `fleetctl sim serve` users and tests/interrupt.rs do; touch nothing.
    let (code, text) = raw(h.addr(), "PUT", "/_sim/faults", "").await;
    assert_eq!(code, 200, "{text}");
    let rv = web["metadata"]["resourceVersion"].clone();
    let web = wait_condition(
        &c,
        "apps/v1",
        "Deployment",
        Some("default"),
        "web",
        "Available",
        "True",
        10,
    )
    .await;
    assert_ne!(web["metadata"]["resourceVersion"], rv);
    wait_field(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("openshift-gitops-operator"),
        "openshift-gitops-operator",
        "/status/state",
        json!("AtLatestKnown"),
        15,
    )
    .await;
    assert_eq!(h.stats().writes, 3, "only the test's three applies were client writes");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_stall_holds_that_condition() {
    // talos gives every Gateway an address, so Programmed=False can only come from the stall
    let h = sim_support::start(
        Platform::Talos,
        50.0,
        "stall=Gateway/default/gw=Programmed=False",
        false,
    )
    .await;
    let c = sim_support::kube_client(&h).await;
    apply_yaml(&c, "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec: {gatewayClassName: cilium, listeners: [{name: https, port: 443, protocol: HTTPS}]}\n").await.unwrap();
    let gw = wait_condition(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("default"),
        "gw",
        "Programmed",
        "False",
        10,
    )
    .await;
    assert!(gw["status"]["addresses"].is_null(), "{gw}");
    h.set_faults("".parse().unwrap());
    let gw = wait_condition(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("default"),
        "gw",
        "Programmed",
        "True",
        10,
    )
    .await;
    assert_eq!(gw["status"]["addresses"][0]["value"], "192.0.2.80");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_faults_refuses_a_spec_it_cannot_parse_with_the_reason() {
    let h = sim_support::start(Platform::Talos, 50.0, "", false).await;
    for (spec, why) in [
        ("stall=Gateway/default/gw=Programmed=Maybe", "True, False or Unknown"),
        ("stall=Deployment/a/b/c=Progressing", "is not Kind/namespace/name"),
        ("stall=Deployment/default/web", "needs Kind/namespace/name=STATE"),
        ("500=7", "outside 0..1"),
    ] {
        let (code, text) = raw(h.addr(), "PUT", "/_sim/faults", spec).await;
        assert_eq!(code, 400, "{spec}: {text}");
        assert!(
            text.contains("\"reason\":\"BadRequest\"") && text.contains(why),
            "{spec}: {text}"
        );
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pvc_stall_holds_the_claim_pending_under_any_name_of_its_kind() {
    // longhorn binds Immediately on talos; the stall names the kind by kubectl's short name
    let h = sim_support::start(Platform::Talos, 50.0, "stall=pvc/default/data=Pending", false).await;
    let c = sim_support::kube_client(&h).await;
    let claim = |n: &str| {
        format!("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {n}, namespace: default}}\nspec: {{storageClassName: longhorn, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n")
    };
    apply_yaml(&c, &claim("data")).await.unwrap();
    apply_yaml(&c, &claim("free")).await.unwrap();
    wait_field(
        &c,
        "v1",
        "PersistentVolumeClaim",
        Some("default"),
        "free",
        "/status/phase",
        json!("Bound"),
        10,
    )
    .await;
    assert!(h.settle(Duration::from_secs(10)).await);
    let held = get_json(&c, "v1", "PersistentVolumeClaim", Some("default"), "data")
        .await
        .unwrap();
    assert_eq!(held["status"]["phase"], "Pending", "{held}");
    h.set_faults("".parse().unwrap());
    wait_field(
        &c,
        "v1",
        "PersistentVolumeClaim",
        Some("default"),
        "data",
        "/status/phase",
        json!("Bound"),
        10,
    )
    .await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_stall_reports_degraded_with_a_message_and_clearing_it_syncs() {
    let repo = tempfile::tempdir().unwrap();
    let mut cfg = SimConfig::new(Platform::Talos);
    cfg.speed = 50.0;
    cfg.faults = "stall=Application/argocd/shop=Degraded".parse().unwrap();
    cfg.repo = Some(repo.path().to_path_buf());
    let h = sim::start(cfg).await.unwrap();
    let c = sim_support::kube_client(&h).await;
    apply_yaml(&c, "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop, namespace: argocd}\nspec: {project: default, source: {repoURL: 'https://example.invalid/fleet.git', path: apps/shop}, destination: {server: 'https://kubernetes.default.svc', namespace: shop}}\n").await.unwrap();
    let app = wait_field(
        &c,
        "argoproj.io/v1alpha1",
        "Application",
        Some("argocd"),
        "shop",
        "/status/health/status",
        json!("Degraded"),
        10,
    )
    .await;
    let msg = app["status"]["health"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("simulated stall"), "{app}");
    assert_eq!(app["status"]["sync"]["status"], "OutOfSync", "{app}");
    // released: the simulated Argo CD tries to sync (the empty repo has no apps/shop: a ComparisonError)
    h.set_faults("".parse().unwrap());
    let app = wait_field(
        &c,
        "argoproj.io/v1alpha1",
        "Application",
        Some("argocd"),
        "shop",
        "/status/health/status",
        json!("Unknown"),
        10,
    )
    .await;
    assert!(
        app["status"]["conditions"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("apps/shop"),
        "{app}"
    );
    h.shutdown().await;
}
