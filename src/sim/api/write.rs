//! The writing verbs: create (POST), update (PUT), patch (apply / merge / strategic / JSON), with
//! status-subresource scoping, defaulting, managedFields, schema pruning and dry-run.

use super::apply::{self, ApplyReq};
use super::errors::ApiError;
use super::verbs::output;
use super::Server;
use super::{json_resp, Body, Req, Target};
use crate::sim::store::defaults;
use crate::sim::store::kinds::builtins;
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::{meta_str, new_uid, now, prune, schema};
use hyper::Response;
use serde_json::{json, Value};

type R = Result<Response<Body>, ApiError>;

pub(super) fn parse_body(req: &Req) -> Result<Value, ApiError> {
    if req.content_type.contains("protobuf") {
        // kubectl's typed clients (create namespace/secret/...) send protobuf
        return super::protobuf::decode_object(&req.body).ok_or_else(|| ApiError::unsupported_media(&req.content_type));
    }
    let text = std::str::from_utf8(&req.body).map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
    let v: Value = if req.content_type.contains("yaml") {
        serde_yaml::from_str(text).map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))?
    };
    Ok(v)
}

fn manager(req: &Req) -> String {
    match req.q("fieldManager") {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => req
            .user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// Prunes a custom resource body against its CRD schema (see `prune`); returns warnings.
fn fields_check(
    shared: &Server,
    req: &Req,
    ri: &ResourceInfo,
    t: &Target,
    obj: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let builtin = builtins().iter().any(|b| b.gr() == ri.gr());
    let schema = if builtin {
        None
    } else {
        schema::crd_schema(&shared.store, &ri.gr(), &t.version, &shared.faults().old_schema)
    };
    Ok(prune::check(ri, schema, req.q("fieldValidation"), obj)?)
}

fn with_warnings(mut r: Response<Body>, warns: &[String]) -> Response<Body> {
    for w in warns {
        if let Ok(v) = format!("299 - \"{}\"", w.replace('"', "\\\"")).parse() {
            r.headers_mut().append("warning", v);
        }
    }
    r
}

pub(super) fn count_write(shared: &Server, req: &Req, created: bool) {
    if req.dry_run() {
        return;
    }
    let mut st = shared.stats.lock().unwrap();
    st.writes += 1;
    if created {
        st.creates += 1;
    }
}

/// The simulated operators' validating webhooks (`World::admit`): a denial is 403 Forbidden, as the API
/// server reports a webhook's refusal.
fn admit(shared: &Server, ri: &ResourceInfo, old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    shared
        .admit(&ri.gr(), old, new)
        .map_err(|m| ApiError::new(403, "Forbidden", m))
}

/// Checks name/namespace of a body against the path and fills them in.
fn place(obj: &mut Value, ri: &ResourceInfo, t: &Target, name: Option<&str>) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if let Some(n) = name {
        let body_name = meta_str(obj, "name");
        if !body_name.is_empty() && body_name != n {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({n})"
            )));
        }
        obj["metadata"]["name"] = json!(n);
    }
    if ri.namespaced {
        let ns = t.ns.clone().unwrap_or_default();
        let body_ns = meta_str(obj, "namespace");
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = json!(ns);
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    obj["apiVersion"] = json!(ri.api_version(&t.version));
    obj["kind"] = json!(ri.kind);
    Ok(())
}

/// Prepares a new object (validation and defaults) and stores it unless dry-run.
fn create_obj(shared: &Server, req: &Req, ri: &ResourceInfo, mut obj: Value) -> Result<Value, ApiError> {
    let ns = meta_str(&obj, "namespace").to_string();
    if ri.namespaced && shared.store.get("namespaces", "", &ns).is_none() {
        return Err(ApiError::not_found("namespaces", &ns));
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
        ] {
            m.remove(k);
        }
    }
    if ri.has_status && !["namespaces", "nodes"].contains(&ri.plural.as_str()) {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
    }
    defaults::on_create(ri, &mut obj)?;
    admit(shared, ri, None, &obj)?;
    if req.dry_run() {
        obj["metadata"]["uid"] = json!(new_uid());
        obj["metadata"]["creationTimestamp"] = json!(now());
        return Ok(obj);
    }
    Ok(shared.store.create(&ri.gr(), obj)?)
}

pub(super) fn create(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target) -> R {
    let mut obj = parse_body(req)?;
    place(&mut obj, ri, t, None)?;
    let warns = fields_check(shared, req, ri, t, &mut obj)?;
    if meta_str(&obj, "name").is_empty() {
        let gen = meta_str(&obj, "generateName").to_string();
        if gen.is_empty() {
            return Err(ApiError::invalid(
                &ri.gr(),
                "",
                "metadata.name: Required value: name or generateName is required",
            ));
        }
        obj["metadata"]["name"] = json!(format!("{gen}{}", crate::sim::store::names::suffix()));
    }
    let mut mfobj = obj.clone();
    apply::record_update(
        None,
        &mut mfobj,
        &manager(req),
        &ri.api_version(&t.version),
        ri.has_status,
        None,
    );
    obj["metadata"]["managedFields"] = mfobj["metadata"]["managedFields"].clone();
    count_write(shared, req, true);
    let out = create_obj(shared, req, ri, obj)?;
    Ok(with_warnings(
        json_resp(201, &output(shared, ri, &t.version, out)),
        &warns,
    ))
}

