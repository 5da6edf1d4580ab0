//! Simulated kopiur (the Kopia-native backup operator, `kopiur.home-operations.com/v1alpha1`), for phase 5. Nothing is backed up and no mover Job runs: the scripts
//! decide what a real run would report.
//!
//! - The operator is "installed" when Argo CD syncs an Application whose source is the `kopiur` Helm
//!   chart (see `argocd.rs`): its namespace, Deployments `kopiur-controller` and `kopiur-webhook`, and the
//!   kopiur CRDs.
//! - ClusterRepository / Repository: `Ready` once the credentials Secret it names exists, else Pending.
//! - Restore (populator target): the mover is admitted like a pod (`common::admission::admit`, UID/fsGroup 65532 unless
//!   `spec.mover` pins others); refused -> `Failed` with the SCC message and a FailedCreate event on its Job.
//!   Otherwise `Completed`, resolution `Snapshot` when the policy has a Succeeded Snapshot, else `NoSnapshot`,
//!   and the PVC naming it in `dataSourceRef` binds.
//! - Snapshot: Pending -> Running -> Succeeded (`resolved.repository`, a made-up `kopiaSnapshotID`), and the
//!   policy's `lastSuccessfulSnapshot`. A mover that inherits from the PVC's consumer waits (Pending) for a
//!   Running pod and takes its identity. No repository / no credentials in the namespace / refused mover ->
//!   `Failed` with `status.failure.message`.
//! - SnapshotPolicy: `resolved` identity (`{username, hostname}`: policy name and namespace, hostname
//!   `<namespace>.<cluster>` when the repository sets `identityDefaults.cluster`) and sources;
//!   SnapshotSchedule: `consecutiveFailures: 0` and a next run (no run).
//!
//! Field paths follow kopiur's API types (crates/api in home-operations/kopiur): identities are objects,
//! not strings; a repository reference carries `kind`; `status.backend` is the backend's kind (`S3`).

