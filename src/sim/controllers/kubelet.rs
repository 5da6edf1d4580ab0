//! The simulated scheduler and kubelet. No container ever runs: a Pod is "scheduled" once its claims are
//! Bound (Pending while it asks for more `nvidia.com/gpu` than a node offers, or while `stall=Pod/...`
//! holds it), "runs", and a run-to-completion Pod "succeeds" with a canned log. A container the kubelet would
//! not start (`common::pod_start`: a missing Secret, `runAsNonRoot` with a non-numeric image USER) keeps the
//! Pod Pending with the container waiting (`ContainerCreating` / `CreateContainerConfigError`) and the event.

use super::common::pod_start::blocked;
use super::common::storage::{claim_names, PVCS};
use super::common::{cond, event, key, ns_name, phase, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const CUDA_LOG: &str = "[Vector addition of 50000 elements]\nCopy input data from the host memory to the CUDA device\nCUDA kernel launch with 196 blocks of 256 threads\nCopy output data from the CUDA device to the host memory\nTest PASSED\nDone\n";

pub const CONTROLLER: Controller = Controller {
    watches: &["pods", "nodes", PVCS, "secrets"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        "pods" => on_pod(ctx, obj),
        "nodes" | "secrets" => {
            // capacity may have changed, or a Secret a container needs appeared: retry pending pods
            let ns = (gr == "secrets").then(|| meta_str(obj, "namespace").to_string());
            for p in ctx.world.store.list("pods", ns.as_deref()).0 {
                if p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending") {
                    let (ns, name) = ns_name(&p);
                    ctx.once(key("pods", &p), 300, move |ctx| schedule_pod(ctx, &ns, &name));
                }
            }
        }
        _ if phase(obj) == "Bound" => {
            // pods waiting for this claim can be scheduled now
            let (ns, name) = ns_name(obj);
            for p in ctx.world.store.list("pods", Some(&ns)).0 {
                if phase(&p) == "Pending" && claim_names(&p["spec"]).contains(&name) {
                    let pn = meta_str(&p, "name").to_string();
                    let ns = ns.clone();
                    ctx.once(format!("pods/{ns}/{pn}"), 300, move |ctx| schedule_pod(ctx, &ns, &pn));
                }
            }
        }
        _ => {}
    }
}

fn on_pod(ctx: &Arc<Ctx>, obj: &Value) {
    let (ns, name) = ns_name(obj);
    match phase(obj) {
        "Pending" => ctx.once(key("pods", obj), 1000, move |ctx| schedule_pod(ctx, &ns, &name)),
        "Running" => {
            let rp = obj
                .pointer("/spec/restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("Always");
            if rp != "Always" && ctx.stall("Pod", obj).is_none() {
                ctx.once(key("pods", obj), 1500, move |ctx| finish_pod(ctx, &ns, &name));
            }
        }
        _ => {}
    }
}

/// Why a pod cannot be scheduled yet because of its claims (None: all Bound).
fn claims_unbound(ctx: &Ctx, pod: &Value) -> Option<String> {
    let ns = meta_str(pod, "namespace");
    let pending: Vec<String> = claim_names(&pod["spec"])
        .into_iter()
        .filter(|c| {
            ctx.world
                .store
                .get(PVCS, ns, c)
                .and_then(|p| p.pointer("/status/phase").and_then(Value::as_str).map(str::to_string))
                .as_deref()
                != Some("Bound")
        })
        .collect();
    (!pending.is_empty()).then(|| {
        format!(
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims ({}). (simulated scheduler)",
            pending.join(", ")
        )
    })
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

fn schedule_pod(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(pod) = ctx.world.store.get("pods", ns, name) else {
        return;
    };
    if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Pending") {
        return;
    }
    // claims first: a pod waits for its PVCs (a populated one binds only when its Restore completes)
    if let Some(msg) = claims_unbound(ctx, &pod) {
        ctx.world.store.mutate("pods", ns, name, |o| {
            set_cond(o, cond("PodScheduled", "False", "Unschedulable", &msg))
        });
        return;
    }
    let want = gpu_request(&pod);
    let nodes = ctx.world.store.list("nodes", None).0;
    let node = nodes.iter().find(|n| {
        let have = n
            .pointer("/status/allocatable/nvidia.com~1gpu")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        want == 0 || have >= want
    });
    if let Some((reason, msg)) = node.and(blocked(ctx, ns, name, &pod["spec"])) {
        event(ctx, ns, "Pod", name, &reason, &msg, true);
        let waiting = if reason == "FailedMount" {
            "ContainerCreating"
        } else {
            "CreateContainerConfigError"
        };
        ctx.world.store.mutate("pods", ns, name, |o| {
            o["spec"]["nodeName"] = node.map(|n| n["metadata"]["name"].clone()).unwrap_or_default();
            let statuses: Vec<Value> = o.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default().iter()
                .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "restartCount": 0, "started": false,
                    "state": {"waiting": {"reason": waiting, "message": msg.trim_start_matches("Error: ")}}}))
                .collect();
            o["status"]["containerStatuses"] = json!(statuses);
            set_cond(o, cond("PodScheduled", "True", "", ""));
            set_cond(o, cond("ContainersReady", "False", "ContainersNotReady", "containers with unready status"));
        });
        return;
    }
    let stall = ctx.stall("Pod", &pod);
    ctx.world.store.mutate("pods", ns, name, |o| match (node, &stall) {
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
        ctx.world.store.set_log(ns, name, String::new());
        if pod.pointer("/spec/restartPolicy").and_then(Value::as_str) == Some("Always") {
            let c = &pod["spec"]["containers"][0];
            ctx.world.store.set_log(
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
    let Some(pod) = ctx.world.store.get("pods", ns, name) else {
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
    ctx.world.store.set_log(ns, name, log);
    ctx.world.store.mutate("pods", ns, name, |o| {
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
