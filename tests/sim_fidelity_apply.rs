//! Fidelity: server-side apply merges and owns fields by the schema, as kube-apiserver does
//! (structured-merge-diff; https://kubernetes.io/docs/reference/using-api/server-side-apply/ "Merge
//! strategy"). Each test probes the simulated cluster with the real kubectl.
mod sim_fidelity_support;

use sim_fidelity_support::{widget_crd, Sim};

fn deploy(env: &str, containers_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: default}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        env: [{env}]\n{containers_extra}"
    )
}

/// structured-merge-diff `merge/update.go` (`prune`): what a manager applied before and no longer
/// applies is removed, and a list item is removed whole. Containers' `env` is a map-list keyed by
/// `name` (`x-kubernetes-list-map-keys` in the published schema).
#[test]
fn reapplying_without_an_env_var_removes_the_whole_item() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(
        &["apply", "--server-side", "-f", "-"],
        &deploy("{name: A, value: '1'}, {name: B, value: '2'}", ""),
    );
    sim.ok(
        &["apply", "--server-side", "-f", "-"],
        &deploy("{name: A, value: '1'}", ""),
    );
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env, &serde_json::json!([{"name": "A", "value": "1"}]), "{d:#}");
}

/// The same rule for a container (pod spec `containers` is a map-list keyed by `name`): dropping the
/// sidecar from the applied configuration removes it, image and all.
#[test]
fn reapplying_without_a_container_removes_the_whole_container() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let sidecar = "      - name: sidecar\n        image: busybox:1\n";
    sim.ok(
        &["apply", "--server-side", "-f", "-"],
        &deploy("{name: A, value: '1'}", sidecar),
    );
    sim.ok(
        &["apply", "--server-side", "-f", "-"],
        &deploy("{name: A, value: '1'}", ""),
    );
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let cs = d["spec"]["template"]["spec"]["containers"].as_array().unwrap().clone();
    assert_eq!(cs.len(), 1, "{cs:#?}");
    assert_eq!(cs[0]["name"], "web");
}

/// apiextensions: a CRD list without `x-kubernetes-list-type` is atomic (structural schemas default
/// lists to atomic; https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy):
/// a second applier that forces the list replaces it whole, nothing is merged by `name`.
#[test]
fn a_crd_list_without_a_list_type_is_atomic() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, "{type: object, properties: {items: {type: array, items: {type: object, properties: {name: {type: string}, size: {type: integer}}}}}}");
    let w = |items: &str| {
        format!("apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: default}}\nspec: {{items: {items}}}\n")
    };
    sim.ok(
        &["apply", "--server-side", "--field-manager=a", "-f", "-"],
        &w("[{name: one, size: 1}]"),
    );
    let conflict = sim.fails(
        &["apply", "--server-side", "--field-manager=b", "-f", "-"],
        &w("[{name: two, size: 2}]"),
    );
    assert!(
        conflict.contains("conflict") && conflict.contains(".spec.items"),
        "{conflict}"
    );
    sim.ok(
        &[
            "apply",
            "--server-side",
            "--field-manager=b",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &w("[{name: two, size: 2}]"),
    );
    let got = sim.get(&["widget", "w", "-n", "default"]);
    assert_eq!(
        got["spec"]["items"],
        serde_json::json!([{"name": "two", "size": 2}]),
        "{got:#}"
    );
}

/// `x-kubernetes-list-type: map` with `x-kubernetes-list-map-keys: [id]`: items are merged by `id` (a key
/// no hand list of "usual" keys would guess), so two appliers each own their item and both stay.
#[test]
fn a_crd_map_list_merges_by_its_declared_key() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, "{type: object, properties: {ports: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [id], items: {type: object, required: [id], properties: {id: {type: string}, weight: {type: integer}}}}}}");
    let w = |items: &str| {
        format!("apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: default}}\nspec: {{ports: {items}}}\n")
    };
    sim.ok(
        &["apply", "--server-side", "--field-manager=a", "-f", "-"],
        &w("[{id: http, weight: 80}]"),
    );
    sim.ok(
        &["apply", "--server-side", "--field-manager=b", "-f", "-"],
        &w("[{id: https, weight: 20}]"),
    );
    let got = sim.get(&["widget", "w", "-n", "default"]);
    let ids: Vec<&str> = got["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["http", "https"], "{got:#}");
}

/// `metadata.finalizers` is `x-kubernetes-list-type: set` in ObjectMeta's published schema: two appliers'
/// finalizers are a union, each owning its value (`v:` in managedFields).
#[test]
fn finalizers_are_a_set_that_two_appliers_share() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let cm = |f: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: default, finalizers: [{f}]}}\n")
    };
    sim.ok(
        &["apply", "--server-side", "--field-manager=a", "-f", "-"],
        &cm("example.com/a"),
    );
    sim.ok(
        &["apply", "--server-side", "--field-manager=b", "-f", "-"],
        &cm("example.com/b"),
    );
    let got = sim.get(&["configmap", "c", "-n", "default", "--show-managed-fields"]);
    assert_eq!(
        got["metadata"]["finalizers"],
        serde_json::json!(["example.com/a", "example.com/b"]),
        "{got:#}"
    );
    let mf = got["metadata"]["managedFields"].to_string();
    assert!(mf.contains("v:\\\"example.com/b\\\""), "{mf}");
}

/// structured-merge-diff `typed/tofieldset.go`: a struct's own path is not a member, so applying
/// `annotations: {}` owns none of the annotations; when that manager then applies without
/// annotations, another manager's annotation stays.
#[test]
fn applying_empty_annotations_does_not_take_another_managers_annotation() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let cm = |ann: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: default{ann}}}\ndata: {{k: v}}\n")
    };
    sim.ok(
        &["apply", "--server-side", "--field-manager=owner", "-f", "-"],
        &cm(", annotations: {team: blue}"),
    );
    sim.ok(
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &cm(", annotations: {}"),
    );
    sim.ok(&["apply", "--server-side", "--field-manager=other", "-f", "-"], &cm(""));
    let got = sim.get(&["configmap", "c", "-n", "default"]);
    assert_eq!(got["metadata"]["annotations"]["team"], "blue", "{got:#}");
}
