//! Cluster access: a kube client from a kubeconfig, discovery that refreshes when CRDs arrive,
//! get/list/apply with retries, and the platform identity check.

pub mod apply;
pub mod identity;
pub mod retry;
pub mod source;
pub mod wait;

use crate::error::UserError;
use crate::runbook::ObjectRef;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use retry::retry;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::RwLock;

/// The field manager fleetctl applies with.
pub const FIELD_MANAGER: &str = "fleetctl";

/// How to reach a cluster.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// An explicit kubeconfig file; otherwise KUBECONFIG or ~/.kube/config, as kubectl does.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// A connected cluster.
pub struct Cluster {
    pub client: kube::Client,
    /// The API server says it is fleetctl's simulated cluster (`/version`: gitVersion ending in `-sim`).
    pub simulated: bool,
    pub target: Target,
    /// The API server's URL, as the kubeconfig gives it.
    pub server: String,
    /// The context in use: `--context`, or the kubeconfig's current context.
    pub context: String,
    /// Where the kubeconfig came from: the `--kubeconfig` path, `KUBECONFIG`'s value, or `~/.kube/config`.
    pub kubeconfig: String,
    /// How long a wait rides out an API server that stopped answering before it fails (`--api-grace`).
    pub api_grace: Duration,
    discovery: RwLock<Option<Discovery>>,
}

/// The default `--api-grace`.
pub const API_GRACE: Duration = Duration::from_secs(120);

/// An API server that cannot be reached is bad input (the wrong context, a VPN that is down): exit 2.
fn unreachable(url: &str, context: &str, why: &Cause) -> UserError {
    let next = match why {
        Cause::Certificate(_) => format!(
            "check the cluster's certificate-authority-data for context {context} (kubectl config view --raw), \
             and that {} is the server you mean; `kubectl --context {context} get --raw /version` shows the same error",
            url.trim_end_matches('/')
        ),
        _ => format!(
            "check the context (kubectl config get-contexts) and the network/VPN, then try `kubectl --context {context} get --raw /version`"
        ),
    };
    UserError::usage(format!(
        "cannot reach the API server {} ({why})",
        url.trim_end_matches('/')
    ))
    .subject(format!("kube context {context}"))
    .next(next)
}

/// Why a request got no answer, in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The server's TLS certificate is not trusted (unknown issuer, wrong name, expired).
    Certificate(String),
    /// Anything on the way: refused, reset, timed out, no route.
    Network(String),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Certificate(c) => write!(f, "its TLS certificate is not trusted: {c}"),
            Cause::Network(c) => f.write_str(c),
        }
    }
}

/// The root cause of a failed request (e.g. "connection refused", an untrusted certificate).
pub fn reach_cause(e: &(dyn std::error::Error + 'static)) -> Cause {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = src {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return tls_cause(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // An io::Error may wrap another (hyper-rustls wraps tokio-rustls's, which wraps rustls's), and
            // its source() skips the wrapped error itself: look inside.
            if let Some(inner) = io.get_ref() {
                let inner: &(dyn std::error::Error + 'static) = inner;
                if let c @ Cause::Certificate(_) = reach_cause(inner) {
                    return c;
                }
            }
            return Cause::Network(match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::TimedOut => "connection timed out".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                _ => io.to_string(),
            });
        }
        last = err.to_string();
        src = err.source();
    }
    Cause::Network(last)
}

fn tls_cause(e: &rustls::Error) -> Cause {
    match e {
        rustls::Error::InvalidCertificate(c) => Cause::Certificate(match c {
            rustls::CertificateError::UnknownIssuer => "signed by an unknown authority".into(),
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => "expired".into(),
            rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. } => {
                "not valid for this host name".into()
            }
            other => format!("{other:?}"),
        }),
        other => Cause::Network(format!("TLS: {other}")),
    }
}

/// A kube error as a sentence: an API server's Status by its message and code, a transport error by its root
/// cause; never a debug dump.
pub fn sentence(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => {
            let reason = if s.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", s.reason)
            };
            format!("{} (HTTP {}{reason})", s.message.trim_end_matches('.'), s.code)
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => reach_cause(e).to_string(),
        kube::Error::SerdeError(err) => format!("the answer could not be read: {err}"),
        kube::Error::ReadEvents(err) => format!("the watch stream broke: {err}"),
        other => other.to_string(),
    }
}

