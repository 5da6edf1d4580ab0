//! Server-side apply: merge by field ownership, `metadata.managedFields` in FieldsV1 form, conflicts.
//! (The other patch types are in `patch`.)
//!
//! Simplifications (documented in docs/sim.md): a list of maps is merged by key when every item has
//! one of `name`, `type`, `containerPort`, `port`, `mountPath` (first found); other lists are atomic.
//! Conflicts are reported only where another manager owns a leaf and the applied value differs.

use super::errors::ApiError;
use crate::sim::store::now;
use serde_json::{json, Map, Value};

const LIST_KEYS: &[&str] = &["name", "type", "containerPort", "port", "mountPath"];

fn list_key(a: &[Value]) -> Option<&'static str> {
    if a.is_empty() || !a.iter().all(Value::is_object) {
        return None;
    }
    LIST_KEYS.iter().copied().find(|k| {
        let vals: Vec<&Value> = a.iter().filter_map(|i| i.get(*k)).collect();
        vals.len() == a.len()
            && vals.iter().all(|v| v.is_string() || v.is_number())
            && vals.iter().enumerate().all(|(i, v)| !vals[..i].contains(v))
    })
}

fn item_key(field: &str, item: &Value) -> String {
    format!("k:{}", json!({ field: item[field] }))
}

fn fields_of_map(m: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in m {
        let node = match v {
            Value::Object(o) if !o.is_empty() => Value::Object(fields_of_map(o)),
            Value::Array(a) => match list_key(a) {
                Some(f) => {
                    let mut items = Map::new();
                    for it in a {
                        let mut n = fields_of_map(it.as_object().unwrap());
                        n.insert(".".into(), json!({}));
                        items.insert(item_key(f, it), Value::Object(n));
                    }
                    Value::Object(items)
                }
                None => json!({}),
            },
            _ => json!({}),
        };
        out.insert(format!("f:{k}"), node);
    }
    out
}

/// The FieldsV1 set of an object (without server-owned metadata; without status if `skip_status`).
pub fn fieldset(obj: &Value, skip_status: bool) -> Value {
    let mut o = obj.as_object().cloned().unwrap_or_default();
    o.remove("apiVersion");
    o.remove("kind");
    if skip_status {
        o.remove("status");
    }
    if let Some(Value::Object(m)) = o.get_mut("metadata") {
        m.retain(|k, _| ["labels", "annotations", "finalizers", "ownerReferences"].contains(&k.as_str()));
        if m.is_empty() {
            o.remove("metadata");
        }
    }
    Value::Object(fields_of_map(&o))
}

/// Paths to the leaves of a FieldsV1 set.
pub fn leaves(set: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, c) in m {
                    path.push(k.clone());
                    walk(c, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = vec![];
    if set.as_object().is_some_and(|m| !m.is_empty()) {
        walk(set, &mut vec![], &mut out);
    }
    out
}

fn set_contains(set: &Value, path: &[String]) -> bool {
    let mut cur = set;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return false,
        }
    }
    true
}

fn set_remove(set: &mut Value, path: &[String]) {
    if path.is_empty() {
        return;
    }
    if let Some(parent) = path[..path.len() - 1].iter().try_fold(&mut *set, |c, p| c.get_mut(p)) {
        if let Some(m) = parent.as_object_mut() {
            m.remove(&path[path.len() - 1]);
        }
    }
    // prune empty parents
    if path.len() > 1 && set_contains(set, &path[..path.len() - 1]) {
        let parent = path[..path.len() - 1].iter().try_fold(&*set, |c, p| c.get(p));
        if parent.and_then(Value::as_object).is_some_and(|m| m.is_empty()) {
            set_remove(set, &path[..path.len() - 1]);
        }
    }
}

fn set_union(a: &mut Value, b: &Value) {
    if let (Some(am), Some(bm)) = (a.as_object_mut(), b.as_object()) {
        for (k, v) in bm {
            set_union(am.entry(k.clone()).or_insert(json!({})), v);
        }
    }
}

fn step<'a>(cur: &'a Value, seg: &str) -> Option<&'a Value> {
    if let Some(f) = seg.strip_prefix("f:") {
        cur.get(f)
    } else if let Some(k) = seg.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        cur.as_array()?
            .iter()
            .find(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)))
    } else {
        Some(cur) // "."
    }
}

fn step_mut<'a>(cur: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    if let Some(f) = seg.strip_prefix("f:") {
        cur.get_mut(f)
    } else if let Some(k) = seg.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        cur.as_array_mut()?
            .iter_mut()
            .find(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)))
    } else {
        Some(cur)
    }
}

fn get_path<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |c, s| step(c, s))
}

fn remove_path(obj: &mut Value, path: &[String]) {
    let (last, parent_path) = match path.split_last() {
        Some((l, p)) if l == "." => match p.split_last() {
            Some((l2, p2)) => (l2, p2),
            None => return,
        },
        Some(x) => x,
        None => return,
    };
    let Some(cur) = parent_path.iter().try_fold(obj, |c, s| step_mut(c, s)) else {
        return;
    };
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(k) = last.strip_prefix("k:") {
        if let (Ok(key), Some(a)) = (serde_json::from_str::<Map<String, Value>>(k), cur.as_array_mut()) {
            a.retain(|i| !key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)));
        }
    }
}

