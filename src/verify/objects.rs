//! Rendered objects and where they came from: the defining file, and the patches that set each path.

use super::delta;
use super::roots;
use crate::fleet::render::parse_multi_doc;
use crate::schema;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// A rendered object and where it came from.
#[derive(Debug, Clone)]
pub struct RenderedObject {
    /// Index into the roots list.
    pub root: usize,
    pub value: Value,
    /// The source file (repo-relative) when found by kind+name among the root's inputs, else the root dir.
    pub file: String,
    /// The patches that touch this object (repo-relative file, effect), in the order kustomize applies them.
    pub patches: Vec<(String, PatchEffect)>,
}

/// What a patch does to an object.
#[derive(Debug, Clone)]
pub enum PatchEffect {
    /// A strategic-merge patch document.
    Merge(Value),
    /// The paths (JSON pointers) of JSON 6902 operations.
    Ops(Vec<String>),
}

impl RenderedObject {
    /// The file to blame for a problem at `path` (`spec.hostnames[0]`): the last patch that sets that
    /// path, else the defining file.
    pub fn file_for(&self, path: &str) -> &str {
        let segs = delta::parse_path(path);
        if segs.is_empty() {
            return &self.file;
        }
        for (f, effect) in self.patches.iter().rev() {
            let hit = match effect {
                PatchEffect::Merge(doc) => lookup(doc, &segs).is_some(),
                PatchEffect::Ops(ops) => ops.iter().any(|op| {
                    let op = delta::parse_path(&schema::pointer_to_path(op));
                    !op.is_empty() && op.len() <= segs.len() && op.iter().zip(&segs).all(|(a, b)| a == b)
                }),
            };
            if hit {
                return f;
            }
        }
        &self.file
    }

    /// `Kind/namespace/name` or `Kind/name`.
    pub fn label(&self) -> String {
        object_label(&self.value)
    }
}

/// `Kind/namespace/name` or `Kind/name`.
pub fn object_label(v: &Value) -> String {
    let (kind, name, ns) = crate::schema::identity(v);
    match ns {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// (kind, name) of an object.
fn identity_key(v: &Value) -> Option<(String, String)> {
    let kind = v.get("kind")?.as_str()?;
    let name = v.pointer("/metadata/name")?.as_str()?;
    Some((kind.to_string(), name.to_string()))
}

fn lookup<'v>(v: &'v Value, segs: &[delta::Seg]) -> Option<&'v Value> {
    let mut cur = v;
    for s in segs {
        cur = match s {
            delta::Seg::Field(f) => cur.get(f.as_str())?,
            delta::Seg::Index(Some(i)) => cur.get(*i)?,
            delta::Seg::Index(None) => return None,
        };
    }
    Some(cur)
}

fn source_index(repo: &Path, closure: &roots::Closure) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    // Defining files first, patch files only as a fallback; only files kustomize reads.
    let ordered = closure
        .read
        .iter()
        .filter(|f| !closure.patches.contains(*f))
        .chain(closure.patches.iter());
    for f in ordered {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || roots::KUSTOMIZATION_FILES.contains(&name.as_str()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(docs) = parse_multi_doc(&text) else {
            continue;
        };
        for d in docs {
            if let Some(k) = identity_key(&d) {
                out.entry(k).or_insert_with(|| roots::rel(repo, f));
            }
        }
    }
    out
}

/// The objects root `index` rendered, each with its defining file and the patches that touch it.
pub(super) fn from_root(
    repo: &Path,
    index: usize,
    root: &roots::Root,
    values: Vec<Value>,
    closure: &roots::Closure,
) -> Vec<RenderedObject> {
    let sources = source_index(repo, closure);
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let key = identity_key(&v);
        let file = key
            .as_ref()
            .and_then(|k| sources.get(k).cloned())
            .unwrap_or_else(|| root.rel.clone());
        let mut patches = Vec::new();
        if let Some((kind, name)) = &key {
            for ps in &closure.patch_sources {
                if ps.kind.as_ref().is_some_and(|k| k != kind) || ps.name.as_ref().is_some_and(|n| n != name) {
                    continue;
                }
                let f = roots::rel(repo, &ps.file);
                patches.push(match &ps.doc {
                    Some(d) => (f, PatchEffect::Merge(d.clone())),
                    None => (f, PatchEffect::Ops(ps.op_paths.clone())),
                });
            }
        }
        out.push(RenderedObject {
            root: index,
            value: v,
            file,
            patches,
        });
    }
    out
}
