//! OpenAPI: the v3 index (`/openapi/v3`) and one document per group/version listing every resource's
//! operations with `x-kubernetes-group-version-kind` and the `fieldValidation` parameter (what kubectl
//! checks before sending `fieldValidation=Strict`), and `/openapi/v2` (one Swagger 2.0 document).
//! Built-in kinds carry their full schemas (the published Kubernetes v1.37.0 definitions, without
//! descriptions: `store::schema`), so `kubectl explain deployment.spec` lists the fields; CRD schemas are
//! served as their CRDs say.

use super::errors::ApiError;
use super::Server;
use super::{all_resources, err_resp, json_resp, Body, Req};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::schema::{crd_schema, definition_for, definitions};
use hyper::Response;
use serde_json::{json, Map, Value};

fn gv_path(ri: &ResourceInfo, v: &str) -> String {
    if ri.group.is_empty() {
        format!("api/{v}")
    } else {
        format!("apis/{}/{v}", ri.group)
    }
}

fn hash(s: &str) -> String {
    let h = s
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    format!("{h:016X}")
}

fn ops(ri: &ResourceInfo, v: &str) -> Value {
    let gvk = json!({"group": ri.group, "version": v, "kind": ri.kind});
    let params = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": true}}))
            .collect()
    };
    let op = |id: &str, action: &str, p: &[&str]| {
        json!({"operationId": format!("{id}{}", ri.kind), "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk, "parameters": params(p),
            "responses": {"200": {"description": "OK"}}})
    };
    let w = ["dryRun", "fieldManager", "fieldValidation"];
    json!({
        "get": op("read", "get", &["pretty"]),
        "put": op("replace", "put", &w),
        "patch": op("patch", "patch", &["dryRun", "fieldManager", "fieldValidation", "force"]),
        "delete": op("delete", "delete", &["dryRun"]),
    })
}

fn schema_name(ri: &ResourceInfo, v: &str) -> String {
    let g: Vec<&str> = ri.group.split('.').rev().collect();
    format!(
        "{}.{v}.{}",
        if ri.group.is_empty() {
            "io.k8s.api.core".to_string()
        } else {
            g.join(".")
        },
        ri.kind
    )
}

/// A built-in definition as OpenAPI: `$ref`s to `prefix`, nullable type lists as the type, quantities
/// and int-or-strings as Kubernetes publishes them.
fn convert(v: &Value, prefix: &str) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let c = match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => json!(r.replace("#/$defs/", prefix)),
                    ("type", Value::Array(a)) => a.iter().find(|t| *t != "null").cloned().unwrap_or(json!("object")),
                    _ => convert(x, prefix),
                };
                out.insert(k.clone(), c);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| convert(x, prefix)).collect()),
        other => other.clone(),
    }
}

fn definition(name: &str, prefix: &str) -> Value {
    match name {
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => json!({"type": "string"}),
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => json!({"type": "string", "format": "int-or-string"}),
        _ => convert(&definitions()[name], prefix),
    }
}

/// The definitions `roots` reference, transitively, as OpenAPI schemas.
fn closure(roots: &[&str], prefix: &str, into: &mut Map<String, Value>) {
    let mut stack: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
    while let Some(n) = stack.pop() {
        if into.contains_key(&n) || !definitions().contains_key(&n) {
            continue;
        }
        let raw = definitions()[&n].to_string();
        for part in raw.split("\"#/$defs/").skip(1) {
            stack.push(part.split('"').next().unwrap_or_default().to_string());
        }
        into.insert(n.clone(), definition(&n, prefix));
    }
}

/// The schema of one resource version: (its name, schema) for a CRD, or adds a built-in's closure.
fn resource_schema(shared: &Server, ri: &ResourceInfo, v: &str, prefix: &str, into: &mut Map<String, Value>) {
    if let Some(def) = definition_for(&ri.group, v, &ri.kind) {
        return closure(&[def], prefix, into);
    }
    let mut schema =
        crd_schema(&shared.store, &ri.gr(), v, &shared.faults().old_schema).unwrap_or(json!({"type": "object"}));
    schema["x-kubernetes-group-version-kind"] = json!([{"group": ri.group, "version": v, "kind": ri.kind}]);
    into.insert(schema_name(ri, v), schema);
}

fn resource_path(prefix: &str, ri: &ResourceInfo) -> String {
    format!(
        "/{prefix}/{}{}/{{name}}",
        if ri.namespaced { "namespaces/{namespace}/" } else { "" },
        ri.plural
    )
}

fn gv_doc(shared: &Server, all: &[ResourceInfo], path: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for ri in all {
        for v in ri.versions.iter().filter(|v| gv_path(ri, v) == path) {
            paths.insert(resource_path(path, ri), ops(ri, v));
            resource_schema(shared, ri, v, "#/components/schemas/", &mut schemas);
        }
    }
    if paths.is_empty() {
        return None;
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes (simulated cluster)", "version": "v1"},
        "paths": paths, "components": {"schemas": schemas}}),
    )
}

/// `/openapi/v2`: every resource's operations and every schema in one Swagger 2.0 document.
fn v2_doc(shared: &Server, all: &[ResourceInfo]) -> Value {
    let mut paths = Map::new();
    let mut defs = Map::new();
    for ri in all {
        for v in &ri.versions {
            let mut o = ops(ri, v);
            for op in o.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                for p in op["parameters"].as_array_mut().into_iter().flatten() {
                    p["type"] = json!("string");
                    p.as_object_mut().map(|m| m.remove("schema"));
                }
            }
            paths.insert(resource_path(&gv_path(ri, v), ri), o);
            resource_schema(shared, ri, v, "#/definitions/", &mut defs);
        }
    }
    json!({"swagger": "2.0", "info": {"title": "Kubernetes (simulated cluster)", "version": "v1.35.2-sim"},
        "paths": paths, "definitions": defs})
}

pub fn serve(shared: &Server, rest: &[&str], _req: &Req) -> Response<Body> {
    let all = all_resources(shared);
    let not_found = || {
        err_resp(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ))
    };
    match rest {
        ["v3"] => {
            // the hash changes when a group-version's resources or their CRDs change
            let mut keys: std::collections::BTreeMap<String, String> = Default::default();
            let old_schema = format!("{:?}", shared.faults().old_schema);
            for ri in &all {
                let crd_rv = shared
                    .store
                    .get("customresourcedefinitions.apiextensions.k8s.io", "", &ri.gr())
                    .map(|c| c["metadata"]["resourceVersion"].to_string())
                    .unwrap_or_default();
                for v in &ri.versions {
                    let k = keys.entry(gv_path(ri, v)).or_insert_with(|| old_schema.clone());
                    k.push_str(&format!("/{}:{crd_rv}", ri.plural));
                }
            }
            let mut paths = Map::new();
            for (p, k) in keys {
                let url = format!("/openapi/v3/{p}?hash={}", hash(&k));
                paths.insert(p, json!({"serverRelativeURL": url}));
            }
            json_resp(200, &json!({"paths": paths}))
        }
        ["v2"] => json_resp(200, &v2_doc(shared, &all)),
        ["v3", gv @ ..] => match gv_doc(shared, &all, &gv.join("/")) {
            Some(d) => json_resp(200, &d),
            None => not_found(),
        },
        _ => not_found(),
    }
}
