//! Simulated storage and node operands: LVMS (StorageClasses), NVIDIA GPU operator (node GPU
//! capacity), Node Feature Discovery (node labels).

use super::{cond, set_cond, Ctx};
use crate::sim::store::meta_str;
use serde_json::{json, Value};

pub fn lvmcluster(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let classes = o
        .pointer("/spec/storage/deviceClasses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let nodes: Vec<String> = ctx
        .shared
        .store
        .list("nodes", None)
        .0
        .iter()
        .map(|n| meta_str(n, "name").to_string())
        .collect();
    let mut statuses = vec![];
    for dc in &classes {
        let dcn = dc["name"].as_str().unwrap_or("vg1");
        let mut sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": format!("lvms-{dcn}"), "labels": {"owned-by.topolvm.io/group": "lvm.topolvm.io"}},
            "provisioner": "topolvm.io", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
            "parameters": {"csi.storage.k8s.io/fstype": dc["fstype"].as_str().unwrap_or("xfs"), "topolvm.io/device-class": dcn}});
        if dc["default"].as_bool() == Some(true) {
            sc["metadata"]["annotations"] = json!({"storageclass.kubernetes.io/is-default-class": "true"});
        }
        ctx.shared.store.ensure("storageclasses.storage.k8s.io", sc);
        let devices = dc.pointer("/deviceSelector/paths").cloned().unwrap_or(json!([]));
        statuses.push(json!({"name": dcn, "nodeStatus": nodes.iter().map(|n| json!({"node": n, "status": "Ready", "devices": devices})).collect::<Vec<_>>()}));
    }
    o["status"]["state"] = json!("Ready");
    o["status"]["ready"] = json!(true);
    o["status"]["deviceClassStatuses"] = json!(statuses);
}

pub fn clusterpolicy(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let gpus = ctx.shared.faults().gpus.unwrap_or(1).to_string();
    for n in ctx.shared.store.list("nodes", None).0 {
        ctx.shared.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
            node["status"]["capacity"]["nvidia.com/gpu"] = json!(gpus);
            node["status"]["allocatable"]["nvidia.com/gpu"] = json!(gpus);
            node["metadata"]["labels"]["nvidia.com/gpu.present"] = json!("true");
            node["metadata"]["labels"]["nvidia.com/gpu.count"] = json!(gpus);
        });
    }
    o["status"]["state"] = json!("ready");
    set_cond(
        o,
        cond("Ready", "True", "Reconciled", "ClusterPolicy is ready (simulated)"),
    );
}

pub fn nfd(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    for n in ctx.shared.store.list("nodes", None).0 {
        ctx.shared.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
            node["metadata"]["labels"]["feature.node.kubernetes.io/pci-10de.present"] = json!("true");
        });
    }
    set_cond(
        o,
        cond("Available", "True", "Available", "NFD is available (simulated)"),
    );
}
