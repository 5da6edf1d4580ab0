//! Simulated Node Feature Discovery: a NodeFeatureDiscovery labels the nodes with the simulated PCI devices
//! (`pci-<vendor>.present`) and `iommu-enabled` (unless `no-iommu`); NodeFeatureRules add their labels for
//! the devices they match.

use super::common::nodes::pci_devices;
use super::common::status::reconcile;
use super::common::{cond, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &[
        "nodefeaturediscoveries.nfd.openshift.io",
        "nodefeaturerules.nfd.k8s-sigs.io",
    ],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        "nodefeaturediscoveries.nfd.openshift.io" => reconcile(
            ctx,
            "nodefeaturediscoveries.nfd.openshift.io",
            "NodeFeatureDiscovery",
            1500,
            obj,
            nfd,
        ),
        _ => reconcile(
            ctx,
            "nodefeaturerules.nfd.k8s-sigs.io",
            "NodeFeatureRule",
            500,
            obj,
            nfd_rule,
        ),
    }
}

fn nfd(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    label_nodes(ctx);
    set_cond(
        o,
        cond("Available", "True", "Available", "NFD is available (simulated)"),
    );
}

/// A NodeFeatureRule changed: relabel if an NFD instance runs (nfd-master applies rules).
fn nfd_rule(ctx: &Ctx, _: &mut Value, _: &str, _: &str) {
    if !ctx
        .world
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
    if !ctx.world.faults().no_iommu {
        labels.push((format!("{NFD}iommu-enabled"), "true".into()));
    }
    for rule_obj in ctx.world.store.list("nodefeaturerules.nfd.k8s-sigs.io", None).0 {
        for rule in rule_obj
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            labels.extend(rule_labels(rule, &devices));
        }
    }
    for n in ctx.world.store.list("nodes", None).0 {
        ctx.world.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
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
