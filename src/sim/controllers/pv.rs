//! The PersistentVolume controller and provisioners. A claim binds to a made-up volume: Immediate classes
//! at once, WaitForFirstConsumer ones when a Pod uses the claim. A claim naming a StorageClass that does
//! not exist gets one Warning event `ProvisioningFailed` (`storageclass.storage.k8s.io "X" not found`) and
//! stays Pending; a claim whose `dataSourceRef` names a kopiur Restore binds once that Restore is Completed
//! (the volume populator); `stall=PersistentVolumeClaim/...` keeps a claim Pending.

use super::common::storage::{bind, bind_populated, claim_names, PVCS};
use super::common::{event, key, ns_name, phase};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const RESTORES: &str = "restores.kopiur.home-operations.com";

pub const CONTROLLER: Controller = Controller {
    watches: &[PVCS, "pods"],
    deletes: true,
    on_event,
};

const PROTECTION: &str = "kubernetes.io/pvc-protection";

/// The pvc-protection controller: a claim being deleted keeps its finalizer while a pod uses it.
fn protect(ctx: &Ctx, ns: &str, name: &str) {
    let Some(pvc) = ctx.world.store.get(PVCS, ns, name) else {
        return;
    };
    if pvc.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
        return;
    }
    let used = ctx
        .world
        .store
        .list("pods", Some(ns))
        .0
        .iter()
        .any(|p| claim_names(&p["spec"]).iter().any(|c| c == name));
    if !used {
        ctx.world.store.mutate(PVCS, ns, name, |o| {
            if let Some(f) = o.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
                f.retain(|x| x != PROTECTION);
            }
        });
    }
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    let (ns, name) = ns_name(obj);
    if etype == EventType::Deleted {
        if gr == "pods" {
            for claim in claim_names(&obj["spec"]) {
                protect(ctx, &ns, &claim);
            }
        }
        return;
    }
    if gr == PVCS && obj.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return protect(ctx, &ns, &name);
    }
    if gr == "pods" {
        if phase(obj) == "Pending" {
            // a first consumer binds WaitForFirstConsumer claims
            for claim in claim_names(&obj["spec"]) {
                let ns = ns.clone();
                ctx.once(format!("{PVCS}/{ns}/{claim}"), 500, move |ctx| {
                    bind_claim(ctx, &ns, &claim)
                });
            }
        }
        return;
    }
    on_pvc(ctx, obj);
    if phase(obj) != "Bound" {
        ctx.once(key(gr, obj), 1000, move |ctx| bind_claim(ctx, &ns, &name));
    }
}

/// A claim's provisioning problems and a populator's binding (a Restore that completed).
fn on_pvc(ctx: &Arc<Ctx>, obj: &Value) {
    let ns = meta_str(obj, "namespace").to_string();
    let name = meta_str(obj, "name").to_string();
    let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    if phase == "Bound" {
        return;
    }
    if let Some(sc) = obj.pointer("/spec/storageClassName").and_then(Value::as_str) {
        if ctx.world.store.get("storageclasses.storage.k8s.io", "", sc).is_none() {
            let msg = format!("storageclass.storage.k8s.io \"{sc}\" not found");
            event(
                ctx,
                &ns,
                "PersistentVolumeClaim",
                &name,
                "ProvisioningFailed",
                &msg,
                true,
            );
            return;
        }
    }
    if obj.pointer("/spec/dataSourceRef/apiGroup").and_then(Value::as_str) == Some("kopiur.home-operations.com")
        && obj.pointer("/spec/dataSourceRef/kind").and_then(Value::as_str) == Some("Restore")
    {
        let restore = obj
            .pointer("/spec/dataSourceRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let done = ctx
            .world
            .store
            .get(RESTORES, &ns, restore)
            .is_some_and(|r| r.pointer("/status/phase").and_then(Value::as_str) == Some("Completed"));
        if done {
            bind_populated(ctx, &ns, &name);
        }
    }
}

/// Binds a claim to a made-up volume: Immediate classes at once, WaitForFirstConsumer ones when a
/// Pod uses the claim. A claim with a dataSource/dataSourceRef (a populator) stays Pending.
fn bind_claim(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(pvc) = ctx.world.store.get("persistentvolumeclaims", ns, name) else {
        return;
    };
    if pvc.pointer("/spec/dataSourceRef").is_some()
        || pvc.pointer("/spec/dataSource").is_some()
        || ctx.stall("PersistentVolumeClaim", &pvc).is_some()
    {
        return;
    }
    let classes = ctx.world.store.list("storageclasses.storage.k8s.io", None).0;
    let wanted = pvc
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let sc = match &wanted {
        Some(n) => classes.iter().find(|c| meta_str(c, "name") == n),
        None => classes.iter().find(|c| {
            c.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        }),
    };
    let Some(sc) = sc else { return };
    let wait = sc["volumeBindingMode"] == "WaitForFirstConsumer";
    let used = ctx.world.store.list("pods", Some(ns)).0.iter().any(|p| {
        p.pointer("/spec/volumes").and_then(Value::as_array).is_some_and(|vs| {
            vs.iter()
                .any(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) == Some(name))
        })
    });
    let sc_name = meta_str(sc, "name").to_string();
    ctx.world.store.mutate("persistentvolumeclaims", ns, name, |o| {
        if o["spec"].get("storageClassName").is_none() {
            o["spec"]["storageClassName"] = json!(sc_name);
        }
        if wait && !used {
            return;
        }
        bind(o);
    });
}
