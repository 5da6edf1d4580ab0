//! The Deployment controller (with its ReplicaSet, which is not stored). A Deployment whose pod template
//! mounts no PVC reports all replicas ready without creating Pods (`stall=Deployment/...` keeps it
//! unavailable), unless the kubelet would not start its containers (`common::pod_start`: a missing Secret,
//! a non-numeric image USER under `runAsNonRoot`): then it stays unavailable with the kubelet's event on the
//! would-be Pod, and after `progressDeadlineSeconds` (default 600 s, scaled) Progressing turns False with
//! reason `ProgressDeadlineExceeded`, as the real controller reports it. One that mounts a PVC gets real Pods (one per replica, owned by the Deployment; the
//! would-be ReplicaSet name `<deployment>-<hash>` is used for events), admitted like OpenShift's SCCs would
//! (`common::admission`); a refused Pod is not created: a `FailedCreate` event on the ReplicaSet and
//! `ReplicaFailure` on the Deployment. Its status follows those Pods.

use super::common::admission::admit;
use super::common::pod_start::blocked;
use super::common::storage::claim_names;
use super::common::{cond, event, key, ns_name, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, names::suffix, EventType};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const DEPLOYS: &str = "deployments.apps";

pub const CONTROLLER: Controller = Controller {
    watches: &[DEPLOYS, "pods", "secrets"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        DEPLOYS if mounts_pvc(obj) => on_deployment(ctx, obj),
        DEPLOYS => on_synthetic(ctx, gr, obj),
        "secrets" => on_secret(ctx, obj),
        _ => on_pod(ctx, obj),
    }
}

/// A Secret appeared or changed: Deployments of its namespace that are not available look again.
fn on_secret(ctx: &Arc<Ctx>, secret: &Value) {
    let ns = meta_str(secret, "namespace").to_string();
    for d in ctx.world.store.list(DEPLOYS, Some(&ns)).0 {
        if !super::common::has_true(&d, "Available") {
            let name = meta_str(&d, "name").to_string();
            let ns = ns.clone();
            ctx.once(format!("{DEPLOYS}/{ns}/{name}"), 300, move |ctx| {
                match ctx.world.store.get(DEPLOYS, &ns, &name) {
                    Some(d) if mounts_pvc(&d) => reconcile_deployment(ctx, &ns, &name),
                    Some(_) => deployment(ctx, &ns, &name),
                    None => {}
                }
            });
        }
    }
}

/// No claim mounted: the Deployment reports every replica ready without Pods (or none, when stalled).
fn on_synthetic(ctx: &Arc<Ctx>, gr: &str, obj: &Value) {
    let (ns, name) = ns_name(obj);
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

/// The replica counts of a Deployment's status: `current` replicas, `ready` of them ready and available.
fn replica_status(o: &mut Value, replicas: i64, current: i64, ready: i64) {
    let gen = o["metadata"]["generation"].clone();
    let s = &mut o["status"];
    s["observedGeneration"] = gen;
    s["replicas"] = json!(current);
    s["updatedReplicas"] = json!(current);
    s["readyReplicas"] = json!(ready);
    s["availableReplicas"] = json!(ready);
    if ready < replicas {
        s["unavailableReplicas"] = json!(replicas - ready);
    } else if let Some(m) = s.as_object_mut() {
        m.remove("unavailableReplicas");
    }
}

fn deployment(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(d) = ctx.world.store.get("deployments.apps", ns, name) else {
        return;
    };
    let stall = ctx.stall("Deployment", &d);
    let rs = format!("{name}-{}", template_hash(&d));
    let spec = d.pointer("/spec/template/spec").cloned().unwrap_or(json!({}));
    let kubelet = blocked(ctx, ns, &format!("{rs}-sim"), &spec);
    if let Some((reason, msg)) = &kubelet {
        event(ctx, ns, "Pod", &format!("{rs}-sim"), reason, msg, true);
        let deadline = d
            .pointer("/spec/progressDeadlineSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(600);
        let (ns, name) = (ns.to_string(), name.to_string());
        ctx.once(format!("deadline/{DEPLOYS}/{ns}/{name}"), deadline * 1000, move |ctx| {
            deadline_exceeded(ctx, &ns, &name)
        });
    }
    ctx.world.store.mutate("deployments.apps", ns, name, |o| {
        let replicas = o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let ready = if stall.is_some() || kubelet.is_some() {
            0
        } else {
            replicas
        };
        replica_status(o, replicas, replicas, ready);
        let avail = if ready == replicas {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else if stall.is_some() {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability. (simulated stall)",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        set_cond(o, cond("Available", avail.0, avail.1, avail.2));
        let exceeded = o
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
            });
        if ready == replicas || !exceeded {
            let (reason, msg) = if ready == replicas {
                (
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{rs}\" has successfully progressed."),
                )
            } else {
                ("ReplicaSetUpdated", format!("ReplicaSet \"{rs}\" is progressing."))
            };
            set_cond(o, cond("Progressing", "True", reason, &msg));
        }
    });
}

/// `progressDeadlineSeconds` passed and the kubelet still refuses the containers.
fn deadline_exceeded(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(d) = ctx.world.store.get(DEPLOYS, ns, name) else {
        return;
    };
    let spec = d.pointer("/spec/template/spec").cloned().unwrap_or(json!({}));
    if super::common::has_true(&d, "Available") || blocked(ctx, ns, name, &spec).is_none() {
        return;
    }
    let rs = format!("{name}-{}", template_hash(&d));
    ctx.world.store.mutate(DEPLOYS, ns, name, |o| {
        set_cond(
            o,
            cond(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs}\" has timed out progressing."),
            ),
        )
    });
}

