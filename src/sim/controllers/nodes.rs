//! Simulated storage and node operands: LVMS (StorageClasses), NVIDIA GPU operator (node GPU
//! capacity), Node Feature Discovery (node labels, and NodeFeatureRules on the simulated PCI devices).

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

/// The simulated node's PCI devices as NFD would see them: one (vendor, device, class) per GPU model
/// (`gpu-model=` fault, default 1c82 = GeForce GTX 1050 Ti) and an Intel network controller.
fn pci_devices(ctx: &Ctx) -> Vec<(String, String, String)> {
    let models = ctx.shared.faults().gpu_models.clone();
    let models = if models.is_empty() {
        vec!["1c82".to_string()]
    } else {
        models
    };
    let mut out: Vec<(String, String, String)> =
        models.into_iter().map(|m| ("10de".into(), m, "0300".into())).collect();
    out.push(("8086".into(), "15f3".into(), "0200".into()));
    out
}

/// A product name for the GPU feature discovery label `nvidia.com/gpu.product`.
fn product(device: &str) -> &'static str {
    match device {
        "1c82" => "NVIDIA-GeForce-GTX-1050-Ti",
        "2204" => "NVIDIA-GeForce-RTX-3090",
        _ => "NVIDIA-GPU",
    }
}

pub fn clusterpolicy(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let gpus = ctx.shared.faults().gpus.unwrap_or(1).to_string();
    let first_gpu = pci_devices(ctx).first().map(|d| d.1.clone()).unwrap_or_default();
    for n in ctx.shared.store.list("nodes", None).0 {
        ctx.shared.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
            node["status"]["capacity"]["nvidia.com/gpu"] = json!(gpus);
            node["status"]["allocatable"]["nvidia.com/gpu"] = json!(gpus);
            node["metadata"]["labels"]["nvidia.com/gpu.present"] = json!("true");
            node["metadata"]["labels"]["nvidia.com/gpu.count"] = json!(gpus);
            node["metadata"]["labels"]["nvidia.com/gpu.product"] = json!(product(&first_gpu));
        });
    }
    o["status"]["state"] = json!("ready");
    set_cond(
        o,
        cond("Ready", "True", "Reconciled", "ClusterPolicy is ready (simulated)"),
    );
}

pub fn nfd(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    label_nodes(ctx);
    set_cond(
        o,
        cond("Available", "True", "Available", "NFD is available (simulated)"),
    );
}

/// A NodeFeatureRule changed: relabel if an NFD instance runs (nfd-master applies rules).
pub fn nfd_rule(ctx: &Ctx, _: &mut Value, _: &str, _: &str) {
    if !ctx
        .shared
        .store
        .list("nodefeaturediscoveries.nfd.openshift.io", None)
        .0
        .is_empty()
    {
        label_nodes(ctx);
    }
}

/// NFD's labels: `pci-<vendor>.present` for the simulated devices of whitelisted classes, `iommu-enabled`
/// (unless `no-iommu`), and every NodeFeatureRule's labels for the devices its `pci.device` match selects.
fn label_nodes(ctx: &Ctx) {
    let devices = pci_devices(ctx);
    let mut labels: Vec<(String, String)> = vec![];
    for (vendor, _, _) in &devices {
        labels.push((format!("{NFD}pci-{vendor}.present"), "true".into()));
    }
    if !ctx.shared.faults().no_iommu {
        labels.push((format!("{NFD}iommu-enabled"), "true".into()));
    }
    for rule_obj in ctx.shared.store.list("nodefeaturerules.nfd.k8s-sigs.io", None).0 {
        for rule in rule_obj
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            labels.extend(rule_labels(rule, &devices));
        }
    }
    for n in ctx.shared.store.list("nodes", None).0 {
        ctx.shared.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
            for (k, v) in &labels {
                node["metadata"]["labels"][k] = json!(v);
            }
        });
    }
}

const NFD: &str = "feature.node.kubernetes.io/";

/// One rule, simulated narrowly: only `pci.device` matchFeatures with `In`/`Exists` on vendor, device
/// and class are understood (any other feature never matches); `labels` are applied as they are and a
/// `labelsTemplate` of the form `{{ range .pci.device }}KEY=VALUE{{ end }}` is expanded per matched
/// device, with `{{ .vendor }}`, `{{ .device }}` and `{{ .class }}` filled in.
fn rule_labels(rule: &Value, devices: &[(String, String, String)]) -> Vec<(String, String)> {
    let features = rule
        .get("matchFeatures")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matched: Vec<&(String, String, String)> = devices.iter().collect();
    for f in &features {
        if f.get("feature").and_then(Value::as_str) != Some("pci.device") {
            return vec![];
        }
        let exprs = f
            .get("matchExpressions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        matched.retain(|(vendor, device, class)| {
            exprs.iter().all(|(attr, e)| {
                let have = match attr.as_str() {
                    "vendor" => vendor,
                    "device" => device,
                    "class" => class,
                    _ => return false,
                };
                // The short form `vendor: ["10de"]` means In.
                let (op, values) = match e {
                    Value::Array(v) => ("In", v.clone()),
                    _ => (
                        e.get("op").and_then(Value::as_str).unwrap_or("In"),
                        e.get("value").and_then(Value::as_array).cloned().unwrap_or_default(),
                    ),
                };
                match op {
                    "In" => values.iter().any(|v| v.as_str() == Some(have.as_str())),
                    "Exists" => true,
                    _ => false,
                }
            })
        });
    }
    if features.is_empty() || matched.is_empty() {
        return vec![];
    }
    let mut lines: Vec<String> = vec![];
    if let Some(m) = rule.get("labels").and_then(Value::as_object) {
        lines.extend(m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())));
    }
    if let Some(t) = rule.get("labelsTemplate").and_then(Value::as_str) {
        let body = t
            .split_once("{{ range .pci.device }}")
            .and_then(|(_, rest)| rest.split_once("{{ end }}"))
            .map(|(b, _)| b);
        for (vendor, device, class) in body.map(|_| &matched).into_iter().flatten() {
            let line = body
                .unwrap_or_default()
                .replace("{{ .vendor }}", vendor)
                .replace("{{ .device }}", device)
                .replace("{{ .class }}", class);
            lines.extend(line.lines().map(str::to_string));
        }
    }
    lines
        .iter()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, v)| {
            let k = if k.contains('/') {
                k.to_string()
            } else {
                format!("{NFD}{k}")
            };
            (k, v.to_string())
        })
        .collect()
}
