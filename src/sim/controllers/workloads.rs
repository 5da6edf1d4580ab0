//! Simulated kubelet/scheduler, Deployment and Job controllers. No container ever runs: a Pod is
//! "scheduled" (Pending while it asks for more `nvidia.com/gpu` than a node offers), "runs", and a
//! run-to-completion Pod "succeeds" with a canned log. Deployments report all replicas ready without
//! creating Pods; a Job creates one Pod and completes when it succeeds.

use super::{cond, key, set_cond, set_once, Ctx};
use crate::sim::defaults::suffix;
use crate::sim::store::{meta_str, now};
use serde_json::{json, Value};
use std::sync::Arc;

const CUDA_LOG: &str = "[Vector addition of 50000 elements]\nCopy input data from the host memory to the CUDA device\nCUDA kernel launch with 196 blocks of 256 threads\nCopy output data from the CUDA device to the host memory\nTest PASSED\nDone\n";

pub fn on_event(ctx: &Arc<Ctx>, gr: &str, obj: &Value) {
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    match gr {
        "deployments.apps" => {
            let gen = obj.pointer("/metadata/generation").cloned();
            let replicas = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let done = obj.pointer("/status/observedGeneration").cloned() == gen
                && obj
                    .pointer("/status/readyReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    == replicas;
            if !done {
                ctx.once(key(gr, obj), 800, move |ctx| deployment(ctx, &ns, &name));
            }
        }
        "jobs.batch" if obj.pointer("/status/startTime").is_none() && ctx.stall("Job", obj).is_none() => {
            ctx.once(key(gr, obj), 300, move |ctx| start_job(ctx, &ns, &name));
        }
        "pods" => {
            let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
            match phase {
                "Pending" => {
                    // a first consumer binds WaitForFirstConsumer claims
                    for v in obj
                        .pointer("/spec/volumes")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                    {
                        if let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) {
                            let (ns, claim) = (ns.clone(), claim.to_string());
                            ctx.once(format!("persistentvolumeclaims/{ns}/{claim}"), 500, move |ctx| {
                                bind_claim(ctx, &ns, &claim)
                            });
                        }
                    }
                    ctx.once(key(gr, obj), 1000, move |ctx| schedule_pod(ctx, &ns, &name))
                }
                "Running" => {
                    let rp = obj
                        .pointer("/spec/restartPolicy")
                        .and_then(Value::as_str)
                        .unwrap_or("Always");
                    if rp != "Always" && ctx.stall("Pod", obj).is_none() {
                        ctx.once(key(gr, obj), 1500, move |ctx| finish_pod(ctx, &ns, &name));
                    }
                }
                "Succeeded" | "Failed" => job_pod_done(ctx, obj, phase),
                _ => {}
            }
        }
        "persistentvolumeclaims" if obj.pointer("/status/phase").and_then(Value::as_str) != Some("Bound") => {
            ctx.once(key(gr, obj), 1000, move |ctx| bind_claim(ctx, &ns, &name));
        }
        "nodes" => {
            // capacity may have changed: retry unschedulable pods
            for p in ctx.shared.store.list("pods", None).0 {
                if p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending") {
                    let (ns, name) = (meta_str(&p, "namespace").to_string(), meta_str(&p, "name").to_string());
                    ctx.once(key("pods", &p), 300, move |ctx| schedule_pod(ctx, &ns, &name));
                }
            }
        }
        _ => {}
    }
}

fn deployment(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(d) = ctx.shared.store.get("deployments.apps", ns, name) else {
        return;
    };
    let stall = ctx.stall("Deployment", &d);
    ctx.shared.store.mutate("deployments.apps", ns, name, |o| {
        let replicas = o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let ready = if stall.is_some() { 0 } else { replicas };
        let gen = o["metadata"]["generation"].clone();
        let s = &mut o["status"];
        s["observedGeneration"] = gen;
        s["replicas"] = json!(replicas);
        s["updatedReplicas"] = json!(replicas);
        s["readyReplicas"] = json!(ready);
        s["availableReplicas"] = json!(ready);
        if ready < replicas {
            s["unavailableReplicas"] = json!(replicas - ready);
        } else if let Some(m) = s.as_object_mut() {
            m.remove("unavailableReplicas");
        }
        let avail = if ready == replicas {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability. (simulated stall)",
            )
        };
        set_cond(o, cond("Available", avail.0, avail.1, avail.2));
        set_cond(
            o,
            cond(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{name}-sim\" has successfully progressed."),
            ),
        );
    });
}

