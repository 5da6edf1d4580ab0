//! Helpers shared by the tests/sim_*.rs suites.
#![allow(dead_code)]

use fleetctl::sim::{self, Platform, SimConfig, SimHandle};
use std::path::PathBuf;

pub fn crds_dir() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/crds");
    let alt = PathBuf::from("/work/shared/crds");
    [p, alt]
        .into_iter()
        .find(|d| d.join("argocds.argoproj.io.yaml").exists())
}

pub async fn start(platform: Platform, speed: f64, faults: &str, real_crds: bool) -> SimHandle {
    let mut cfg = SimConfig::new(platform);
    cfg.speed = speed;
    cfg.faults = faults.parse().expect("fault spec");
    if real_crds {
        cfg.crds_dir = crds_dir();
    }
    sim::start(cfg).await.expect("sim starts")
}

pub fn kubeconfig(h: &SimHandle, dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("kubeconfig");
    h.write_kubeconfig(&p, "sim").unwrap();
    p
}

pub async fn kube_client(h: &SimHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&h.kubeconfig_yaml("sim")).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// Polls `f` until it returns Some, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if std::time::Instant::now() > end {
            panic!("timed out after {secs}s waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
