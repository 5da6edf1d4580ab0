//! Phase 6 builtins: GPU detection from NFD labels, the VM-passthrough readiness check, and the CUDA
//! vectoradd verification Job (docs/phase-6.md).
//!
//! - `detect-gpus {driverBranch, timeout}`: waits (a watch on Nodes) until NFD labels a node with
//!   `feature.node.kubernetes.io/pci-10de.present=true` and the device-id labels of the repo's
//!   NodeFeatureRule (`feature.node.kubernetes.io/nvidia-gpu-device.<id>=true`), names the models,
//!   recommends a driver branch, and stops when the decided branch cannot drive a detected card.
//! - `passthrough-readiness {}`: read-only; checks what the API shows for GPU passthrough to VMs and
//!   lists the firmware (BIOS) settings nobody can see through the API.
//! - `cuda-vectoradd {namespace, image, expectedGpus, timeout}`: runs the CUDA sample as a Job asking for
//!   one GPU, requires its log to end in `Test PASSED`, keeps the log, deletes the Job.

use super::apply::{apply_one, Change};
use super::ui::Ui;
use super::wait;
use crate::cluster::retry::retry;
use crate::cluster::Cluster;
use crate::error::UserError;
use crate::runbook::{Expect, ObjectRef};
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams};
use kube::runtime::{watcher, WatchStreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

const NFD: &str = "feature.node.kubernetes.io/";
const DEVICE_LABEL: &str = "feature.node.kubernetes.io/nvidia-gpu-device.";
pub const DEFAULT_IMAGE: &str = "nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0-ubuntu22.04";
/// The Job, and the ConfigMap that keeps its verdict (same name, same namespace).
pub const JOB_NAME: &str = "cuda-vectoradd";

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

fn label<'a>(n: &'a Value, key: &str) -> Option<&'a str> {
    n.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

