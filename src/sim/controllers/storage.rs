//! Simulated storage and admission for stateful workloads (phase 5):
//!
//! - PersistentVolumeClaims: a claim naming a StorageClass that does not exist gets one Warning event
//!   `ProvisioningFailed` (`storageclass.storage.k8s.io "X" not found`) and stays Pending; a claim whose
//!   `dataSourceRef` names a kopiur Restore binds once that Restore is Completed (the volume populator).
//! - Deployments whose pod template mounts a PVC get real Pods (one per replica, owned by the Deployment;
//!   no ReplicaSet object is stored, its would-be name `<deployment>-<hash>` is used for events), and
//!   their status follows those Pods. A Pod waits (Pending) until its claims are Bound.
//! - OpenShift SCC admission for those Pods and for kopiur movers: namespaces get an
//!   `openshift.io/sa.scc.uid-range`; restricted-v2 admits a pod whose pinned UIDs/fsGroup lie in that
//!   range and assigns both when unpinned; otherwise an SCC granted to the pod's ServiceAccount through a
//!   RoleBinding to `system:openshift:scc:<name>` (nonroot-v2, anyuid, privileged) is tried. A refused
//!   Pod is not created: a `FailedCreate` event on the ReplicaSet and `ReplicaFailure` on the Deployment.

use super::{cond, set_cond, Ctx};
use crate::fleet::Platform;
use crate::sim::defaults::suffix;
use crate::sim::store::{meta_str, now};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const PVCS: &str = "persistentvolumeclaims";
const DEPLOYS: &str = "deployments.apps";
const RESTORES: &str = "restores.kopiur.home-operations.com";
pub const UID_RANGE: &str = "openshift.io/sa.scc.uid-range";
const RANGE_SIZE: i64 = 10000;

/// Record a core/v1 Event once per (object, reason).
pub fn event(ctx: &Ctx, ns: &str, kind: &str, name: &str, reason: &str, msg: &str, warning: bool) {
    let exists =
        ctx.shared.store.list("events", Some(ns)).0.iter().any(|e| {
            e["involvedObject"]["kind"] == kind && e["involvedObject"]["name"] == name && e["reason"] == reason
        });
    if exists {
        return;
    }
    let t = now();
    let _ = ctx.shared.store.create(
        "events",
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.{}", suffix()), "namespace": ns},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns},
            "reason": reason, "message": msg, "type": if warning { "Warning" } else { "Normal" },
            "source": {"component": "simulated"}, "count": 1, "firstTimestamp": t, "lastTimestamp": t}),
    );
}

// ---------------------------------------------------------------------------------------------
// namespaces: the UID range OpenShift allocates

pub fn on_namespace(ctx: &Arc<Ctx>, obj: &Value) {
    if ctx.shared.platform != Platform::Openshift
        || obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(UID_RANGE))
            .is_some()
    {
        return;
    }
    let name = meta_str(obj, "name").to_string();
    let taken = ctx
        .shared
        .store
        .list("namespaces", None)
        .0
        .iter()
        .filter(|n| {
            n.pointer("/metadata/annotations")
                .and_then(|a| a.get(UID_RANGE))
                .is_some()
        })
        .count() as i64;
    let base = 1_000_600_000 + (taken + 1) * RANGE_SIZE;
    ctx.shared.store.mutate("namespaces", "", &name, |o| {
        if !o["metadata"]["annotations"].is_object() {
            o["metadata"]["annotations"] = json!({});
        }
        let a = &mut o["metadata"]["annotations"];
        if a.get(UID_RANGE).is_none() {
            a[UID_RANGE] = json!(format!("{base}/{RANGE_SIZE}"));
            a["openshift.io/sa.scc.supplemental-groups"] = json!(format!("{base}/{RANGE_SIZE}"));
            a["openshift.io/sa.scc.mcs"] = json!("s0:c27,c4");
        }
    });
}

