//! Server-side apply and field ownership, as structured-merge-diff does it (sigs.k8s.io/
//! structured-merge-diff `merge/update.go`): the applied configuration is merged into the live object by
//! the schema (maps by key, map-lists by their key fields, sets by value, everything else replaced); what
//! the manager applied last time and no longer applies is removed unless another *applier* owns it; a
//! change to a field another manager owns is a conflict (409) unless forced, which moves the field to the
//! applier. Non-apply writes (create, update, merge/JSON/strategic patches) record an `Update` entry for
//! the fields they changed and take those fields from other managers.
//!
//! The lists and maps follow `store::schema`: the built-in kinds' published `x-kubernetes-list-type`,
//! `-list-map-keys`, `-map-type` (and patch merge keys where a list has no list type), a custom
//! resource's openAPIV3Schema (a list without a list type is atomic), or the deduced type (no schema).

use super::errors::ApiError;
use super::fieldset::{compare, field_set, path_string, remove_items, Set};
use crate::sim::store::now;
use crate::sim::store::schema::{ListType, Node, ObjectSchema};
use serde_json::{json, Value};

pub struct ApplyReq<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    /// The resource has a status subresource (then main-resource writes do not own `.status`).
    pub has_status: bool,
    /// `status` for writes to the status subresource (which own only `.status`).
    pub subresource: Option<&'a str>,
    pub schema: &'a ObjectSchema,
}

/// The part of an object a write's field set covers: no server-owned metadata; for the status
/// subresource only `.status`, for the main resource no `.status` when there is a status subresource.
fn scoped(obj: &Value, r: &ApplyReq) -> Value {
    let mut o = obj.as_object().cloned().unwrap_or_default();
    o.remove("apiVersion");
    o.remove("kind");
    if r.subresource == Some("status") {
        o.retain(|k, _| k == "status");
    } else if r.has_status {
        o.remove("status");
    }
    if let Some(Value::Object(m)) = o.get_mut("metadata") {
        m.retain(|k, _| ["labels", "annotations", "finalizers", "ownerReferences"].contains(&k.as_str()));
        if m.is_empty() {
            o.remove("metadata");
        }
    }
    Value::Object(o)
}

/// Merges an applied configuration into the live object by the schema.
fn merge(live: &Value, cfg: &Value, node: Node) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) if !node.atomic_map() => {
            let mut out = l.clone();
            for (k, cv) in c {
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, cv, node.child(k).unwrap_or(Node::Deduced)),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match node.list_type() {
            ListType::Atomic => cfg.clone(),
            lt => {
                let el = |i: &Value| super::fieldset::item_element(&lt, i);
                let mut out = l.clone();
                for ci in c {
                    match out.iter_mut().find(|li| el(li) == el(ci)) {
                        Some(li) => *li = merge(li, ci, node.items()),
                        None => out.push(ci.clone()),
                    }
                }
                Value::Array(out)
            }
        },
        _ => cfg.clone(),
    }
}

