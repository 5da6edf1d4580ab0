//! Routing of resource paths to the verbs; the reading verbs (get, list, pod logs) and delete /
//! deletecollection. Writes are in `write`, watches in `watch`.

use super::errors::ApiError;
use super::patch::patch;
use super::selector::Selector;
use super::write::{count_write, create, update};
use super::{all_resources, full, json_resp, Body, Req, Target};
use super::{watch, Server};
use crate::sim::store::error::{FieldError, StoreError};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::Propagation;
use crate::sim::store::{meta_str, schema};
use hyper::{Method, Response};
use serde_json::{json, Value};
use std::sync::Arc;

type R = Result<Response<Body>, ApiError>;

fn not_found_path() -> ApiError {
    ApiError::new(404, "NotFound", "the server could not find the requested resource")
}

pub async fn dispatch(shared: &Arc<Server>, req: &Req, t: Target) -> R {
    let ri = all_resources(shared)
        .into_iter()
        .find(|r| r.group == t.group && r.plural == t.plural && r.versions.contains(&t.version))
        .ok_or_else(not_found_path)?;
    if (!ri.namespaced && t.ns.is_some()) || (ri.namespaced && t.ns.is_none() && t.name.is_some()) {
        return Err(not_found_path());
    }
    match t.sub.as_deref() {
        None => {}
        Some("status") if ri.has_status => {}
        Some("log") if ri.plural == "pods" && req.method == Method::GET => {}
        Some("scale") if ri.plural == "deployments" || ri.plural == "statefulsets" => {}
        Some("finalize") if ri.plural == "namespaces" && req.method == Method::PUT => {}
        Some(_) => return Err(not_found_path()),
    }
    let ns = t.ns.clone().unwrap_or_default();
    let m = req.method.clone();
    match (m, t.name.as_deref()) {
        (Method::GET, None) if req.is_watch() => watch::serve(shared, req, &ri, &t).await,
        (Method::GET, None) => list(shared, req, &ri, &t),
        (_, Some(name)) if t.sub.as_deref() == Some("scale") => scale(shared, req, &ri, &ns, name),
        (_, Some(name)) if t.sub.as_deref() == Some("finalize") => finalize(shared, req, &ri, &t, name),
        (Method::GET, Some(name)) if t.sub.as_deref() == Some("log") => pod_log(shared, &ns, name, req),
        (Method::GET, Some(name)) => {
            let obj = shared
                .store
                .get(&ri.gr(), &ns, name)
                .ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
            let obj = output(shared, &ri, &t.version, obj);
            if super::table::wanted(&req.accept) {
                let tb = super::table::table(shared, &ri, &t.version, &[obj], None, req.q("includeObject"), true);
                return Ok(json_resp(200, &tb));
            }
            Ok(json_resp(200, &obj))
        }
        (Method::POST, None) => create(shared, req, &ri, &t),
        (Method::PUT, Some(name)) => update(shared, req, &ri, &t, name),
        (Method::PATCH, Some(name)) => patch(shared, req, &ri, &t, name),
        (Method::DELETE, Some(name)) => delete(shared, req, &ri, &t, name),
        (Method::DELETE, None) => delete_collection(shared, req, &ri, &t),
        (m, _) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({m})"
        ))),
    }
}

/// The object as served at `version` (old-schema faults applied to CRDs).
pub fn output(shared: &Server, ri: &ResourceInfo, version: &str, mut obj: Value) -> Value {
    obj["apiVersion"] = json!(ri.api_version(version));
    obj["kind"] = json!(ri.kind);
    if ri.plural == "customresourcedefinitions" {
        obj = schema::served_crd(obj, &shared.faults().old_schema);
    }
    obj
}

/// `limit` and `continue` (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks):
/// items in key (namespace/name) order after the token's start; the token carries the first page's
/// resourceVersion and the pages after it say that version too. SIMULATED: later pages read the current
/// objects, not a snapshot at that version.
struct Page {
    items: Vec<Value>,
    rv: u64,
    next: Option<String>,
    remaining: Option<usize>,
}

