//! Fidelity: strategic merge patch and client-side `kubectl apply` (k8s.io/apimachinery
//! `pkg/util/strategicpatch/patch.go`), and the dryRun option (apimachinery
//! `pkg/apis/meta/v1/validation/validation.go`, `ValidateDryRun`), probed with the real kubectl.
mod sim_fidelity_support;

use serde_json::{json, Value};
use sim_fidelity_support::{widget_crd, Sim};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: IMAGE\n        ports: [{containerPort: 8080}]\n        env: [{name: A, value: '1'}, {name: B, value: '2'}]\n      - name: sidecar\n        image: busybox:1\n";

fn has_directive(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| k.starts_with('$') || has_directive(x)),
        Value::Array(a) => a.iter().any(has_directive),
        _ => false,
    }
}

/// Client-side `kubectl apply` sends a strategic merge patch with `$setElementOrder/containers` and only
/// the changed container fields; the server merges containers by their patch merge key `name` and the
/// directive is never stored.
#[test]
fn client_side_apply_twice_keeps_every_container_and_stores_no_directive() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "-f", "-"], &DEPLOY.replace("IMAGE", "nginx:1.27"));
    sim.ok(&["apply", "-f", "-"], &DEPLOY.replace("IMAGE", "nginx:1.28"));
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let cs = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs.as_array().map(Vec::len), Some(2), "{d:#}");
    assert_eq!(cs[0]["image"], "nginx:1.28");
    assert_eq!(cs[0]["ports"][0]["containerPort"], 8080, "{d:#}");
    assert_eq!(cs[0]["env"].as_array().map(Vec::len), Some(2), "{d:#}");
    assert!(!has_directive(&d), "a patch directive was stored: {d:#}");
}

/// `env` has patch strategy merge on `name`: a strategic patch that names one container and one new
/// variable adds it and keeps the rest.
#[test]
fn a_strategic_patch_merges_env_by_name() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "-f", "-"], &DEPLOY.replace("IMAGE", "nginx:1.27"));
    let p = r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"C","value":"3"}]}]}}}}"#;
    sim.ok(
        &[
            "patch",
            "deployment",
            "web",
            "-n",
            "default",
            "--type",
            "strategic",
            "-p",
            p,
        ],
        "",
    );
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let web = &d["spec"]["template"]["spec"]["containers"][0];
    let names: Vec<&str> = web["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["A", "B", "C"], "{d:#}");
    assert_eq!(web["image"], "nginx:1.27");
}

/// `$patch: delete` in a list item removes the item with that merge key.
#[test]
fn a_patch_delete_directive_removes_one_container() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "-f", "-"], &DEPLOY.replace("IMAGE", "nginx:1.27"));
    let p = r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#;
    sim.ok(
        &[
            "patch",
            "deployment",
            "web",
            "-n",
            "default",
            "--type",
            "strategic",
            "-p",
            p,
        ],
        "",
    );
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let names: Vec<&str> = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["web"], "{d:#}");
}

/// Custom resources have no patch strategy: kube-apiserver answers a strategic merge patch with 415
/// UnsupportedMediaType (k8s.io/apiserver `pkg/endpoints/handlers/patch.go` offers it only to types
/// with Go structs; https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
/// "strategic merge patch is not supported for custom resources").
#[test]
fn a_strategic_patch_on_a_custom_resource_is_unsupported_media_type() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, "{type: object, properties: {size: {type: integer}}}");
    sim.ok(
        &["apply", "-f", "-"],
        "apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {size: 1}\n",
    );
    let err = sim.fails(
        &[
            "patch",
            "widget",
            "w",
            "-n",
            "default",
            "--type",
            "strategic",
            "-p",
            r#"{"spec":{"size":2}}"#,
        ],
        "",
    );
    assert!(
        err.contains("UnsupportedMediaType") || err.contains("unknown format") || err.contains("415"),
        "{err}"
    );
    assert_eq!(sim.get(&["widget", "w", "-n", "default"])["spec"]["size"], 1);
}

/// `ValidateDryRun`: a dryRun value other than `All` is refused (422 Invalid, CreateOptions) and nothing
/// is written.
#[test]
fn a_dry_run_value_other_than_all_is_refused_and_writes_nothing() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}).to_string();
    let (code, status) = sim.json(
        "POST",
        "/api/v1/namespaces/default/configmaps?dryRun=bogus",
        "application/json",
        &body,
    );
    assert_eq!(code, 422, "{status:#}");
    assert_eq!(status["reason"], "Invalid");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("dryRun: Unsupported value"),
        "{status:#}"
    );
    let gone = sim.kubectl(&["get", "configmap", "c", "-n", "default"], "");
    assert!(!gone.status.success(), "the ConfigMap was stored");
}