/// Split `group/version` (or `v1`) into (group, version).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The kubeconfig a target names and where it came from: `--kubeconfig` (a path, or a list as KUBECONFIG
/// holds one), else `KUBECONFIG`, else `~/.kube/config`, as kubectl reads them.
fn load_kubeconfig(target: &Target) -> Result<(Kubeconfig, String), UserError> {
    let (paths, source): (Vec<PathBuf>, String) = match &target.kubeconfig {
        Some(p) if p.is_file() => (vec![p.clone()], p.display().to_string()),
        Some(p) => (std::env::split_paths(p.as_os_str()).collect(), p.display().to_string()),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(v) => (std::env::split_paths(&v).collect(), v.to_string_lossy().into_owned()),
            None => {
                let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
                let p = home.join(".kube/config");
                (vec![p.clone()], p.display().to_string())
            }
        },
    };
    let mut merged = Kubeconfig::default();
    for p in paths.iter().filter(|p| !p.as_os_str().is_empty()) {
        let kc = Kubeconfig::read_from(p).map_err(|e| {
            UserError::usage(format!("cannot read kubeconfig: {e}"))
                .subject(p.display().to_string())
                .next("pass a valid --kubeconfig (or fix KUBECONFIG)")
        })?;
        merged = merged
            .merge(kc)
            .map_err(|e| UserError::usage(format!("cannot merge kubeconfig files: {e}")).subject(source.clone()))?;
    }
    Ok((merged, source))
}

/// The API server URL a target's kubeconfig and context point at, without contacting it.
pub async fn server_of(target: &Target) -> Result<String, UserError> {
    let (kc, source) = load_kubeconfig(target)?;
    let opts = KubeConfigOptions {
        context: target.context.clone(),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts).await.map_err(|e| {
        UserError::usage(format!("cannot load kubeconfig: {e}")).subject(format!(
            "kubeconfig {source}, context {}",
            target.context.as_deref().unwrap_or("<current>")
        ))
    })?;
    Ok(config.cluster_url.to_string().trim_end_matches('/').to_string())
}

impl Cluster {
    /// Build a client from the kubeconfig and check that the API answers.
    pub async fn connect(target: &Target) -> Result<Cluster, UserError> {
        let opts = KubeConfigOptions {
            context: target.context.clone(),
            ..Default::default()
        };
        let (kc, source) = load_kubeconfig(target)?;
        // The context in use, to name it when the API server cannot be reached.
        let context = target
            .context
            .clone()
            .or_else(|| kc.current_context.clone())
            .unwrap_or_else(|| "<current>".into());
        let mut config = kube::Config::from_custom_kubeconfig(kc, &opts).await.map_err(|e| {
            UserError::usage(format!("cannot load kubeconfig: {e}"))
                .subject(format!("kubeconfig {source}, context {context}"))
                .next("check --kubeconfig/KUBECONFIG and --context (kubectl config get-contexts)")
        })?;
        let url = config.cluster_url.to_string().trim_end_matches('/').to_string();
        config.connect_timeout = Some(Duration::from_secs(10));
        config.read_timeout = Some(Duration::from_secs(60));
        // fleetctl's own retry layer (retry.rs) replaces kube's, which retries 429/503/504 only.
        config.default_retry = false;
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| UserError::usage(format!("cannot build a client: {}", sentence(&e))).subject(url.clone()))?
            .with_layer(&tower::buffer::BufferLayer::new(1024))
            .with_layer(&tower::retry::RetryLayer::new(retry::HttpRetry::default()))
            .build();
        let mut cluster = Cluster {
            client,
            simulated: false,
            target: target.clone(),
            server: url.clone(),
            context: context.clone(),
            kubeconfig: source,
            api_grace: API_GRACE,
            discovery: RwLock::new(None),
        };
        let version = tokio::time::timeout(
            Duration::from_secs(30),
            retry("version", || cluster.client.apiserver_version()),
        )
        .await;
        match version {
            Ok(Ok(info)) => {
                cluster.simulated = info.git_version.ends_with("-sim") || info.git_commit == "simulated";
                Ok(cluster)
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 401 || s.code == 403 => Err(UserError::usage(format!(
                "the API server refused the credentials ({} {})",
                s.code, s.message
            ))
            .subject(url)
            .next("log in again (oc login / talosctl kubeconfig) and retry")),
            Ok(Err(e)) => Err(unreachable(&url, &context, &reach_cause(&e))),
            Err(_) => Err(unreachable(
                &url,
                &context,
                &Cause::Network("no answer within 30s".into()),
            )),
        }
    }

