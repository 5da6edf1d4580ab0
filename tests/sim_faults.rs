//! Fault injection: every kind at its rate shows in /_sim/stats; stalls hold objects; old-schema.
mod sim_support;

use fleetctl::sim::{FaultSpec, Platform, Stats};
use serde_json::json;
use sim_support::{apply_yaml, get_json, raw, wait_field};
use std::collections::BTreeMap;

const N: usize = 200;

async fn hammer(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> BTreeMap<u16, usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..N {
        *seen.entry(raw(addr, method, path, body).await.0).or_default() += 1;
    }
    seen
}

fn sim_stats(text: &str) -> Stats {
    serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_kind_is_injected_at_its_rate_and_counted() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let addr = h.addr();
    for (spec, kind, code) in [
        ("500=0.5", "500", 500u16),
        ("503=0.5", "503", 503),
        ("429=0.5", "429", 429),
        ("drop=0.5", "drop", 0),
    ] {
        h.reset_stats();
        h.set_faults(spec.parse().unwrap());
        let seen = hammer(addr, "GET", "/api/v1/namespaces", "").await;
        let injected = h.stats().faults.get(kind).copied().unwrap_or(0) as usize;
        assert_eq!(seen.get(&code).copied().unwrap_or(0), injected, "{spec}: {seen:?}");
        assert!((60..=140).contains(&injected), "{spec}: {injected} of {N} injected");
        assert_eq!(seen.get(&200).copied().unwrap_or(0), N - injected, "{spec}: {seen:?}");
    }
    // 429 carries Retry-After; the /_sim paths are never faulted
    h.set_faults("429=1".parse().unwrap());
    let (code, text) = raw(addr, "GET", "/apis/apps/v1/deployments", "").await;
    assert_eq!(code, 429);
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1") && text.contains("\"reason\":\"TooManyRequests\""),
        "{text}"
    );
    h.set_faults("500=1,drop=1".parse().unwrap());
    let (code, text) = raw(addr, "GET", "/_sim/stats", "").await;
    assert_eq!(code, 200);
    assert_eq!(sim_stats(&text).faults, h.stats().faults);

    // 409 applies to writes only
    h.reset_stats();
    h.set_faults("409=0.5".parse().unwrap());
    let reads = hammer(addr, "GET", "/api/v1/namespaces/default/configmaps", "").await;
    assert_eq!(reads.get(&200), Some(&N));
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "c-"}}).to_string();
    let writes = hammer(addr, "POST", "/api/v1/namespaces/default/configmaps", &body).await;
    let conflicts = h.stats().faults["409"] as usize;
    assert!((60..=140).contains(&conflicts), "{writes:?}");
    assert_eq!(writes.get(&409), Some(&conflicts));
    assert_eq!(writes.get(&201), Some(&(N - conflicts)));
    assert_eq!(h.stats().creates as usize, N - conflicts);

    // slow: delayed but served; set at run time through PUT /_sim/faults
    h.reset_stats();
    let (code, _) = raw(addr, "PUT", "/_sim/faults", "slow=0.5@30ms").await;
    assert_eq!(code, 200);
    let t0 = std::time::Instant::now();
    let seen = hammer(addr, "GET", "/version", "").await; // not an /api path: never slowed
    assert_eq!(seen.get(&200), Some(&N));
    assert!(h.stats().faults.is_empty());
    let _ = t0;
    let t0 = std::time::Instant::now();
    let seen = hammer(addr, "GET", "/api/v1/nodes", "").await;
    let slowed = h.stats().faults["slow"] as usize;
    assert_eq!(seen.get(&200), Some(&N));
    assert!((60..=140).contains(&slowed), "{slowed}");
    assert!(t0.elapsed() >= std::time::Duration::from_millis(30 * slowed as u64));
    assert!("nonsense=1".parse::<FaultSpec>().is_err());
    let (code, _) = raw(addr, "PUT", "/_sim/faults", "500=7").await;
    assert_eq!(code, 400);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_objects_stay_in_their_state() {
    let faults = "stall=Subscription/openshift-gitops-operator/openshift-gitops-operator=UpgradePending,\
                  stall=Subscription/lvm/lvms-operator=InstallPlanFailed,stall=ArgoCD/argocd/argocd=Pending,no-lb";
    let h = sim_support::start(Platform::Openshift, 50.0, faults, false).await;
    let c = sim_support::kube_client(&h).await;
    for ns in ["openshift-gitops-operator", "lvm", "argocd"] {
        apply_yaml(
            &c,
            &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"),
        )
        .await
        .unwrap();
    }
    for (ns, pkg) in [
        ("openshift-gitops-operator", "openshift-gitops-operator"),
        ("lvm", "lvms-operator"),
    ] {
        // No channel: OLM subscribes to the package's default channel.
        apply_yaml(&c, &format!("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {{name: {pkg}, namespace: {ns}}}\nspec: {{name: {pkg}, source: redhat-operators, sourceNamespace: openshift-marketplace}}\n")).await.unwrap();
    }
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
    let lvm = sim_support::wait_condition(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("lvm"),
        "lvms-operator",
        "InstallPlanFailed",
        "True",
        10,
    )
    .await;
    assert_eq!(lvm["status"]["state"], "");
    // once the controllers have settled (nothing scheduled, every event handled): still held
    assert!(
        h.settle(std::time::Duration::from_secs(10)).await,
        "the controllers settle"
    );
    let sub = get_json(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("openshift-gitops-operator"),
        "openshift-gitops-operator",
    )
    .await
    .unwrap();
    assert_eq!(sub["status"]["state"], "UpgradePending");
    assert!(sub["status"].get("installedCSV").is_none());
    assert!(get_json(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("lvm"),
        "lvms-operator"
    )
    .await
    .unwrap()["status"]
        .get("installedCSV")
        .is_none());

    // a stalled ArgoCD (the CRD is registered by hand here) and a Gateway without a LoadBalancer
    let crd = std::fs::read_to_string(sim_support::crds_dir().map(|d| d.join("argocds.argoproj.io.yaml")).filter(|p| p.exists()).unwrap_or_default()).unwrap_or_else(|_| {
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: argocds.argoproj.io}\nspec: {group: argoproj.io, scope: Namespaced, names: {plural: argocds, singular: argocd, kind: ArgoCD}, versions: [{name: v1beta1, served: true, storage: true, subresources: {status: {}}, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]}\n".into()
    });
    apply_yaml(&c, &crd).await.unwrap();
    sim_support::eventually(10, "argocds served", || async {
        get_json(
            &c,
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "argocds.argoproj.io",
        )
        .await
        .filter(|o| o.pointer("/status/conditions").is_some())
    })
    .await;
    sim_support::eventually(10, "argocds discovered", || async {
        kube::discovery::Discovery::new(c.clone())
            .run()
            .await
            .ok()?
            .has_group("argoproj.io")
            .then_some(())
    })
    .await;
    apply_yaml(&c, "apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata: {name: argocd, namespace: argocd}\nspec: {server: {route: {enabled: true}}}\n").await.unwrap();
    wait_field(
        &c,
        "argoproj.io/v1beta1",
        "ArgoCD",
        Some("argocd"),
        "argocd",
        "/status/phase",
        json!("Pending"),
        10,
    )
    .await;
    apply_yaml(&c, "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: openshift-ingress}\nspec: {gatewayClassName: openshift-default, listeners: [{name: http, port: 80, protocol: HTTP}]}\n").await.unwrap();
    let gw = sim_support::wait_condition(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("openshift-ingress"),
        "gw",
        "Programmed",
        "False",
        10,
    )
    .await;
    let programmed = gw["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Programmed"))
        .unwrap();
    assert_eq!(programmed["reason"], "AddressNotAssigned");
    assert!(
        h.settle(std::time::Duration::from_secs(10)).await,
        "the controllers settle"
    );
    let argo = get_json(&c, "argoproj.io/v1beta1", "ArgoCD", Some("argocd"), "argocd")
        .await
        .unwrap();
    assert_eq!(argo["status"]["phase"], "Pending");
    h.shutdown().await;
}

