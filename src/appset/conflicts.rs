//! Resources owned by two or more generated Applications (Argo CD's `FailOnSharedResource`).
//!
//! Each Application's `source.path` is rendered the way Argo CD would: with kustomize when the
//! directory has a kustomization, otherwise as a plain directory of YAML/JSON manifests. A
//! resource is identified by (group, kind, namespace, name); a namespaced resource without a
//! namespace lands in the Application's `destination.namespace`, as Argo CD applies it. Two
//! Applications only conflict inside the same Argo CD instance (cluster) and destination.

use super::GeneratedApp;
use crate::error::UserError;
use crate::fleet::render::{parse_multi_doc, Kustomize};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One resource that several Applications would all manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The cluster (Argo CD instance) of the Applications, `None` for the legacy layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// API group, "" for the core group.
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The Applications rendering it, in generation order.
    pub apps: Vec<String>,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gk = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        write!(f, "{gk} ")?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        write!(f, "{} is rendered by Applications {}", self.name, self.apps.join(", "))?;
        if let Some(c) = &self.cluster {
            write!(f, " (cluster {c})")?;
        }
        Ok(())
    }
}

/// Cluster-scoped kinds known without a live API server: (group, kind).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("gateway.networking.k8s.io", "GatewayClass"),
    ("cert-manager.io", "ClusterIssuer"),
    ("external-secrets.io", "ClusterSecretStore"),
    ("external-secrets.io", "ClusterExternalSecret"),
    ("operator.openshift.io", "CertManager"),
    ("operator.openshift.io", "ExternalSecretsConfig"),
    ("operator.openshift.io", "IngressController"),
    ("operator.openshift.io", "Console"),
    ("operator.openshift.io", "Network"),
    ("config.openshift.io", "ClusterVersion"),
    ("config.openshift.io", "Ingress"),
    ("config.openshift.io", "OAuth"),
    ("config.openshift.io", "Proxy"),
    ("config.openshift.io", "Image"),
    ("config.openshift.io", "Infrastructure"),
    ("security.openshift.io", "SecurityContextConstraints"),
    ("nvidia.com", "ClusterPolicy"),
    ("nfd.k8s-sigs.io", "NodeFeatureRule"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("cilium.io", "CiliumLoadBalancerIPPool"),
    ("kopiur.home-operations.com", "ClusterRepository"),
];

fn group_of(obj: &Value) -> String {
    let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    match av.rsplit_once('/') {
        Some((g, _)) => g.to_string(),
        None => String::new(),
    }
}

/// How Argo CD would render one application directory.
fn render_dir(
    repo: &Path,
    path: &str,
    kustomize: &dyn Fn() -> Result<Kustomize, UserError>,
) -> Result<Vec<Value>, UserError> {
    let dir = repo.join(path);
    if path.is_empty() || !dir.is_dir() {
        return Err(
            UserError::usage("the Application's source.path is not a directory of the repository")
                .subject(dir.display().to_string()),
        );
    }
    let has = |f: &str| dir.join(f).is_file();
    if has("kustomization.yaml") || has("kustomization.yml") || has("Kustomization") {
        return kustomize()?.render(&dir);
    }
    if has("Chart.yaml") {
        return Err(
            UserError::usage("a Helm chart source cannot be rendered offline (helm is not available)")
                .subject(dir.display().to_string()),
        );
    }
    // A directory Application: the .yaml/.yml/.json files of the directory itself.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| UserError::failed(format!("cannot read directory: {e}")).subject(dir.display().to_string()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| UserError::failed(format!("cannot read manifest: {e}")).subject(f.display().to_string()))?;
        out.extend(parse_multi_doc(&text).map_err(|e| e.subject(f.display().to_string()))?);
    }
    Ok(out)
}

type Rendered = HashMap<String, Result<Vec<Value>, UserError>>;