fn node_name(n: &Value) -> String {
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
async fn watch_nodes<T>(
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

fn parse_timeout(s: &Option<String>, default: &str) -> Result<Duration, UserError> {
    humantime::parse_duration(s.as_deref().unwrap_or(default))
        .map_err(|e| UserError::usage(format!("bad timeout '{}': {e}", s.as_deref().unwrap_or(default))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectArgs {
    driver_branch: String,
    #[serde(default)]
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PassthroughArgs {
    #[serde(default)]
    hyperconverged_namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CudaArgs {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    image: Option<String>,
    expected_gpus: String,
    #[serde(default)]
    timeout: Option<String>,
}

pub fn validate(name: &str, args: &Value) -> Result<(), String> {
    let bad = |e: serde_json::Error| format!("bad args for {name}: {e}");
    match name {
        "detect-gpus" => {
            let a: DetectArgs = serde_json::from_value(args.clone()).map_err(bad)?;
            parse_timeout(&a.timeout, "15m").map_err(|e| e.cause)?;
            Ok(())
        }
        "passthrough-readiness" => serde_json::from_value::<PassthroughArgs>(args.clone())
            .map(|_| ())
            .map_err(bad),
        "cuda-vectoradd" => {
            let a: CudaArgs = serde_json::from_value(args.clone()).map_err(bad)?;
            parse_timeout(&a.timeout, "10m").map_err(|e| e.cause)?;
            Ok(())
        }
        _ => Err(format!("unknown builtin {name}")),
    }
}

fn args<T: for<'de> Deserialize<'de>>(name: &str, args: &Value) -> Result<T, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for {name}: {e}")))
}

/// `detect-gpus`: which NVIDIA models NFD sees, and whether the decided driver branch can drive them.
pub async fn detect_gpus(cluster: &Cluster, a: &Value, ui: &Ui) -> Result<(u32, String), UserError> {
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

/// Firmware settings the API cannot show; always listed for the passthrough branch.
pub const BIOS_STEPS: &[&str] = &[
    "IOMMU enabled (AMD: IOMMU / AMD-Vi; Intel: VT-d)",
    "CPU virtualisation enabled (AMD: SVM; Intel: VT-x)",
    "Above 4G Decoding enabled (large GPU BARs must map above 4 GiB)",
    "UEFI boot with CSM off",
    "each passed-through GPU in its own IOMMU group (slot choice; ACS in the BIOS if offered)",
];

/// `passthrough-readiness`: what the API shows for GPU passthrough, plus the BIOS steps it cannot see.
pub async fn passthrough_readiness(cluster: &Cluster, a: &Value) -> Result<(u32, String), UserError> {
    let a: PassthroughArgs = args("passthrough-readiness", a)?;
    let ns = a.hyperconverged_namespace.unwrap_or_else(|| "openshift-cnv".into());
    let mut ok: Vec<String> = vec![];
    let mut missing: Vec<String> = vec![];
    match cluster
        .get("hco.kubevirt.io/v1beta1", "HyperConverged", Some(&ns), "kubevirt-hyperconverged")
        .await?
    {
        None => missing.push(format!(
            "OpenShift Virtualization: no HyperConverged {ns}/kubevirt-hyperconverged (install the operator and create it)"
        )),
        Some(hco) => {
            let available = Expect {
                condition: Some("Available".into()),
                ..Default::default()
            }
            .eval(&hco)
            .holds;
            if available {
                ok.push("HyperConverged Available".into());
            } else {
                missing.push("HyperConverged is not Available".into());
            }
            let permitted = hco
                .pointer("/spec/permittedHostDevices/pciHostDevices")
                .and_then(Value::as_array)
                .is_some_and(|d| {
                    d.iter().any(|x| {
                        x.get("pciDeviceSelector")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.to_ascii_lowercase().starts_with("10de:"))
                    })
                });
            if permitted {
                ok.push("HyperConverged permits an NVIDIA PCI device".into());
            } else {
                missing.push(
                    "HyperConverged spec.permittedHostDevices.pciHostDevices has no 10DE:<device> selector".into(),
                );
            }
        }
    }
    let nodes = cluster.list("v1", "Node", None, None).await?;
    let gpu_nodes: Vec<&Value> = nodes
        .iter()
        .filter(|n| label(n, &format!("{NFD}pci-10de.present")) == Some("true"))
        .collect();
    if gpu_nodes.is_empty() {
        missing.push("no node has an NVIDIA PCI device (NFD label pci-10de.present)".into());
    }
    for n in &gpu_nodes {
        let name = node_name(n);
        if label(n, &format!("{NFD}iommu-enabled")) == Some("true") {
            ok.push(format!("{name}: IOMMU enabled (NFD iommu-enabled)"));
        } else {
            missing.push(format!(
                "{name}: NFD does not report the IOMMU enabled (label {NFD}iommu-enabled): enable it in the BIOS and add the kernel argument (amd_iommu=on or intel_iommu=on) with a MachineConfig"
            ));
        }
        if label(n, "kubevirt.io/schedulable") == Some("true") {
            ok.push(format!("{name}: schedulable for VMs (kubevirt.io/schedulable)"));
        } else {
            missing.push(format!(
                "{name}: not schedulable for VMs (label kubevirt.io/schedulable)"
            ));
        }
    }
    let bios = format!("not visible to fleetctl, check in the BIOS: {}", BIOS_STEPS.join("; "));
    if missing.is_empty() {
        Ok((0, format!("{}; {bios}", ok.join(", "))))
    } else {
        Err(UserError::failed(format!(
            "GPU passthrough is not ready: {}{}",
            missing.join("; "),
            if ok.is_empty() {
                String::new()
            } else {
                format!(" (seen: {})", ok.join(", "))
            }
        ))
        .subject("OpenShift Virtualization / node sno-ai-lab")
        .next(format!("fix the above, then `fleetctl resume`; {bios}")))
    }
}

/// The verdict on a vectoradd log: after dropping blank lines and a final `Done`, the last line must be
/// exactly `Test PASSED`.
pub fn log_passed(log: &str) -> bool {
    let mut lines: Vec<&str> = log.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.last() == Some(&"Done") {
        lines.pop();
    }
    lines.last() == Some(&"Test PASSED")
}

fn tail(log: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

fn kube_err(what: &str, e: kube::Error) -> UserError {
    UserError::failed(format!("{what}: {e}"))
}

/// `cuda-vectoradd`: see the module docs. Observe rule: the ConfigMap `cuda-vectoradd` in the namespace
/// says result PASSED for this image, on a node that now reports `nvidia.com/gpu` equal to the
/// recorded count and to `expectedGpus`: then nothing runs and nothing is written.
pub async fn cuda_vectoradd(cluster: &Cluster, a: &Value, reports: &Path, ui: &Ui) -> Result<(u32, String), UserError> {
    let a: CudaArgs = args("cuda-vectoradd", a)?;
    let ns = a.namespace.unwrap_or_else(|| "nvidia-gpu-operator".into());
    let image = a.image.unwrap_or_else(|| DEFAULT_IMAGE.into());
    let timeout = parse_timeout(&a.timeout, "10m")?;
    let expected: u32 = a.expected_gpus.trim().parse().map_err(|_| {
        UserError::usage(format!("expectedGpus '{}' is not a count", a.expected_gpus))
            .next("answer the decision gpu-count with a number")
    })?;

    // 1. The node must advertise the expected number of GPUs (the device plugin does, once the driver runs).
    let got = watch_nodes(
        cluster,
        timeout,
        ui,
        &format!("waiting for a node to report nvidia.com/gpu: {expected}"),
        |nodes| {
            // Exactly the expected count: go. Another non-zero count: the device plugin already
            // advertises what the driver sees (the ClusterPolicy is ready by now), so waiting cannot help.
            nodes
                .iter()
                .find(|n| gpu_capacity(n) == expected)
                .map(|n| Ok((node_name(n), gpu_capacity(n))))
                .or_else(|| {
                    nodes
                        .iter()
                        .find(|n| gpu_capacity(n) > 0)
                        .map(|n| Err(format!("{} reports nvidia.com/gpu: {}", node_name(n), gpu_capacity(n))))
                })
        },
    )
    .await?;
    let (node, capacity) = match got {
        Ok(Ok(x)) => x,
        Ok(Err(seen)) => {
            return Err(UserError::failed(format!(
                "{seen}, but the decision gpu-count expects {expected}"
            ))
            .subject("Node status.capacity[\"nvidia.com/gpu\"]")
            .next("if a card is missing, check it is seated and powered and that the driver sees it (oc -n nvidia-gpu-operator logs ds/nvidia-driver-daemonset); if the count changed on purpose, answer gpu-count with the new number"));
        }
        Err(nodes) => {
            let seen: Vec<String> = nodes
                .iter()
                .map(|n| format!("{} nvidia.com/gpu: {}", node_name(n), gpu_capacity(n)))
                .collect();
            return Err(UserError::failed(format!(
                "no node reports nvidia.com/gpu: {expected} (decision gpu-count) after {}; observed {}",
                humantime::format_duration(timeout),
                seen.join(", ")
            ))
            .subject("Node status.capacity[\"nvidia.com/gpu\"]")
            .next("if cards are missing, check they are seated and powered (oc -n nvidia-gpu-operator logs ds/nvidia-driver-daemonset); if the count changed on purpose, answer gpu-count with the new number"));
        }
    };

    // 2. Observe: evidence of a passing run for this node, count and image means done.
    let cm = cluster.get("v1", "ConfigMap", Some(&ns), JOB_NAME).await?;
    let data = |k: &str| {
        cm.as_ref()
            .and_then(|c| c.pointer(&format!("/data/{k}")))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if data("result").as_deref() == Some("PASSED")
        && data("node").as_deref() == Some(node.as_str())
        && data("nodeGpus") == Some(capacity.to_string())
        && data("image").as_deref() == Some(image.as_str())
    {
        return Ok((
            0,
            format!(
                "already verified: Test PASSED on {node} with nvidia.com/gpu: {capacity} at {} (ConfigMap {ns}/{JOB_NAME})",
                data("finished").unwrap_or_default()
            ),
        ));
    }

    // 3. Act: a leftover Job from an interrupted run goes first, then a fresh one.
    let mut writes = 0;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
    let job_ref = ObjectRef {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        namespace: Some(ns.clone()),
        name: Some(JOB_NAME.into()),
        name_from: None,
    };
    if retry("get job", || jobs.get_opt(JOB_NAME))
        .await
        .map_err(|e| kube_err("cannot read the Job", e))?
        .is_some()
    {
        delete_job(&jobs).await?;
        writes += 1;
        wait_gone(cluster, &ns, timeout).await?;
    }
    let job = job_manifest(&ns, &image, &node, timeout);
    if apply_one(cluster, &job, false, Duration::from_secs(60)).await? != Change::Unchanged {
        writes += 1;
    }
    let waited = wait::wait_for(
        cluster,
        &job_ref,
        &[Expect {
            condition: Some("Complete".into()),
            ..Default::default()
        }],
        &[Expect {
            condition: Some("Failed".into()),
            ..Default::default()
        }],
        timeout,
        ui,
    )
    .await;
    let lp = kube::api::ListParams::default().labels(&format!("job-name={JOB_NAME}"));
    let pod_list = retry("list pods", || pods.list(&lp))
        .await
        .map_err(|e| kube_err("cannot list the Job's pods", e))?;
    let pod = pod_list.items.into_iter().next();
    if let Err(e) = waited {
        let why = pod
            .as_ref()
            .and_then(|p| p.status.as_ref())
            .map(|s| {
                let conds = s
                    .conditions
                    .iter()
                    .flatten()
                    .filter(|c| c.status != "True")
                    .filter_map(|c| c.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                format!(
                    "pod phase {}{}",
                    s.phase.clone().unwrap_or_default(),
                    if conds.is_empty() {
                        String::new()
                    } else {
                        format!(": {conds}")
                    }
                )
            })
            .unwrap_or_else(|| "no pod was created".into());
        delete_job(&jobs).await?;
        return Err(UserError {
            cause: format!("{} ({why}); the Job was deleted", e.cause),
            ..e
        }
        .next("a pod that stays Pending with Insufficient nvidia.com/gpu means the device plugin advertises no free GPU: oc -n nvidia-gpu-operator get pods"));
    }
    let pod_name = pod.as_ref().and_then(|p| p.metadata.name.clone()).ok_or_else(|| {
        UserError::failed("the Job completed but its pod is gone").subject(format!("Job {ns}/{JOB_NAME}"))
    })?;
    let log_params = LogParams::default();
    let log = retry("pod log", || pods.logs(&pod_name, &log_params))
        .await
        .map_err(|e| kube_err(&format!("cannot read the log of pod {ns}/{pod_name}"), e))?;
    let ran_on = pod
        .as_ref()
        .and_then(|p| p.spec.as_ref())
        .and_then(|s| s.node_name.clone())
        .unwrap_or(node.clone());

    // 4. Evidence: the full log in the state dir, the verdict and the log's tail in the cluster.
    std::fs::create_dir_all(reports).ok();
    let log_path = reports.join("phase-6-cuda-vectoradd.log");
    crate::journal::write_atomic(&log_path, log.as_bytes())?;
    let passed = log_passed(&log);
    let last = tail(&log, 20);
    let mut d = BTreeMap::new();
    d.insert("result", if passed { "PASSED" } else { "FAILED" }.to_string());
    d.insert("node", ran_on.clone());
    d.insert("nodeGpus", capacity.to_string());
    d.insert("expectedGpus", expected.to_string());
    d.insert("image", image.clone());
    d.insert("pod", pod_name.clone());
    d.insert("finished", crate::journal::now());
    d.insert("log", last.join("\n") + "\n");
    let evidence = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": JOB_NAME, "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "fleetctl", "app.kubernetes.io/part-of": "phase-6"}},
        "data": d});
    if apply_one(cluster, &evidence, false, Duration::from_secs(60)).await? != Change::Unchanged {
        writes += 1;
    }
    // 5. Clean up: the Job and (background propagation) its pod.
    delete_job(&jobs).await?;
    writes += 1;

    let shown = tail(&log, 3).join(" | ");
    if passed {
        Ok((
            writes,
            format!(
                "Test PASSED on {ran_on} (nvidia.com/gpu: {capacity}); log tail: {shown}; full log {}; Job deleted",
                log_path.display()
            ),
        ))
    } else {
        Err(UserError::failed(format!(
            "the CUDA vectoradd log does not end in Test PASSED (last lines: {shown})"
        ))
        .subject(format!("Job {ns}/{JOB_NAME} on {ran_on}"))
        .next(format!(
            "read the full log in {}; check the driver pods (oc -n nvidia-gpu-operator get pods); a Pascal card needs the 580 proprietary driver and a CUDA 12 image",
            log_path.display()
        )))
    }
}

fn job_manifest(ns: &str, image: &str, node: &str, timeout: Duration) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": JOB_NAME, "namespace": ns,
        "labels": {"app.kubernetes.io/managed-by": "fleetctl", "app.kubernetes.io/part-of": "phase-6"}},
    "spec": {
        "backoffLimit": 0,
        "activeDeadlineSeconds": timeout.as_secs().max(60),
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/managed-by": "fleetctl"}},
            "spec": {
                "restartPolicy": "Never",
                "nodeSelector": {"kubernetes.io/hostname": node},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{
                    "name": "cuda-vectoradd",
                    "image": image,
                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                    "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"}}
                }]
            }
        }
    }})
}

async fn delete_job(jobs: &Api<Job>) -> Result<(), UserError> {
    match jobs.delete(JOB_NAME, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(kube_err("cannot delete the Job", e)
            .next("delete it by hand: oc -n nvidia-gpu-operator delete job cuda-vectoradd")),
    }
}

async fn wait_gone(cluster: &Cluster, ns: &str, timeout: Duration) -> Result<(), UserError> {
    let deadline = Instant::now() + timeout;
    while cluster.get("batch/v1", "Job", Some(ns), JOB_NAME).await?.is_some() {
        if Instant::now() > deadline {
            return Err(UserError::failed("the old cuda-vectoradd Job is still being deleted")
                .subject(format!("Job {ns}/{JOB_NAME}")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_log_must_end_in_test_passed() {
        assert!(log_passed("[Vector addition of 50000 elements]\nTest PASSED\nDone\n"));
        assert!(log_passed("Test PASSED\n\n"));
        assert!(!log_passed(
            "Failed to allocate device vector A (error code no CUDA-capable device is detected)!\n"
        ));
        assert!(!log_passed("Test PASSED\nthen something else\n"));
        assert!(!log_passed(""));
    }
}
