//! Where acceptance checks read objects from: the live cluster, or a snapshot of `kubectl get -o yaml` output.

use crate::cluster::{split_api_version, Cluster};
use crate::error::UserError;
use crate::fleet::render::parse_multi_doc;
use crate::runbook::path::{scalar_string, FieldPath};
use crate::runbook::{ListRef, ObjectRef};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Objects loaded from a file or a directory of YAML files (a `List` or multi-document YAML).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub path: PathBuf,
    pub objects: Vec<Value>,
}

impl Snapshot {
    pub fn load(path: &Path) -> Result<Snapshot, UserError> {
        let mut files = Vec::new();
        if path.is_dir() {
            let mut stack = vec![path.to_path_buf()];
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d).map_err(|e| {
                    UserError::usage(format!("cannot read snapshot: {e}")).subject(d.display().to_string())
                })?;
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
                        files.push(p);
                    }
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut objects = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).map_err(|e| {
                UserError::usage(format!("cannot read snapshot: {e}"))
                    .subject(f.display().to_string())
                    .next("pass a file or directory of `kubectl get -o yaml` output")
            })?;
            crate::runbook::yaml::guard(&text, &f.display().to_string(), 512 << 20)?;
            let objs = parse_multi_doc(&text).map_err(|e| e.subject(f.display().to_string()))?;
            objects.extend(objs.into_iter().filter(|o| o.get("kind").is_some()));
        }
        if objects.is_empty() {
            let what = if files.is_empty() {
                "no .yaml/.yml/.json file"
            } else {
                "no Kubernetes object"
            };
            return Err(UserError::usage(format!("the snapshot holds {what}, so there is nothing to check"))
                .subject(path.display().to_string())
                .next("save the cluster's objects first, e.g. `kubectl get subscriptions,csv,argocd,applications -A -o yaml > snap.yaml`"));
        }
        Ok(Snapshot {
            path: path.to_path_buf(),
            objects,
        })
    }

    fn matches(o: &Value, api_version: &str, kind: &str, namespace: Option<&str>) -> bool {
        let (g, _) = split_api_version(api_version);
        let oav = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let (og, _) = split_api_version(oav);
        // `kubectl get` prints the preferred version; compare group and kind only.
        og == g
            && o.get("kind").and_then(Value::as_str) == Some(kind)
            && namespace.is_none_or(|ns| o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns))
    }
}

pub enum Source<'a> {
    Live(&'a Cluster),
    Snapshot(&'a Snapshot),
}

impl Source<'_> {
    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live(_))
    }

    pub async fn get_ref(&self, r: &ObjectRef) -> Result<Option<Value>, UserError> {
        match self {
            Source::Live(c) => c.get_ref(r).await,
            Source::Snapshot(s) => {
                let name = match (&r.name, &r.name_from) {
                    (Some(n), _) => Some(n.clone()),
                    (None, Some(nf)) => {
                        let src = Box::pin(self.get_ref(&nf.object)).await?;
                        let path = FieldPath::parse(&nf.field).map_err(UserError::usage)?;
                        src.as_ref()
                            .and_then(|o| path.get(o))
                            .map(scalar_string)
                            .filter(|s| !s.is_empty())
                    }
                    _ => None,
                };
                let Some(name) = name else { return Ok(None) };
                Ok(s.objects
                    .iter()
                    .find(|o| {
                        Snapshot::matches(o, &r.api_version, &r.kind, r.namespace.as_deref())
                            && o.pointer("/metadata/name").and_then(Value::as_str) == Some(&name)
                    })
                    .cloned())
            }
        }
    }

    pub async fn list(&self, l: &ListRef) -> Result<Vec<Value>, UserError> {
        match self {
            Source::Live(c) => {
                c.list(
                    &l.api_version,
                    &l.kind,
                    l.namespace.as_deref(),
                    l.label_selector.as_deref(),
                )
                .await
            }
            Source::Snapshot(s) => {
                let sel = l.label_selector.as_deref().map(parse_equality_selector).transpose()?;
                Ok(s.objects
                    .iter()
                    .filter(|o| Snapshot::matches(o, &l.api_version, &l.kind, l.namespace.as_deref()))
                    .filter(|o| {
                        sel.as_ref().is_none_or(|pairs| {
                            pairs.iter().all(|(k, v)| {
                                o.pointer("/metadata/labels")
                                    .and_then(|m| m.get(k))
                                    .and_then(Value::as_str)
                                    == Some(v.as_str())
                            })
                        })
                    })
                    .cloned()
                    .collect())
            }
        }
    }
}

/// `a=b,c=d` (the selector form runbooks use against snapshots).
fn parse_equality_selector(s: &str) -> Result<Vec<(String, String)>, UserError> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim_start_matches('=').trim().to_string()))
                .ok_or_else(|| {
                    UserError::usage(format!(
                        "label selector '{s}': only key=value terms are supported against a snapshot"
                    ))
                })
        })
        .collect()
}