/// Render each distinct source path once, in parallel (at most 4 at a time).
fn render_paths(repo: &Path, apps: &[GeneratedApp]) -> Rendered {
    let mut paths: Vec<String> = apps.iter().map(|a| a.source.path.clone()).collect();
    paths.sort();
    paths.dedup();

    let found: Mutex<Option<Result<Kustomize, UserError>>> = Mutex::new(None);
    let kustomize = || -> Result<Kustomize, UserError> {
        let mut g = found.lock().unwrap_or_else(|p| p.into_inner());
        g.get_or_insert_with(Kustomize::find).clone()
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Rendered> = Mutex::new(HashMap::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(4)
        .min(paths.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(p) = paths.get(i) else { break };
                let r = render_dir(repo, p, &kustomize);
                results.lock().unwrap_or_else(|p| p.into_inner()).insert(p.clone(), r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Render every generated Application (in parallel) and report resources that two or more of
/// them would manage.
pub fn conflicts(repo: &Path, apps: &[GeneratedApp]) -> Result<Vec<Conflict>, UserError> {
    let results = render_paths(repo, apps);
    // Report the first failure in generation order, naming the Application.
    for app in apps {
        if let Some(Err(e)) = results.get(&app.source.path) {
            let mut e = e.clone();
            e.cause = format!(
                "cannot render Application '{}' (ApplicationSet '{}'): {}",
                app.name, app.appset, e.cause
            );
            return Err(e);
        }
    }

    let cluster_scoped = cluster_scoped_kinds(&results);
    Ok(shared_resources(apps, &results, &cluster_scoped))
}

/// The known cluster-scoped kinds plus every CRD with `scope: Cluster` in the rendered output.
fn cluster_scoped_kinds(results: &Rendered) -> BTreeSet<(String, String)> {
    let mut cluster_scoped: BTreeSet<(String, String)> = CLUSTER_SCOPED
        .iter()
        .map(|(g, k)| (g.to_string(), k.to_string()))
        .collect();
    for objs in results.values().flatten() {
        for o in objs {
            if o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
                && o.pointer("/spec/scope").and_then(Value::as_str) == Some("Cluster")
            {
                if let (Some(g), Some(k)) = (
                    o.pointer("/spec/group").and_then(Value::as_str),
                    o.pointer("/spec/names/kind").and_then(Value::as_str),
                ) {
                    cluster_scoped.insert((g.to_string(), k.to_string()));
                }
            }
        }
    }

    cluster_scoped
}

/// Resources that two or more Applications of one cluster and destination render.
fn shared_resources(
    apps: &[GeneratedApp],
    results: &Rendered,
    cluster_scoped: &BTreeSet<(String, String)>,
) -> Vec<Conflict> {
    type Key = (Option<String>, String, String, String, Option<String>, String);
    let mut owners: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    for app in apps {
        let Some(Ok(objs)) = results.get(&app.source.path) else {
            continue;
        };
        let dest = match (&app.destination.server, &app.destination.name) {
            (Some(s), _) if s == "https://kubernetes.default.svc" => "in-cluster".to_string(),
            (_, Some(n)) if n == "in-cluster" => "in-cluster".to_string(),
            (Some(s), _) => s.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => String::new(),
        };
        for o in objs {
            let (Some(kind), Some(name)) = (
                o.get("kind").and_then(Value::as_str),
                o.pointer("/metadata/name").and_then(Value::as_str),
            ) else {
                continue;
            };
            // Hooks are created and deleted around a sync, not managed as app resources.
            if o.pointer("/metadata/annotations/argocd.argoproj.io~1hook").is_some()
                || o.pointer("/metadata/annotations/helm.sh~1hook").is_some()
            {
                continue;
            }
            let group = group_of(o);
            let namespace = if cluster_scoped.contains(&(group.clone(), kind.to_string())) {
                None
            } else {
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .or_else(|| app.destination.namespace.clone())
            };
            let key: Key = (
                app.cluster.clone(),
                dest.clone(),
                group,
                kind.to_string(),
                namespace,
                name.to_string(),
            );
            let list = owners.entry(key.clone()).or_default();
            if list.is_empty() {
                order.push(key);
            }
            if !list.contains(&app.name) {
                list.push(app.name.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| {
            let apps = owners.remove(&k).filter(|a| a.len() > 1)?;
            Some(Conflict {
                cluster: k.0,
                group: k.2,
                kind: k.3,
                namespace: k.4,
                name: k.5,
                apps,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::group_of;
    use serde_json::json;

    #[test]
    fn groups() {
        assert_eq!(group_of(&json!({"apiVersion": "v1"})), "");
        assert_eq!(
            group_of(&json!({"apiVersion": "gateway.networking.k8s.io/v1"})),
            "gateway.networking.k8s.io"
        );
    }
}
