//! Helpers shared by the tests/sim_*.rs suites.
#![allow(dead_code)]

use fleetctl::sim::{self, Platform, SimConfig, SimHandle};
use std::path::PathBuf;

pub fn crds_dir() -> Option<PathBuf> {
    let env = std::env::var_os("FLEETCTL_TEST_CRDS").map(PathBuf::from);
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/crds");
    let alt = PathBuf::from("/work/shared/crds");
    env.into_iter()
        .chain([p, alt])
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

/// Server-side applies one YAML object (resolved through discovery) as `manager`.
pub async fn apply_yaml(client: &kube::Client, yaml: &str) -> kube::Result<kube::api::DynamicObject> {
    use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
    let obj: DynamicObject = serde_yaml::from_str(yaml).expect("yaml");
    let tm = obj.types.clone().expect("apiVersion/kind");
    let (g, v) = tm.api_version.split_once('/').unwrap_or(("", &tm.api_version));
    let d = kube::discovery::Discovery::new(client.clone()).run().await?;
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk(g, v, &tm.kind))
        .unwrap_or_else(|| panic!("{} not served", tm.kind));
    let api: Api<DynamicObject> = match (&caps.scope, &obj.metadata.namespace) {
        (kube::discovery::Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let name = obj.metadata.name.clone().unwrap();
    api.patch(&name, &PatchParams::apply("sim-test"), &Patch::Apply(&obj))
        .await
}

/// GETs an object as JSON through a dynamic API (None if absent or not served).
pub async fn get_json(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Option<serde_json::Value> {
    use kube::api::{Api, DynamicObject, GroupVersionKind};
    let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
    let d = kube::discovery::Discovery::new(client.clone()).run().await.ok()?;
    let (ar, _) = d.resolve_gvk(&GroupVersionKind::gvk(g, v, kind))?;
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    api.get(name).await.ok().map(|o| serde_json::to_value(o).unwrap())
}

/// Waits until `pointer` in the object equals `want`.
#[allow(clippy::too_many_arguments)]
pub async fn wait_field(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    pointer: &str,
    want: serde_json::Value,
    secs: u64,
) -> serde_json::Value {
    let what = format!("{kind} {name} {pointer} == {want}");
    eventually(secs, &what, || async {
        let o = get_json(client, api_version, kind, ns, name).await?;
        (o.pointer(pointer) == Some(&want)).then_some(o)
    })
    .await
}

/// Waits until the object has a condition `cond` with `status`; returns the object.
#[allow(clippy::too_many_arguments)]
pub async fn wait_condition(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    cond: &str,
    status: &str,
    secs: u64,
) -> serde_json::Value {
    let what = format!("{kind} {name} condition {cond}={status}");
    eventually(secs, &what, || async {
        let o = get_json(client, api_version, kind, ns, name).await?;
        let conds = o.pointer("/status/conditions")?.as_array()?;
        conds
            .iter()
            .any(|c| c["type"] == cond && c["status"] == status)
            .then_some(o)
    })
    .await
}

/// A raw HTTP/1.1 exchange: (status code, headers+body text); status 0 = connection closed with no response.
pub async fn raw(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text)
}
