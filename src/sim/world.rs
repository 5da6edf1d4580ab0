//! The simulated cluster's state that every layer shares: the platform, the store, the faults in force
//! and the time scale. The API layer serves it; the controllers react to it. It imports neither.

use super::faults::FaultSpec;
use super::store::Store;
use crate::fleet::Platform;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

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
        }
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
