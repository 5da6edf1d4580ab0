//! `detect-gpus {driverBranch, timeout}`: waits (a watch on Nodes) until NFD labels a node with
//! `feature.node.kubernetes.io/pci-10de.present=true` and the device-id labels of the repo's NodeFeatureRule
//! (`feature.node.kubernetes.io/nvidia-gpu-device.<id>=true`), names the models, and stops when the decided
//! branch cannot drive a detected card. Read-only.

use super::{args, judge_branch, label, node_name, parse_timeout, seen_models, watch_nodes};
use super::{BRANCH_580_PROPRIETARY, BRANCH_OPEN, DEVICE_LABEL, NFD};
use crate::cluster::Cluster;
use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::ui::Ui;
use serde::Deserialize;
use serde_json::Value;

pub struct DetectGpus;

#[async_trait::async_trait]
impl StepKind for DetectGpus {
    fn name(&self) -> &'static str {
        "detect-gpus"
    }
    fn validate(&self, a: &Value) -> Result<(), String> {
        let a: DetectArgs = args(self.name(), a).map_err(|e| e.cause)?;
        parse_timeout(&a.timeout, "15m").map_err(|e| e.cause)?;
        Ok(())
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, a: &Value, _: &StepPlan) -> Result<Done, UserError> {
        detect_gpus(cx.cluster, a, cx.ui).await.map(Done::from)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DetectArgs {
    driver_branch: String,
    #[serde(default)]
    timeout: Option<String>,
}

/// `detect-gpus`: which NVIDIA models NFD sees, and whether the decided driver branch can drive them.
async fn detect_gpus(cluster: &Cluster, a: &Value, ui: &Ui) -> Result<(u32, String), UserError> {
    let a: DetectArgs = args("detect-gpus", a)?;
    if a.driver_branch != BRANCH_580_PROPRIETARY && a.driver_branch != BRANCH_OPEN {
        return Err(UserError::usage(format!(
            "unknown driver branch '{}' (expected {BRANCH_580_PROPRIETARY} or {BRANCH_OPEN})",
            a.driver_branch
        )));
    }
    let timeout = parse_timeout(&a.timeout, "15m")?;
    let present = |n: &Value| label(n, &format!("{NFD}pci-10de.present")) == Some("true");
    let got = watch_nodes(
        cluster,
        timeout,
        ui,
        "waiting for NFD to label the NVIDIA GPUs",
        |nodes| {
            let gpu_nodes: Vec<Value> = nodes.iter().filter(|n| present(n)).cloned().collect();
            let seen = seen_models(&gpu_nodes);
            (!gpu_nodes.is_empty() && !seen.is_empty()).then_some(seen)
        },
    )
    .await?;
    let seen = match got {
        Ok(seen) => seen,
        Err(nodes) => {
            let labelled: Vec<String> = nodes.iter().filter(|n| present(n)).map(node_name).collect();
            return Err(if labelled.is_empty() {
                UserError::failed(format!(
                    "no node is labelled {NFD}pci-10de.present=true after {}: NFD sees no NVIDIA PCI device",
                    humantime::format_duration(timeout)
                ))
                .subject("Nodes (NFD labels)")
                .next("check NFD (oc -n openshift-nfd get nodefeaturediscovery,pods) and that the card shows in the node's lspci")
            } else {
                UserError::failed(format!(
                    "{} has pci-10de.present but no {DEVICE_LABEL}<id> label, so the GPU model is unknown",
                    labelled.join(", ")
                ))
                .subject("NodeFeatureRule openshift-nfd/nvidia-gpu-device-ids")
                .next("check that Argo CD synced clusters/openshift/infrastructure/nfd (oc -n openshift-nfd get nodefeaturerule)")
            });
        }
    };
    match judge_branch(&a.driver_branch, &seen) {
        Ok(note) => Ok((0, note)),
        Err(why) => Err(UserError::failed(why)
            .subject("ClusterPolicy gpu-cluster-policy (spec.driver) in clusters/openshift/infrastructure/gpu-cluster-policy")
            .next("set kernelModuleType: proprietary and a 580.x driver version in clusterpolicy.yaml, commit, and run phase 6 again answering driver-branch=580-proprietary")),
    }
}
