//! Fidelity: what kube-apiserver refuses (k8s.io/kubernetes `pkg/apis/*/validation`, k8s.io/apimachinery
//! `pkg/util/validation`, the apiextensions apiserver's schema validation, the request size limits),
//! probed with the real kubectl (whose default `--validate=strict` sends `fieldValidation=Strict`).
mod sim_fidelity_support;

use sim_fidelity_support::{widget_crd, Sim};

fn deploy(selector: &str, image: &str, extra: &str) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: default}}\nspec:\n{selector}{extra}  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: web{image}}}]}}\n")
}
const SEL: &str = "  selector: {matchLabels: {app: web}}\n";

/// apimachinery `IsDNS1123Subdomain`: object names are lower-case RFC 1123 subdomains.
#[test]
fn an_invalid_object_name_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: default}\n",
    );
    assert!(
        err.contains("metadata.name: Invalid value: \"Bad_Name\"") && err.contains("RFC 1123 subdomain"),
        "{err}"
    );
}

/// apimachinery `IsValidLabelValue`: label values are at most 63 characters of `[-A-Za-z0-9_.]`.
#[test]
fn an_invalid_label_value_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {team: 'blue team'}}\n",
    );
    assert!(err.contains("metadata.labels: Invalid value: \"blue team\""), "{err}");
}

/// apps validation `ValidateDeploymentSpec` (and the published schema's `required: [selector, template]`).
#[test]
fn a_deployment_without_a_selector_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(&["apply", "-f", "-"], &deploy("", ", image: nginx", ""));
    assert!(err.contains("spec.selector: Required value"), "{err}");
}

/// core validation `validateContainers`: every container needs an image.
#[test]
fn a_container_without_an_image_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(&["apply", "-f", "-"], &deploy(SEL, "", ""));
    assert!(
        err.contains("spec.template.spec.containers[0].image: Required value"),
        "{err}"
    );
}

/// The typed decoder: a value of the wrong type cannot be decoded (400 BadRequest, "cannot be handled
/// as a Deployment").
#[test]
fn a_value_of_the_wrong_type_is_a_bad_request() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(
        &["apply", "-f", "-"],
        &deploy(SEL, ", image: nginx", "  replicas: two\n"),
    );
    assert!(
        err.contains("cannot be handled as a Deployment") && err.contains("spec.replicas"),
        "{err}"
    );
}

/// `fieldValidation=Strict` (kubectl's default since 1.25): an unknown field of a built-in kind is a
/// strict decoding error (https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation).
#[test]
fn an_unknown_field_of_a_built_in_kind_is_refused_under_strict_validation() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let err = sim.fails(&["apply", "-f", "-"], &deploy(SEL, ", image: nginx", "  colour: red\n"));
    assert!(
        err.contains("strict decoding error: unknown field \"spec.colour\""),
        "{err}"
    );
}

/// apps validation `ValidateDeploymentUpdate`: `spec.selector` is immutable in apps/v1.
#[test]
fn a_deployment_selector_cannot_change() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(
        &["apply", "--server-side", "-f", "-"],
        &deploy(SEL, ", image: nginx", ""),
    );
    let moved = deploy(
        "  selector: {matchLabels: {app: web, tier: front}}\n",
        ", image: nginx",
        "",
    )
    .replace("labels: {app: web}}", "labels: {app: web, tier: front}}");
    let err = sim.fails(&["apply", "--server-side", "-f", "-"], &moved);
    assert!(
        err.contains("spec.selector") && err.contains("field is immutable"),
        "{err}"
    );
}

/// core validation `ValidateServiceUpdate`: a Service's cluster IP does not change once set.
#[test]
fn a_service_cluster_ip_cannot_change() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let svc = |ip: &str| {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: default}}\nspec: {{clusterIP: {ip}, ports: [{{port: 80}}]}}\n")
    };
    sim.ok(&["create", "-f", "-"], &svc("172.30.9.9"));
    let err = sim.fails(&["replace", "-f", "-"], &svc("172.30.9.10"));
    assert!(
        err.contains("spec.clusterIP") && err.contains("field is immutable"),
        "{err}"
    );
}

