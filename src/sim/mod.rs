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
//! Layers (docs/sim.md, "Layers"), each importing only the ones below it:
//! - `api`: the wire protocol (HTTP routing, verbs, watch, patch/apply, discovery, OpenAPI, tables,
//!   protobuf, Status errors) and `router`, the simulated HTTPS ingress;
//! - `controllers`: one file per simulated operator, registered in one table;
//! - `catalog`: the platforms' CRDs, OLM packages and starting objects;
//! - `world` (the state all share: store, faults, time scale) and `store` (objects, resourceVersions,
//!   events, kinds, defaulting, pruning); `faults` (the fault spec) and `kubeconfig` are leaves.

mod api;
mod catalog;
mod controllers;
pub mod dns;
mod faults;
mod kubeconfig;
pub mod router;
mod store;
mod world;

pub use crate::fleet::Platform;
pub use api::Stats;
pub use catalog::NODE_ADDRESS;
pub use faults::{FaultSpec, Stall};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// What the simulated LAN DNS holds (src/sim/dns.rs).
    pub lan_dns: dns::LanDns,
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
            lan_dns: dns::LanDns::default(),
        }
    }
}

pub struct SimHandle {
    shared: Arc<api::Server>,
    tasks: Vec<JoinHandle<()>>,
    router: SocketAddr,
    gateway: SocketAddr,
    dns: SocketAddr,
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
    /// The simulated Gateway listener (the address MetalLB gives the Gateway): HTTPRoutes are served here.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway
    }
    /// The simulated LAN DNS (UDP): give it to fleetctl as FLEETCTL_DNS_SERVER.
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns
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
    /// Waits until the controllers have handled every event and have nothing scheduled (and stay so for
    /// a moment), up to `timeout`; false if they never settle (e.g. an Application retrying a sync).
    /// Tests use it to check that something does *not* happen, instead of sleeping.
    pub async fn settle(&self, timeout: std::time::Duration) -> bool {
        let end = tokio::time::Instant::now() + timeout;
        let mut quiet_since: Option<(tokio::time::Instant, u64)> = None;
        while tokio::time::Instant::now() < end {
            let rv = self.shared.world.store.current_rv();
            if self.shared.world.quiet() {
                match quiet_since {
                    Some((t, r)) if r == rv && t.elapsed() >= std::time::Duration::from_millis(50) => return true,
                    Some((_, r)) if r == rv => {}
                    _ => quiet_since = Some((tokio::time::Instant::now(), rv)),
                }
            } else {
                quiet_since = None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
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
    let mut world = world::World::new(cfg.platform, cfg.faults, cfg.speed, cfg.crds_dir, cfg.repo);
    world.webhooks = controllers::webhooks();
    let world = Arc::new(world);
    catalog::seed(&world)?;
    let shared = Arc::new(api::Server::new(world.clone(), addr));
    let ctl = tokio::spawn(controllers::run(world));
    let srv = tokio::spawn(api::serve(listener, shared.clone()));
    let ingress = router::start(shared.store.clone(), cfg.platform).await?;
    let (dns, dt) = dns::start(shared.store.clone(), cfg.platform, cfg.lan_dns).await?;
    let mut tasks = vec![srv, ctl, dt];
    tasks.extend(ingress.tasks);
    Ok(SimHandle {
        shared,
        tasks,
        router: ingress.node,
        gateway: ingress.gateway,
        dns,
    })
}

/// `fleetctl sim serve`: runs until SIGINT/SIGTERM.
pub async fn serve_cli(cfg: SimConfig, kubeconfig_out: Option<PathBuf>, context: &str) -> anyhow::Result<()> {
    let platform = cfg.platform;
    let h = start(cfg).await?;
    println!("simulated {platform} cluster (not a real cluster) at {}", h.url());
    println!("router: https://{}", h.router_addr());
    println!("gateway: https://{}", h.gateway_addr());
    println!("dns: {}", h.dns_addr());
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