fn paginate(req: &Req, items: Vec<Value>, rv: u64) -> Result<Page, ApiError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = |o: &Value| format!("{}/{}", meta_str(o, "namespace"), meta_str(o, "name"));
    let (start, rv) = match req.q("continue").filter(|c| !c.is_empty()) {
        None => (String::new(), rv),
        Some(c) => {
            if req.q("resourceVersion").is_some_and(|v| !v.is_empty()) {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let tok: Value = b64
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| ApiError::bad_request("continue key is not valid: illegal base64 data"))?;
            let start = tok["start"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('\u{0}')
                .to_string();
            (start, tok["rv"].as_u64().unwrap_or(rv))
        }
    };
    let mut items: Vec<Value> = items
        .into_iter()
        .filter(|o| start.is_empty() || key(o) > start)
        .collect();
    let limit = req.q("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let Some(limit) = limit.filter(|l| items.len() > *l) else {
        return Ok(Page {
            items,
            rv,
            next: None,
            remaining: None,
        });
    };
    let remaining = items.len() - limit;
    items.truncate(limit);
    let last = items.last().map(key).unwrap_or_default();
    let tok = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{last}\u{0}")});
    Ok(Page {
        items,
        rv,
        next: Some(b64.encode(tok.to_string())),
        remaining: Some(remaining),
    })
}

fn list(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target) -> R {
    let sel = Selector::parse(req.q("labelSelector"), req.q("fieldSelector"))?;
    let (items, rv) = shared.store.list(&ri.gr(), t.ns.as_deref());
    let items: Vec<Value> = items
        .into_iter()
        .filter(|o| sel.matches(o))
        .map(|o| output(shared, ri, &t.version, o))
        .collect();
    let page = paginate(req, items, rv)?;
    let mut meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(c) = &page.next {
        meta["continue"] = json!(c);
        meta["remainingItemCount"] = json!(page.remaining);
    }
    if super::table::wanted(&req.accept) {
        let mut tb = super::table::table(
            shared,
            ri,
            &t.version,
            &page.items,
            Some(page.rv.to_string()),
            req.q("includeObject"),
            true,
        );
        tb["metadata"] = meta;
        return Ok(json_resp(200, &tb));
    }
    Ok(json_resp(
        200,
        &json!({"kind": format!("{}List", ri.kind), "apiVersion": ri.api_version(&t.version),
            "metadata": meta, "items": page.items}),
    ))
}

fn pod_log(shared: &Server, ns: &str, name: &str, req: &Req) -> R {
    let pod = shared
        .store
        .get("pods", ns, name)
        .ok_or_else(|| ApiError::not_found("pods", name))?;
    let container = req
        .q("container")
        .map(str::to_string)
        .or_else(|| {
            pod.pointer("/spec/containers/0/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    match shared.store.log(ns, name) {
        Some(log) => {
            let log = match req.q("tailLines").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => {
                    let lines: Vec<&str> = log.lines().collect();
                    lines[lines.len().saturating_sub(n)..]
                        .iter()
                        .map(|l| format!("{l}\n"))
                        .collect()
                }
                None => log,
            };
            Ok(full(200, "text/plain", log))
        }
        None => Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        ))),
    }
}

/// The registries that answer a delete with the deleted object (`ReturnDeletedObject: true` in
/// k8s.io/kubernetes `pkg/registry/**/storage/storage.go`); the others answer with a Success Status.
const RETURN_DELETED: &[&str] = &[
    "pods",
    "services",
    "serviceaccounts",
    "persistentvolumeclaims",
    "persistentvolumes",
    "storageclasses.storage.k8s.io",
];