/// batch validation `ValidateJobUpdate`: a Job's pod template is immutable.
#[test]
fn a_job_template_cannot_change() {
    need_kubectl!();
    let sim = Sim::start("talos");
    let job = |image: &str| {
        format!("apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: default}}\nspec:\n  template:\n    spec: {{restartPolicy: Never, containers: [{{name: c, image: {image}}}]}}\n")
    };
    sim.ok(&["apply", "--server-side", "-f", "-"], &job("busybox:1"));
    let err = sim.fails(&["apply", "--server-side", "-f", "-"], &job("busybox:2"));
    assert!(
        err.contains("spec.template") && err.contains("field is immutable"),
        "{err}"
    );
}

const WIDGET_SCHEMA: &str = "{type: object, required: [size], properties: {size: {type: integer, maximum: 3}, mode: {type: string, enum: [fast, slow]}, code: {type: string, pattern: '^[a-z]+$'}}}";

fn widget(spec: &str) -> String {
    format!(
        "apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: default}}\nspec: {spec}\n"
    )
}

/// apiextensions schema validation: `required`.
#[test]
fn a_custom_resource_missing_a_required_field_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, WIDGET_SCHEMA);
    let err = sim.fails(&["apply", "-f", "-"], &widget("{mode: fast}"));
    assert!(err.contains("spec.size: Required value"), "{err}");
}

/// apiextensions schema validation: `enum` (Unsupported value).
#[test]
fn a_custom_resource_outside_an_enum_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, WIDGET_SCHEMA);
    let err = sim.fails(&["apply", "-f", "-"], &widget("{size: 1, mode: turbo}"));
    assert!(err.contains("spec.mode: Unsupported value: \"turbo\""), "{err}");
}

/// apiextensions schema validation: `maximum`.
#[test]
fn a_custom_resource_over_a_maximum_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, WIDGET_SCHEMA);
    let err = sim.fails(&["apply", "-f", "-"], &widget("{size: 5}"));
    assert!(
        err.contains("spec.size: Invalid value: 5") && err.contains("less than or equal to 3"),
        "{err}"
    );
}

/// apiextensions schema validation: `pattern`.
#[test]
fn a_custom_resource_not_matching_a_pattern_is_refused() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, WIDGET_SCHEMA);
    let err = sim.fails(&["apply", "-f", "-"], &widget("{size: 1, code: ABC}"));
    assert!(
        err.contains("spec.code: Invalid value: \"ABC\"") && err.contains("should match"),
        "{err}"
    );
}

/// k8s.io/apiserver `MaxRequestBodyBytes` (3 MiB): a bigger write is refused with 413 before decoding.
#[test]
fn a_request_body_over_3_mib_is_too_large() {
    let sim = Sim::start("talos");
    let big = "x".repeat(10 * 1024 * 1024);
    let body =
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": big}})
            .to_string();
    let (code, status) = sim.json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    );
    assert_eq!(code, 413, "{status}");
    assert_eq!(status["reason"], "RequestEntityTooLarge");
    assert!(status["message"]
        .as_str()
        .unwrap_or_default()
        .contains("limit is 3145728"));
}

/// core validation `ValidateConfigMap`: data over 1 MiB (`MaxSecretSize`) is refused.
#[test]
fn a_configmap_over_1_mib_is_refused() {
    let sim = Sim::start("talos");
    let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": "x".repeat(2_000_000)}}).to_string();
    let (code, status) = sim.json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    );
    assert_eq!(code, 422, "{status}");
    assert!(
        status["message"].as_str().unwrap_or_default().contains("Too long"),
        "{status}"
    );
}

/// etcd's request limit (1.5 MiB, `--max-request-bytes`): an object under the API server's 3 MiB body
/// limit but over it is not stored (kubernetes/kubernetes#74600: 413 RequestEntityTooLarge).
#[test]
fn an_object_over_etcds_limit_is_not_stored() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(&sim, "{type: object, x-kubernetes-preserve-unknown-fields: true}");
    let body = serde_json::json!({"apiVersion": "fidelity.example.com/v1", "kind": "Widget", "metadata": {"name": "big"}, "spec": {"blob": "x".repeat(2_000_000)}}).to_string();
    let (code, status) = sim.json(
        "POST",
        "/apis/fidelity.example.com/v1/namespaces/default/widgets",
        "application/json",
        &body,
    );
    assert_eq!(code, 413, "{status}");
    assert!(
        sim.kubectl(&["get", "widget", "big", "-n", "default"], "")
            .status
            .code()
            != Some(0)
    );
}
