//! Phase 6 step kinds (docs/phase-6.md) and what they share: GPU models from NFD labels, driver-branch
//! judgement, and a watch on Nodes.
//!
//! - `detect-gpus` (detect.rs): waits until NFD labels the NVIDIA GPUs, names the models, and stops when the
//!   decided driver branch cannot drive a detected card.
//! - `passthrough-readiness` (passthrough.rs): read-only; what the API shows for GPU passthrough to VMs and
//!   the firmware settings nobody can see through the API.
//! - `cuda-vectoradd` (cuda.rs): runs the CUDA sample as a Job asking for one GPU and keeps the evidence.

pub mod cuda;
pub mod detect;
pub mod passthrough;

use crate::cluster::Cluster;
use crate::error::UserError;
use crate::ui::Ui;
use futures::StreamExt;
use kube::runtime::{watcher, WatchStreamExt};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

const NFD: &str = "feature.node.kubernetes.io/";
const DEVICE_LABEL: &str = "feature.node.kubernetes.io/nvidia-gpu-device.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Pascal,
    Turing,
    Ampere,
    Ada,
}

impl Arch {
    fn name(self) -> &'static str {
        match self {
            Arch::Pascal => "Pascal",
            Arch::Turing => "Turing",
            Arch::Ampere => "Ampere",
            Arch::Ada => "Ada Lovelace",
        }
    }
}

/// PCI device ids (vendor 10de) of the cards this homelab has or plans, and their neighbours.
const MODELS: &[(&str, &str, Arch)] = &[
    ("1c82", "GeForce GTX 1050 Ti", Arch::Pascal),
    ("1c81", "GeForce GTX 1050", Arch::Pascal),
    ("1c02", "GeForce GTX 1060 3GB", Arch::Pascal),
    ("1c03", "GeForce GTX 1060 6GB", Arch::Pascal),
    ("1b81", "GeForce GTX 1070", Arch::Pascal),
    ("1b80", "GeForce GTX 1080", Arch::Pascal),
    ("1b06", "GeForce GTX 1080 Ti", Arch::Pascal),
    ("1bb3", "Tesla P4", Arch::Pascal),
    ("1eb8", "Tesla T4", Arch::Turing),
    ("2204", "GeForce RTX 3090", Arch::Ampere),
    ("2203", "GeForce RTX 3090 Ti", Arch::Ampere),
    ("2206", "GeForce RTX 3080", Arch::Ampere),
    ("2208", "GeForce RTX 3080 Ti", Arch::Ampere),
    ("2484", "GeForce RTX 3070", Arch::Ampere),
    ("2486", "GeForce RTX 3060 Ti", Arch::Ampere),
    ("2503", "GeForce RTX 3060", Arch::Ampere),
    ("20b0", "A100 40GB", Arch::Ampere),
    ("20b5", "A100 80GB PCIe", Arch::Ampere),
    ("2235", "A40", Arch::Ampere),
    ("2236", "A10", Arch::Ampere),
    ("2684", "GeForce RTX 4090", Arch::Ada),
];

/// The decision `driver-branch` answers.
pub const BRANCH_580_PROPRIETARY: &str = "580-proprietary";
pub const BRANCH_OPEN: &str = "open-modules";

/// One GPU model seen on a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub node: String,
    pub device: String,
    pub model: Option<(&'static str, Arch)>,
}

impl Seen {
    fn describe(&self) -> String {
        match self.model {
            Some((name, arch)) => format!("10de:{} {name} ({})", self.device, arch.name()),
            None => format!("10de:{} (a model fleetctl does not know)", self.device),
        }
    }
}

/// The GPU models NFD reports on these nodes (from the device-id labels).
pub fn seen_models(nodes: &[Value]) -> Vec<Seen> {
    let mut out = vec![];
    for n in nodes {
        let node = n.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let Some(labels) = n.pointer("/metadata/labels").and_then(Value::as_object) else {
            continue;
        };
        for (k, v) in labels {
            if let (Some(id), Some("true")) = (k.strip_prefix(DEVICE_LABEL), v.as_str()) {
                let id = id.to_ascii_lowercase();
                let model = MODELS.iter().find(|m| m.0 == id).map(|m| (m.1, m.2));
                out.push(Seen {
                    node: node.to_string(),
                    device: id,
                    model,
                });
            }
        }
    }
    out
}

/// The driver branch the detected models call for, and why. `None`: no known model to decide by.
pub fn recommend(seen: &[Seen]) -> Option<(&'static str, String)> {
    let archs: Vec<Arch> = seen.iter().filter_map(|s| s.model.map(|m| m.1)).collect();
    if archs.is_empty() {
        return None;
    }
    if archs.contains(&Arch::Pascal) {
        let why = if archs.iter().any(|a| *a != Arch::Pascal) {
            "a Pascal card shares the node with newer ones: one driver serves all, and only the 580 branch \
             with the proprietary kernel module still drives Pascal"
        } else {
            "Pascal: 580 is the last driver branch for it, and the open kernel modules do not support it"
        };
        return Some((BRANCH_580_PROPRIETARY, why.to_string()));
    }
    Some((
        BRANCH_OPEN,
        "Turing or newer only: the open kernel modules are NVIDIA's recommended choice (580 proprietary also works)"
            .to_string(),
    ))
}

