//! The Job controller: a Job gets one Pod from its template (none while `stall=Job/...` holds it) and is
//! Complete (SuccessCriteriaMet) when that Pod succeeds, Failed (BackoffLimitExceeded) when it fails.

use super::common::{cond, key, ns_name, set_cond, set_once};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, names::suffix, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["jobs.batch", "pods"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    if gr == "pods" {
        let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
        if phase == "Succeeded" || phase == "Failed" {
            job_pod_done(ctx, obj, phase);
        }
        return;
    }
    if obj.pointer("/status/startTime").is_none() && ctx.stall("Job", obj).is_none() {
        let (ns, name) = ns_name(obj);
        ctx.once(key(gr, obj), 300, move |ctx| start_job(ctx, &ns, &name));
    }
}

fn start_job(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(job) = ctx.world.store.get("jobs.batch", ns, name) else {
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
    let _ = ctx.world.store.create("pods", pod);
    ctx.world.store.mutate("jobs.batch", ns, name, |o| {
        set_once(o, "startTime", json!(now()));
        o["status"]["active"] = json!(1);
        o["status"]["ready"] = json!(0);
        o["status"]["terminating"] = json!(0);
        o["status"]["uncountedTerminatedPods"] = json!({});
    });
}

fn job_pod_done(ctx: &Arc<Ctx>, pod: &Value, phase: &str) {
    let Some(job) = pod.pointer("/metadata/labels/job-name").and_then(Value::as_str) else {
        return;
    };
    let ns = meta_str(pod, "namespace");
    ctx.world.store.mutate("jobs.batch", ns, job, |o| {
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
