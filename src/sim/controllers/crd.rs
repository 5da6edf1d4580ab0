//! The apiextensions controllers: a new CustomResourceDefinition gets NamesAccepted and Established
//! after 0.5 s; its resources then appear in discovery. A deleted one is Terminating (finalizer
//! `customresourcecleanup.apiextensions.k8s.io`) until its custom resources are deleted; then it goes,
//! and its group with it.

use super::common::{cond, has_true, key, set_cond};
use super::{Controller, Ctx};
use crate::sim::catalog::established;
use crate::sim::store::{meta_str, EventType, CRD_CLEANUP};
use serde_json::Value;
use std::sync::Arc;

const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";

pub const CONTROLLER: Controller = Controller {
    watches: &["*"],
    deletes: true,
    on_event,
};

/// Deletes a terminating CRD's instances; once there are none, drops the cleanup finalizer.
fn cleanup(ctx: &Arc<Ctx>, name: &str) {
    let store = &ctx.world.store;
    if store.get(CRDS, "", name).is_none() {
        return;
    }
    let left = store.list(name, None).0;
    for o in &left {
        if o.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
            let _ = store.delete(name, meta_str(o, "namespace"), meta_str(o, "name"));
        }
    }
    if !store.list(name, None).0.is_empty() {
        store.mutate(CRDS, "", name, |o| {
            set_cond(
                o,
                cond(
                    "Terminating",
                    "True",
                    "InstanceDeletionInProgress",
                    "CustomResource deletion is in progress",
                ),
            )
        });
        return;
    }
    store.mutate(CRDS, "", name, |o| {
        if let Some(f) = o.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
            f.retain(|x| x != CRD_CLEANUP);
        }
    });
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    if gr == CRDS
        && etype != EventType::Deleted
        && obj.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
    {
        let name = meta_str(obj, "name").to_string();
        return ctx.once(format!("cleanup/{name}"), 100, move |ctx| cleanup(ctx, &name));
    }
    if gr != CRDS {
        // an instance of a terminating CRD went
        if etype == EventType::Deleted {
            if let Some(crd) = ctx
                .world
                .store
                .get(CRDS, "", gr)
                .filter(|c| c.pointer("/metadata/deletionTimestamp").is_some())
            {
                ctx.requeue(CRDS, &crd);
            }
        }
        return;
    }
    if has_true(obj, "Established") {
        return;
    }
    let name = meta_str(obj, "name").to_string();
    ctx.once(key(gr, obj), 500, move |ctx| {
        ctx.world.store.mutate(CRDS, "", &name, |o| {
            if !has_true(o, "Established") {
                *o = established(o.clone());
            }
        });
    });
}