fn uid_range(ctx: &Ctx, ns: &str) -> Option<(i64, i64)> {
    let n = ctx.shared.store.get("namespaces", "", ns)?;
    let r = n
        .pointer("/metadata/annotations")?
        .get(UID_RANGE)?
        .as_str()?
        .to_string();
    let (b, s) = r.split_once('/')?;
    Some((b.parse().ok()?, s.parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// SCC admission

/// Whether the SCC is granted to `sa` in `ns` by a RoleBinding (or ClusterRoleBinding) to
/// `system:openshift:scc:<scc>`.
fn granted(ctx: &Ctx, ns: &str, sa: &str, scc: &str) -> bool {
    let role = format!("system:openshift:scc:{scc}");
    let mut bindings = ctx
        .shared
        .store
        .list("rolebindings.rbac.authorization.k8s.io", Some(ns))
        .0;
    bindings.extend(
        ctx.shared
            .store
            .list("clusterrolebindings.rbac.authorization.k8s.io", None)
            .0,
    );
    bindings.iter().any(|b| {
        b.pointer("/roleRef/name").and_then(Value::as_str) == Some(&role)
            && b["subjects"].as_array().is_some_and(|ss| {
                ss.iter().any(|s| match s["kind"].as_str() {
                    Some("ServiceAccount") => {
                        s["name"] == sa
                            && (s["namespace"] == ns || (s["namespace"].is_null() && meta_str(b, "namespace") == ns))
                    }
                    Some("Group") => {
                        let g = s["name"].as_str().unwrap_or_default();
                        g == "system:serviceaccounts" || g == format!("system:serviceaccounts:{ns}")
                    }
                    _ => false,
                })
            })
    })
}

/// Admit a pod spec in `ns`: Ok((scc, spec as mutated by admission)) or Err(the API server's message).
pub fn admit(ctx: &Ctx, ns: &str, pod_name: &str, spec: &Value) -> Result<(String, Value), String> {
    if ctx.shared.platform != Platform::Openshift {
        return Ok((String::new(), spec.clone()));
    }
    let sa = spec["serviceAccountName"].as_str().unwrap_or("default");
    let containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
    let pod_uid = spec.pointer("/securityContext/runAsUser").and_then(Value::as_i64);
    let fs_group = spec.pointer("/securityContext/fsGroup").and_then(Value::as_i64);
    let privileged = containers
        .iter()
        .any(|c| c.pointer("/securityContext/privileged").and_then(Value::as_bool) == Some(true));
    let caps_added = containers.iter().any(|c| {
        c.pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x != "NET_BIND_SERVICE"))
    });
    let uids: Vec<(String, i64)> = pod_uid
        .map(|u| (".spec.securityContext.runAsUser".to_string(), u))
        .into_iter()
        .chain(containers.iter().enumerate().filter_map(|(i, c)| {
            c.pointer("/securityContext/runAsUser")
                .and_then(Value::as_i64)
                .map(|u| (format!(".containers[{i}].runAsUser"), u))
        }))
        .collect();
    let mut why = Vec::new();
    // restricted-v2: every authenticated ServiceAccount may use it.
    let (base, size) = uid_range(ctx, ns).unwrap_or((1_000_600_000, RANGE_SIZE));
    let in_range = |u: i64| u >= base && u < base + size;
    let mut ok = true;
    for (path, u) in &uids {
        if !in_range(*u) {
            ok = false;
            why.push(format!(
                "provider restricted-v2: {path}: Invalid value: {u}: must be in the ranges: [{base}, {}]",
                base + size - 1
            ));
        }
    }
    if let Some(g) = fs_group.filter(|g| !in_range(*g)) {
        ok = false;
        why.push(format!(
            "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: []int64{{{g}}}: {g} is not an allowed group"
        ));
    }
    if privileged || caps_added {
        ok = false;
        why.push(
            "provider restricted-v2: .containers[0].securityContext: privileged or added capabilities are not allowed"
                .into(),
        );
    }
    if ok {
        let mut s = spec.clone();
        if s.pointer("/securityContext/fsGroup").is_none() {
            if !s["securityContext"].is_object() {
                s["securityContext"] = json!({});
            }
            s["securityContext"]["fsGroup"] = json!(base);
        }
        if pod_uid.is_none() {
            for c in s["containers"].as_array_mut().into_iter().flatten() {
                if c.pointer("/securityContext/runAsUser").is_none() {
                    if !c["securityContext"].is_object() {
                        c["securityContext"] = json!({});
                    }
                    c["securityContext"]["runAsUser"] = json!(base);
                }
            }
        }
        return Ok(("restricted-v2".into(), s));
    }
    for (scc, admits) in [
        (
            "nonroot-v2",
            !privileged && !caps_added && uids.iter().all(|(_, u)| *u != 0),
        ),
        ("anyuid", !privileged && !caps_added),
        ("privileged", true),
    ] {
        if !granted(ctx, ns, sa, scc) {
            why.push(format!(
                "provider \"{scc}\": Forbidden: not usable by user or serviceaccount"
            ));
        } else if admits {
            return Ok((scc.into(), spec.clone()));
        } else {
            why.push(format!("provider {scc}: the pod asks for more than {scc} allows"));
        }
    }
    Err(format!(
        "pods \"{pod_name}\" is forbidden: unable to validate against any security context constraint: [{}]",
        why.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------------
// PVCs

fn claim_names(spec: &Value) -> Vec<String> {
    spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Why a pod cannot be scheduled yet because of its claims (None: all Bound).
pub fn claims_unbound(ctx: &Ctx, pod: &Value) -> Option<String> {
    let ns = meta_str(pod, "namespace");
    let pending: Vec<String> = claim_names(&pod["spec"])
        .into_iter()
        .filter(|c| {
            ctx.shared
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

pub fn on_pvc(ctx: &Arc<Ctx>, obj: &Value) {
    let ns = meta_str(obj, "namespace").to_string();
    let name = meta_str(obj, "name").to_string();
    let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    if phase == "Bound" {
        // pods waiting for this claim can be scheduled now
        for p in ctx.shared.store.list("pods", Some(&ns)).0 {
            if p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending")
                && claim_names(&p["spec"]).contains(&name)
            {
                let pn = meta_str(&p, "name").to_string();
                let ns = ns.clone();
                ctx.once(format!("pods/{ns}/{pn}"), 300, move |ctx| {
                    super::workloads::schedule_pod(ctx, &ns, &pn)
                });
            }
        }
        return;
    }
    if let Some(sc) = obj.pointer("/spec/storageClassName").and_then(Value::as_str) {
        if ctx.shared.store.get("storageclasses.storage.k8s.io", "", sc).is_none() {
            let msg = format!("storageclass.storage.k8s.io \"{sc}\" not found");
            event(
                ctx,
                &ns,
                "PersistentVolumeClaim",
                &name,
                "ProvisioningFailed",
                &msg,
                true,
            );
            return;
        }
    }
    if obj.pointer("/spec/dataSourceRef/apiGroup").and_then(Value::as_str) == Some("kopiur.home-operations.com")
        && obj.pointer("/spec/dataSourceRef/kind").and_then(Value::as_str) == Some("Restore")
    {
        let restore = obj
            .pointer("/spec/dataSourceRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let done = ctx
            .shared
            .store
            .get(RESTORES, &ns, restore)
            .is_some_and(|r| r.pointer("/status/phase").and_then(Value::as_str) == Some("Completed"));
        if done {
            bind_populated(ctx, &ns, &name);
        }
    }
}

/// Bind a claim a populator has filled.
pub fn bind_populated(ctx: &Ctx, ns: &str, name: &str) {
    let Some(pvc) = ctx.shared.store.get(PVCS, ns, name) else {
        return;
    };
    if pvc.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
        return;
    }
    let default_sc = ctx
        .shared
        .store
        .list("storageclasses.storage.k8s.io", None)
        .0
        .into_iter()
        .find(|c| {
            c.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        })
        .map(|c| meta_str(&c, "name").to_string());
    ctx.shared.store.mutate(PVCS, ns, name, |o| {
        if o["spec"].get("storageClassName").is_none() {
            if let Some(d) = &default_sc {
                o["spec"]["storageClassName"] = json!(d);
            }
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

// ---------------------------------------------------------------------------------------------
// Deployments with a PVC: real pods

pub fn mounts_pvc(deploy: &Value) -> bool {
    !claim_names(&deploy.pointer("/spec/template/spec").cloned().unwrap_or(Value::Null)).is_empty()
}

fn template_hash(d: &Value) -> String {
    let t = serde_json::to_string(&d.pointer("/spec/template").cloned().unwrap_or(Value::Null)).unwrap_or_default();
    let h = Sha256::digest(t.as_bytes());
    h.iter().take(5).map(|b| format!("{b:02x}")).collect::<String>()[..9].to_string()
}

pub fn on_deployment(ctx: &Arc<Ctx>, obj: &Value) {
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
    ctx.shared
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
    let Some(d) = ctx.shared.store.get(DEPLOYS, ns, name) else {
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
        let _ = ctx.shared.store.delete("pods", ns, meta_str(p, "name"));
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
                    let _ = ctx.shared.store.create("pods", pod);
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
pub fn update_status(ctx: &Ctx, ns: &str, name: &str, refused: Option<String>) {
    let Some(d) = ctx.shared.store.get(DEPLOYS, ns, name) else {
        return;
    };
    let pods = owned_pods(ctx, &d);
    let ready = pods
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"))
        .count() as i64;
    let rs = format!("{name}-{}", template_hash(&d));
    ctx.shared.store.mutate(DEPLOYS, ns, name, |o| {
        let replicas = o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let gen = o["metadata"]["generation"].clone();
        let s = &mut o["status"];
        s["observedGeneration"] = gen;
        s["replicas"] = json!(pods.len());
        s["updatedReplicas"] = json!(pods.len());
        s["readyReplicas"] = json!(ready);
        s["availableReplicas"] = json!(ready);
        if ready < replicas {
            s["unavailableReplicas"] = json!(replicas - ready);
        } else if let Some(m) = s.as_object_mut() {
            m.remove("unavailableReplicas");
        }
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
pub fn on_pod(ctx: &Arc<Ctx>, pod: &Value) {
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
