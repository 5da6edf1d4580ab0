//! `clusters/<name>/cluster.yaml`: what fleetctl needs to know about one cluster.
//! The format is documented in docs/cluster-yaml.md.

use crate::error::UserError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Openshift,
    Talos,
}

impl Platform {
    pub fn as_str(&self) -> &'static str {
        match self {
            Platform::Openshift => "openshift",
            Platform::Talos => "talos",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "openshift" => Ok(Platform::Openshift),
            "talos" => Ok(Platform::Talos),
            other => Err(format!("unknown platform '{other}' (expected openshift or talos)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgocdFlavour {
    /// Installed by the OpenShift GitOps operator (OLM) with a dedicated ArgoCD CR.
    Operator,
    /// Installed by the argo-cd Helm chart from a bootstrap script.
    Helm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgocdSpec {
    pub flavour: ArgocdFlavour,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayRef {
    pub name: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// One cluster of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// The cluster's own name (e.g. sno-ai-lab).
    pub name: String,
    pub platform: Platform,
    pub argocd: ArgocdSpec,
    /// The kubeconfig context fleetctl uses unless `--context` says otherwise.
    pub kube_context: String,
    /// Apps are served as `<app>.<appsDomain>`.
    pub apps_domain: String,
    /// The Gateway that shared apps' HTTPRoutes attach to.
    pub gateway: GatewayRef,
    /// The default StorageClass.
    pub storage_class: String,
    /// The cluster's ID: `ClusterVersion.spec.clusterID` on OpenShift, the `kube-system` namespace's UID
    /// elsewhere. Optional: the first run learns it and records it in the journal; set it to pin it here.
    #[serde(default, rename = "clusterID", skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

impl ClusterSpec {
    /// The path of a cluster's description inside a fleet repo.
    pub fn path(repo: &Path, dir_name: &str) -> PathBuf {
        repo.join("clusters").join(dir_name).join("cluster.yaml")
    }

    /// Load `clusters/<dir_name>/cluster.yaml` from the repo.
    pub fn load(repo: &Path, dir_name: &str) -> Result<ClusterSpec, UserError> {
        let path = Self::path(repo, dir_name);
        // A legacy single-cluster repo has no description yet: Phase 4 writes the one read from the repo.
        if !path.exists() && super::detect::is_legacy(repo) {
            return Ok(super::detect::detect(repo, dir_name).spec);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            UserError::usage(format!("cannot read cluster description: {e}"))
                .subject(path.display().to_string())
                .next(format!("check --cluster (known: {})", Self::list(repo).join(", ")))
        })?;
        serde_yaml::from_str(&text).map_err(|e| {
            let loc = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
            UserError::usage(format!("invalid cluster description: {e}"))
                .subject(format!("{}{loc}", path.display()))
                .next("see docs/cluster-yaml.md for the format")
        })
    }

    /// The cluster directories that have a cluster.yaml.
    pub fn list(repo: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(repo.join("clusters")) {
            for e in rd.flatten() {
                if e.path().join("cluster.yaml").is_file() {
                    out.push(e.file_name().to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        // A legacy single-cluster repo is the Talos cluster until Phase 4 moves it under clusters/talos.
        if out.is_empty() && super::detect::is_legacy(repo) {
            out.push("talos".into());
        }
        out
    }
}