fn start_job(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(job) = ctx.shared.store.get("jobs.batch", ns, name) else {
        return;
    };
    if job.pointer("/status/startTime").is_some() {
        return;
    }
    let tmpl = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-{}", suffix()), "namespace": ns,
            "labels": tmpl.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": job["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]},
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({})),
        "status": {"phase": "Pending", "qosClass": "BestEffort"}});
    if let Some(a) = tmpl.pointer("/metadata/annotations") {
        pod["metadata"]["annotations"] = a.clone();
    }
    let _ = ctx.shared.store.create("pods", pod);
    ctx.shared.store.mutate("jobs.batch", ns, name, |o| {
        set_once(o, "startTime", json!(now()));
        o["status"]["active"] = json!(1);
        o["status"]["ready"] = json!(0);
        o["status"]["terminating"] = json!(0);
        o["status"]["uncountedTerminatedPods"] = json!({});
    });
}

fn gpu_request(pod: &Value) -> i64 {
    let mut n = 0;
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let q = c
            .pointer("/resources/limits/nvidia.com~1gpu")
            .or_else(|| c.pointer("/resources/requests/nvidia.com~1gpu"));
        n += q
            .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .unwrap_or(0);
    }
    n
}

pub(super) fn schedule_pod(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(pod) = ctx.shared.store.get("pods", ns, name) else {
        return;
    };
    if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Pending") {
        return;
    }
    // claims first: a pod waits for its PVCs (a populated one binds only when its Restore completes)
    if let Some(msg) = super::storage::claims_unbound(ctx, &pod) {
        ctx.shared.store.mutate("pods", ns, name, |o| {
            set_cond(o, cond("PodScheduled", "False", "Unschedulable", &msg))
        });
        return;
    }
    let want = gpu_request(&pod);
    let nodes = ctx.shared.store.list("nodes", None).0;
    let node = nodes.iter().find(|n| {
        let have = n
            .pointer("/status/allocatable/nvidia.com~1gpu")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        want == 0 || have >= want
    });
    let stall = ctx.stall("Pod", &pod);
    ctx.shared.store.mutate("pods", ns, name, |o| match (node, &stall) {
        (_, Some(st)) => {
            o["status"]["phase"] = json!("Pending");
            set_cond(o, cond("PodScheduled", "False", st, "held by a simulated stall"));
        }
        (None, None) => set_cond(o, cond("PodScheduled", "False", "Unschedulable", &format!("0/{} nodes are available: {} Insufficient nvidia.com/gpu. (simulated scheduler)", nodes.len(), nodes.len()))),
        (Some(n), None) => {
            o["spec"]["nodeName"] = n["metadata"]["name"].clone();
            let statuses: Vec<Value> = o.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default().iter()
                .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": true, "restartCount": 0, "started": true,
                    "state": {"running": {"startedAt": now()}}}))
                .collect();
            let s = &mut o["status"];
            s["phase"] = json!("Running");
            s["podIP"] = json!(format!("10.128.0.{}", rand::random_range(2..250u8)));
            s["hostIP"] = n.pointer("/status/addresses/0/address").cloned().unwrap_or(json!("192.0.2.10"));
            s["startTime"] = json!(now());
            s["containerStatuses"] = json!(statuses);
            for t in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
                set_cond(o, cond(t, "True", "", ""));
            }
        }
    });
    if node.is_some() && stall.is_none() {
        ctx.shared.store.set_log(ns, name, String::new());
        if pod.pointer("/spec/restartPolicy").and_then(Value::as_str) == Some("Always") {
            let c = &pod["spec"]["containers"][0];
            ctx.shared.store.set_log(
                ns,
                name,
                format!(
                    "container {} (image {}) started (simulated; nothing runs)\n",
                    c["name"].as_str().unwrap_or(""),
                    c["image"].as_str().unwrap_or("")
                ),
            );
        }
    }
}