/// Compare the decided branch with the hardware. `Err` only when the decision cannot work.
pub fn judge_branch(decided: &str, seen: &[Seen]) -> Result<String, String> {
    let listing = seen.iter().map(Seen::describe).collect::<Vec<_>>().join(", ");
    match recommend(seen) {
        None => Ok(format!(
            "detected {listing}; no known model to choose a branch by: keeping the decision {decided}"
        )),
        Some((rec, why)) if rec == decided => Ok(format!(
            "detected {listing}; recommended {rec} ({why}); the decision agrees"
        )),
        Some((BRANCH_580_PROPRIETARY, why)) => Err(format!(
            "detected {listing}: the decision {decided} cannot drive it ({why})"
        )),
        Some((rec, why)) => Ok(format!(
            "detected {listing}; recommended {rec} ({why}); the decision {decided} also works"
        )),
    }
}

pub(super) fn label<'a>(n: &'a Value, key: &str) -> Option<&'a str> {
    n.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

pub(super) fn node_name(n: &Value) -> String {
    n.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `status.capacity["nvidia.com/gpu"]` as a number (0 when absent).
pub fn gpu_capacity(n: &Value) -> u32 {
    n.pointer("/status/capacity/nvidia.com~1gpu")
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64().map(|x| x as u32))
        })
        .unwrap_or(0)
}

/// Watch Nodes until `pred` returns Some over the current list, or the deadline passes (then Err with the
/// last list). Nodes are few, so each event re-lists.
pub(super) async fn watch_nodes<T>(
    cluster: &Cluster,
    timeout: Duration,
    ui: &Ui,
    what: &str,
    pred: impl Fn(&[Value]) -> Option<T>,
) -> Result<Result<T, Vec<Value>>, UserError> {
    let deadline = Instant::now() + timeout;
    let nodes = cluster.list("v1", "Node", None, None).await?;
    if let Some(t) = pred(&nodes) {
        return Ok(Ok(t));
    }
    let api = cluster.api_for("v1", "Node", None).await?;
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut progress = ui.progress(what);
    let mut last = nodes;
    let out = loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => break Ok(Err(last)),
            Ok(None) => break Err(UserError::failed("the Node watch ended unexpectedly").subject(what.to_string())),
            Ok(Some(Err(e))) => tracing::debug!("node watch error (retrying): {e}"),
            Ok(Some(Ok(_))) => {
                last = cluster.list("v1", "Node", None, None).await?;
                if let Some(t) = pred(&last) {
                    break Ok(Ok(t));
                }
                progress.update(what);
            }
        }
    };
    progress.finish();
    out
}

pub(super) fn parse_timeout(s: &Option<String>, default: &str) -> Result<Duration, UserError> {
    humantime::parse_duration(s.as_deref().unwrap_or(default))
        .map_err(|e| UserError::usage(format!("bad timeout '{}': {e}", s.as_deref().unwrap_or(default))))
}

pub(super) fn args<T: for<'de> Deserialize<'de>>(name: &str, args: &Value) -> Result<T, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(labels: &[&str]) -> Value {
        let mut l = serde_json::Map::new();
        for k in labels {
            l.insert(k.to_string(), json!("true"));
        }
        json!({"metadata": {"name": "sno-ai-lab", "labels": l}})
    }

    #[test]
    fn pascal_needs_580_proprietary_and_refuses_open_modules() {
        let seen = seen_models(&[node(&["feature.node.kubernetes.io/nvidia-gpu-device.1c82"])]);
        assert_eq!(seen[0].model.unwrap().1, Arch::Pascal);
        assert_eq!(recommend(&seen).unwrap().0, BRANCH_580_PROPRIETARY);
        assert!(judge_branch(BRANCH_580_PROPRIETARY, &seen)
            .unwrap()
            .contains("GTX 1050 Ti"));
        assert!(judge_branch(BRANCH_OPEN, &seen).unwrap_err().contains("cannot drive"));
    }

    #[test]
    fn ampere_recommends_open_and_accepts_580() {
        let seen = seen_models(&[node(&["feature.node.kubernetes.io/nvidia-gpu-device.2204"])]);
        assert_eq!(recommend(&seen).unwrap().0, BRANCH_OPEN);
        assert!(judge_branch(BRANCH_580_PROPRIETARY, &seen)
            .unwrap()
            .contains("also works"));
        // Both in one node: one 580 proprietary driver.
        let mixed = seen_models(&[node(&[
            "feature.node.kubernetes.io/nvidia-gpu-device.2204",
            "feature.node.kubernetes.io/nvidia-gpu-device.1c82",
        ])]);
        assert_eq!(recommend(&mixed).unwrap().0, BRANCH_580_PROPRIETARY);
        assert!(judge_branch(BRANCH_OPEN, &mixed).is_err());
    }

    #[test]
    fn unknown_models_keep_the_decision() {
        let seen = seen_models(&[node(&["feature.node.kubernetes.io/nvidia-gpu-device.ffff"])]);
        assert!(recommend(&seen).is_none());
        assert!(judge_branch(BRANCH_OPEN, &seen).unwrap().contains("does not know"));
    }
}
