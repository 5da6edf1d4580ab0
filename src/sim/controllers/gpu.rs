//! Simulated NVIDIA GPU operator: a ClusterPolicy becomes ready after 3 s and puts `nvidia.com/gpu`
//! capacity (the `gpus=` fault, default 1) and the GPU feature discovery labels on every node.

use super::common::nodes::pci_devices;
use super::common::status::reconcile;
use super::common::{cond, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["clusterpolicies.nvidia.com"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, _: EventType, obj: &Value) {
    reconcile(
        ctx,
        "clusterpolicies.nvidia.com",
        "ClusterPolicy",
        3000,
        obj,
        clusterpolicy,
    );
}

/// A product name for the GPU feature discovery label `nvidia.com/gpu.product`.
fn product(device: &str) -> &'static str {
    match device {
        "1c82" => "NVIDIA-GeForce-GTX-1050-Ti",
        "2204" => "NVIDIA-GeForce-RTX-3090",
        _ => "NVIDIA-GPU",
    }
}

fn clusterpolicy(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let gpus = ctx.world.faults().gpus.unwrap_or(1).to_string();
    let first_gpu = pci_devices(ctx).first().map(|d| d.1.clone()).unwrap_or_default();
    for n in ctx.world.store.list("nodes", None).0 {
        ctx.world.store.mutate("nodes", "", meta_str(&n, "name"), |node| {
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
