//! Scripted controllers: tokio tasks that react to store events and play the operators a real
//! cluster would run. They only write status and the few objects a real operator creates, after
//! delays of `base / speed`. Their writes go straight to the store: they are not client requests and
//! are not counted in Stats. What each one does is listed in docs/sim.md.

mod backup;
mod gitops;
mod lb;
mod nodes;
mod olm;
mod operands;
mod storage;
mod workloads;

use super::store::{meta_str, EventType};
use super::Shared;
pub use backup::CRDS as KOPIUR_CRDS;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;

pub struct Ctx {
    pub shared: Arc<Shared>,
    pending: Mutex<HashSet<String>>,
}

impl Ctx {
    /// Runs `f` once after `base_ms / speed`, unless a run for `key` is already pending.
    pub fn once(self: &Arc<Self>, key: String, base_ms: u64, f: impl FnOnce(&Arc<Ctx>) + Send + 'static) {
        if !self.pending.lock().unwrap().insert(key.clone()) {
            return;
        }
        let ctx = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ctx.shared.delay(base_ms)).await;
            ctx.pending.lock().unwrap().remove(&key);
            f(&ctx);
        });
    }

    /// Like `once`, for a multi-step async script.
    pub fn once_async<F, Fut>(self: &Arc<Self>, key: String, f: F)
    where
        F: FnOnce(Arc<Ctx>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        if !self.pending.lock().unwrap().insert(key.clone()) {
            return;
        }
        let ctx = self.clone();
        tokio::spawn(async move {
            f(ctx.clone()).await;
            ctx.pending.lock().unwrap().remove(&key);
        });
    }

    pub async fn sleep(&self, base_ms: u64) {
        tokio::time::sleep(self.shared.delay(base_ms)).await;
    }

    pub fn stall(&self, kind: &str, obj: &Value) -> Option<String> {
        self.shared
            .faults()
            .stall_for(kind, meta_str(obj, "namespace"), meta_str(obj, "name"))
            .map(str::to_string)
    }

    pub fn served(&self, gr: &str) -> bool {
        self.shared.store.crd_resources().iter().any(|r| r.gr() == gr)
    }
}

/// A condition; `set_cond` keeps lastTransitionTime when the status did not change.
pub fn cond(t: &str, status: &str, reason: &str, msg: &str) -> Value {
    json!({"type": t, "status": status, "reason": reason, "message": msg, "lastTransitionTime": super::store::now()})
}

pub fn set_cond(obj: &mut Value, mut c: Value) {
    if let Some(g) = obj.pointer("/metadata/generation").cloned() {
        c["observedGeneration"] = g;
    }
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    if !obj["status"]["conditions"].is_array() {
        obj["status"]["conditions"] = json!([]);
    }
    let conds = obj["status"]["conditions"].as_array_mut().unwrap();
    match conds.iter_mut().find(|x| x["type"] == c["type"]) {
        Some(old) => {
            if old["status"] == c["status"] {
                c["lastTransitionTime"] = old["lastTransitionTime"].clone();
            }
            *old = c;
        }
        None => conds.push(c),
    }
}

pub fn has_true(obj: &Value, t: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
}

/// Sets `status.<field>` only when absent (timestamps that must not churn).
pub fn set_once(obj: &mut Value, field: &str, v: Value) {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    if obj["status"].get(field).is_none_or(Value::is_null) {
        obj["status"][field] = v;
    }
}

pub fn key(gr: &str, obj: &Value) -> String {
    format!("{gr}/{}/{}", meta_str(obj, "namespace"), meta_str(obj, "name"))
}

const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";

/// Garbage collection: deleting an owner deletes the objects whose ownerReferences name its uid.
fn collect_garbage(ctx: &Arc<Ctx>, owner: &Value) {
    let uid = meta_str(owner, "uid");
    if uid.is_empty() {
        return;
    }
    let mut grs: Vec<String> = super::discovery::builtins().iter().map(|r| r.gr()).collect();
    grs.extend(ctx.shared.store.crd_resources().iter().map(|r| r.gr()));
    for gr in grs {
        for o in ctx.shared.store.list(&gr, None).0 {
            let owned = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
            if owned {
                let _ = ctx
                    .shared
                    .store
                    .delete(&gr, meta_str(&o, "namespace"), meta_str(&o, "name"));
            }
        }
    }
}

fn dispatch(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    if etype == EventType::Deleted {
        collect_garbage(ctx, obj);
        return;
    }
    match gr {
        CRDS => {
            if !has_true(obj, "Established") {
                let name = meta_str(obj, "name").to_string();
                ctx.once(key(gr, obj), 500, move |ctx| {
                    ctx.shared.store.mutate(CRDS, "", &name, |o| {
                        if !has_true(o, "Established") {
                            *o = super::catalog::established(o.clone());
                        }
                    });
                });
            }
        }
        "namespaces" => {
            if etype == EventType::Added {
                let ns = meta_str(obj, "name");
                ctx.shared.store.ensure(
                    "serviceaccounts",
                    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}),
                );
            }
            storage::on_namespace(ctx, obj);
            backup::on_namespace(ctx);
        }
        g if g.ends_with(".kopiur.home-operations.com") || g == "clusterexternalsecrets.external-secrets.io" => {
            backup::on_event(ctx, gr, obj)
        }
        "subscriptions.operators.coreos.com" => olm::on_subscription(ctx, obj),
        "applications.argoproj.io" | "applicationsets.argoproj.io" if ctx.shared.repo.is_some() => {
            gitops::on_event(ctx, gr, obj, ctx.shared.repo.clone().unwrap_or_default())
        }
        "deployments.apps" if storage::mounts_pvc(obj) => storage::on_deployment(ctx, obj),
        "persistentvolumeclaims" => {
            storage::on_pvc(ctx, obj);
            workloads::on_event(ctx, gr, obj)
        }
        "pods" => {
            storage::on_pod(ctx, obj);
            workloads::on_event(ctx, gr, obj)
        }
        "jobs.batch" | "deployments.apps" | "nodes" => workloads::on_event(ctx, gr, obj),
        lb::POOLS => lb::on_pool(ctx),
        "services" => lb::on_service(ctx, obj),
        _ => operands::on_event(ctx, gr, obj),
    }
}

pub async fn run(shared: Arc<Shared>) {
    let mut rx = shared.store.subscribe();
    let ctx = Arc::new(Ctx {
        shared,
        pending: Mutex::new(HashSet::new()),
    });
    let resync = |ctx: &Arc<Ctx>| {
        let mut grs: Vec<String> = super::discovery::builtins().iter().map(|r| r.gr()).collect();
        grs.extend(ctx.shared.store.crd_resources().iter().map(|r| r.gr()));
        for gr in grs {
            for o in ctx.shared.store.list(&gr, None).0 {
                dispatch(ctx, &gr, EventType::Added, &o);
            }
        }
    };
    resync(&ctx);
    loop {
        match rx.recv().await {
            Ok(ev) => dispatch(&ctx, &ev.gr, ev.etype, &ev.obj),
            Err(RecvError::Lagged(_)) => resync(&ctx),
            Err(RecvError::Closed) => return,
        }
    }
}
