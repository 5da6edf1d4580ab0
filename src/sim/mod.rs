//! The SIMULATED Kubernetes cluster used by the tests and by `fleetctl rehearse`. It is never a
//! real cluster and never presents itself as one.
//!
//! It serves the Kubernetes API wire protocol over plain HTTP on loopback (discovery, OpenAPI v3 index,
//! CRUD, server-side apply with managedFields, merge/JSON patches, status subresources, watches with
//! resume, pod logs), so that kube-rs and `kubectl` work against it unchanged. Behind the API, small
//! scripted controllers play the operators of docs/sim.md (OLM, Argo CD, LVMS, cert-manager, ESO,
//! Gateway API, NFD, the NVIDIA GPU operator, Deployments, Jobs): they only write status and the few
//! objects a real operator would create, after delays scaled by `speed`. Nothing is deployed or run.
//!
//! Modules: `store` (objects, resourceVersions, events), `server` (HTTP routing, verbs), `discovery`,
//! `apply` (SSA and patches), `watch`, `faults`, `catalog` (CRDs, OLM packages, seed objects),
//! `controllers`, `openapi`, `kubeconfig`, `router` (the simulated HTTPS ingress that probes reach).

mod apply;
mod catalog;
mod controllers;
mod defaults;
mod discovery;
mod errors;
mod faults;
mod kubeconfig;
mod openapi;
mod patch;
mod protobuf;
mod prune;
pub mod router;
mod selector;
mod server;
mod store;
mod table;
mod talos_preset;
mod verbs;
mod watch;
mod write;

pub use crate::fleet::Platform;
pub use faults::{FaultSpec, Stall};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio::task::JoinHandle;

pub struct SimConfig {
    pub platform: Platform,
    /// Default 127.0.0.1:0 (a free port).
    pub listen: SocketAddr,
    pub faults: FaultSpec,
    /// Scales the controllers' delays: delay = base / speed.
    pub speed: f64,
    /// Where to take real CRD schemas from (`<plural>.<group>.yaml`), e.g. shared/crds.
    pub crds_dir: Option<PathBuf>,
    /// A fleet repo: when set, the simulated Argo CD syncs Applications and expands ApplicationSets from
    /// this working tree (every repoURL is taken to be it). When unset, Applications just report Synced.
    pub repo: Option<PathBuf>,
}

impl SimConfig {
    pub fn new(platform: Platform) -> Self {
        SimConfig {
            platform,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: FaultSpec::default(),
            speed: 1.0,
            crds_dir: None,
            repo: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// "VERB resource": the HTTP method (GET/POST/PUT/PATCH/DELETE) or WATCH for a watch, and the
    /// resource plural with `/subresource`;
    /// discovery and OpenAPI requests count as "GET discovery" and "GET openapi".
    pub requests: BTreeMap<String, u64>,
    /// Client requests that changed or tried to change state (not dry-run, not fault-rejected).
    pub writes: u64,
    /// Objects created by a client request (POST, or an apply that created).
    pub creates: u64,
    /// Injected faults by kind: "500", "503", "429", "409", "slow", "drop".
    pub faults: BTreeMap<String, u64>,
}

/// State shared by the HTTP server and the controllers.
pub(crate) struct Shared {
    pub platform: Platform,
    pub store: Arc<store::Store>,
    pub faults: RwLock<FaultSpec>,
    /// Seeded RNG for fault rolls when the spec has `seed=N`.
    pub rng: Mutex<Option<rand::rngs::StdRng>>,
    pub stats: Mutex<Stats>,
    pub speed: f64,
    pub crds_dir: Option<PathBuf>,
    pub repo: Option<PathBuf>,
    pub addr: SocketAddr,
}

impl Shared {
    pub fn faults(&self) -> FaultSpec {
        self.faults.read().unwrap().clone()
    }
    pub fn set_faults(&self, spec: FaultSpec) {
        use rand::SeedableRng;
        *self.rng.lock().unwrap() = spec.seed.map(rand::rngs::StdRng::seed_from_u64);
        *self.faults.write().unwrap() = spec;
    }
    /// Rolls the faults for one request (seeded when the spec says so).
    pub fn roll(&self, is_write: bool) -> faults::Injected {
        let spec = self.faults();
        let mut rng = self.rng.lock().unwrap();
        match rng.as_mut() {
            Some(r) => {
                use rand::RngExt;
                spec.roll_with(is_write, &mut || r.random::<f64>())
            }
            None => spec.roll(is_write),
        }
    }
    /// A controller delay: `base_ms / speed`.
    pub fn delay(&self, base_ms: u64) -> std::time::Duration {
        std::time::Duration::from_secs_f64(base_ms as f64 / 1000.0 / self.speed.max(0.001))
    }
}

pub struct SimHandle {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    router: SocketAddr,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }
    /// The simulated HTTPS router (src/sim/router.rs): pin probed hosts here (FLEETCTL_PROBE_RESOLVE).
    pub fn router_addr(&self) -> SocketAddr {
        self.router
    }
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        kubeconfig::render(&self.url(), context)
    }
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> anyhow::Result<()> {
        kubeconfig::write(path, &self.kubeconfig_yaml(context))
    }
    pub fn stats(&self) -> Stats {
        self.shared.stats.lock().unwrap().clone()
    }
    pub fn reset_stats(&self) {
        *self.shared.stats.lock().unwrap() = Stats::default();
    }
    pub fn set_faults(&self, spec: FaultSpec) {
        self.shared.set_faults(spec);
    }
    pub async fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts the simulated cluster on the current tokio runtime.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        platform: cfg.platform,
        store: store::Store::new(),
        faults: RwLock::new(FaultSpec::default()),
        rng: Mutex::new(None),
        stats: Mutex::new(Stats::default()),
        speed: if cfg.speed > 0.0 { cfg.speed } else { 1.0 },
        crds_dir: cfg.crds_dir,
        repo: cfg.repo,
        addr,
    });
    shared.set_faults(cfg.faults);
    catalog::seed(&shared)?;
    let ctl = tokio::spawn(controllers::run(shared.clone()));
    let srv = tokio::spawn(server::serve(listener, shared.clone()));
    let (router, rt) = router::start(shared.store.clone()).await?;
    Ok(SimHandle {
        shared,
        tasks: vec![srv, ctl, rt],
        router,
    })
}

/// `fleetctl sim serve`: runs until SIGINT/SIGTERM.
pub async fn serve_cli(cfg: SimConfig, kubeconfig_out: Option<PathBuf>, context: &str) -> anyhow::Result<()> {
    let platform = cfg.platform;
    let h = start(cfg).await?;
    println!("simulated {platform} cluster (not a real cluster) at {}", h.url());
    println!("router: https://{}", h.router_addr());
    if let Some(p) = &kubeconfig_out {
        h.write_kubeconfig(p, context)?;
        println!("kubeconfig: {}", p.display());
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    h.shutdown().await;
    Ok(())
}
