//! Validation of built-in kinds, in the words of the API server's validation (k8s.io/kubernetes
//! `pkg/apis/core/validation/validation.go`, `pkg/apis/apps/validation/validation.go`,
//! `pkg/apis/batch/validation/validation.go`, k8s.io/apimachinery `pkg/util/validation/validation.go`):
//! object names and labels, the fields the published schema marks required, and the rules the schema
//! cannot say (a container needs an image, a Deployment's selector must match its template, immutable
//! fields, ConfigMap and Secret keys and size). Only the kinds fleetctl writes are covered in depth.

use super::names::{dns_label, dns_subdomain, label_value, path_segment, qualified_name};
use crate::sim::store::error::{printed, FieldError};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::schema::{Node, ObjectSchema};
use serde_json::{json, Value};

type Errs = Vec<FieldError>;

fn at<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
    v.pointer(p).filter(|x| !x.is_null())
}

/// metadata: name (by the kind's rule), generateName, labels, annotations.
pub fn meta(ri: &ResourceInfo, obj: &Value, errs: &mut Errs) {
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let rule: fn(&str) -> Vec<String> = match ri.plural.as_str() {
        "namespaces" | "services" => dns_label,
        "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings" => path_segment,
        _ => dns_subdomain,
    };
    for m in rule(name) {
        errs.push(FieldError::Invalid("metadata.name".into(), printed(&json!(name)), m));
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for m in qualified_name(k) {
                errs.push(FieldError::Invalid("metadata.labels".into(), printed(&json!(k)), m));
            }
            for m in label_value(v.as_str().unwrap_or_default()) {
                errs.push(FieldError::Invalid("metadata.labels".into(), printed(v), m));
            }
        }
    }
    if let Some(ann) = obj.pointer("/metadata/annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, v) in ann {
            total += k.len() + v.as_str().map_or(0, str::len);
            for m in qualified_name(&k.to_lowercase()) {
                errs.push(FieldError::Invalid(
                    "metadata.annotations".into(),
                    printed(&json!(k)),
                    m,
                ));
            }
        }
        if total > 256 * 1024 {
            errs.push(FieldError::TooLong(
                "metadata.annotations".into(),
                "may not be more than 262144 bytes".into(),
            ));
        }
    }
}

