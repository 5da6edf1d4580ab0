//! Resources owned by two or more generated Applications (Argo CD's `FailOnSharedResource`).
//!
//! Each Application's `source.path` is rendered the way Argo CD would: with kustomize when the
//! directory has a kustomization, otherwise as a plain directory of YAML/JSON manifests. A
//! resource is identified by (group, kind, namespace, name); a namespaced resource without a
//! namespace lands in the Application's `destination.namespace`, as Argo CD applies it. Two
//! Applications only conflict inside the same Argo CD instance (cluster) and destination.

use super::render::{render_sources, source_key, Outcome};
use super::GeneratedApp;
use crate::error::UserError;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

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

/// A source that was not checked for shared resources: its Applications, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unchecked {
    /// `source.path`, or `repoURL chart revision` for a Helm-repository chart.
    pub source: String,
    /// The Applications using it, in generation order.
    pub apps: Vec<String>,
    pub reason: String,
    /// A failed render (kustomize's error) rather than something not rendered offline.
    pub failed: bool,
}

impl std::fmt::Display for Unchecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.failed {
            "render failed"
        } else {
            "not rendered offline"
        };
        write!(
            f,
            "{what}: {} (Applications {}): {}",
            self.source,
            self.apps.join(", "),
            self.reason
        )
    }
}

/// The shared-resource check of a set of Applications.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Check {
    pub conflicts: Vec<Conflict>,
    /// Sources not checked, in generation order of their first Application.
    pub unchecked: Vec<Unchecked>,
}

/// Render every generated Application (in parallel) and report resources that two or more of
/// them would manage, and the sources that could not be checked (never fatal).
pub fn check(repo: &Path, apps: &[GeneratedApp]) -> Check {
    let results = render_sources(repo, apps);
    let mut unchecked: Vec<Unchecked> = Vec::new();
    for app in apps {
        for key in app.rendered_sources().into_iter().map(source_key) {
            let (reason, failed) = match results.get(&key) {
                Some(Outcome::Skipped(r)) => (r.clone(), false),
                Some(Outcome::Failed(e)) if chart_unreachable(&e.cause) => {
                    (format!("its Helm chart could not be fetched (offline?): {e}"), false)
                }
                Some(Outcome::Failed(e)) => (e.to_string(), true),
                _ => continue,
            };
            match unchecked.iter_mut().find(|u| u.source == key) {
                Some(u) if !u.apps.contains(&app.name) => u.apps.push(app.name.clone()),
                Some(_) => {}
                None => unchecked.push(Unchecked {
                    source: key,
                    apps: vec![app.name.clone()],
                    reason,
                    failed,
                }),
            }
        }
    }
    Check {
        conflicts: conflicts_of(apps, results),
        unchecked,
    }
}

/// Whether a failed render failed only because `helm pull` could not reach the chart repository: like a
/// missing helm, that is "not rendered offline", not a defect of the repo (a wrong chart name or version
/// is still a failure).
fn chart_unreachable(cause: &str) -> bool {
    cause.contains("helm pull")
        && [
            "cannot be reached",
            "no such host",
            "connection refused",
            "i/o timeout",
            "network is unreachable",
        ]
        .iter()
        .any(|m| cause.contains(m))
}

/// Like [`check`], but the first failed render is an error naming its Application.
pub fn conflicts(repo: &Path, apps: &[GeneratedApp]) -> Result<Vec<Conflict>, UserError> {
    let results = render_sources(repo, apps);
    for app in apps {
        let failed = app
            .rendered_sources()
            .into_iter()
            .find_map(|s| match results.get(&source_key(s)) {
                Some(Outcome::Failed(e)) => Some(e),
                _ => None,
            });
        if let Some(e) = failed {
            let mut e = e.clone();
            e.cause = format!(
                "cannot render Application '{}' (ApplicationSet '{}'): {}",
                app.name, app.appset, e.cause
            );
            return Err(e);
        }
    }
    Ok(conflicts_of(apps, results))
}

/// The rendered objects of each source (by [`source_key`]).
type Rendered = HashMap<String, Vec<Value>>;

/// The shared resources among the sources that rendered.
fn conflicts_of(apps: &[GeneratedApp], results: HashMap<String, Outcome>) -> Vec<Conflict> {
    let rendered: Rendered = results
        .into_iter()
        .filter_map(|(k, o)| match o {
            Outcome::Objects(v) => Some((k, v)),
            _ => None,
        })
        .collect();
    let cluster_scoped = cluster_scoped_kinds(&rendered);
    shared_resources(apps, &rendered, &cluster_scoped)
}

/// The known cluster-scoped kinds plus every CRD with `scope: Cluster` in the rendered output.
fn cluster_scoped_kinds(results: &Rendered) -> BTreeSet<(String, String)> {
    let mut cluster_scoped: BTreeSet<(String, String)> = CLUSTER_SCOPED
        .iter()
        .map(|(g, k)| (g.to_string(), k.to_string()))
        .collect();
    for objs in results.values() {
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
        let objs: Vec<&Value> = app
            .rendered_sources()
            .into_iter()
            .filter_map(|s| results.get(&source_key(s)))
            .flatten()
            .collect();
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
