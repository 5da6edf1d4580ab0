//! Deletion as the generic registry does it (k8s.io/apiserver `pkg/registry/generic/registry/store.go`,
//! `Delete` / `updateForGracefulDeletionAndFinalizers`): an object with finalizers is not removed but
//! gets `deletionTimestamp` (and `deletionGracePeriodSeconds: 0`) and stays until the last finalizer is
//! removed by an update; the propagation policy adds the garbage collector's finalizer (`foregroundDeletion`
//! or `orphan`, https://kubernetes.io/docs/concepts/architecture/garbage-collection/); a Namespace always
//! has `spec.finalizers: [kubernetes]`, so deleting one makes it Terminating until the namespace
//! controller has emptied it.

use super::{meta_str, now, EventType, Inner, Store, StoreError};
use serde_json::{json, Value};

const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";
/// The finalizer the CRD registry adds on delete (apiextensions `customresourcedefinition/etcd.go`).
pub const CRD_CLEANUP: &str = "customresourcecleanup.apiextensions.k8s.io";

/// `DeleteOptions.propagationPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// What a delete did: the object (its last state), and whether it is gone (else it is terminating).
pub struct Deleted {
    pub obj: Value,
    pub gone: bool,
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Whether a terminating object has nothing left holding it (metadata finalizers, and a Namespace's
/// `spec.finalizers`).
pub fn finished(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
        && finalizers(obj).is_empty()
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty() || obj["kind"] != "Namespace")
}

impl Store {
    pub(super) fn remove_locked(g: &mut Inner, gr: &str, ns: &str, name: &str) -> Option<Value> {
        let obj = g.objects.get_mut(gr)?.remove(&(ns.to_string(), name.to_string()))?;
        if gr == "namespaces" {
            g.logs.retain(|(n, _), _| n != name);
        }
        Some(obj)
    }

    pub(super) fn emit_deleted(&self, g: &mut Inner, gr: &str, mut obj: Value) -> Value {
        g.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(g.rv.to_string());
        self.emit(g, gr, EventType::Deleted, obj.clone());
        obj
    }

    /// Deletes an object with background propagation (what controllers do).
    pub fn delete(&self, gr: &str, ns: &str, name: &str) -> Result<Value, StoreError> {
        self.delete_with(gr, ns, name, Propagation::Background, false)
            .map(|d| d.obj)
    }

    /// DELETE: removes the object at once, or marks it terminating when finalizers (its own, the
    /// propagation policy's, a namespace's) hold it. `dry_run`: says what would happen, changes nothing.
    pub fn delete_with(
        &self,
        gr: &str,
        ns: &str,
        name: &str,
        p: Propagation,
        dry_run: bool,
    ) -> Result<Deleted, StoreError> {
        let mut g = self.inner.lock().unwrap();
        let key = (ns.to_string(), name.to_string());
        let old = g
            .objects
            .get(gr)
            .and_then(|m| m.get(&key))
            .cloned()
            .ok_or_else(|| StoreError::not_found(gr, name))?;
        let mut obj = old.clone();
        let mut fins = finalizers(&obj);
        let gc = match p {
            Propagation::Foreground => Some("foregroundDeletion"),
            Propagation::Orphan => Some("orphan"),
            Propagation::Background => None,
        };
        if let Some(f) = gc.filter(|f| !fins.iter().any(|x| x == f)) {
            fins.push(f.to_string());
        }
        if gr == CRDS && !fins.iter().any(|f| f == CRD_CLEANUP) {
            // the apiextensions registry: instances are deleted before the CRD goes
            fins.push(CRD_CLEANUP.to_string());
        }
        let namespace = gr == "namespaces";
        if fins.is_empty() && !namespace {
            if dry_run {
                return Ok(Deleted { obj, gone: true });
            }
            let obj = Self::remove_locked(&mut g, gr, ns, name).unwrap_or(obj);
            let obj = self.emit_deleted(&mut g, gr, obj);
            return Ok(Deleted { obj, gone: true });
        }
        if obj.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
            obj["metadata"]["deletionTimestamp"] = json!(now());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        if !fins.is_empty() {
            obj["metadata"]["finalizers"] = json!(fins);
        }
        if namespace {
            obj["status"]["phase"] = json!("Terminating");
        }
        if dry_run || obj == old {
            return Ok(Deleted { obj, gone: false });
        }
        g.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(g.rv.to_string());
        g.objects.entry(gr.to_string()).or_default().insert(key, obj.clone());
        self.emit_with_old(&mut g, gr, EventType::Modified, obj.clone(), Some(old));
        Ok(Deleted { obj, gone: false })
    }

    /// Whether any object remains in namespace `ns` (the namespace controller waits for none).
    pub fn namespace_contents(&self, ns: &str) -> Vec<(String, Value)> {
        let g = self.inner.lock().unwrap();
        g.objects
            .iter()
            .flat_map(|(gr, m)| {
                m.iter()
                    .filter(|((n, _), _)| n == ns)
                    .map(move |(_, o)| (gr.clone(), o.clone()))
            })
            .filter(|(_, o)| !meta_str(o, "namespace").is_empty())
            .collect()
    }
}
