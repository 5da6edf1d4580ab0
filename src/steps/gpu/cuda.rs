//! `cuda-vectoradd {namespace, image, expectedGpus, timeout}`: runs the CUDA sample as a Job asking for one
//! GPU, requires its log to end in `Test PASSED`, keeps the log, deletes the Job.
//!
//! Observe rule: the ConfigMap `cuda-vectoradd` in the namespace says result PASSED for this image, on a node
//! that now reports `nvidia.com/gpu` equal to the recorded count and to `expectedGpus`: then nothing runs and
//! nothing is written.

use super::{args, gpu_capacity, node_name, parse_timeout, watch_nodes};
use crate::cluster::apply::{apply_one, Change};
use crate::cluster::retry::retry;
use crate::cluster::{wait, Cluster};
use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::runbook::{Expect, ObjectRef};
use crate::ui::Ui;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

pub const DEFAULT_IMAGE: &str = "nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0-ubuntu22.04";
/// The Job, and the ConfigMap that keeps its verdict (same name, same namespace).
pub const JOB_NAME: &str = "cuda-vectoradd";

pub struct CudaVectoradd;

#[async_trait::async_trait]
impl StepKind for CudaVectoradd {
    fn name(&self) -> &'static str {
        "cuda-vectoradd"
    }
    fn validate(&self, a: &Value) -> Result<(), String> {
        let a: CudaArgs = args(self.name(), a).map_err(|e| e.cause)?;
        parse_timeout(&a.timeout, "10m").map_err(|e| e.cause)?;
        Ok(())
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    async fn run(&self, cx: &Cx<'_>, a: &Value, _: &StepPlan) -> Result<Done, UserError> {
        cuda_vectoradd(cx.cluster, a, &cx.reports, cx.ui).await.map(Done::from)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CudaArgs {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    image: Option<String>,
    expected_gpus: String,
    #[serde(default)]
    timeout: Option<String>,
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
    let (node, capacity) = gpus_advertised(cluster, expected, timeout, ui).await?;
    // 2. Observe: evidence of a passing run for this node, count and image means done.
    let run = Run {
        cluster,
        ns: &ns,
        image: &image,
        node: &node,
        capacity,
        expected,
        timeout,
    };
    if let Some(note) = run.already_verified().await? {
        return Ok((0, note));
    }
    // 3. Act: a leftover Job from an interrupted run goes first, then a fresh one.
    let (mut writes, done) = run.job(ui).await?;
    // 4. Evidence: the full log in the state dir, the verdict and the log's tail in the cluster.
    let log_path = reports.join("phase-6-cuda-vectoradd.log");
    let passed = log_passed(&done.log);
    writes += run.record(reports, &log_path, &done, passed).await?;
    // 5. Clean up: the Job and (background propagation) its pod.
    delete_job(&Api::namespaced(cluster.client.clone(), &ns)).await?;
    writes += 1;
    let shown = tail(&done.log, 3).join(" | ");
    let ran_on = &done.ran_on;
    if passed {
        return Ok((
            writes,
            format!(
                "Test PASSED on {ran_on} (nvidia.com/gpu: {capacity}); log tail: {shown}; full log {}; Job deleted",
                log_path.display()
            ),
        ));
    }
    Err(UserError::failed(format!("the CUDA vectoradd log does not end in Test PASSED (last lines: {shown})"))
        .subject(format!("Job {ns}/{JOB_NAME} on {ran_on}"))
        .next(format!(
            "read the full log in {}; check the driver pods (oc -n nvidia-gpu-operator get pods); a Pascal card needs the 580 proprietary driver and a CUDA 12 image",
            log_path.display()
        )))
}

/// Wait until a node reports exactly `expected` GPUs: (node, capacity). Another non-zero count ends the wait
/// at once: the device plugin already advertises what the driver sees, so waiting cannot help.
async fn gpus_advertised(
    cluster: &Cluster,
    expected: u32,
    timeout: Duration,
    ui: &Ui,
) -> Result<(String, u32), UserError> {
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
    match got {
        Ok(Ok(x)) => Ok(x),
        Ok(Err(seen)) => {
            Err(UserError::failed(format!(
                "{seen}, but the decision gpu-count expects {expected}"
            ))
            .subject("Node status.capacity[\"nvidia.com/gpu\"]")
            .next("if a card is missing, check it is seated and powered and that the driver sees it (oc -n nvidia-gpu-operator logs ds/nvidia-driver-daemonset); if the count changed on purpose, answer gpu-count with the new number"))
        }
        Err(nodes) => {
            let seen: Vec<String> = nodes
                .iter()
                .map(|n| format!("{} nvidia.com/gpu: {}", node_name(n), gpu_capacity(n)))
                .collect();
            Err(UserError::failed(format!(
                "no node reports nvidia.com/gpu: {expected} (decision gpu-count) after {}; observed {}",
                humantime::format_duration(timeout),
                seen.join(", ")
            ))
            .subject("Node status.capacity[\"nvidia.com/gpu\"]")
            .next("if cards are missing, check they are seated and powered (oc -n nvidia-gpu-operator logs ds/nvidia-driver-daemonset); if the count changed on purpose, answer gpu-count with the new number"))
        }
    }
}

/// One verification run's settings.
struct Run<'a> {
    cluster: &'a Cluster,
    ns: &'a str,
    image: &'a str,
    node: &'a str,
    capacity: u32,
    expected: u32,
    timeout: Duration,
}

/// A finished Job: its pod, the node it ran on and its log.
struct Finished {
    pod: String,
    ran_on: String,
    log: String,
}

impl Run<'_> {
    /// The evidence ConfigMap already records a pass for this node, count and image.
    async fn already_verified(&self) -> Result<Option<String>, UserError> {
        let (ns, node, capacity, image) = (self.ns, self.node, self.capacity, self.image);
        let cm = self.cluster.get("v1", "ConfigMap", Some(ns), JOB_NAME).await?;
        let data = |k: &str| {
            cm.as_ref()
                .and_then(|c| c.pointer(&format!("/data/{k}")))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if data("result").as_deref() == Some("PASSED")
            && data("node").as_deref() == Some(node)
            && data("nodeGpus") == Some(capacity.to_string())
            && data("image").as_deref() == Some(image)
        {
            return Ok(Some(format!(
                    "already verified: Test PASSED on {node} with nvidia.com/gpu: {capacity} at {} (ConfigMap {ns}/{JOB_NAME})",
                data("finished").unwrap_or_default()
            )));
        }
        Ok(None)
    }

    /// Run a fresh Job (deleting a leftover one first) until it completes; (writes, the finished Job).
    async fn job(&self, ui: &Ui) -> Result<(u32, Finished), UserError> {
        let (cluster, ns, timeout) = (self.cluster, self.ns, self.timeout);
        let ns = ns.to_string();
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
        let job = job_manifest(&ns, self.image, self.node, timeout);
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
        let ran_on = pod
            .as_ref()
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.node_name.clone())
            .unwrap_or(self.node.to_string());
        let log = log_text(&pods, &pod_name, &ns).await?;
        Ok((
            writes,
            Finished {
                pod: pod_name,
                ran_on,
                log,
            },
        ))
    }

    /// Keep the evidence: the full log under `reports`, the verdict and the log's tail in a ConfigMap.
    async fn record(&self, reports: &Path, log_path: &Path, done: &Finished, passed: bool) -> Result<u32, UserError> {
        let (ns, image, capacity, expected) = (self.ns, self.image, self.capacity, self.expected);
        std::fs::create_dir_all(reports).ok();
        crate::journal::write_atomic(log_path, done.log.as_bytes())?;
        let last = tail(&done.log, 20);
        let mut d = BTreeMap::new();
        d.insert("result", if passed { "PASSED" } else { "FAILED" }.to_string());
        d.insert("node", done.ran_on.clone());
        d.insert("nodeGpus", capacity.to_string());
        d.insert("expectedGpus", expected.to_string());
        d.insert("image", image.to_string());
        d.insert("pod", done.pod.clone());
        d.insert("finished", crate::journal::now());
        d.insert("log", last.join("\n") + "\n");
        let evidence = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": JOB_NAME, "namespace": ns,
                "labels": {"app.kubernetes.io/managed-by": "fleetctl", "app.kubernetes.io/part-of": "phase-6"}},
            "data": d});
        let changed = apply_one(self.cluster, &evidence, false, Duration::from_secs(60)).await? != Change::Unchanged;
        Ok(u32::from(changed))
    }
}

/// The log of the Job's pod.
async fn log_text(pods: &Api<Pod>, pod_name: &str, ns: &str) -> Result<String, UserError> {
    let log_params = LogParams::default();
    retry("pod log", || pods.logs(pod_name, &log_params))
        .await
        .map_err(|e| kube_err(&format!("cannot read the log of pod {ns}/{pod_name}"), e))
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
    use super::log_passed;

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
