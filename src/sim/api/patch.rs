//! The PATCH verb: server-side apply (`apply.rs`), merge patch (RFC 7386) and JSON patch (RFC 6902) by
//! the json-patch crate, strategic merge patch (`smp.rs`, built-in kinds only: a custom resource gets
//! 415 as from a real server).

use super::errors::ApiError;
use serde_json::Value;

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch: 400 for a body that is not a list of operations, 422 for one that does not apply.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops: json_patch::Patch = serde_json::from_value(ops.clone())
        .map_err(|e| ApiError::bad_request(format!("the request body is not a JSON patch: {e}")))?;
    json_patch::patch(doc, &ops)
        .map_err(|e| ApiError::new(422, "Invalid", format!("the JSON patch does not apply: {e}")))
}

use super::apply::{self, ApplyReq};
use super::verbs::output;
use super::write::{
    admitter, check_options, create_obj, manager, owner, parse_body, place, scope_write, store_update, with_warnings,
    Update, R,
};
use super::{json_resp, Req, Server, Target};
use crate::sim::store::admit::Admit;
use crate::sim::store::kinds::ResourceInfo;
use serde_json::json;

/// Server-side apply (`application/apply-patch+yaml`): creates the object when absent.
fn apply_patch(shared: &Server, req: &Req, adm: &Admit, t: &Target, name: &str, old: Option<Value>) -> R {
    let ri = adm.ri;
    let mut cfg = parse_body(req)?;
    place(&mut cfg, ri, t, Some(name))?;
    let warns = adm.decode(&mut cfg, req.q("fieldValidation"))?;
    let (mgr, av) = (manager(req), ri.api_version(&t.version));
    let ar: ApplyReq = owner(req, &mgr, ri, t, &av, adm);
    match old {
        None if t.sub.is_some() => Err(ApiError::not_found(&ri.gr(), name)),
        None => {
            let base = json!({"apiVersion": av, "kind": ri.kind, "metadata": cfg["metadata"].clone()});
            let mut obj = apply::apply(&base, &cfg, &ar)?;
            if let (Some(m), Some(b)) = (obj["metadata"].as_object_mut(), cfg["metadata"].as_object()) {
                for k in ["name", "namespace"] {
                    if let Some(v) = b.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
            }
            let out = create_obj(shared, req, adm, obj, None)?;
            Ok(with_warnings(
                json_resp(201, &output(shared, ri, &t.version, out)),
                &warns,
            ))
        }
        Some(old) => {
            let merged = apply::apply(&old, &cfg, &ar)?;
            let new = scope_write(ri, t, &old, merged);
            let u = Update {
                old: &old,
                expected: None,
                warns: &warns,
                record: None,
            };
            store_update(shared, req, adm, t, new, u)
        }
    }
}

/// PATCH: server-side apply, merge patch, strategic merge patch (built-in kinds) or JSON patch.
pub(super) fn patch(shared: &Server, req: &Req, ri: &ResourceInfo, t: &Target, name: &str) -> R {
    let ct = req.content_type.split(';').next().unwrap_or("").trim().to_string();
    let is_apply = ct == "application/apply-patch+yaml";
    check_options(req, "PatchOptions", is_apply)?;
    let adm = admitter(shared, ri, t);
    let old = shared.store.get(&ri.gr(), t.ns.as_deref().unwrap_or_default(), name);
    if is_apply {
        return apply_patch(shared, req, &adm, t, name, old);
    }
    let old = old.ok_or_else(|| ApiError::not_found(&ri.gr(), name))?;
    let p = parse_body(req)?;
    let mut new = old.clone();
    match ct.as_str() {
        "application/merge-patch+json" => merge_patch(&mut new, &p),
        "application/strategic-merge-patch+json" if adm.schema.is_builtin() => {
            super::smp::apply(&mut new, &p, adm.schema.root())?
        }
        "application/json-patch+json" => json_patch(&mut new, &p)?,
        other => return Err(ApiError::unsupported_media(other)),
    }
    let expected = p
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    place(&mut new, ri, t, Some(name))?;
    // the stored status is not the client's: a main-resource patch is decoded without it
    let status = if ri.has_status && t.sub.is_none() {
        new.as_object_mut().and_then(|m| m.remove("status"))
    } else {
        None
    };
    let warns = adm.decode(&mut new, req.q("fieldValidation"))?;
    if let Some(s) = status {
        new["status"] = s;
    }
    new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
    let new = scope_write(ri, t, &old, new);
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
