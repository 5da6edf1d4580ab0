//! The writing verbs create (POST) and update (PUT), and what every write shares: request options
//! (dryRun, fieldValidation), the body (size limit, JSON / YAML / protobuf), name and namespace checks,
//! admission (decoding, defaulting, validation: `store::admit`), status-subresource scoping,
//! managedFields and dry-run. Patches are in `patch.rs`.

use super::apply::{self, ApplyReq};
use super::errors::ApiError;
use super::verbs::output;
use super::Server;
use super::{json_resp, Body, Req, Target};
use crate::sim::store::admit::Admit;
use crate::sim::store::error::{FieldError, StoreError};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::{meta_str, names, new_uid, now};
use hyper::Response;
use serde_json::{json, Value};

pub(super) type R = Result<Response<Body>, ApiError>;

/// The API server's limit on a write's body (`MaxRequestBodyBytes`, 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

pub(super) fn parse_body(req: &Req) -> Result<Value, ApiError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
        ));
    }
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

/// The options of a write (apimachinery's `ValidateCreateOptions` and co.): dryRun may only be `All`,
/// fieldValidation Ignore, Warn or Strict; `force` only on an apply. Refused with 422 Invalid.
pub(super) fn check_options(req: &Req, kind: &str, apply: bool) -> Result<(), ApiError> {
    let mut errs = vec![];
    if let Some(d) = req.q("dryRun").filter(|d| *d != "All") {
        errs.push(FieldError::NotSupported(
            "dryRun".into(),
            format!("[]string{{{d:?}}}"),
            vec!["All".into()],
        ));
    }
    if let Some(f) = req
        .q("fieldValidation")
        .filter(|f| !["", "Ignore", "Warn", "Strict"].contains(f))
    {
        let s = ["", "Ignore", "Strict", "Warn"].iter().map(|s| s.to_string()).collect();
        errs.push(FieldError::NotSupported("fieldValidation".into(), format!("{f:?}"), s));
    }
    if kind == "PatchOptions" && !apply && req.q("force").is_some() {
        errs.push(FieldError::Forbidden(
            "force".into(),
            "may not be specified for non-apply patch".into(),
        ));
    }
    if kind == "PatchOptions" && apply && req.q("fieldManager").is_none_or(str::is_empty) {
        errs.push(FieldError::Required(
            "fieldManager".into(),
            "is required for apply patch".into(),
        ));
    }
    if errs.is_empty() {
        return Ok(());
    }
    Err(StoreError::invalid_fields(kind, "meta.k8s.io", "", errs).into())
}

pub(super) fn manager(req: &Req) -> String {
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

pub(super) fn admitter<'a>(shared: &Server, ri: &'a ResourceInfo, t: &'a Target) -> Admit<'a> {
    Admit::new(&shared.store, ri, &t.version, &shared.faults().old_schema)
}

/// How a write's managedFields are recorded.
pub(super) fn owner<'a>(
    req: &Req,
    mgr: &'a str,
    ri: &ResourceInfo,
    t: &'a Target,
    av: &'a str,
    adm: &'a Admit,
) -> ApplyReq<'a> {
    ApplyReq {
        manager: mgr,
        force: req.q("force").is_some_and(|f| f == "true"),
        api_version: av,
        has_status: ri.has_status,
        subresource: t.sub.as_deref(),
        schema: &adm.schema,
    }
}

pub(super) fn with_warnings(mut r: Response<Body>, warns: &[String]) -> Response<Body> {
    for w in warns {
        if let Ok(v) = format!("299 - \"{}\"", w.replace('"', "\\\"")).parse() {
            r.headers_mut().append("warning", v);
        }
    }
    r
}

