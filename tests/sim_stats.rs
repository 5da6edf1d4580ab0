//! /_sim/stats counts every mutating client request; identical re-applies are writes but change nothing.
mod sim_support;

use fleetctl::sim::{Platform, Stats};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use sim_support::raw;

fn body_json(text: &str) -> serde_json::Value {
    serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_every_mutating_request() {
    let h = sim_support::start(Platform::Talos, 50.0, "", false).await;
    let c = sim_support::kube_client(&h).await;
    let (code, _) = raw(h.addr(), "POST", "/_sim/stats/reset", "").await;
    assert_eq!(code, 200);
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let objs: Vec<_> = (0..3)
        .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}")}, "data": {"k": "v"}}))
        .collect();
    let apply_all = || async {
        let mut rvs = vec![];
        for o in &objs {
            let name = o["metadata"]["name"].as_str().unwrap();
            let got = cms
                .patch(name, &PatchParams::apply("fleetctl"), &Patch::Apply(o))
                .await
                .unwrap();
            rvs.push(got.metadata.resource_version.unwrap());
        }
        rvs
    };
    let first = apply_all().await;
    let s = h.stats();
    assert_eq!((s.writes, s.creates), (3, 3));
    assert_eq!(s.requests.get("PATCH configmaps"), Some(&3));

    let second = apply_all().await;
    assert_eq!(first, second, "an identical apply must not bump resourceVersion");
    let s = h.stats();
    assert_eq!(
        (s.writes, s.creates),
        (6, 3),
        "the second sequence counts as writes, creates only on first"
    );

    // dry-run is evaluated but neither stored nor counted
    let dry = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}, "data": {"k": "v"}});
    cms.patch("dry", &PatchParams::apply("fleetctl").dry_run(), &Patch::Apply(&dry))
        .await
        .unwrap();
    assert!(cms.get_opt("dry").await.unwrap().is_none());
    assert_eq!(h.stats().writes, 6);

    // merge patch, delete: writes; reads are not
    cms.patch(
        "cm-0",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "w"}})),
    )
    .await
    .unwrap();
    cms.delete("cm-1", &Default::default()).await.unwrap();
    let _ = cms.list(&Default::default()).await.unwrap();
    let s = h.stats();
    assert_eq!((s.writes, s.creates), (8, 3));
    assert_eq!(s.requests.get("DELETE configmaps"), Some(&1));
    assert!(s.requests.get("GET configmaps").is_some_and(|n| *n >= 1));

    // controllers' writes are not counted: a Deployment becomes Available with one client write
    sim_support::apply_yaml(&c, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: default}\nspec: {replicas: 1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n").await.unwrap();
    sim_support::wait_field(
        &c,
        "apps/v1",
        "Deployment",
        Some("default"),
        "d",
        "/status/readyReplicas",
        json!(1),
        10,
    )
    .await;
    let s = h.stats();
    assert_eq!((s.writes, s.creates), (9, 4));

    // GET /_sim/stats is the same data, and is not itself counted
    let (code, text) = raw(h.addr(), "GET", "/_sim/stats", "").await;
    assert_eq!(code, 200);
    let served: Stats = serde_json::from_value(body_json(&text)).unwrap();
    assert_eq!(served, h.stats());
    assert!(!served.requests.keys().any(|k| k.contains("_sim")));
    raw(h.addr(), "POST", "/_sim/stats/reset", "").await;
    assert_eq!(h.stats(), Stats::default());
    h.shutdown().await;
}

#[tokio::test]
async fn errors_are_status_objects_with_reasons() {
    let h = sim_support::start(Platform::Talos, 50.0, "", false).await;
    let a = h.addr();
    let (code, t) = raw(a, "GET", "/api/v1/namespaces/default/configmaps/none", "").await;
    assert_eq!(code, 404);
    let s = body_json(&t);
    assert_eq!(
        (s["kind"].as_str(), s["reason"].as_str(), s["code"].as_i64()),
        (Some("Status"), Some("NotFound"), Some(404))
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}).to_string();
    assert_eq!(
        raw(a, "POST", "/api/v1/namespaces/default/configmaps", &cm).await.0,
        201
    );
    let (code, t) = raw(a, "POST", "/api/v1/namespaces/default/configmaps", &cm).await;
    assert_eq!(
        (code, body_json(&t)["reason"].as_str().map(str::to_string)),
        (409, Some("AlreadyExists".into()))
    );
    let stale =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "resourceVersion": "1"}}).to_string();
    let (code, t) = raw(a, "PUT", "/api/v1/namespaces/default/configmaps/x", &stale).await;
    assert_eq!(
        (code, body_json(&t)["reason"].as_str().map(str::to_string)),
        (409, Some("Conflict".into()))
    );
    let (code, t) = raw(a, "POST", "/api/v1/namespaces/default/configmaps", "{\"metadata\": {}}").await;
    assert_eq!(
        (code, body_json(&t)["reason"].as_str().map(str::to_string)),
        (422, Some("Invalid".into()))
    );
    let (code, t) = raw(a, "POST", "/api/v1/namespaces/default/configmaps", "{not json").await;
    assert_eq!(
        (code, body_json(&t)["reason"].as_str().map(str::to_string)),
        (400, Some("BadRequest".into()))
    );
    let (code, t) = raw(a, "PUT", "/api/v1/namespaces/default/configmaps", &cm).await;
    assert_eq!(
        (code, body_json(&t)["reason"].as_str().map(str::to_string)),
        (405, Some("MethodNotAllowed".into()))
    );
    let (code, t) = raw(
        a,
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1",
        "",
    )
    .await;
    assert_eq!(code, 200);
    let _ = t; // resourceVersion 1 is still in the history: no error event
    h.shutdown().await;
}

/// A create refused with 409 AlreadyExists tried to write (a write) but created nothing (no create).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_as_already_existing_is_not_counted_as_a_create() {
    let h = sim_support::start(Platform::Talos, 50.0, "", false).await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}}).to_string();
    let (first, _) = raw(h.addr(), "POST", "/api/v1/namespaces/default/configmaps", &body).await;
    let (second, text) = raw(h.addr(), "POST", "/api/v1/namespaces/default/configmaps", &body).await;
    assert_eq!((first, second), (201, 409), "{text}");
    assert!(text.contains("\"reason\":\"AlreadyExists\""), "{text}");
    let s = h.stats();
    assert_eq!((s.writes, s.creates), (2, 1), "{s:?}");
    h.shutdown().await;
}
