//! The repository's own Argo CD configuration, as far as rendering goes: the
//! `kustomize.buildOptions` its repo-server passes to `kustomize build` (e.g. `--enable-helm`).
//!
//! Found in Git where an Argo CD install keeps it: the `argocd-cm` ConfigMap (`data`), the
//! argo-cd Helm chart's values (`configs.cm`), such values inline in a kustomization's
//! `helmCharts[].valuesInline`, or the Argo CD operator's `ArgoCD` resource
//! (`spec.kustomizeBuildOptions`, OpenShift GitOps). A file under `clusters/<c>/` configures
//! cluster `<c>`'s Argo CD; one elsewhere, the repository's (legacy layout).

use crate::fleet::render::parse_multi_doc;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const KEY: &str = "kustomize.buildOptions";

/// Build options, and the file they were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    pub options: Vec<String>,
    pub file: String,
}

impl BuildOptions {
    pub fn enables_helm(&self) -> bool {
        self.options.iter().any(|o| o == "--enable-helm")
    }
}

/// Build options per Argo CD instance: `Some(cluster)` for `clusters/<cluster>/...`, `None`
/// for the repository-wide (legacy) one.
#[derive(Debug, Clone, Default)]
pub struct ArgoConfig {
    found: BTreeMap<Option<String>, BuildOptions>,
}

fn cluster_of(rel: &str) -> Option<String> {
    let mut it = rel.split('/');
    match (it.next(), it.next(), it.next()) {
        (Some("clusters"), Some(c), Some(_)) => Some(c.to_string()),
        _ => None,
    }
}

/// The build options one YAML document sets, if any.
fn options_in(doc: &Value) -> Option<String> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = doc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    if kind == "ConfigMap" && name == "argocd-cm" {
        return s(doc.pointer("/data").and_then(|d| d.get(KEY)));
    }
    if kind == "ArgoCD" {
        return s(doc.pointer("/spec/kustomizeBuildOptions"));
    }
    if let Some(charts) = doc.get("helmCharts").and_then(Value::as_array) {
        return charts
            .iter()
            .find_map(|c| s(c.pointer("/valuesInline/configs/cm").and_then(|cm| cm.get(KEY))));
    }
    s(doc.pointer("/configs/cm").and_then(|cm| cm.get(KEY)))
}

impl ArgoConfig {
    /// Read every YAML file of the repository that mentions `kustomize.buildOptions`.
    pub fn discover(repo: &Path) -> ArgoConfig {
        let mut found = BTreeMap::new();
        for rel in super::dirs::list_files(repo) {
            if !(rel.ends_with(".yaml") || rel.ends_with(".yml")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(repo.join(&rel)) else {
                continue;
            };
            if !text.contains(KEY) && !text.contains("kustomizeBuildOptions") {
                continue;
            }
            let Ok(docs) = parse_multi_doc(&text) else {
                continue;
            };
            if let Some(o) = docs.iter().find_map(options_in) {
                found.entry(cluster_of(&rel)).or_insert(BuildOptions {
                    options: o.split_whitespace().map(str::to_string).collect(),
                    file: rel.clone(),
                });
            }
        }
        ArgoConfig { found }
    }

    /// The options cluster `cluster`'s Argo CD uses: its own, else the repository-wide one,
    /// else the only one found.
    pub fn for_cluster(&self, cluster: Option<&str>) -> Option<&BuildOptions> {
        let own = cluster.and_then(|c| self.found.get(&Some(c.to_string())));
        own.or_else(|| self.found.get(&None))
            .or_else(|| (self.found.len() == 1).then(|| self.found.values().next()).flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn build_options_are_found_where_argo_cd_installs_keep_them() {
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "argocd-cm"}, "data": {KEY: "--enable-helm"}});
        assert_eq!(options_in(&cm).as_deref(), Some("--enable-helm"));
        let other = json!({"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {KEY: "--enable-helm"}});
        assert_eq!(options_in(&other), None);
        let values = json!({"configs": {"cm": {KEY: "--enable-helm --load-restrictor LoadRestrictionsNone"}}});
        assert_eq!(
            options_in(&values).as_deref(),
            Some("--enable-helm --load-restrictor LoadRestrictionsNone")
        );
        let inline =
            json!({"helmCharts": [{"name": "argo-cd", "valuesInline": {"configs": {"cm": {KEY: "--enable-helm"}}}}]});
        assert_eq!(options_in(&inline).as_deref(), Some("--enable-helm"));
        let operator = json!({"kind": "ArgoCD", "spec": {"kustomizeBuildOptions": "--enable-helm"}});
        assert_eq!(options_in(&operator).as_deref(), Some("--enable-helm"));
        assert_eq!(
            cluster_of("clusters/talos/bootstrap/values.yaml").as_deref(),
            Some("talos")
        );
        assert_eq!(cluster_of("infrastructure/argocd/values.yaml"), None);
    }
}