/// The fields the schema marks required, wherever the object has their parent (not under `status`).
pub fn required(v: &Value, node: Node, path: &str, errs: &mut Errs) {
    match v {
        Value::Object(m) => {
            for r in node.required() {
                if m.get(r).is_none_or(Value::is_null) {
                    errs.push(FieldError::Required(join(path, r), String::new()));
                }
            }
            for (k, c) in m {
                if path.is_empty() && k == "status" {
                    continue;
                }
                if let Some(n) = node.child(k) {
                    required(c, n, &join(path, k), errs);
                }
            }
        }
        Value::Array(a) => {
            let items = node.items();
            for (i, x) in a.iter().enumerate() {
                required(x, items, &format!("{path}[{i}]"), errs);
            }
        }
        _ => {}
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

/// A pod spec: containers required, each with a DNS-label name (unique) and an image.
fn pod_spec(spec: &Value, path: &str, errs: &mut Errs) {
    let cs = spec["containers"].as_array().cloned().unwrap_or_default();
    if cs.is_empty() && !errs.iter().any(|e| e.field() == format!("{path}.containers")) {
        errs.push(FieldError::Required(format!("{path}.containers"), String::new()));
    }
    let mut seen = vec![];
    for (i, c) in cs.iter().enumerate() {
        let p = format!("{path}.containers[{i}]");
        match c["name"].as_str().filter(|n| !n.is_empty()) {
            None => {}
            Some(n) => {
                for m in dns_label(n) {
                    errs.push(FieldError::Invalid(format!("{p}.name"), printed(&json!(n)), m));
                }
                if seen.contains(&n) {
                    errs.push(FieldError::Duplicate(format!("{p}.name"), printed(&json!(n))));
                }
                seen.push(n);
            }
        }
        if c["image"].as_str().is_none_or(|s| s.trim().is_empty()) {
            errs.push(FieldError::Required(format!("{p}.image"), String::new()));
        }
    }
}

/// A workload's selector (required, not empty, matching the template's labels).
fn selector(obj: &Value, kind: &str, errs: &mut Errs) {
    let Some(sel) = at(obj, "/spec/selector") else {
        return; // the schema's required check reports it
    };
    let ml = sel["matchLabels"].as_object().cloned().unwrap_or_default();
    let exprs = sel["matchExpressions"].as_array().map_or(0, Vec::len);
    if ml.is_empty() && exprs == 0 {
        let why = format!("empty selector is invalid for {kind}");
        errs.push(FieldError::Invalid("spec.selector".into(), sel.to_string(), why));
        return;
    }
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    if ml.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        errs.push(FieldError::Invalid(
            "spec.template.metadata.labels".into(),
            labels.to_string(),
            "`selector` does not match template `labels`".into(),
        ));
    }
}

/// ConfigMap / Secret data: keys and total size.
fn config_data(obj: &Value, errs: &mut Errs) {
    let mut total = 0usize;
    for field in ["data", "binaryData", "stringData"] {
        for (k, v) in obj[field].as_object().into_iter().flatten() {
            total += v.as_str().map_or(0, str::len);
            let ok = !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
                && k != "."
                && k != "..";
            if !ok {
                errs.push(FieldError::Invalid(format!("{field}[{k}]"), printed(&json!(k)), "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into()));
            }
        }
    }
    if total > 1024 * 1024 {
        errs.push(FieldError::TooLong(
            "[]".into(),
            "may not be more than 1048576 bytes".into(),
        ));
    }
}

/// The rules of one built-in kind on a create or update (`old`).
pub fn kind_rules(ri: &ResourceInfo, old: Option<&Value>, obj: &Value, errs: &mut Errs) {
    match (ri.group.as_str(), ri.plural.as_str()) {
        ("apps", "deployments" | "statefulsets" | "daemonsets" | "replicasets") => {
            let kind = ri.kind.to_lowercase();
            selector(obj, &kind, errs);
            if let Some(t) = at(obj, "/spec/template/spec") {
                pod_spec(t, "spec.template.spec", errs);
                let rp = t["restartPolicy"].as_str().unwrap_or("Always");
                if rp != "Always" {
                    errs.push(FieldError::NotSupported(
                        "spec.template.spec.restartPolicy".into(),
                        printed(&json!(rp)),
                        vec!["Always".into()],
                    ));
                }
            }
            if let Some(r) = at(obj, "/spec/replicas").and_then(Value::as_i64).filter(|r| *r < 0) {
                errs.push(FieldError::Invalid(
                    "spec.replicas".into(),
                    r.to_string(),
                    "must be greater than or equal to 0".into(),
                ));
            }
            immutable(old, obj, "/spec/selector", "spec.selector", errs);
        }
        ("batch", "jobs") => {
            if let Some(t) = at(obj, "/spec/template/spec") {
                pod_spec(t, "spec.template.spec", errs);
                match t["restartPolicy"].as_str() {
                    Some("Never" | "OnFailure") => {}
                    None => errs.push(FieldError::Required(
                        "spec.template.spec.restartPolicy".into(),
                        "valid values: \"OnFailure\", \"Never\"".into(),
                    )),
                    Some(rp) => errs.push(FieldError::NotSupported(
                        "spec.template.spec.restartPolicy".into(),
                        printed(&json!(rp)),
                        vec!["OnFailure".into(), "Never".into()],
                    )),
                }
            }
            immutable(old, obj, "/spec/selector", "spec.selector", errs);
            immutable(old, obj, "/spec/template", "spec.template", errs);
            immutable(old, obj, "/spec/completions", "spec.completions", errs);
        }
        ("", "pods") => {
            if let Some(s) = obj.get("spec") {
                pod_spec(s, "spec", errs);
            }
        }
        ("", "services") => service(old, obj, errs),
        ("", "configmaps" | "secrets") => {
            config_data(obj, errs);
            if old.is_some_and(|o| o["immutable"] == json!(true)) {
                for f in ["data", "binaryData"] {
                    if old.map(|o| &o[f]) != Some(&obj[f]) {
                        errs.push(FieldError::Forbidden(
                            f.into(),
                            "field is immutable when `immutable` is set".into(),
                        ));
                    }
                }
            }
            if ri.plural == "secrets" {
                immutable(old, obj, "/type", "type", errs);
            }
        }
        ("", "persistentvolumeclaims") => pvc(old, obj, errs),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            if let (Some(o), Some(n)) = (old.and_then(|o| at(o, "/roleRef")), at(obj, "/roleRef")) {
                if o != n {
                    errs.push(FieldError::Invalid(
                        "roleRef".into(),
                        n.to_string(),
                        "cannot change roleRef".into(),
                    ));
                }
            }
        }
        ("storage.k8s.io", "storageclasses") => {
            for f in ["parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"] {
                if old.is_some_and(|o| o.get(f) != obj.get(f)) {
                    errs.push(FieldError::Forbidden(
                        f.into(),
                        format!("updates to {f} are forbidden."),
                    ));
                }
            }
        }
        _ => {}
    }
}

fn immutable(old: Option<&Value>, obj: &Value, pointer: &str, field: &str, errs: &mut Errs) {
    let Some(old) = old else { return };
    let (o, n) = (at(old, pointer), at(obj, pointer));
    if o.is_some() && o != n {
        let shown = n.map(printed).unwrap_or_else(|| "null".into());
        errs.push(FieldError::Invalid(field.into(), shown, "field is immutable".into()));
    }
}

fn service(old: Option<&Value>, obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let headless = spec["clusterIP"] == "None";
    let ports = spec["ports"].as_array().cloned().unwrap_or_default();
    if ports.is_empty() && spec["type"] != "ExternalName" && !headless {
        errs.push(FieldError::Required("spec.ports".into(), String::new()));
    }
    for (i, p) in ports.iter().enumerate() {
        if let Some(n) = p["port"].as_i64().filter(|n| !(1..=65535).contains(n)) {
            errs.push(FieldError::Invalid(
                format!("spec.ports[{i}].port"),
                n.to_string(),
                "must be between 1 and 65535, inclusive".into(),
            ));
        }
    }
    immutable(old, obj, "/spec/clusterIP", "spec.clusterIP", errs);
}

fn pvc(old: Option<&Value>, obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    if spec["accessModes"].as_array().is_none_or(Vec::is_empty) {
        errs.push(FieldError::Required(
            "spec.accessModes".into(),
            "at least 1 access mode is required".into(),
        ));
    }
    if spec.pointer("/resources/requests/storage").is_none() {
        errs.push(FieldError::Required("spec.resources[storage]".into(), String::new()));
    }
    if let Some(old) = old {
        let strip = |s: &Value| {
            let mut s = s.clone();
            if let Some(r) = s.pointer_mut("/resources").and_then(Value::as_object_mut) {
                r.remove("requests");
            }
            if let Some(m) = s.as_object_mut() {
                // set by the PV controller when it binds
                m.remove("volumeName");
                m.remove("storageClassName");
                m.remove("volumeAttributesClassName");
            }
            s
        };
        if strip(&old["spec"]) != strip(spec) {
            errs.push(FieldError::Forbidden("spec".into(), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into()));
        }
    }
}

/// Everything the sim validates on a built-in object.
pub fn builtin(ri: &ResourceInfo, schema: &ObjectSchema, old: Option<&Value>, obj: &Value) -> Errs {
    let mut errs = vec![];
    meta(ri, obj, &mut errs);
    required(obj, schema.root(), "", &mut errs);
    kind_rules(ri, old, obj, &mut errs);
    errs
}