    /// Whether the API server answers now (within `within`): `None` when it does, else why not.
    pub async fn lost(&self, within: Duration) -> Option<Cause> {
        match tokio::time::timeout(within, self.client.apiserver_version()).await {
            Ok(Ok(_)) => None,
            Ok(Err(kube::Error::Api(_))) => None,
            Ok(Err(e)) => Some(reach_cause(&e)),
            Err(_) => Some(Cause::Network(format!(
                "no answer within {}",
                humantime::format_duration(within)
            ))),
        }
    }

    /// Run discovery again (after CRDs were applied or an operator installed some).
    pub async fn refresh_discovery(&self) -> Result<(), UserError> {
        let d = retry("discovery", || Discovery::new(self.client.clone()).run())
            .await
            .map_err(|e| {
                UserError::failed(format!("API discovery failed: {}", sentence(&e)))
                    .subject(format!("API server {}", self.server))
                    .next("check the API server's health (kubectl get --raw /readyz), then `fleetctl resume`")
            })?;
        *self.discovery.write().await = Some(d);
        Ok(())
    }

    /// Resolve an apiVersion+kind to its API resource; refreshes discovery once on a miss.
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(ApiResource, ApiCapabilities)>, UserError> {
        let (g, v) = split_api_version(api_version);
        let gvk = GroupVersionKind::gvk(g, v, kind);
        if self.discovery.read().await.is_none() {
            self.refresh_discovery().await?;
        }
        if let Some(hit) = self.discovery.read().await.as_ref().and_then(|d| d.resolve_gvk(&gvk)) {
            return Ok(Some(hit));
        }
        self.refresh_discovery().await?;
        Ok(self.discovery.read().await.as_ref().and_then(|d| d.resolve_gvk(&gvk)))
    }

    /// Whether a group is served (e.g. `config.openshift.io`).
    pub async fn has_group(&self, group: &str) -> Result<bool, UserError> {
        if self.discovery.read().await.is_none() {
            self.refresh_discovery().await?;
        }
        Ok(self.discovery.read().await.as_ref().is_some_and(|d| d.has_group(group)))
    }

    /// An Api for a kind (namespaced or not, as discovery says).
    pub async fn api_for(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Api<DynamicObject>, UserError> {
        let Some((ar, caps)) = self.resolve(api_version, kind).await? else {
            return Err(
                UserError::failed(format!("the cluster does not serve {kind} ({api_version})"))
                    .next("install the operator or CRD that provides it first"),
            );
        };
        Ok(match (caps.scope, namespace) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            (Scope::Namespaced, None) => Api::default_namespaced_with(self.client.clone(), &ar),
            (Scope::Cluster, _) => Api::all_with(self.client.clone(), &ar),
        })
    }

    /// An Api over all namespaces (for lists).
    pub async fn api_all(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Option<Api<DynamicObject>>, UserError> {
        let Some((ar, caps)) = self.resolve(api_version, kind).await? else {
            return Ok(None);
        };
        Ok(Some(match (caps.scope, namespace) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }))
    }

    /// Get one object as JSON; `None` when it (or its kind) does not exist.
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, UserError> {
        if self.resolve(api_version, kind).await?.is_none() {
            return Ok(None);
        }
        let api = self.api_for(api_version, kind, namespace).await?;
        let got = retry("get", || api.get_opt(name))
            .await
            .map_err(|e| api_error("get", kind, namespace, name, e))?;
        Ok(got.map(|o| serde_json::to_value(o).unwrap_or(Value::Null)))
    }