#[tokio::test]
async fn old_schema_serves_the_crd_without_the_field() {
    let Some(_) = sim_support::crds_dir() else {
        eprintln!("SKIPPED: shared/crds not found");
        return;
    };
    let h = sim_support::start(
        Platform::Openshift,
        50.0,
        "old-schema=argocds.argoproj.io:spec.resourceHealthChecks",
        true,
    )
    .await;
    let c = sim_support::kube_client(&h).await;
    apply_yaml(
        &c,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: openshift-gitops-operator}\n",
    )
    .await
    .unwrap();
    apply_yaml(&c, "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {name: openshift-gitops-operator, namespace: openshift-gitops-operator}\nspec: {name: openshift-gitops-operator, source: redhat-operators, sourceNamespace: openshift-marketplace, channel: latest}\n").await.unwrap();
    let crd = sim_support::eventually(20, "argocds CRD", || async {
        get_json(
            &c,
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "argocds.argoproj.io",
        )
        .await
    })
    .await;
    for v in crd["spec"]["versions"].as_array().unwrap() {
        let props = &v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        assert!(
            props.get("resourceHealthChecks").is_none(),
            "{} still has the field",
            v["name"]
        );
        assert!(props.get("server").is_some());
    }
    // like an older operator's CRD, the API server prunes the field from an applied ArgoCD
    let argo = "apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata: {name: a, namespace: openshift-gitops-operator}\nspec: {resourceHealthChecks: [{group: operators.coreos.com, kind: Subscription, check: 'return {}'}], server: {insecure: true}}\n";
    sim_support::eventually(10, "argocds served", || async {
        kube::discovery::Discovery::new(c.clone())
            .run()
            .await
            .ok()?
            .has_group("argoproj.io")
            .then_some(())
    })
    .await;
    let got = serde_json::to_value(apply_yaml(&c, argo).await.unwrap()).unwrap();
    assert!(got["spec"].get("resourceHealthChecks").is_none(), "{}", got["spec"]);
    assert_eq!(got["spec"]["server"]["insecure"], true);

    // without the fault the field is there
    h.set_faults(Default::default());
    let got = serde_json::to_value(apply_yaml(&c, argo).await.unwrap()).unwrap();
    assert!(got["spec"]["resourceHealthChecks"].is_array());
    let crd = get_json(
        &c,
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        None,
        "argocds.argoproj.io",
    )
    .await
    .unwrap();
    assert!(crd
        .pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/resourceHealthChecks")
        .is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn a_seeded_fault_spec_is_reproducible() {
    let mut runs = vec![];
    for _ in 0..2 {
        let h = sim_support::start(Platform::Talos, 20.0, "500=0.3,503=0.2,seed=42", false).await;
        let mut codes = vec![];
        for _ in 0..50 {
            codes.push(raw(h.addr(), "GET", "/api/v1/namespaces", "").await.0);
        }
        assert!(codes.iter().any(|c| *c != 200) && codes.contains(&200));
        runs.push(codes);
        h.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
}