fn managed(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn entry_set(e: &Value) -> Set {
    Set::from_fields_v1(&e["fieldsV1"])
}

fn new_entry(manager: &str, op: &str, api_version: &str, set: &Set, subresource: Option<&str>) -> Value {
    let mut e = json!({"manager": manager, "operation": op, "apiVersion": api_version, "time": now(),
        "fieldsType": "FieldsV1", "fieldsV1": set.to_fields_v1()});
    if let Some(s) = subresource {
        e["subresource"] = json!(s);
    }
    e
}

fn is_entry(e: &Value, manager: &str, op: &str, sub: Option<&str>) -> bool {
    e["manager"] == manager && e["operation"] == op && e.get("subresource").and_then(Value::as_str) == sub
}

/// Removes what the manager applied last time and applies no more, unless an applier owns it now
/// (structured-merge-diff's `prune`: remove the last set, add back what appliers own, remove only what
/// was in the last set).
fn prune(merged: &Value, last: &Set, appliers: &Set, node: Node, r: &ApplyReq) -> Value {
    let m = field_set(&scoped(merged, r), node);
    let mut p1 = scoped(merged, r);
    remove_items(&mut p1, last, node);
    let p1 = field_set(&p1, node);
    let mut p2 = scoped(merged, r);
    remove_items(&mut p2, &m.difference(&p1.union(appliers)), node);
    let p2 = field_set(&p2, node);
    let mut out = merged.clone();
    remove_items(&mut out, &m.difference(&p2).intersection(last), node);
    out
}

fn conflict_error(live: &Value, conflicts: &[String]) -> ApiError {
    let name = live.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let mut err = ApiError::new(
        409,
        "Conflict",
        format!(
            "Apply failed with {} conflict{}: {}",
            conflicts.len(),
            if conflicts.len() == 1 { "" } else { "s" },
            conflicts.join("\n")
        ),
    );
    err.details = Some(json!({"name": name, "causes": conflicts.iter()
        .map(|c| json!({"reason": "FieldManagerConflict", "message": c})).collect::<Vec<_>>()}));
    err
}

/// Server-side apply of `cfg` onto `live` (an object holding only apiVersion, kind and metadata when
/// creating). Returns the new object with its managedFields.
pub fn apply(live: &Value, cfg: &Value, r: &ApplyReq) -> Result<Value, ApiError> {
    let node = r.schema.root();
    let mut mf = managed(live);
    let mut body = cfg.clone();
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
        m.remove("resourceVersion");
    }
    let new_set = field_set(&scoped(&body, r), node);
    let mut merged = merge(live, &body, node);
    let mine = |e: &Value| is_entry(e, r.manager, "Apply", r.subresource);
    if let Some(last) = mf.iter().find(|e| mine(e)).map(entry_set) {
        let appliers = mf
            .iter()
            .filter(|e| e["operation"] == "Apply" && !mine(e))
            .map(entry_set)
            .fold(new_set.clone(), |a, s| a.union(&s));
        merged = prune(&merged, &last, &appliers, node, r);
    }
    let (modified, added, removed) = compare(&scoped(live, r), &scoped(&merged, r), node);
    let changed = modified.union(&added);
    let mut conflicts = vec![];
    for e in mf.iter_mut().filter(|e| !mine(e)) {
        let owned = entry_set(e);
        let clash = owned.intersection(&changed);
        let mut keep = owned.difference(&removed);
        if !clash.is_empty() {
            if r.force {
                keep = keep.difference(&clash);
            } else {
                for p in clash.paths() {
                    conflicts.push(format!(
                        "conflict with \"{}\": {}",
                        e["manager"].as_str().unwrap_or(""),
                        path_string(&p)
                    ));
                }
            }
        }
        e["fieldsV1"] = keep.to_fields_v1();
    }
    if !conflicts.is_empty() {
        return Err(conflict_error(live, &conflicts));
    }
    let entry = new_entry(r.manager, "Apply", r.api_version, &new_set, r.subresource);
    match mf.iter_mut().find(|e| mine(e)) {
        Some(e) if entry_set(e) == new_set && e["apiVersion"] == entry["apiVersion"] => {}
        Some(e) => *e = entry,
        None => mf.push(entry),
    }
    mf.retain(|e| !entry_set(e).is_empty());
    merged["metadata"]["managedFields"] = Value::Array(mf);
    Ok(merged)
}

/// Records an `Update` entry for the fields a non-apply write changed (others lose them), as
/// structured-merge-diff's `Update` does.
pub fn record_update(old: Option<&Value>, new: &mut Value, r: &ApplyReq) {
    let node = r.schema.root();
    let mut mf = old.map(managed).unwrap_or_default();
    let empty = json!({});
    let (modified, added, removed) = compare(&scoped(old.unwrap_or(&empty), r), &scoped(new, r), node);
    let changed = modified.union(&added);
    let mine = |e: &Value| is_entry(e, r.manager, "Update", r.subresource);
    for e in mf.iter_mut().filter(|e| !mine(e)) {
        let keep = entry_set(e).difference(&changed).difference(&removed);
        e["fieldsV1"] = keep.to_fields_v1();
    }
    match mf.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            let set = entry_set(e).union(&changed).difference(&removed);
            if set != entry_set(e) {
                e["fieldsV1"] = set.to_fields_v1();
                e["time"] = json!(now());
            }
        }
        None if !changed.is_empty() => mf.push(new_entry(r.manager, "Update", r.api_version, &changed, r.subresource)),
        None => {}
    }
    mf.retain(|e| !entry_set(e).is_empty());
    new["metadata"]["managedFields"] = Value::Array(mf);
}