use super::common::admission::admit;
use super::common::storage::bind_populated;
use super::common::{cond, event, phase, set_cond};
use super::{Controller, Ctx};
use crate::sim::catalog::KOPIUR_CRDS;
use crate::sim::store::{meta_str, names::suffix, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const GROUP: &str = "kopiur.home-operations.com";

const MOVER_UID: i64 = 65532;

fn gr(kind: &str) -> String {
    format!("{kind}.{GROUP}")
}

pub const CONTROLLER: Controller = Controller {
    watches: KOPIUR_CRDS,
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr_: &str, _: EventType, obj: &Value) {
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    let k = format!("{gr_}/{ns}/{name}");
    match gr_.split_once('.').map(|x| x.0).unwrap_or_default() {
        "clusterrepositories" | "repositories" if phase(obj) != "Ready" => {
            let g = gr_.to_string();
            ctx.once(k, 1000, move |ctx| repository(ctx, &g, &ns, &name))
        }
        "snapshotpolicies" if obj.pointer("/status/resolved").is_none() => {
            ctx.once(k, 300, move |ctx| policy(ctx, &ns, &name))
        }
        "snapshotschedules" if obj.pointer("/status/nextSchedule").is_none() => {
            ctx.once(k, 300, move |ctx| schedule(ctx, &ns, &name))
        }
        "restores" if !matches!(phase(obj), "Completed" | "Failed") => {
            ctx.once(k, 1000, move |ctx| restore(ctx, &ns, &name))
        }
        "snapshots" if !matches!(phase(obj), "Succeeded" | "Failed") => {
            ctx.once(k, 1000, move |ctx| snapshot(ctx, &ns, &name))
        }
        _ => {}
    }
}

/// The credentials Secret a repository names, as (namespace, name).
fn credentials(repo: &Value, own_ns: &str) -> Option<(String, String)> {
    let r = repo.pointer("/spec/backend/s3/auth/secretRef")?;
    let ns = r["namespace"].as_str().unwrap_or(own_ns).to_string();
    Some((ns, r["name"].as_str()?.to_string()))
}

fn repository(ctx: &Arc<Ctx>, g: &str, ns: &str, name: &str) {
    let Some(r) = ctx.world.store.get(g, ns, name) else {
        return;
    };
    let stall = ctx.stall(
        if ns.is_empty() {
            "ClusterRepository"
        } else {
            "Repository"
        },
        &r,
    );
    let creds = credentials(&r, if ns.is_empty() { "kopiur-system" } else { ns });
    let have = creds
        .as_ref()
        .is_none_or(|(cns, cn)| ctx.world.store.get("secrets", cns, cn).is_some());
    // kopiur mirrors the backend's kind here (its print column), not its location.
    let backend = match r.pointer("/spec/backend").and_then(Value::as_object) {
        Some(b) if b.contains_key("s3") => "S3",
        Some(_) => "Other",
        None => "",
    };
    ctx.world.store.mutate(g, ns, name, |o| {
        o["status"]["backend"] = json!(backend);
        o["status"]["observedGeneration"] = o["metadata"]["generation"].clone();
        if let Some(st) = &stall {
            o["status"]["phase"] = json!("Failed");
            set_cond(o, cond("Ready", "False", st, "held by a simulated stall"));
        } else if have {
            o["status"]["phase"] = json!("Ready");
            o["status"]["uniqueId"] = json!("sim-repository");
            set_cond(
                o,
                cond("Ready", "True", "Connected", "connected to the repository (simulated)"),
            );
        } else {
            o["status"]["phase"] = json!("Pending");
            let (cns, cn) = creds.clone().unwrap_or_default();
            set_cond(
                o,
                cond(
                    "Ready",
                    "False",
                    "SecretNotFound",
                    &format!("Secret {cns}/{cn} not found"),
                ),
            );
        }
    });
    if !have && stall.is_none() {
        let (g, ns, name) = (g.to_string(), ns.to_string(), name.to_string());
        ctx.once(format!("retry/{g}/{ns}/{name}"), 1000, move |ctx| {
            repository(ctx, &g, &ns, &name)
        });
    }
}

/// The repository a policy names and whether it is Ready, as (kind, name, ready).
fn policy_repository(ctx: &Ctx, ns: &str, policy: &Value) -> (String, String, bool) {
    let kind = policy
        .pointer("/spec/repository/kind")
        .and_then(Value::as_str)
        .unwrap_or("Repository")
        .to_string();
    let name = policy
        .pointer("/spec/repository/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let obj = if kind == "ClusterRepository" {
        ctx.world.store.get(&gr("clusterrepositories"), "", &name)
    } else {
        ctx.world.store.get(&gr("repositories"), ns, &name)
    };
    let ready = obj.as_ref().is_some_and(|o| phase(o) == "Ready");
    (kind, name, ready)
}

/// The kopia identity kopiur resolves for a policy: username = policy name, hostname = namespace, or
/// `<namespace>.<cluster>` when the repository sets `identityDefaults.cluster` (a repository shared by
/// several clusters). Explicit `spec.identity` overrides win.
fn identity(ctx: &Ctx, ns: &str, name: &str, policy: &Value) -> Value {
    let (kind, repo, _) = policy_repository(ctx, ns, policy);
    let repo_obj = if kind == "ClusterRepository" {
        ctx.world.store.get(&gr("clusterrepositories"), "", &repo)
    } else {
        ctx.world.store.get(&gr("repositories"), ns, &repo)
    };
    let cluster = repo_obj
        .as_ref()
        .and_then(|r| r.pointer("/spec/identityDefaults/cluster"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let host = match cluster {
        Some(c) => format!("{ns}.{c}"),
        None => ns.to_string(),
    };
    let over = |k: &str| {
        policy
            .pointer(&format!("/spec/identity/{k}"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    json!({"username": over("username").unwrap_or_else(|| name.to_string()),
        "hostname": over("hostname").unwrap_or(host)})
}

fn policy(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let Some(p) = ctx.world.store.get(&gr("snapshotpolicies"), ns, name) else {
        return;
    };
    let id = identity(ctx, ns, name, &p);
    let sources: Vec<Value> = p
        .pointer("/spec/sources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.pointer("/pvc/name").and_then(Value::as_str))
        .map(|p| json!({"pvc": format!("{ns}/{p}"), "sourcePath": format!("/pvc/{p}")}))
        .collect();
    ctx.world.store.mutate(&gr("snapshotpolicies"), ns, name, |o| {
        o["status"]["resolved"] = json!({"identity": id.clone(), "sources": sources.clone()});
        o["status"]["observedGeneration"] = o["metadata"]["generation"].clone();
    });
}

fn schedule(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    ctx.world.store.mutate(&gr("snapshotschedules"), ns, name, |o| {
        o["status"]["consecutiveFailures"] = json!(0);
        o["status"]["nextSchedule"] = json!({"at": "tomorrow (simulated: schedules never fire)"});
    });
}

/// The mover's pod spec: UID/fsGroup 65532 unless `mover` pins others, or `inherit` gives them.
fn mover_spec(mover: &Value, inherit: Option<&Value>) -> Value {
    let mut pod_sc = json!({"fsGroup": MOVER_UID, "fsGroupChangePolicy": "OnRootMismatch"});
    let mut c_sc = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}});
    if let Some(p) = inherit {
        if let Some(m) = p.pointer("/spec/securityContext").and_then(Value::as_object) {
            for (k, v) in m {
                pod_sc[k] = v.clone();
            }
        }
        if let Some(m) = p
            .pointer("/spec/containers/0/securityContext")
            .and_then(Value::as_object)
        {
            for (k, v) in m {
                c_sc[k] = v.clone();
            }
        }
    }
    for (src, dst) in [("podSecurityContext", &mut pod_sc), ("securityContext", &mut c_sc)] {
        if let Some(m) = mover.get(src).and_then(Value::as_object) {
            for (k, v) in m {
                dst[k] = v.clone();
            }
        }
    }
    json!({"securityContext": pod_sc, "containers": [{"name": "mover", "image": "ghcr.io/home-operations/kopiur-mover", "securityContext": c_sc}]})
}

fn fail(ctx: &Ctx, g: &str, ns: &str, name: &str, msg: &str) {
    ctx.world.store.mutate(g, ns, name, |o| {
        if matches!(phase(o), "Succeeded" | "Completed" | "Failed") {
            return;
        }
        o["status"]["phase"] = json!("Failed");
        o["status"]["failure"] = json!({"message": msg});
        set_once_time(o, "endTime");
        set_cond(o, cond("Ready", "False", "Failed", msg));
    });
}

/// SCC admission refused the mover: a FailedCreate event on its Job, and the object Failed.
fn refuse_mover(ctx: &Ctx, g: &str, ns: &str, name: &str, job: &str, msg: &str) {
    event(
        ctx,
        ns,
        "Job",
        job,
        "FailedCreate",
        &format!("Error creating: {msg}"),
        true,
    );
    fail(ctx, g, ns, name, &format!("mover pod refused: {msg}"));
}

fn set_once_time(o: &mut Value, field: &str) {
    if o.pointer("/status/timing").is_none() {
        o["status"]["timing"] = json!({});
    }
    if o["status"]["timing"].get(field).is_none() {
        o["status"]["timing"][field] = json!(now());
    }
}

/// The object to reconcile, unless it is gone or a simulated stall holds it (then it is failed, saying so).
fn unstalled(ctx: &Arc<Ctx>, g: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
    let o = ctx.world.store.get(g, ns, name)?;
    if let Some(st) = ctx.stall(kind, &o) {
        fail(ctx, g, ns, name, &format!("held by a simulated stall ({st})"));
        return None;
    }
    Some(o)
}

fn restore(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let g = gr("restores");
    let Some(r) = unstalled(ctx, &g, "Restore", ns, name) else {
        return;
    };
    let policy_name = r
        .pointer("/spec/source/fromPolicy/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(policy) = ctx.world.store.get(&gr("snapshotpolicies"), ns, policy_name) else {
        return retry(
            ctx,
            &g,
            ns,
            name,
            &format!("SnapshotPolicy {policy_name} not found"),
            restore,
        );
    };
    let (kind, repo, ready) = policy_repository(ctx, ns, &policy);
    if !ready {
        return retry(ctx, &g, ns, name, &format!("repository {repo} is not Ready"), restore);
    }
    // the claim that names this Restore
    let pvc = ctx
        .world
        .store
        .list("persistentvolumeclaims", Some(ns))
        .0
        .into_iter()
        .find(|p| {
            p.pointer("/spec/dataSourceRef/kind").and_then(Value::as_str) == Some("Restore")
                && p.pointer("/spec/dataSourceRef/name").and_then(Value::as_str) == Some(name)
        });
    let Some(pvc) = pvc else {
        return retry(
            ctx,
            &g,
            ns,
            name,
            "waiting for a PVC whose dataSourceRef names this Restore",
            restore,
        );
    };
    let job = format!("{name}-restore");
    let spec = mover_spec(r.pointer("/spec/mover").unwrap_or(&Value::Null), None);
    if let Err(msg) = admit(ctx, ns, &format!("{job}-{}", suffix()), &spec) {
        return refuse_mover(ctx, &g, ns, name, &job, &msg);
    }
    let latest = latest_success(ctx, ns, policy_name);
    let pvc_name = meta_str(&pvc, "name").to_string();
    ctx.world.store.mutate(&g, ns, name, |o| {
        if matches!(phase(o), "Completed" | "Failed") {
            return;
        }
        o["status"]["phase"] = json!("Completed");
        o["status"]["sourceKind"] = json!("FromPolicy");
        o["status"]["resolved"] = match &latest {
            Some(s) => json!({"resolution": "Snapshot", "snapshotRef": {"name": meta_str(s, "name")},
                "kopiaSnapshotID": s.pointer("/status/snapshot/kopiaSnapshotID").cloned().unwrap_or(Value::Null),
                "repository": {"kind": kind.clone(), "name": repo.clone()}, "pinnedAt": now()}),
            None => json!({"resolution": "NoSnapshot", "repository": {"kind": kind.clone(), "name": repo.clone()}, "pinnedAt": now()}),
        };
        o["status"]["target"] = json!({"pvcRef": {"name": pvc_name.clone()}});
        set_once_time(o, "startTime");
        set_once_time(o, "endTime");
        set_cond(o, cond("Ready", "True", "Completed", "restore completed (simulated)"));
    });
    bind_populated(ctx, ns, &pvc_name);
}

fn retry(ctx: &Arc<Ctx>, g: &str, ns: &str, name: &str, why: &str, f: fn(&Arc<Ctx>, &str, &str)) {
    ctx.world.store.mutate(g, ns, name, |o| {
        if matches!(phase(o), "Succeeded" | "Completed" | "Failed") {
            return;
        }
        if o.pointer("/status/phase").is_none() {
            o["status"]["phase"] = json!("Pending");
        }
        set_cond(o, cond("Ready", "False", "Waiting", why));
    });
    let (ns, name) = (ns.to_string(), name.to_string());
    ctx.once(format!("retry/{g}/{ns}/{name}"), 1000, move |ctx| f(ctx, &ns, &name));
}

fn latest_success(ctx: &Ctx, ns: &str, policy: &str) -> Option<Value> {
    let mut ok: Vec<Value> = ctx
        .world
        .store
        .list(&gr("snapshots"), Some(ns))
        .0
        .into_iter()
        .filter(|s| {
            s.pointer("/spec/policyRef/name").and_then(Value::as_str) == Some(policy) && phase(s) == "Succeeded"
        })
        .collect();
    ok.sort_by_key(|s| {
        s.pointer("/status/timing/endTime")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    });
    ok.pop()
}

fn snapshot(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let g = gr("snapshots");
    let Some(s) = unstalled(ctx, &g, "Snapshot", ns, name) else {
        return;
    };
    let policy_name = s
        .pointer("/spec/policyRef/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(policy) = ctx.world.store.get(&gr("snapshotpolicies"), ns, &policy_name) else {
        return fail(ctx, &g, ns, name, &format!("SnapshotPolicy {policy_name} not found"));
    };
    let (kind, repo, ready) = policy_repository(ctx, ns, &policy);
    if !ready {
        return retry(ctx, &g, ns, name, &format!("repository {repo} is not Ready"), snapshot);
    }
    if ctx.world.store.get("secrets", ns, "kopiur-repository").is_none() {
        return retry(
            ctx,
            &g,
            ns,
            name,
            &format!("the mover's credentials (Secret {ns}/kopiur-repository) are missing"),
            snapshot,
        );
    }
    let mut id = identity(ctx, ns, &policy_name, &policy);
    let mover = policy.pointer("/spec/mover").cloned().unwrap_or(Value::Null);
    let claim = policy
        .pointer("/spec/sources/0/pvc/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let inherit = if mover.pointer("/inheritSecurityContextFrom/pvcConsumer").is_some() {
        let consumer = ctx.world.store.list("pods", Some(ns)).0.into_iter().find(|p| {
            phase(p) == "Running"
                && p["spec"]["volumes"].as_array().is_some_and(|vs| {
                    vs.iter()
                        .any(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) == Some(&claim))
                })
        });
        match consumer {
            Some(p) => Some(p),
            None => {
                return retry(
                    ctx,
                    &g,
                    ns,
                    name,
                    &format!("held: no running pod mounts PVC {claim} to inherit the security context from"),
                    snapshot,
                )
            }
        }
    } else {
        None
    };
    if phase(&s) != "Running" {
        // the Running event schedules the next step (on_event); never step back from a terminal phase
        ctx.world.store.mutate(&g, ns, name, |o| {
            if matches!(phase(o), "Succeeded" | "Failed") {
                return;
            }
            o["status"]["phase"] = json!("Running");
            o["status"]["origin"] = json!(if o
                .pointer("/metadata/labels/kopiur.home-operations.com~1schedule")
                .is_some()
            {
                "scheduled"
            } else {
                "manual"
            });
            set_once_time(o, "startTime");
        });
        return;
    }
    let job = format!("{name}-backup");
    let spec = mover_spec(&mover, inherit.as_ref());
    if let Err(msg) = admit(ctx, ns, &format!("{job}-{}", suffix()), &spec) {
        return refuse_mover(ctx, &g, ns, name, &job, &msg);
    }
    let sid: String = (0..16).map(|_| format!("{:x}", rand::random_range(0..16u8))).collect();
    id["sourcePath"] = json!(format!("/pvc/{claim}"));
    let uid = spec
        .pointer("/containers/0/securityContext/runAsUser")
        .cloned()
        .unwrap_or(json!(MOVER_UID));
    ctx.world.store.mutate(&g, ns, name, |o| {
        if matches!(phase(o), "Succeeded" | "Failed") {
            return;
        }
        o["status"]["phase"] = json!("Succeeded");
        o["status"]["resolved"] = json!({"repository": {"kind": kind.clone(), "name": repo.clone()},
            "sources": [{"pvc": format!("{ns}/{claim}"), "sourcePath": format!("/pvc/{claim}")}]});
        o["status"]["snapshot"] = json!({"kopiaSnapshotID": format!("k{sid}"), "identity": id.clone()});
        o["status"]["stats"] = json!({"sizeBytes": 0, "bytesNew": 0, "filesNew": 0});
        o["status"]["logTail"] = json!(format!(
            "simulated: nothing was read or uploaded; the mover would run as UID {uid}\n"
        ));
        set_once_time(o, "endTime");
        set_cond(
            o,
            cond("SnapshotCreated", "True", "Succeeded", "snapshot created (simulated)"),
        );
    });
    ctx.world.store.mutate(&gr("snapshotpolicies"), ns, &policy_name, |o| {
        o["status"]["lastSuccessfulSnapshot"] = json!(now());
    });
}