    /// Get the object an `ObjectRef` names (resolving `nameFrom`).
    pub async fn get_ref(&self, r: &ObjectRef) -> Result<Option<Value>, UserError> {
        let Some(name) = self.ref_name(r).await? else {
            return Ok(None);
        };
        self.get(&r.api_version, &r.kind, r.namespace.as_deref(), &name).await
    }

    /// The name an `ObjectRef` points at; `None` while a `nameFrom` source is missing.
    pub async fn ref_name(&self, r: &ObjectRef) -> Result<Option<String>, UserError> {
        if let Some(n) = &r.name {
            return Ok(Some(n.clone()));
        }
        let Some(nf) = &r.name_from else {
            return Ok(None);
        };
        let Some(src) = Box::pin(self.get_ref(&nf.object)).await? else {
            return Ok(None);
        };
        let path = crate::runbook::path::FieldPath::parse(&nf.field).map_err(UserError::usage)?;
        Ok(path
            .get(&src)
            .map(crate::runbook::path::scalar_string)
            .filter(|s| !s.is_empty()))
    }

    /// List objects (all namespaces unless one is given).
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        labels: Option<&str>,
    ) -> Result<Vec<Value>, UserError> {
        let Some(api) = self.api_all(api_version, kind, namespace).await? else {
            return Ok(vec![]);
        };
        let mut lp = ListParams::default();
        if let Some(l) = labels {
            lp = lp.labels(l);
        }
        let list = retry("list", || api.list(&lp))
            .await
            .map_err(|e| api_error("list", kind, namespace, "", e))?;
        Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect())
    }

    /// Server-side apply one object with field manager `fleetctl` (force: fleetctl owns what it applies).
    pub async fn apply(&self, obj: &Value, dry_run: bool) -> Result<Value, UserError> {
        let (av, kind, ns, name) = identify(obj)?;
        let api = self.api_for(&av, &kind, ns.as_deref()).await?;
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            pp = pp.dry_run();
        }
        let patch = Patch::Apply(obj);
        let out = retry("apply", || api.patch(&name, &pp, &patch))
            .await
            .map_err(|e| api_error("apply", &kind, ns.as_deref(), &name, e))?;
        Ok(serde_json::to_value(out).unwrap_or(Value::Null))
    }
}

/// apiVersion, kind, namespace, name of a manifest.
pub fn identify(obj: &Value) -> Result<(String, String, Option<String>, String), UserError> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_string);
    match (s("/apiVersion"), s("/kind"), s("/metadata/name")) {
        (Some(a), Some(k), Some(n)) => Ok((a, k, s("/metadata/namespace"), n)),
        _ => Err(
            UserError::usage("a manifest lacks apiVersion, kind or metadata.name").subject(
                serde_json::to_string(obj)
                    .unwrap_or_default()
                    .chars()
                    .take(120)
                    .collect::<String>(),
            ),
        ),
    }
}

/// `Kind ns/name` for messages.
pub fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

fn api_error(verb: &str, kind: &str, ns: Option<&str>, name: &str, e: kube::Error) -> UserError {
    let subject = describe(kind, ns, name);
    let what = sentence(&e);
    match &e {
        kube::Error::Api(s) if s.code == 401 || s.code == 403 => {
            UserError::failed(format!("{verb} was refused: {what}"))
                .subject(subject)
                .next("check your credentials and RBAC (oc whoami; kubectl auth can-i)")
        }
        kube::Error::Api(s) if s.code == 422 || s.code == 400 => {
            UserError::failed(format!("{verb} was rejected as invalid: {what}"))
                .subject(subject)
                .next("fix the manifest; `fleetctl verify` checks manifests against their CRDs offline")
        }
        kube::Error::Api(_) if !retry::is_transient(&e) => UserError::failed(format!("{verb} failed: {what}"))
            .subject(subject)
            .next("check the object and its namespace; then `fleetctl resume`"),
        _ => UserError::failed(format!("{verb} failed after {} attempts: {what}", retry::ATTEMPTS))
            .subject(subject)
            .next("check the API server's health and retry (fleetctl resume)"),
    }
}
