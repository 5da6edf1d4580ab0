//! OpenAPI v3: the index (`/openapi/v3`) and one document per group/version listing every resource's
//! operations with `x-kubernetes-group-version-kind` and the `fieldValidation` parameter, which is what
//! kubectl checks before sending `fieldValidation=Strict` (so it needs no client-side schemas).
//! CRD schemas are included as components; built-in kinds get an open object schema.
//! `/openapi/v2` answers 404, as a server without it would.

use super::errors::ApiError;
use super::Server;
use super::{all_resources, err_resp, json_resp, Body, Req};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::schema::crd_schema;
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

fn gv_doc(shared: &Server, all: &[ResourceInfo], path: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for ri in all {
        for v in &ri.versions {
            if gv_path(ri, v) != path {
                continue;
            }
            let base = format!(
                "/{path}/{}{}",
                if ri.namespaced { "namespaces/{namespace}/" } else { "" },
                ri.plural
            );
            paths.insert(format!("{base}/{{name}}"), ops(ri, v));
            let mut schema = crd_schema(&shared.store, &ri.gr(), v, &shared.faults().old_schema)
                .unwrap_or(json!({"type": "object"}));
            schema["x-kubernetes-group-version-kind"] = json!([{"group": ri.group, "version": v, "kind": ri.kind}]);
            schemas.insert(schema_name(ri, v), schema);
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
        ["v3", gv @ ..] => match gv_doc(shared, &all, &gv.join("/")) {
            Some(d) => json_resp(200, &d),
            None => not_found(),
        },
        _ => not_found(),
    }
}