/// Counts a client write that reached the store logic (`created`: it created an object).
pub(super) fn count_write(shared: &Server, req: &Req, created: bool) {
    if req.dry_run() {
        return;
    }
    let mut st = shared.stats.lock().unwrap();
    if created {
        st.creates += 1;
    } else {
        st.writes += 1;
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
pub(super) fn place(obj: &mut Value, ri: &ResourceInfo, t: &Target, name: Option<&str>) -> Result<(), ApiError> {
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

/// The namespace a new object goes to must exist and not be terminating (the NamespaceLifecycle
/// admission plugin).
fn namespace_open(shared: &Server, ri: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if !ri.namespaced {
        return Ok(());
    }
    let ns = meta_str(obj, "namespace");
    match shared.store.get("namespaces", "", ns) {
        None => Err(ApiError::not_found("namespaces", ns)),
        Some(n) if n.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") => {
            Err(StoreError::forbidden(
                &ri.plural,
                meta_str(obj, "name"),
                &format!("unable to create new content in namespace {ns} because it is being terminated"),
            )
            .into())
        }
        Some(_) => Ok(()),
    }
}

/// Defaults, validates and stores a new object (unless dry-run); counts the write and the create.
/// `record`: a non-apply write's managedFields entry, recorded after defaulting (the writer owns what
/// the server defaulted, as with a real server).
pub(super) fn create_obj(
    shared: &Server,
    req: &Req,
    adm: &Admit,
    mut obj: Value,
    record: Option<&ApplyReq>,
) -> Result<Value, ApiError> {
    let ri = adm.ri;
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
    adm.default(&mut obj, true);
    if let Some(r) = record {
        apply::record_update(None, &mut obj, r);
    }
    namespace_open(shared, ri, &obj)?;
    adm.validate(None, &obj)?;
    admit(shared, adm.ri, None, &obj)?;
    count_write(shared, req, false);
    if req.dry_run() {
        obj["metadata"]["uid"] = json!(new_uid());
        obj["metadata"]["creationTimestamp"] = json!(now());
        return Ok(obj);
    }
    let out = shared.store.create(&ri.gr(), obj)?;
    count_write(shared, req, true);
    Ok(out)
}

pub(super) fn create(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target) -> R {
    check_options(req, "CreateOptions", false)?;
    let adm = admitter(shared, ri, t);
    let mut obj = parse_body(req)?;
    place(&mut obj, ri, t, None)?;
    let warns = adm.decode(&mut obj, req.q("fieldValidation"))?;
    if meta_str(&obj, "name").is_empty() {
        let gen = meta_str(&obj, "generateName").to_string();
        if gen.is_empty() {
            let why = FieldError::Required("metadata.name".into(), "name or generateName is required".into());
            return Err(StoreError::invalid_fields(&ri.kind, &ri.group, "", vec![why]).into());
        }
        obj["metadata"]["name"] = json!(format!("{gen}{}", names::suffix()));
    }
    let (mgr, av) = (manager(req), ri.api_version(&t.version));
    let out = create_obj(shared, req, &adm, obj, Some(&owner(req, &mgr, ri, t, &av, &adm)))?;
    Ok(with_warnings(
        json_resp(201, &output(shared, ri, &t.version, out)),
        &warns,
    ))
}

/// Keeps the parts of `new` a write to this (sub)resource may change.
pub(super) fn scope_write(ri: &ResourceInfo, t: &Target, old: &Value, mut new: Value) -> Value {
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

/// How an update is stored: the live object, the resourceVersion the client expects, warnings to send
/// and (non-apply writes) the managedFields entry to record after defaulting.
pub(super) struct Update<'a> {
    pub old: &'a Value,
    pub expected: Option<String>,
    pub warns: &'a [String],
    pub record: Option<&'a ApplyReq<'a>>,
}

/// Defaults and validates an updated object, then stores it (unless dry-run).
pub(super) fn store_update(shared: &Server, req: &Req, adm: &Admit, t: &Target, mut new: Value, u: Update) -> R {
    let (old, expected, warns) = (u.old, u.expected, u.warns);
    adm.default(&mut new, false);
    if let Some(r) = u.record {
        apply::record_update(Some(old), &mut new, r);
    }
    adm.validate(Some(old), &new)?;
    admit(shared, adm.ri, Some(old), &new)?;
    count_write(shared, req, false);
    let out = if req.dry_run() {
        new
    } else {
        shared.store.replace(&adm.ri.gr(), new, expected.as_deref())?.0
    };
    Ok(with_warnings(
        json_resp(200, &output(shared, adm.ri, &t.version, out)),
        warns,
    ))
}

pub(super) fn update(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    check_options(req, "UpdateOptions", false)?;
    let adm = admitter(shared, ri, t);
    let mut obj = parse_body(req)?;
    place(&mut obj, ri, t, Some(name))?;
    let warns = adm.decode(&mut obj, req.q("fieldValidation"))?;
    let ns = t.ns.clone().unwrap_or_default();
    let old = shared
        .store
        .get(&ri.gr(), &ns, name)
        .ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
    let expected = Some(meta_str(&obj, "resourceVersion").to_string()).filter(|s| !s.is_empty());
    obj["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
    let new = scope_write(ri, t, &old, obj);
    let (mgr, av) = (manager(req), ri.api_version(&t.version));
    let record = owner(req, &mgr, ri, t, &av, &adm);
    let u = Update {
        old: &old,
        expected,
        warns: &warns,
        record: Some(&record),
    };
    store_update(shared, req, &adm, t, new, u)
}
