//! The namespace controllers: every namespace gets ServiceAccount `default` (the service-account
//! controller); a Terminating namespace is emptied (k8s.io/kubernetes `pkg/controller/namespace/deletion`:
//! every object in it is deleted, those with finalizers wait for them; conditions
//! NamespaceContentRemaining / NamespaceFinalizersRemaining say what is left), and once nothing is left
//! its `kubernetes` finalizer is removed, which completes the deletion.

use super::common::{cond, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["*"],
    deletes: true,
    on_event,
};

fn terminating(ns: &Value) -> bool {
    ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    if gr == "namespaces" {
        if etype == EventType::Added {
            let ns = meta_str(obj, "name");
            ctx.world.store.ensure(
                "serviceaccounts",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}),
            );
        }
        if etype != EventType::Deleted && terminating(obj) {
            empty(ctx, meta_str(obj, "name"));
        }
        return;
    }
    // something in a terminating namespace changed or went: look again
    let ns = meta_str(obj, "namespace");
    if !ns.is_empty()
        && ctx
            .world
            .store
            .get("namespaces", "", ns)
            .is_some_and(|n| terminating(&n))
    {
        empty(ctx, ns);
    }
}

fn empty(ctx: &Arc<Ctx>, ns: &str) {
    let ns = ns.to_string();
    ctx.once(format!("namespaces//{ns}/finalize"), 100, move |ctx| finalize(ctx, &ns));
}

fn finalize(ctx: &Arc<Ctx>, ns: &str) {
    let store = &ctx.world.store;
    for (gr, o) in store.namespace_contents(ns) {
        if o.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
            let _ = store.delete(&gr, ns, meta_str(&o, "name"));
        }
    }
    let left = store.namespace_contents(ns);
    if left.is_empty() {
        store.mutate("namespaces", "", ns, |o| {
            if let Some(f) = o.pointer_mut("/spec/finalizers").and_then(Value::as_array_mut) {
                f.retain(|x| x != "kubernetes");
            }
        });
        return;
    }
    let mut kinds: Vec<String> = left.iter().map(|(gr, _)| gr.clone()).collect();
    kinds.dedup();
    let held: Vec<String> = left
        .iter()
        .flat_map(|(_, o)| o["metadata"]["finalizers"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    store.mutate("namespaces", "", ns, |o| {
        let msg = format!("Some resources are remaining: {} (simulated)", kinds.join(", "));
        set_cond(
            o,
            cond("NamespaceContentRemaining", "True", "SomeResourcesRemain", &msg),
        );
        if !held.is_empty() {
            let msg = format!(
                "Some content in the namespace has finalizers remaining: {}",
                held.join(", ")
            );
            set_cond(
                o,
                cond("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", &msg),
            );
        }
    });
}