fn mounts_pvc(deploy: &Value) -> bool {
    !claim_names(&deploy.pointer("/spec/template/spec").cloned().unwrap_or(Value::Null)).is_empty()
}

fn template_hash(d: &Value) -> String {
    let t = serde_json::to_string(&d.pointer("/spec/template").cloned().unwrap_or(Value::Null)).unwrap_or_default();
    let h = Sha256::digest(t.as_bytes());
    h.iter().take(5).map(|b| format!("{b:02x}")).collect::<String>()[..9].to_string()
}

fn on_deployment(ctx: &Arc<Ctx>, obj: &Value) {
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(format!("{DEPLOYS}/{ns}/{name}"), 500, move |ctx| {
        reconcile_deployment(ctx, &ns, &name)
    });
}

/// Owned pods: those whose ownerReference names the Deployment's uid.
fn owned_pods(ctx: &Ctx, d: &Value) -> Vec<Value> {
    let uid = meta_str(d, "uid").to_string();
    ctx.world
        .store
        .list("pods", Some(meta_str(d, "namespace")))
        .0
        .into_iter()
        .filter(|p| {
            p.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r["uid"] == uid.as_str()))
        })
        .collect()
}

fn reconcile_deployment(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(d) = ctx.world.store.get(DEPLOYS, ns, name) else {
        return;
    };
    let replicas = d.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let hash = template_hash(&d);
    let rs = format!("{name}-{hash}");
    let mut pods = owned_pods(ctx, &d);
    // a new template replaces the old pods (Recreate)
    for p in pods
        .iter()
        .filter(|p| p.pointer("/metadata/labels/pod-template-hash").and_then(Value::as_str) != Some(&hash))
    {
        let _ = ctx.world.store.delete("pods", ns, meta_str(p, "name"));
    }
    pods.retain(|p| p.pointer("/metadata/labels/pod-template-hash").and_then(Value::as_str) == Some(&hash));
    let mut refused = None;
    if ctx.stall("Deployment", &d).is_none() {
        for _ in pods.len() as i64..replicas {
            let pod_name = format!("{rs}-{}", suffix());
            let spec = d.pointer("/spec/template/spec").cloned().unwrap_or(json!({}));
            match admit(ctx, ns, &pod_name, &spec) {
                Ok((scc, spec)) => {
                    let mut labels = d
                        .pointer("/spec/template/metadata/labels")
                        .cloned()
                        .unwrap_or(json!({}));
                    labels["pod-template-hash"] = json!(hash);
                    let mut ann = d
                        .pointer("/spec/template/metadata/annotations")
                        .cloned()
                        .unwrap_or(json!({}));
                    if !scc.is_empty() {
                        ann["openshift.io/scc"] = json!(scc);
                    }
                    let mut spec = spec;
                    if spec.get("serviceAccountName").is_none() {
                        spec["serviceAccountName"] = json!("default");
                    }
                    if spec.get("restartPolicy").is_none() {
                        spec["restartPolicy"] = json!("Always");
                    }
                    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "annotations": ann,
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                "uid": d["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]},
                        "spec": spec, "status": {"phase": "Pending", "qosClass": "Burstable"}});
                    let _ = ctx.world.store.create("pods", pod);
                }
                Err(msg) => {
                    event(
                        ctx,
                        ns,
                        "ReplicaSet",
                        &rs,
                        "FailedCreate",
                        &format!("Error creating: {msg}"),
                        true,
                    );
                    refused = Some(msg);
                    break;
                }
            }
        }
    }
    update_status(ctx, ns, name, refused);
}

/// Deployment status from its pods.
fn update_status(ctx: &Ctx, ns: &str, name: &str, refused: Option<String>) {
    let Some(d) = ctx.world.store.get(DEPLOYS, ns, name) else {
        return;
    };
    let pods = owned_pods(ctx, &d);
    let ready = pods
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"))
        .count() as i64;
    let rs = format!("{name}-{}", template_hash(&d));
    ctx.world.store.mutate(DEPLOYS, ns, name, |o| {
        let replicas = o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        replica_status(o, replicas, pods.len() as i64, ready);
        if ready >= replicas {
            set_cond(
                o,
                cond(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                ),
            );
        } else {
            set_cond(
                o,
                cond(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                ),
            );
        }
        match &refused {
            Some(m) => set_cond(o, cond("ReplicaFailure", "True", "FailedCreate", m)),
            None => {
                if let Some(c) = o["status"]["conditions"].as_array_mut() {
                    c.retain(|c| c["type"] != "ReplicaFailure");
                }
            }
        }
        set_cond(
            o,
            cond(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs}\" has successfully progressed."),
            ),
        );
    });
}

/// A pod owned by a Deployment changed: refresh that Deployment's status.
fn on_pod(ctx: &Arc<Ctx>, pod: &Value) {
    let Some(owner) = pod
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|r| r.iter().find(|r| r["kind"] == "Deployment"))
    else {
        return;
    };
    let ns = meta_str(pod, "namespace").to_string();
    let name = owner["name"].as_str().unwrap_or_default().to_string();
    ctx.once(format!("status/{DEPLOYS}/{ns}/{name}"), 100, move |ctx| {
        update_status(ctx, &ns, &name, None)
    });
}