/// DeleteOptions from the query and the body (kubectl sends them as a body), validated as
/// `ValidateDeleteOptions` does (422 Invalid).
fn delete_options(req: &Req) -> Result<Propagation, ApiError> {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let policy = req
        .q("propagationPolicy")
        .map(str::to_string)
        .or_else(|| body["propagationPolicy"].as_str().map(str::to_string));
    let mut errs = vec![];
    let p = match policy.as_deref() {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => {
            let supported = ["Foreground", "Background", "Orphan", "nil"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            errs.push(FieldError::NotSupported(
                "propagationPolicy".into(),
                format!("{other:?}"),
                supported,
            ));
            Propagation::Background
        }
    };
    if let Some(d) = req.q("dryRun").filter(|d| *d != "All") {
        errs.push(FieldError::NotSupported(
            "dryRun".into(),
            format!("[]string{{{d:?}}}"),
            vec!["All".into()],
        ));
    }
    if !errs.is_empty() {
        return Err(StoreError::invalid_fields("DeleteOptions", "meta.k8s.io", "", errs).into());
    }
    Ok(p)
}

/// DELETE: the object when its registry returns it or when finalizers keep it (terminating), else a
/// Success Status naming it.
fn delete(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    let ns = t.ns.clone().unwrap_or_default();
    let p = delete_options(req)?;
    count_write(shared, req, false);
    let d = shared.store.delete_with(&ri.gr(), &ns, name, p, req.dry_run())?;
    if !d.gone || RETURN_DELETED.contains(&ri.gr().as_str()) {
        return Ok(json_resp(200, &output(shared, ri, &t.version, d.obj)));
    }
    Ok(json_resp(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": ri.group, "kind": ri.plural, "uid": d.obj["metadata"]["uid"]}}),
    ))
}

fn delete_collection(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target) -> R {
    let sel = Selector::parse(req.q("labelSelector"), req.q("fieldSelector"))?;
    let p = delete_options(req)?;
    let (items, _) = shared.store.list(&ri.gr(), t.ns.as_deref());
    count_write(shared, req, false);
    let mut out = vec![];
    for o in items.into_iter().filter(|o| sel.matches(o)) {
        let (ns, name) = (meta_str(&o, "namespace").to_string(), meta_str(&o, "name").to_string());
        if let Ok(d) = shared.store.delete_with(&ri.gr(), &ns, &name, p, req.dry_run()) {
            out.push(output(shared, ri, &t.version, d.obj));
        }
    }
    Ok(json_resp(
        200,
        &json!({"kind": format!("{}List", ri.kind), "apiVersion": ri.api_version(&t.version),
            "metadata": {"resourceVersion": shared.store.current_rv().to_string()}, "items": out}),
    ))
}

/// `PUT namespaces/{name}/finalize`: sets the namespace's `spec.finalizers` (how the namespace
/// controller, or someone clearing a stuck namespace, lets a Terminating namespace go).
fn finalize(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    let body = super::write::parse_body(req)?;
    let old = shared
        .store
        .get("namespaces", "", name)
        .ok_or_else(|| ApiError::not_found("namespaces", name))?;
    let mut new = old.clone();
    new["spec"]["finalizers"] = body.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
    count_write(shared, req, false);
    let out = if req.dry_run() {
        new
    } else {
        shared.store.replace("namespaces", new, None)?.0
    };
    Ok(json_resp(200, &output(shared, ri, &t.version, out)))
}

/// The `scale` subresource of Deployments and StatefulSets (autoscaling/v1 Scale).
fn scale(shared: &Server, req: &Req, ri: &ResourceInfo, ns: &str, name: &str) -> R {
    let obj = shared
        .store
        .get(&ri.gr(), ns, name)
        .ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
    let to_scale = |o: &Value| {
        let sel = o
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(",")
            });
        json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": ns, "uid": o["metadata"]["uid"], "resourceVersion": o["metadata"]["resourceVersion"],
                "creationTimestamp": o["metadata"]["creationTimestamp"]},
            "spec": {"replicas": o.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
            "status": {"replicas": o.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": sel.unwrap_or_default()}})
    };
    let mut sc = to_scale(&obj);
    match req.method {
        Method::GET => return Ok(json_resp(200, &sc)),
        Method::PUT => sc = super::write::parse_body(req)?,
        Method::PATCH => {
            let p = super::write::parse_body(req)?;
            if req.content_type.starts_with("application/json-patch+json") {
                super::patch::json_patch(&mut sc, &p)?;
            } else {
                super::patch::merge_patch(&mut sc, &p);
            }
        }
        _ => {
            return Err(ApiError::method_not_allowed(
                "the scale subresource allows get, update and patch",
            ))
        }
    }
    let replicas = sc
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::invalid(&ri.gr(), name, "spec.replicas: Required value"))?;
    count_write(shared, req, false);
    if req.dry_run() {
        let mut o = obj.clone();
        o["spec"]["replicas"] = json!(replicas);
        return Ok(json_resp(200, &to_scale(&o)));
    }
    let mut new = obj.clone();
    new["spec"]["replicas"] = json!(replicas);
    let expected = sc
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (stored, _) = shared.store.replace(&ri.gr(), new, expected.as_deref())?;
    Ok(json_resp(200, &to_scale(&stored)))
}
