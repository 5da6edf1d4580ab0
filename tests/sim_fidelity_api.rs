//! Fidelity: the API surface a client discovers and pages through (chunked lists, the built-in groups
//! and kinds, OpenAPI v2 and v3 with the built-in schemas), probed with kubectl and HTTP.
mod sim_fidelity_support;

use sim_fidelity_support::Sim;

/// api-concepts, "Retrieving large results sets in chunks": `limit` returns that many items and a
/// `continue` token (with `remainingItemCount`); following the tokens yields every item once.
#[test]
fn a_list_with_a_limit_is_paged_with_continue_tokens() {
    let sim = Sim::start("talos");
    for i in 1..=5 {
        let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}})
            .to_string();
        assert_eq!(
            sim.json(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                &body
            )
            .0,
            201
        );
    }
    let (code, first) = sim.json("GET", "/api/v1/namespaces/default/configmaps?limit=2", "", "");
    assert_eq!(code, 200, "{first}");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2), "{first:#}");
    assert_eq!(first["metadata"]["remainingItemCount"], 3, "{first:#}");
    let mut names: Vec<String> = vec![];
    let mut page = first;
    loop {
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap().to_string()),
        );
        let Some(c) = page["metadata"]["continue"].as_str().filter(|c| !c.is_empty()) else {
            break;
        };
        let (_, next) = sim.json(
            "GET",
            &format!("/api/v1/namespaces/default/configmaps?limit=2&continue={c}"),
            "",
            "",
        );
        page = next;
    }
    assert_eq!(names, vec!["c1", "c2", "c3", "c4", "c5"]);
}

fn served(sim: &Sim, resource: &str, group_version: &str) {
    let out = sim.ok(
        &[
            "api-resources",
            "--api-group",
            group_version
                .split('/')
                .next()
                .filter(|_| group_version.contains('/'))
                .unwrap_or(""),
        ],
        "",
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{resource} ")) && l.contains(group_version)),
        "{resource} in {group_version}: {out}"
    );
}

/// apps/v1 serves ReplicaSets.
#[test]
fn replicasets_are_served() {
    need_kubectl!();
    let sim = Sim::start("talos");
    served(&sim, "replicasets", "apps/v1");
    sim.ok(&["apply", "-f", "-"], "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs, namespace: default}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec: {containers: [{name: c, image: nginx}]}\n");
}

/// coordination.k8s.io/v1 serves Leases.
#[test]
fn leases_are_served() {
    need_kubectl!();
    let sim = Sim::start("talos");
    served(&sim, "leases", "coordination.k8s.io/v1");
    sim.ok(&["apply", "-f", "-"], "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l, namespace: default}\nspec: {holderIdentity: me, leaseDurationSeconds: 15}\n");
}

/// batch/v1 serves CronJobs.
#[test]
fn cronjobs_are_served() {
    need_kubectl!();
    let sim = Sim::start("talos");
    served(&sim, "cronjobs", "batch/v1");
    sim.ok(&["apply", "-f", "-"], "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj, namespace: default}\nspec:\n  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}\n");
}

/// networking.k8s.io/v1 serves Ingresses.
#[test]
fn ingresses_are_served() {
    need_kubectl!();
    let sim = Sim::start("talos");
    served(&sim, "ingresses", "networking.k8s.io/v1");
    sim.ok(&["apply", "-f", "-"], "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: default}\nspec: {defaultBackend: {service: {name: web, port: {number: 80}}}}\n");
}

/// core/v1 serves Endpoints and discovery.k8s.io/v1 EndpointSlices.
#[test]
fn endpoints_and_endpointslices_are_served() {
    need_kubectl!();
    let sim = Sim::start("talos");
    served(&sim, "endpoints", "v1");
    served(&sim, "endpointslices", "discovery.k8s.io/v1");
    sim.ok(&["apply", "-f", "-"], "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default}\naddressType: IPv4\nendpoints: [{addresses: [10.128.0.9]}]\nports: [{port: 80}]\n");
}

/// kube-apiserver serves `/openapi/v2`, a Swagger 2.0 document with every built-in definition.
#[test]
fn openapi_v2_is_served_with_the_built_in_definitions() {
    let sim = Sim::start("talos");
    let (code, doc) = sim.json("GET", "/openapi/v2", "", "");
    assert_eq!(code, 200);
    assert_eq!(doc["swagger"], "2.0");
    let d = &doc["definitions"]["io.k8s.api.apps.v1.DeploymentSpec"];
    assert!(
        d["properties"]["template"]["$ref"]
            .as_str()
            .is_some_and(|r| r.starts_with("#/definitions/")),
        "{d:#}"
    );
}

/// `kubectl explain` reads the OpenAPI v3 document of the group-version: a built-in kind's fields are
/// listed, with their types and which are required.
#[test]
fn kubectl_explain_lists_the_fields_of_a_built_in_kind() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let out = sim.ok(&["explain", "deployment.spec"], "");
    for f in [
        "replicas\t<integer>",
        "selector\t<LabelSelector> -required-",
        "template\t<PodTemplateSpec> -required-",
    ] {
        assert!(out.contains(f), "{f} not in:\n{out}");
    }
}