/// Merges an applied configuration into the live object.
fn merge(live: &Value, cfg: &Value) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) => {
            let mut out = l.clone();
            for (k, v) in c {
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match list_key(c) {
            Some(f) if l.iter().all(|i| i.get(f).is_some()) => {
                let mut out = l.clone();
                for ci in c {
                    match out.iter_mut().find(|li| li[f] == ci[f]) {
                        Some(li) => *li = merge(li, ci),
                        None => out.push(ci.clone()),
                    }
                }
                Value::Array(out)
            }
            _ => cfg.clone(),
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

fn entry(manager: &str, op: &str, api_version: &str, set: Value, subresource: Option<&str>) -> Value {
    let mut e = json!({"manager": manager, "operation": op, "apiVersion": api_version, "time": now(),
        "fieldsType": "FieldsV1", "fieldsV1": set});
    if let Some(s) = subresource {
        e["subresource"] = json!(s);
    }
    e
}

fn is_entry(e: &Value, manager: &str, op: &str, sub: Option<&str>) -> bool {
    e["manager"] == manager && e["operation"] == op && e.get("subresource").and_then(Value::as_str) == sub
}

fn path_str(p: &[String]) -> String {
    p.iter()
        .filter(|s| *s != ".")
        .map(|s| match s.strip_prefix("f:") {
            Some(f) => format!(".{f}"),
            None => format!("[{}]", s.trim_start_matches("k:")),
        })
        .collect()
}

pub struct ApplyReq<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    /// Status subresource applies own `.status`; main-resource applies skip it when `skip_status`.
    pub skip_status: bool,
    pub subresource: Option<&'a str>,
}

/// Server-side apply of `cfg` onto `live` (an empty object when creating).
pub fn apply(live: &Value, cfg: &Value, r: &ApplyReq) -> Result<Value, ApiError> {
    let new_set = fieldset(cfg, r.skip_status);
    let mut mf = managed(live);
    let mut conflicts = vec![];
    for leaf in leaves(&new_set) {
        if leaf.last().is_some_and(|s| s == ".") {
            continue;
        }
        for e in mf
            .iter_mut()
            .filter(|e| !is_entry(e, r.manager, "Apply", r.subresource))
        {
            if set_contains(&e["fieldsV1"], &leaf) {
                let (lv, cv) = (get_path(live, &leaf), get_path(cfg, &leaf));
                if lv.is_some() && lv != cv {
                    if r.force {
                        set_remove(&mut e["fieldsV1"], &leaf);
                    } else {
                        conflicts.push(format!(
                            "conflict with \"{}\": {}",
                            e["manager"].as_str().unwrap_or(""),
                            path_str(&leaf)
                        ));
                    }
                }
            }
        }
    }
    if !conflicts.is_empty() {
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
        err.details = Some(
            json!({"name": name, "causes": conflicts.iter().map(|c| json!({"reason": "FieldManagerConflict", "message": c})).collect::<Vec<_>>()}),
        );
        return Err(err);
    }
    let mut cfg_body = cfg.clone();
    if let Some(m) = cfg_body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
        m.remove("resourceVersion");
    }
    let mut out = merge(live, &cfg_body);
    let prev = mf
        .iter()
        .find(|e| is_entry(e, r.manager, "Apply", r.subresource))
        .map(|e| e["fieldsV1"].clone());
    if let Some(prev) = prev {
        for leaf in leaves(&prev) {
            let owned_elsewhere = mf
                .iter()
                .filter(|e| !is_entry(e, r.manager, "Apply", r.subresource))
                .any(|e| set_contains(&e["fieldsV1"], &leaf));
            if !set_contains(&new_set, &leaf) && !owned_elsewhere {
                remove_path(&mut out, &leaf);
            }
        }
    }
    let new_entry = entry(r.manager, "Apply", r.api_version, new_set, r.subresource);
    match mf.iter_mut().find(|e| is_entry(e, r.manager, "Apply", r.subresource)) {
        Some(e) => {
            if e["fieldsV1"] != new_entry["fieldsV1"] || e["apiVersion"] != new_entry["apiVersion"] {
                *e = new_entry;
            }
        }
        None => mf.push(new_entry),
    }
    mf.retain(|e| e["fieldsV1"].as_object().is_some_and(|m| !m.is_empty()));
    out["metadata"]["managedFields"] = Value::Array(mf);
    Ok(out)
}

/// Records an Update-operation manager for the fields a non-apply write changed.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    skip_status: bool,
    sub: Option<&str>,
) {
    let mut mf = old.map(managed).unwrap_or_default();
    let empty = json!({});
    let old_obj = old.unwrap_or(&empty);
    let set = fieldset(new, skip_status);
    let mut changed = json!({});
    for leaf in leaves(&set) {
        if get_path(old_obj, &leaf) != get_path(new, &leaf) {
            let mut node = &mut changed;
            for s in &leaf {
                node = node.as_object_mut().unwrap().entry(s.clone()).or_insert(json!({}));
            }
            for e in mf.iter_mut().filter(|e| !is_entry(e, manager, "Update", sub)) {
                set_remove(&mut e["fieldsV1"], &leaf);
            }
        }
    }
    if changed.as_object().is_some_and(|m| !m.is_empty()) {
        match mf.iter_mut().find(|e| is_entry(e, manager, "Update", sub)) {
            Some(e) => {
                set_union(&mut e["fieldsV1"], &changed);
                e["time"] = json!(now());
            }
            None => mf.push(entry(manager, "Update", api_version, changed, sub)),
        }
    }
    mf.retain(|e| e["fieldsV1"].as_object().is_some_and(|m| !m.is_empty()));
    new["metadata"]["managedFields"] = Value::Array(mf);
}
