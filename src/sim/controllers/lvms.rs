//! Simulated LVM Storage (LVMS). vg-manager: an LVMCluster becomes Ready after 3 s and creates one
//! StorageClass `lvms-<deviceClass>` (topolvm.io, WaitForFirstConsumer) per device class. With the
//! `disk-signatures` fault the node's disks hold old partitions and filesystem signatures: vg-manager does not
//! claim them unless the device class's `deviceSelector.forceWipeDevicesAndDestroyAllData` was true (then it
//! wipes them once and goes on); otherwise the LVMCluster is `Failed` and says why.
//!
//! The validating webhook `vlvmcluster.kb.io` (upstream api/v1alpha1/lvmcluster_webhook.go), on update:
//! `thinPoolConfig`, `deviceSelector.forceWipeDevicesAndDestroyAllData` (nil -> set included) and
//! `nodeSelector` of an existing device class cannot change, device classes and device paths cannot be removed,
//! and paths cannot be added to a class created without them.

use super::common::status::reconcile;
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const LVMCLUSTERS: &str = "lvmclusters.lvm.topolvm.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[LVMCLUSTERS],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, _: EventType, obj: &Value) {
    reconcile(ctx, LVMCLUSTERS, "LVMCluster", 3000, obj, lvmcluster);
}

fn classes(o: &Value) -> Vec<Value> {
    o.pointer("/spec/storage/deviceClasses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn force_wipe(dc: &Value) -> bool {
    dc.pointer("/deviceSelector/forceWipeDevicesAndDestroyAllData")
        .and_then(Value::as_bool)
        == Some(true)
}

fn lvmcluster(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let nodes: Vec<String> = ctx
        .world
        .store
        .list("nodes", None)
        .0
        .iter()
        .map(|n| meta_str(n, "name").to_string())
        .collect();
    // Once the volume groups exist, the disks are LVM's: old signatures no longer matter.
    let claimed = o.pointer("/status/state").and_then(Value::as_str) == Some("Ready");
    let dirty = ctx.world.faults().disk_signatures && !claimed;
    let mut statuses = vec![];
    let mut failed = false;
    for dc in &classes(o) {
        let dcn = dc["name"].as_str().unwrap_or("vg1");
        let devices = dc.pointer("/deviceSelector/paths").cloned().unwrap_or(json!([]));
        if dirty && !force_wipe(dc) {
            failed = true;
            let excluded: Vec<Value> = devices.as_array().into_iter().flatten().map(|d| {
                let d = d.as_str().unwrap_or("");
                json!({"name": d, "reasons": [format!("{d} has an invalid filesystem signature (xfs) and cannot be used"),
                    format!("{d} has children block devices and could not be considered")]})
            }).collect();
            statuses.push(json!({"name": dcn, "nodeStatus": nodes.iter().map(|n| json!({"node": n, "status": "Failed",
                "reason": "no available devices found: the selected devices hold partitions or filesystem signatures and forceWipeDevicesAndDestroyAllData was not set when the LVMCluster was created",
                "excluded": excluded})).collect::<Vec<_>>()}));
            continue;
        }
        let mut sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": format!("lvms-{dcn}"), "labels": {"owned-by.topolvm.io/group": "lvm.topolvm.io"}},
            "provisioner": "topolvm.io", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
            "parameters": {"csi.storage.k8s.io/fstype": dc["fstype"].as_str().unwrap_or("xfs"), "topolvm.io/device-class": dcn}});
        if dc["default"].as_bool() == Some(true) {
            sc["metadata"]["annotations"] = json!({"storageclass.kubernetes.io/is-default-class": "true"});
        }
        ctx.world.store.ensure("storageclasses.storage.k8s.io", sc);
        statuses.push(json!({"name": dcn, "nodeStatus": nodes.iter().map(|n| json!({"node": n, "status": "Ready", "devices": devices})).collect::<Vec<_>>()}));
    }
    o["status"]["state"] = json!(if failed { "Failed" } else { "Ready" });
    o["status"]["ready"] = json!(!failed);
    o["status"]["deviceClassStatuses"] = json!(statuses);
}

