//! Simulated LVM Storage (LVMS): an LVMCluster becomes Ready after 3 s and creates one StorageClass
//! `lvms-<deviceClass>` (topolvm.io, WaitForFirstConsumer) per device class.

use super::common::status::reconcile;
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["lvmclusters.lvm.topolvm.io"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, _: EventType, obj: &Value) {
    reconcile(ctx, "lvmclusters.lvm.topolvm.io", "LVMCluster", 3000, obj, lvmcluster);
}

fn lvmcluster(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let classes = o
        .pointer("/spec/storage/deviceClasses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let nodes: Vec<String> = ctx
        .world
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
        ctx.world.store.ensure("storageclasses.storage.k8s.io", sc);
        let devices = dc.pointer("/deviceSelector/paths").cloned().unwrap_or(json!([]));
        statuses.push(json!({"name": dcn, "nodeStatus": nodes.iter().map(|n| json!({"node": n, "status": "Ready", "devices": devices})).collect::<Vec<_>>()}));
    }
    o["status"]["state"] = json!("Ready");
    o["status"]["ready"] = json!(true);
    o["status"]["deviceClassStatuses"] = json!(statuses);
}
