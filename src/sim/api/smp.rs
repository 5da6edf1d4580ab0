//! Strategic merge patch (k8s.io/apimachinery `pkg/util/strategicpatch/patch.go`) for built-in kinds:
//! maps merge key by key (null deletes); a list whose field has `x-kubernetes-patch-strategy: merge`
//! merges its items by the `x-kubernetes-patch-merge-key` (objects) or by value (scalars), other lists
//! are replaced. Directives: `$patch: replace|delete|merge` on a map or a list item,
//! `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`. Custom resources have
//! no patch strategy: the API server refuses this patch type for them (415).

use super::errors::ApiError;
use crate::sim::store::schema::Node;
use serde_json::{Map, Value};

const ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// Applies a strategic merge patch to `target` under `node` (the object's root schema).
pub fn apply(target: &mut Value, patch: &Value, node: Node) -> Result<(), ApiError> {
    let Value::Object(p) = patch else {
        return Err(bad("a strategic merge patch must be a JSON object"));
    };
    merge_map(target, p, node)
}

fn merge_map(target: &mut Value, patch: &Map<String, Value>, node: Node) -> Result<(), ApiError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut p = patch.clone();
            p.remove("$patch");
            *target = Value::Object(p);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(bad(format!("Unknown patch type: {other}"))),
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        target
            .as_object_mut()
            .unwrap()
            .retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, pv) in patch {
        if k.starts_with('$') {
            continue;
        }
        let child = node.child(k).unwrap_or(Node::Deduced);
        let t = target.as_object_mut().unwrap();
        match pv {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(pm) => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                merge_map(slot, pm, child)?;
                if slot.is_null() {
                    t.remove(k);
                }
            }
            Value::Array(pa) => {
                let slot = t.entry(k.clone()).or_insert(Value::Array(vec![]));
                merge_list(slot, pa, child)?;
            }
            _ => {
                t.insert(k.clone(), pv.clone());
            }
        }
    }
    // list directives that name a field of this map
    for (k, pv) in patch {
        let t = target.as_object_mut().unwrap();
        if let Some(field) = k.strip_prefix(DELETE_FROM) {
            let gone = pv.as_array().cloned().unwrap_or_default();
            if let Some(a) = t.get_mut(field).and_then(Value::as_array_mut) {
                a.retain(|x| !gone.contains(x));
            }
        } else if let Some(field) = k.strip_prefix(ORDER) {
            let key = node.child(field).and_then(|c| c.patch_strategy().1);
            if let Some(a) = t.get_mut(field).and_then(Value::as_array_mut) {
                reorder(a, pv.as_array().map(Vec::as_slice).unwrap_or(&[]), key);
            }
        }
    }
    Ok(())
}

fn merge_list(target: &mut Value, patch: &[Value], node: Node) -> Result<(), ApiError> {
    let (strategy, key) = node.patch_strategy();
    let merge = strategy.is_some_and(|s| s.split(',').any(|x| x == "merge"));
    if !merge
        || patch
            .iter()
            .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *target = Value::Array(patch.iter().filter(|i| i.get("$patch").is_none()).cloned().collect());
        return Ok(());
    }
    if !target.is_array() {
        *target = Value::Array(vec![]);
    }
    let items = node.items();
    let t = target.as_array_mut().unwrap();
    for pi in patch {
        let Some(k) = key.filter(|_| pi.is_object()) else {
            // a list of scalars merges as a set
            if !t.contains(pi) {
                t.push(pi.clone());
            }
            continue;
        };
        let Some(kv) = pi.get(k) else {
            return Err(bad(format!("map: {pi} does not contain declared merge key: {k}")));
        };
        let pos = t.iter().position(|ti| ti.get(k) == Some(kv));
        match (pi.get("$patch").and_then(Value::as_str), pos) {
            (Some("delete"), Some(i)) => {
                t.remove(i);
            }
            (Some("delete"), None) => {}
            (_, Some(i)) => merge_map(&mut t[i], pi.as_object().unwrap(), items)?,
            (_, None) => {
                let mut fresh = Value::Object(Map::new());
                merge_map(&mut fresh, pi.as_object().unwrap(), items)?;
                t.push(fresh);
            }
        }
    }
    Ok(())
}

/// `$setElementOrder`: the listed items first, in that order; the others keep their relative order.
fn reorder(list: &mut Vec<Value>, order: &[Value], key: Option<&str>) {
    let id = |v: &Value| match key {
        Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
        None => v.clone(),
    };
    let wanted: Vec<Value> = order
        .iter()
        .map(|o| if key.is_some() { id(o) } else { o.clone() })
        .collect();
    let mut ordered: Vec<Value> = wanted
        .iter()
        .filter_map(|w| list.iter().find(|i| id(i) == *w).cloned())
        .collect();
    ordered.extend(list.iter().filter(|i| !wanted.contains(&id(i))).cloned());
    *list = ordered;
}