/// The `vlvmcluster.kb.io` validating webhook (updates only).
pub fn webhook(gr: &str, old: Option<&Value>, new: &Value) -> Result<(), String> {
    let (Some(old), true) = (old, gr == LVMCLUSTERS) else {
        return Ok(());
    };
    validate_update(old, new).map_err(|m| format!("admission webhook \"vlvmcluster.kb.io\" denied the request: {m}"))
}

fn validate_update(old: &Value, new: &Value) -> Result<(), String> {
    let (old_dcs, new_dcs) = (classes(old), classes(new));
    let name = |dc: &Value| dc["name"].as_str().unwrap_or("").to_string();
    if let Some(gone) = old_dcs.iter().find(|o| !new_dcs.iter().any(|n| name(n) == name(o))) {
        return Err(format!(
            "invalid: device classes were deleted from the LVMCluster: device class {} can not be removed from the LVMCluster once added",
            name(gone)
        ));
    }
    for dc in &new_dcs {
        let Some(was) = old_dcs.iter().find(|o| name(o) == name(dc)) else {
            continue;
        };
        if was.get("thinPoolConfig") != dc.get("thinPoolConfig") {
            return Err("ThinPoolConfig can not be changed".into());
        }
        let wipe = |d: &Value| d.pointer("/deviceSelector/forceWipeDevicesAndDestroyAllData").cloned();
        if wipe(was) != wipe(dc) {
            return Err("ForceWipeDevicesAndDestroyAllData can not be changed".into());
        }
        if was.get("nodeSelector") != dc.get("nodeSelector") {
            return Err("NodeSelector can not be changed".into());
        }
        let paths = |d: &Value| -> Vec<String> {
            d.pointer("/deviceSelector/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        };
        let (old_p, new_p) = (paths(was), paths(dc));
        if old_p.is_empty() && !new_p.is_empty() {
            return Err("device paths can not be added after a device class has been initialized".into());
        }
        if old_p.iter().any(|p| !new_p.contains(p)) {
            return Err(format!(
                "invalid: required device paths were deleted from the LVMCluster: devices can not be removed from the LVMCluster once added oldDevices:{old_p:?}, newDevices:{new_p:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::webhook;
    use serde_json::json;

    fn lvm(wipe: Option<bool>, ratio: i64) -> serde_json::Value {
        let mut sel = json!({"paths": ["/dev/disk/by-path/x"]});
        if let Some(w) = wipe {
            sel["forceWipeDevicesAndDestroyAllData"] = json!(w);
        }
        json!({"spec": {"storage": {"deviceClasses": [{"name": "vg1", "deviceSelector": sel,
            "thinPoolConfig": {"name": "tp", "sizePercent": 90, "overprovisionRatio": ratio}}]}}})
    }

    #[test]
    fn the_webhook_refuses_the_immutable_fields_and_allows_the_rest() {
        let gr = "lvmclusters.lvm.topolvm.io";
        assert!(
            webhook(gr, None, &lvm(Some(true), 10)).is_ok(),
            "a create may set the flag"
        );
        let e = webhook(gr, Some(&lvm(None, 10)), &lvm(Some(true), 10)).unwrap_err();
        assert!(
            e.contains("vlvmcluster.kb.io") && e.contains("ForceWipeDevicesAndDestroyAllData can not be changed"),
            "{e}"
        );
        assert!(
            webhook(gr, Some(&lvm(Some(true), 10)), &lvm(None, 10)).is_err(),
            "nor removed"
        );
        assert!(webhook(gr, Some(&lvm(None, 10)), &lvm(None, 5))
            .unwrap_err()
            .contains("ThinPoolConfig"));
        assert!(webhook(gr, Some(&lvm(None, 10)), &lvm(None, 10)).is_ok());
        assert!(webhook("pods", Some(&lvm(None, 10)), &lvm(Some(true), 10)).is_ok());
    }
}
