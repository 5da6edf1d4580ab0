//! Offline ApplicationSet expansion: `fleetctl appset generate`.
//!
//! `argocd appset generate` needs a live Argo CD server. This module expands the fleet repo's
//! ApplicationSets from the local working tree instead, with Argo CD's own semantics for the
//! generators (git directories and files, list, in-cluster `clusters`, matrix, merge) and
//! templates (fasttemplate; Go templates with Sprig and Argo CD's functions; `templatePatch`),
//! and finds resources that two generated Applications would both own (the
//! `FailOnSharedResource` conflict). What matches Argo CD and what does not is
//! documented in docs/appset.md.
//!
//! Every `repoURL` is taken to be this repository, at the working tree's current content: the
//! generator's `revision` and the template's `targetRevision` are reported, not resolved.

pub mod argocfg;
mod conflicts;
mod ctx;
pub mod dirs;
mod generate;
mod generators;
mod load;
pub mod pathmatch;
mod render;
pub mod template;

pub use conflicts::{check, conflicts, Check, Conflict, Unchecked};
pub use generate::generate;
pub use load::load_appsets;

use crate::error::UserError;
use crate::fleet::cluster::ClusterSpec;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One ApplicationSet found in the repository.
#[derive(Debug, Clone)]
pub struct AppSetFile {
    /// The file, relative to the repository root.
    pub path: PathBuf,
    /// The line the object's YAML document starts on (1-based).
    pub line: usize,
    pub name: String,
    /// `metadata.namespace`, if the file sets it.
    pub namespace: Option<String>,
    /// The whole object.
    pub object: Value,
    /// The document's text, for pointing errors at a line.
    pub(crate) text: String,
}

impl AppSetFile {
    /// An ApplicationSet read from a cluster (the simulated Argo CD), not from a file.
    pub fn in_cluster(namespace: &str, name: &str, object: Value) -> AppSetFile {
        AppSetFile {
            path: PathBuf::from(format!("<cluster>/{namespace}/{name}")),
            line: 1,
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
            text: serde_yaml::to_string(&object).unwrap_or_default(),
            object,
        }
    }

    /// `file:line` of the object.
    pub fn location(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }

    /// The cluster directory the file lives in (`clusters/<name>/...`), if any.
    pub fn cluster(&self) -> Option<String> {
        let mut it = self.path.components();
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(_)) if a.as_os_str() == "clusters" => {
                Some(b.as_os_str().to_string_lossy().into_owned())
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// A chart of a Helm repository (`chart:` with no `path:`); such a source is listed as not
    /// rendered offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    pub path: String,
    #[serde(rename = "targetRevision")]
    pub target_revision: String,
}

/// One Application an ApplicationSet generates.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedApp {
    /// The ApplicationSet's name.
    pub appset: String,
    /// The file it is defined in, relative to the repository root.
    pub appset_file: PathBuf,
    /// The Argo CD instance it belongs to: `clusters/<cluster>/...` gives the cluster, a file
    /// elsewhere (the legacy single-cluster layout) gives `None`.
    pub cluster: Option<String>,
    pub name: String,
    pub project: String,
    /// The Application object's own namespace (the ApplicationSet's, e.g. argocd).
    pub namespace: String,
    pub destination: Destination,
    /// `spec.source`; for a multi-source Application the first source with a path.
    pub source: Source,
    /// Every source of a multi-source Application (`spec.sources`); empty otherwise.
    pub sources: Vec<Source>,
    /// The rendered template `spec.syncPolicy` (Null if none). Not the ApplicationSet's own
    /// `spec.syncPolicy`, which is about the ApplicationSet.
    pub sync_policy: Value,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl GeneratedApp {
    /// The sources Argo CD renders into resources: the source, or each source of a
    /// multi-source Application with a path or a chart (a `ref:`-only source just lends files).
    pub fn rendered_sources(&self) -> Vec<&Source> {
        if self.sources.is_empty() {
            return vec![&self.source];
        }
        self.sources
            .iter()
            .filter(|s| !s.path.is_empty() || s.chart.is_some())
            .collect()
    }

    /// `spec.syncPolicy.automated.selfHeal` (false when unset, as in Argo CD).
    pub fn self_heal(&self) -> bool {
        self.sync_policy
            .pointer("/automated/selfHeal")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The scope directory of one cluster (`clusters/<name>`), checked to exist.
pub fn cluster_scope(repo: &Path, cluster: &str) -> Result<PathBuf, UserError> {
    let dir = Path::new("clusters").join(cluster);
    if repo.join(&dir).is_dir() {
        return Ok(dir);
    }
    let known = ClusterSpec::list(repo);
    Err(UserError::usage(format!("unknown cluster '{cluster}'"))
        .subject(repo.join(&dir).display().to_string())
        .next(if known.is_empty() {
            "this repository has no clusters/<name> directories; omit --cluster".to_string()
        } else {
            format!("use one of: {}", known.join(", "))
        }))
}

/// JSON rows: cluster (absent for the legacy layout), appset, name, project, namespace, destination, source.
pub fn to_json(apps: &[GeneratedApp]) -> Value {
    Value::Array(
        apps.iter()
            .map(|a| {
                let mut row = serde_json::Map::new();
                // The Argo CD instance (clusters/<name>/...): two clusters' AppSets may share a name.
                if let Some(c) = &a.cluster {
                    row.insert("cluster".into(), json!(c));
                }
                row.insert("appset".into(), json!(a.appset));
                row.insert("name".into(), json!(a.name));
                row.insert("project".into(), json!(a.project));
                row.insert("namespace".into(), json!(a.namespace));
                row.insert("destination".into(), json!(a.destination));
                row.insert("source".into(), json!(a.source));
                if !a.sources.is_empty() {
                    row.insert("sources".into(), json!(a.sources));
                }
                Value::Object(row)
            })
            .collect(),
    )
}

/// A plain-text table, one row per Application.
pub fn to_table(apps: &[GeneratedApp]) -> String {
    let headers = ["APPSET", "NAME", "PROJECT", "DEST-NAMESPACE", "PATH", "SELF-HEAL"];
    let rows: Vec<[String; 6]> = apps
        .iter()
        .map(|a| {
            [
                match &a.cluster {
                    Some(c) => format!("{c}/{}", a.appset),
                    None => a.appset.clone(),
                },
                a.name.clone(),
                a.project.clone(),
                a.destination.namespace.clone().unwrap_or_else(|| "-".into()),
                match (&a.source.chart, a.source.path.is_empty()) {
                    (Some(c), true) => format!("chart {c}@{}", a.source.target_revision),
                    _ => a.source.path.clone(),
                },
                if a.sync_policy.get("automated").is_some() {
                    a.self_heal().to_string()
                } else {
                    "manual".to_string()
                },
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}
