//! The simulated cluster's state that every layer shares: the platform, the store, the faults in force
//! and the time scale. The API layer serves it; the controllers react to it. It imports neither.

use super::faults::FaultSpec;
use super::store::Store;
use crate::fleet::Platform;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// A validating admission webhook of a simulated operator: (group resource, the stored object for an update,
/// the object to store) -> Ok, or the webhook's denial (`admission webhook "NAME" denied the request: ...`).
/// The API layer runs every one before a client create or update is stored; the controllers register them
/// (`controllers::webhooks`), so the API layer never names an operator.
pub type Webhook = fn(&str, Option<&Value>, &Value) -> Result<(), String>;

pub(crate) struct World {
    pub platform: Platform,
    pub store: Arc<Store>,
    /// The faults in force; the controllers watch it so that clearing a stall releases what it held.
    faults: watch::Sender<FaultSpec>,
    pub speed: f64,
    /// Where to take real CRD schemas from (`<plural>.<group>.yaml`).
    pub crds_dir: Option<PathBuf>,
    /// The fleet working tree the simulated Argo CD syncs from.
    pub repo: Option<PathBuf>,
    /// How busy the controllers are (for `SimHandle::settle`).
    pub activity: Activity,
    /// The simulated operators' validating webhooks.
    pub webhooks: Vec<Webhook>,
}

/// Controller work in flight (scheduled reconciles not yet run) and the last store event they handled.
#[derive(Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    handled_rv: AtomicU64,
}

impl Activity {
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }
    pub fn finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    pub fn handled(&self, rv: u64) {
        self.handled_rv.fetch_max(rv, Ordering::SeqCst);
    }
}

impl World {
    pub fn new(
        platform: Platform,
        faults: FaultSpec,
        speed: f64,
        crds_dir: Option<PathBuf>,
        repo: Option<PathBuf>,
    ) -> Self {
        World {
            platform,
            store: Store::new(),
            faults: watch::Sender::new(faults),
            speed: if speed > 0.0 { speed } else { 1.0 },
            crds_dir,
            repo,
            activity: Activity::default(),
            webhooks: Vec::new(),
        }
    }

    /// Runs every validating webhook on a write about to be stored; the first denial wins.
    pub fn admit(&self, gr: &str, old: Option<&Value>, new: &Value) -> Result<(), String> {
        self.webhooks.iter().try_for_each(|w| w(gr, old, new))
    }

    /// Whether the controllers have handled every store event and have nothing scheduled.
    pub fn quiet(&self) -> bool {
        self.activity.in_flight.load(Ordering::SeqCst) == 0
            && self.activity.handled_rv.load(Ordering::SeqCst) >= self.store.current_rv()
    }

    /// A receiver told about every change of the faults in force.
    pub fn watch_faults(&self) -> watch::Receiver<FaultSpec> {
        self.faults.subscribe()
    }

    pub fn faults(&self) -> FaultSpec {
        self.faults.borrow().clone()
    }

    /// Replaces the faults in force and tells whoever watches them.
    pub fn set_faults(&self, spec: FaultSpec) {
        self.faults.send_replace(spec);
    }

    /// A controller delay: `base_ms / speed`.
    pub fn delay(&self, base_ms: u64) -> std::time::Duration {
        std::time::Duration::from_secs_f64(base_ms as f64 / 1000.0 / self.speed.max(0.001))
    }
}
