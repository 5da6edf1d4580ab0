//! Scripted controllers: tokio tasks that react to store events and play the operators a real
//! cluster would run. They only write status and the few objects a real operator creates, after
//! delays of `base / speed`. Their writes go straight to the store: they are not client requests and
//! are not counted in Stats. What each one does is listed in docs/sim.md.
//!
//! Each simulated operator is one file here that declares a `Controller` (what it watches and what it
//! does on an event) and is listed once in `CONTROLLERS`. Controller files share helpers through
//! `common` only; none imports another, and none imports the API layer.

mod applicationset;
mod argocd;
mod argocd_operator;
mod cert_manager;
mod common;
mod crd;
mod deployment;
mod external_secrets;
mod gateway;
mod gc;
mod gpu;
mod job;
mod kopiur;
mod kubelet;
mod lvms;
mod metallb;
mod namespace;
mod nfd;
mod olm;
mod pv;
mod uid_range;

use super::faults::{FaultSpec, Stall};
use super::store::kinds::{builtins, ResourceInfo};
use super::store::{meta_str, EventType};
use super::world::World;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;

/// A simulated operator: the group resources it watches and what it does when one of them changes.
pub struct Controller {
    /// Group resources (`plural` or `plural.group`); `*` is every resource.
    pub watches: &'static [&'static str],
    /// Whether DELETED events reach it too (else only ADDED / MODIFIED).
    pub deletes: bool,
    /// Called for each event of a watched resource: (ctx, group resource, event type, object).
    pub on_event: fn(&Arc<Ctx>, &str, EventType, &Value),
}

/// Every simulated operator, in the order an event reaches them.
const CONTROLLERS: &[&Controller] = &[
    &gc::CONTROLLER,
    &crd::CONTROLLER,
    &namespace::CONTROLLER,
    &uid_range::CONTROLLER,
    &external_secrets::CONTROLLER,
    &kopiur::CONTROLLER,
    &olm::CONTROLLER,
    &argocd::CONTROLLER,
    &applicationset::CONTROLLER,
    &argocd_operator::CONTROLLER,
    &deployment::CONTROLLER,
    &pv::CONTROLLER,
    &kubelet::CONTROLLER,
    &job::CONTROLLER,
    &metallb::CONTROLLER,
    &gateway::CONTROLLER,
    &cert_manager::CONTROLLER,
    &lvms::CONTROLLER,
    &gpu::CONTROLLER,
    &nfd::CONTROLLER,
];

/// The simulated operators' validating webhooks, which the API layer runs before storing a client write
/// (`World::webhooks`).
const WEBHOOKS: &[crate::sim::world::Webhook] = &[lvms::webhook];

pub fn webhooks() -> Vec<crate::sim::world::Webhook> {
    WEBHOOKS.to_vec()
}

pub struct Ctx {
    pub world: Arc<World>,
    pending: Mutex<HashSet<String>>,
}