/// Keeps the parts of `new` a write to this (sub)resource may change.
fn scope_write(ri: &ResourceInfo, t: &Target, old: &Value, mut new: Value) -> Value {
    if t.sub.as_deref() == Some("status") {
        let mut o = old.clone();
        o["status"] = new.get("status").cloned().unwrap_or(Value::Null);
        if new.pointer("/metadata/managedFields").is_some() {
            o["metadata"]["managedFields"] = new["metadata"]["managedFields"].clone();
        }
        if o["status"].is_null() {
            o.as_object_mut().unwrap().remove("status");
        }
        return o;
    }
    if ri.has_status {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    new
}

fn store_update(
    shared: &Server,
    req: &Req,
    ri: &ResourceInfo,
    t: &Target,
    new: Value,
    expected: Option<String>,
    warns: &[String],
) -> R {
    let old = shared.store.get(&ri.gr(), meta_str(&new, "namespace"), meta_str(&new, "name"));
    admit(shared, ri, old.as_ref(), &new)?;
    count_write(shared, req, false);
    let out = if req.dry_run() {
        new
    } else {
        shared.store.replace(&ri.gr(), new, expected.as_deref())?.0
    };
    Ok(with_warnings(
        json_resp(200, &output(shared, ri, &t.version, out)),
        warns,
    ))
}

pub(super) fn update(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    let mut obj = parse_body(req)?;
    place(&mut obj, ri, t, Some(name))?;
    let warns = fields_check(shared, req, ri, t, &mut obj)?;
    let ns = t.ns.clone().unwrap_or_default();
    let old = shared
        .store
        .get(&ri.gr(), &ns, name)
        .ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
    let expected = Some(meta_str(&obj, "resourceVersion").to_string()).filter(|s| !s.is_empty());
    obj["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
    let mut new = scope_write(ri, t, &old, obj);
    defaults::on_update(ri, &mut new);
    let skip = ri.has_status && t.sub.is_none();
    apply::record_update(
        Some(&old),
        &mut new,
        &manager(req),
        &ri.api_version(&t.version),
        skip,
        t.sub.as_deref(),
    );
    store_update(shared, req, ri, t, new, expected, &warns)
}

pub(super) fn patch(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    let ns = t.ns.clone().unwrap_or_default();
    let ct = req.content_type.split(';').next().unwrap_or("").trim().to_string();
    let old = shared.store.get(&ri.gr(), &ns, name);
    let api_version = ri.api_version(&t.version);
    let mgr = manager(req);
    let is_status = t.sub.as_deref() == Some("status");
    if ct == "application/apply-patch+yaml" {
        if req.q("fieldManager").is_none_or(str::is_empty) {
            return Err(ApiError::bad_request(
                "PATCH, application/apply-patch+yaml requires fieldManager",
            ));
        }
        let mut cfg = parse_body(req)?;
        place(&mut cfg, ri, t, Some(name))?;
        let warns = fields_check(shared, req, ri, t, &mut cfg)?;
        let ar = ApplyReq {
            manager: &mgr,
            force: req.q("force").is_some_and(|f| f == "true"),
            api_version: &api_version,
            skip_status: ri.has_status && !is_status,
            subresource: t.sub.as_deref(),
        };
        return match old {
            None if is_status => Err(ApiError::not_found(&ri.gr(), name)),
            None => {
                let base = json!({"apiVersion": api_version, "kind": ri.kind, "metadata": cfg["metadata"].clone()});
                let mut obj = apply::apply(&base, &cfg, &ar)?;
                if let (Some(m), Some(b)) = (obj["metadata"].as_object_mut(), cfg["metadata"].as_object()) {
                    for k in ["name", "namespace"] {
                        if let Some(v) = b.get(k) {
                            m.insert(k.into(), v.clone());
                        }
                    }
                }
                count_write(shared, req, true);
                let out = create_obj(shared, req, ri, obj)?;
                Ok(with_warnings(
                    json_resp(201, &output(shared, ri, &t.version, out)),
                    &warns,
                ))
            }
            Some(old) => {
                let merged = apply::apply(&old, &cfg, &ar)?;
                let mut new = scope_write(ri, t, &old, merged);
                defaults::on_update(ri, &mut new);
                store_update(shared, req, ri, t, new, None, &warns)
            }
        };
    }
    let old = old.ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
    let p = parse_body(req)?;
    let mut new = old.clone();
    match ct.as_str() {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            super::patch::merge_patch(&mut new, &p)
        }
        "application/json-patch+json" => super::patch::json_patch(&mut new, &p)?,
        other => return Err(ApiError::unsupported_media(other)),
    }
    let expected = p
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    place(&mut new, ri, t, Some(name))?;
    let warns = fields_check(shared, req, ri, t, &mut new)?;
    new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
    let mut new = scope_write(ri, t, &old, new);
    defaults::on_update(ri, &mut new);
    apply::record_update(
        Some(&old),
        &mut new,
        &mgr,
        &api_version,
        ri.has_status && !is_status,
        t.sub.as_deref(),
    );
    store_update(shared, req, ri, t, new, expected, &warns)
}