fn finish_pod(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(pod) = ctx.shared.store.get("pods", ns, name) else {
        return;
    };
    let image = pod
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let log = if image.contains("cuda-sample:vectoradd") {
        CUDA_LOG.to_string()
    } else {
        format!("simulated run of {image}: nothing was executed; exit code 0\n")
    };
    ctx.shared.store.set_log(ns, name, log);
    ctx.shared.store.mutate("pods", ns, name, |o| {
        o["status"]["phase"] = json!("Succeeded");
        if let Some(cs) = o["status"]["containerStatuses"].as_array_mut() {
            for c in cs {
                c["ready"] = json!(false);
                c["started"] = json!(false);
                c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now(), "finishedAt": now()}});
            }
        }
        set_cond(o, cond("Ready", "False", "PodCompleted", ""));
        set_cond(o, cond("ContainersReady", "False", "PodCompleted", ""));
    });
}

fn job_pod_done(ctx: &Arc<Ctx>, pod: &Value, phase: &str) {
    let Some(job) = pod.pointer("/metadata/labels/job-name").and_then(Value::as_str) else {
        return;
    };
    let ns = meta_str(pod, "namespace");
    ctx.shared.store.mutate("jobs.batch", ns, job, |o| {
        if o.pointer("/status/completionTime").is_some() || o.pointer("/status/failed").is_some() {
            return;
        }
        o["status"]["active"] = json!(0);
        o["status"]["ready"] = json!(0);
        if phase == "Succeeded" {
            o["status"]["succeeded"] = json!(1);
            o["status"]["completionTime"] = json!(now());
            set_cond(
                o,
                cond(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                ),
            );
            set_cond(
                o,
                cond(
                    "Complete",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                ),
            );
        } else {
            o["status"]["failed"] = json!(1);
            set_cond(
                o,
                cond(
                    "Failed",
                    "True",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ),
            );
        }
    });
}

/// Binds a claim to a made-up volume: Immediate classes at once, WaitForFirstConsumer ones when a
/// Pod uses the claim. A claim with a dataSource/dataSourceRef (a populator) stays Pending.
fn bind_claim(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(pvc) = ctx.shared.store.get("persistentvolumeclaims", ns, name) else {
        return;
    };
    if pvc.pointer("/spec/dataSourceRef").is_some()
        || pvc.pointer("/spec/dataSource").is_some()
        || ctx.stall("PersistentVolumeClaim", &pvc).is_some()
    {
        return;
    }
    let classes = ctx.shared.store.list("storageclasses.storage.k8s.io", None).0;
    let wanted = pvc
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let sc = match &wanted {
        Some(n) => classes.iter().find(|c| meta_str(c, "name") == n),
        None => classes.iter().find(|c| {
            c.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        }),
    };
    let Some(sc) = sc else { return };
    let wait = sc["volumeBindingMode"] == "WaitForFirstConsumer";
    let used = ctx.shared.store.list("pods", Some(ns)).0.iter().any(|p| {
        p.pointer("/spec/volumes").and_then(Value::as_array).is_some_and(|vs| {
            vs.iter()
                .any(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) == Some(name))
        })
    });
    let sc_name = meta_str(sc, "name").to_string();
    ctx.shared.store.mutate("persistentvolumeclaims", ns, name, |o| {
        if o["spec"].get("storageClassName").is_none() {
            o["spec"]["storageClassName"] = json!(sc_name);
        }
        if wait && !used {
            return;
        }
        o["spec"]["volumeName"] = json!(format!("pvc-{}", meta_str(o, "uid")));
        let size = o
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(json!("1Gi"));
        o["status"] =
            json!({"phase": "Bound", "accessModes": o["spec"]["accessModes"].clone(), "capacity": {"storage": size}});
    });
}