impl Ctx {
    /// Runs `f` once after `base_ms / speed`, unless a run for `key` is already pending.
    pub fn once(self: &Arc<Self>, key: String, base_ms: u64, f: impl FnOnce(&Arc<Ctx>) + Send + 'static) {
        if !self.pending.lock().unwrap().insert(key.clone()) {
            return;
        }
        self.world.activity.started();
        let ctx = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ctx.world.delay(base_ms)).await;
            ctx.pending.lock().unwrap().remove(&key);
            f(&ctx);
            ctx.world.activity.finished();
        });
    }

    /// Like `once`, for a periodic re-check (Argo CD's reconciliation timeout): not counted as work in
    /// flight, so a world whose only plans are such timers is quiet (`SimHandle::settle`).
    pub fn timer(self: &Arc<Self>, key: String, base_ms: u64, f: impl FnOnce(&Arc<Ctx>) + Send + 'static) {
        if !self.pending.lock().unwrap().insert(key.clone()) {
            return;
        }
        let ctx = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ctx.world.delay(base_ms)).await;
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
        self.world.activity.started();
        let ctx = self.clone();
        tokio::spawn(async move {
            f(ctx.clone()).await;
            ctx.pending.lock().unwrap().remove(&key);
            ctx.world.activity.finished();
        });
    }

    pub async fn sleep(&self, base_ms: u64) {
        tokio::time::sleep(self.world.delay(base_ms)).await;
    }

    /// The state a `stall=` fault holds this object (of `kind`) at, if any. The fault may name the kind
    /// by its Kind, plural, singular or a short name (`stall=pvc/shop/data=Pending`).
    pub fn stall(&self, kind: &str, obj: &Value) -> Option<String> {
        let ri = self.kinds().into_iter().find(|r| r.kind == kind);
        let mut names = vec![kind];
        if let Some(ri) = &ri {
            names.extend([ri.plural.as_str(), ri.singular.as_str()]);
            names.extend(ri.short_names.iter().map(String::as_str));
        }
        self.world
            .faults()
            .stall_for(&names, meta_str(obj, "namespace"), meta_str(obj, "name"))
            .map(str::to_string)
    }

    /// Every kind the cluster serves now (built-in and custom).
    fn kinds(&self) -> Vec<ResourceInfo> {
        let mut all = builtins();
        all.extend(self.world.store.crd_resources());
        all
    }

    pub fn served(&self, gr: &str) -> bool {
        self.world.store.crd_resources().iter().any(|r| r.gr() == gr)
    }

    /// Hands an object to the controllers that watch its resource again, as if it had changed.
    pub fn requeue(self: &Arc<Self>, gr: &str, obj: &Value) {
        dispatch(self, gr, EventType::Modified, obj);
    }

    /// Every group resource the cluster serves now (built-in and custom).
    pub fn all_resources(&self) -> Vec<String> {
        self.kinds().iter().map(ResourceInfo::gr).collect()
    }
}

fn dispatch(ctx: &Arc<Ctx>, gr: &str, etype: EventType, obj: &Value) {
    for c in CONTROLLERS {
        if (c.deletes || etype != EventType::Deleted) && c.watches.iter().any(|w| *w == "*" || *w == gr) {
            (c.on_event)(ctx, gr, etype, obj);
        }
    }
}

/// Every object handed to the controllers again (at start, and when events were missed).
fn resync(ctx: &Arc<Ctx>) {
    ctx.world.activity.handled(ctx.world.store.current_rv());
    for gr in ctx.all_resources() {
        for o in ctx.world.store.list(&gr, None).0 {
            dispatch(ctx, &gr, EventType::Added, &o);
        }
    }
}

/// The faults changed at run time (`PUT /_sim/faults`): what a stall held, or now holds, is reconciled
/// again at once, so clearing a stall releases its object without anything else touching it. A change of
/// the other controller faults (no-lb, gpus, gpu-model, no-iommu) reconciles everything.
fn faults_changed(ctx: &Arc<Ctx>, old: &FaultSpec, new: &FaultSpec) {
    let rest = |f: &FaultSpec| (f.no_lb, f.gpus, f.gpu_models.clone(), f.no_iommu);
    if rest(old) != rest(new) {
        return resync(ctx);
    }
    let changed: Vec<&Stall> = old
        .stalls
        .iter()
        .filter(|s| !new.stalls.contains(s))
        .chain(new.stalls.iter().filter(|s| !old.stalls.contains(s)))
        .collect();
    let kinds = ctx.kinds();
    for s in changed {
        for ri in kinds.iter().filter(|r| {
            std::iter::once(&r.kind)
                .chain([&r.plural, &r.singular])
                .chain(r.short_names.iter())
                .any(|n| n.eq_ignore_ascii_case(&s.kind))
        }) {
            if let Some(obj) = ctx.world.store.get(&ri.gr(), &s.namespace, &s.name) {
                ctx.requeue(&ri.gr(), &obj);
            }
        }
    }
}

pub async fn run(world: Arc<World>) {
    let mut rx = world.store.subscribe();
    let mut faults = world.watch_faults();
    let mut last = faults.borrow_and_update().clone();
    let ctx = Arc::new(Ctx {
        world,
        pending: Mutex::new(HashSet::new()),
    });
    resync(&ctx);
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    dispatch(&ctx, &ev.gr, ev.etype, &ev.obj);
                    ctx.world.activity.handled(ev.rv);
                }
                Err(RecvError::Lagged(_)) => resync(&ctx),
                Err(RecvError::Closed) => return,
            },
            Ok(()) = faults.changed() => {
                let new = faults.borrow_and_update().clone();
                faults_changed(&ctx, &last, &new);
                last = new;
            }
        }
    }
}
