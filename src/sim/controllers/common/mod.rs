//! Helpers the simulated operators share. Controller files import this module and `super::Ctx`, never
//! each other (docs/sim.md, "Layers").

pub mod admission;
pub mod health;
pub mod lb;
pub mod nodes;
pub mod pod_start;
pub mod status;
pub mod storage;

use crate::sim::store::kinds::builtins;
use crate::sim::store::{meta_str, names::suffix, now};
use serde_json::{json, Value};

use super::Ctx;

/// A condition; `set_cond` keeps lastTransitionTime when the status did not change.
pub fn cond(t: &str, status: &str, reason: &str, msg: &str) -> Value {
    json!({"type": t, "status": status, "reason": reason, "message": msg, "lastTransitionTime": now()})
}

pub fn set_cond(obj: &mut Value, mut c: Value) {
    // metav1.Condition (custom resources) carries observedGeneration; the built-in kinds' own condition
    // types (DeploymentCondition, JobCondition, ...) have no such field.
    if let Some(g) = obj
        .pointer("/metadata/generation")
        .cloned()
        .filter(|_| !is_builtin(obj))
    {
        c["observedGeneration"] = g;
    }
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    if !obj["status"]["conditions"].is_array() {
        obj["status"]["conditions"] = json!([]);
    }
    let conds = obj["status"]["conditions"].as_array_mut().unwrap();
    match conds.iter_mut().find(|x| x["type"] == c["type"]) {
        Some(old) => {
            if old["status"] == c["status"] {
                c["lastTransitionTime"] = old["lastTransitionTime"].clone();
            }
            *old = c;
        }
        None => conds.push(c),
    }
}

/// Whether an object is of a built-in kind (its status follows the Go types, not metav1.Condition).
fn is_builtin(obj: &Value) -> bool {
    let av = obj["apiVersion"].as_str().unwrap_or_default();
    let (group, _) = av.rsplit_once('/').unwrap_or(("", av));
    builtins()
        .iter()
        .any(|r| r.group == group && obj["kind"] == r.kind.as_str())
}

pub fn has_true(obj: &Value, t: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
}

/// Sets `status.<field>` only when absent (timestamps that must not churn).
pub fn set_once(obj: &mut Value, field: &str, v: Value) {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    if obj["status"].get(field).is_none_or(Value::is_null) {
        obj["status"][field] = v;
    }
}

/// The key a controller's pending run is known by: `gr/namespace/name`.
pub fn key(gr: &str, obj: &Value) -> String {
    format!("{gr}/{}/{}", meta_str(obj, "namespace"), meta_str(obj, "name"))
}

/// (namespace, name) of an object, owned.
pub fn ns_name(obj: &Value) -> (String, String) {
    (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    )
}

/// An ownerReference to `o` (so deleting `o` deletes the child).
pub fn owner(o: &Value) -> Value {
    json!([{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"], "uid": o["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true}])
}

/// `status.phase` of an object ("" when unset).
pub fn phase(o: &Value) -> &str {
    o.pointer("/status/phase").and_then(Value::as_str).unwrap_or("")
}

/// Record a core/v1 Event once per (object, reason).
pub fn event(ctx: &Ctx, ns: &str, kind: &str, name: &str, reason: &str, msg: &str, warning: bool) {
    let exists =
        ctx.world.store.list("events", Some(ns)).0.iter().any(|e| {
            e["involvedObject"]["kind"] == kind && e["involvedObject"]["name"] == name && e["reason"] == reason
        });
    if exists {
        return;
    }
    let t = now();
    let _ = ctx.world.store.create(
        "events",
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.{}", suffix()), "namespace": ns},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns},
            "reason": reason, "message": msg, "type": if warning { "Warning" } else { "Normal" },
            "source": {"component": "simulated"}, "count": 1, "firstTimestamp": t, "lastTimestamp": t}),
    );
}

/// Whether Service `ns/svc` exists and selects the pods of a Deployment that is Available (what a client of
/// the Service needs for a connection to be answered).
pub fn service_available(ctx: &Ctx, ns: &str, svc: &str) -> bool {
    let Some(sel) = ctx
        .world
        .store
        .get("services", ns, svc)
        .and_then(|s| s.pointer("/spec/selector").and_then(Value::as_object).cloned())
    else {
        return false;
    };
    ctx.world.store.list("deployments.apps", Some(ns)).0.iter().any(|d| {
        let labels = d.pointer("/spec/template/metadata/labels");
        !sel.is_empty() && sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)) && has_true(d, "Available")
    })
}
