//! Claims: which a pod spec mounts, and binding one that a volume populator (a kopiur Restore) filled.

use crate::sim::controllers::Ctx;
use crate::sim::store::meta_str;
use serde_json::{json, Value};

pub const PVCS: &str = "persistentvolumeclaims";

pub fn claim_names(spec: &Value) -> Vec<String> {
    spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Binds a claim to a made-up volume `pvc-<uid>` of the requested size.
pub fn bind(o: &mut Value) {
    o["spec"]["volumeName"] = json!(format!("pvc-{}", meta_str(o, "uid")));
    let size = o
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or(json!("1Gi"));
    o["status"] =
        json!({"phase": "Bound", "accessModes": o["spec"]["accessModes"].clone(), "capacity": {"storage": size}});
}

/// Bind a claim a populator has filled.
pub fn bind_populated(ctx: &Ctx, ns: &str, name: &str) {
    let Some(pvc) = ctx.world.store.get(PVCS, ns, name) else {
        return;
    };
    if pvc.pointer("/status/phase").and_then(Value::as_str) == Some("Bound")
        || ctx.stall("PersistentVolumeClaim", &pvc).is_some()
    {
        return;
    }
    let default_sc = ctx
        .world
        .store
        .list("storageclasses.storage.k8s.io", None)
        .0
        .into_iter()
        .find(|c| {
            c.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        })
        .map(|c| meta_str(&c, "name").to_string());
    ctx.world.store.mutate(PVCS, ns, name, |o| {
        if o["spec"].get("storageClassName").is_none() {
            if let Some(d) = &default_sc {
                o["spec"]["storageClassName"] = json!(d);
            }
        }
        bind(o);
    });
}
