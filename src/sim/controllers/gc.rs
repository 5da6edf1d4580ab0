//! The garbage collector (k8s.io/kubernetes `pkg/controller/garbagecollector`;
//! https://kubernetes.io/docs/concepts/architecture/garbage-collection/): when an owner is gone, the
//! objects whose ownerReferences name its uid are deleted (background propagation). An owner deleted
//! with `propagationPolicy: Foreground` waits (finalizer `foregroundDeletion`) until its dependents are
//! gone; one deleted with `Orphan` (finalizer `orphan`) has its ownerReferences removed from its
//! dependents, which stay.

use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::Value;
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["*"],
    deletes: true,
    on_event,
};

fn owner_uids(o: &Value) -> Vec<String> {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(str::to_string))
        .collect()
}

fn has_finalizer(o: &Value, f: &str) -> bool {
    o.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == f))
}

/// Every object naming `uid` as an owner, as (group resource, object).
fn dependents(ctx: &Ctx, uid: &str) -> Vec<(String, Value)> {
    let mut out = vec![];
    for gr in ctx.all_resources() {
        for o in ctx.world.store.list(&gr, None).0 {
            if owner_uids(&o).iter().any(|u| u == uid) {
                out.push((gr.clone(), o));
            }
        }
    }
    out
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    let uid = meta_str(obj, "uid").to_string();
    match etype {
        EventType::Deleted => {
            for (dgr, d) in dependents(ctx, &uid) {
                let _ = ctx
                    .world
                    .store
                    .delete(&dgr, meta_str(&d, "namespace"), meta_str(&d, "name"));
            }
            // a dependent went: an owner deleting in the foreground may be done
            for owner in owner_uids(obj) {
                requeue_owner(ctx, &owner);
            }
        }
        _ if (has_finalizer(obj, "foregroundDeletion") || has_finalizer(obj, "orphan"))
            && obj.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) =>
        {
            let (gr, ns, name) = (
                gr.to_string(),
                meta_str(obj, "namespace").to_string(),
                meta_str(obj, "name").to_string(),
            );
            ctx.once(format!("gc/{gr}/{ns}/{name}"), 100, move |ctx| {
                propagate(ctx, &gr, &ns, &name)
            });
        }
        _ => {}
    }
}

fn requeue_owner(ctx: &Arc<Ctx>, uid: &str) {
    for gr in ctx.all_resources() {
        if let Some(o) = ctx
            .world
            .store
            .list(&gr, None)
            .0
            .into_iter()
            .find(|o| meta_str(o, "uid") == uid)
        {
            ctx.requeue(&gr, &o);
            return;
        }
    }
}

fn propagate(ctx: &Arc<Ctx>, gr: &str, ns: &str, name: &str) {
    let Some(owner) = ctx.world.store.get(gr, ns, name) else {
        return;
    };
    let uid = meta_str(&owner, "uid").to_string();
    let deps = dependents(ctx, &uid);
    let finalizer = if has_finalizer(&owner, "orphan") {
        for (dgr, d) in &deps {
            ctx.world
                .store
                .mutate(dgr, meta_str(d, "namespace"), meta_str(d, "name"), |o| {
                    if let Some(refs) = o.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                        refs.retain(|r| r["uid"] != uid.as_str());
                    }
                });
        }
        "orphan"
    } else {
        for (dgr, d) in &deps {
            if d.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                let _ = ctx
                    .world
                    .store
                    .delete(dgr, meta_str(d, "namespace"), meta_str(d, "name"));
            }
        }
        if !dependents(ctx, &uid).is_empty() {
            return; // the last dependent's DELETED event brings us back
        }
        "foregroundDeletion"
    };
    ctx.world.store.mutate(gr, ns, name, |o| {
        if let Some(f) = o.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
            f.retain(|x| x != finalizer);
        }
    });
}
