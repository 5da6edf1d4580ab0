//! Loading schemas: CRD files, CRDs given as values, and the core Kubernetes definitions.

use super::{Crd, CrdVersion, Gvk, SchemaSet, CORE_DEFINITIONS_ID};
use crate::error::UserError;
use jsonschema::Resource;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

impl SchemaSet {
    /// Load every CRD file in `dir` and, when present, the core schemas under `dir/_core/*/local-strict/`.
    pub fn load_dir(dir: &Path) -> Result<SchemaSet, UserError> {
        let rd = std::fs::read_dir(dir).map_err(|e| {
            UserError::usage(format!("cannot read the CRD directory: {e}"))
                .subject(dir.display().to_string())
                .next("pass --crds DIR with CRD YAML files, or run scripts/fetch-crds.sh")
        })?;
        let mut set = SchemaSet::empty();
        set.source = dir.display().to_string();
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for f in files {
            let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "yaml" | "yml" | "json") {
                continue;
            }
            let text = match std::fs::read_to_string(&f) {
                Ok(t) => t,
                Err(e) => {
                    set.load_warnings.push(format!("{}: {e}", f.display()));
                    continue;
                }
            };
            let docs = match crate::fleet::render::parse_multi_doc(&text) {
                Ok(d) => d,
                Err(e) => {
                    set.load_warnings.push(format!("{}: {}", f.display(), e.cause));
                    continue;
                }
            };
            for d in docs {
                if d.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
                    if let Err(e) = set.add_crd(&d) {
                        set.load_warnings.push(format!("{}: {e}", f.display()));
                    }
                }
            }
        }
        if let Some(defs) = find_core_definitions(dir) {
            set.load_core_definitions(&defs)?;
        }
        Ok(set)
    }

    /// Like [`SchemaSet::load_dir`], through an index kept in `index_dir`: the first load of a CRD
    /// directory writes each CRD's schemas as JSON and a small index; later loads (same files, sizes and
    /// times) read only the index, and a kind's schemas when one of its objects is validated.
    pub fn load_dir_indexed(dir: &Path, index_dir: &Path) -> Result<SchemaSet, UserError> {
        let Some(fp) = dir_fingerprint(dir) else {
            return SchemaSet::load_dir(dir);
        };
        let at = index_dir.join(fp);
        if let Some(set) = read_index(dir, &at) {
            return Ok(set);
        }
        let set = SchemaSet::load_dir(dir)?;
        write_index(&set, &at);
        Ok(set)
    }

    /// Build from CRDs given as JSON values (e.g. read from a live cluster), optionally with the core
    /// schemas from a `_definitions.json` file.
    pub fn from_crds(crds: &[Value], core_definitions: Option<&Path>) -> Result<SchemaSet, UserError> {
        let mut set = SchemaSet::empty();
        set.source = "CRDs given as values".into();
        for c in crds {
            if let Err(e) = set.add_crd(c) {
                set.load_warnings.push(e);
            }
        }
        if let Some(p) = core_definitions {
            set.load_core_definitions(p)?;
        }
        Ok(set)
    }

    /// Add (or replace) one CustomResourceDefinition. Its compiled validators are dropped.
    pub fn add_crd(&mut self, crd: &Value) -> Result<(), String> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("CRD {name}: no spec.group"))?;
        let kind = crd
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("CRD {name}: no spec.names.kind"))?;
        let mut versions = BTreeMap::new();
        for v in crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(vn) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .or_else(|| crd.pointer("/spec/validation/openAPIV3Schema"))
                .cloned();
            versions.insert(
                vn.to_string(),
                CrdVersion {
                    served: v.get("served").and_then(Value::as_bool).unwrap_or(true),
                    has_schema: schema.is_some(),
                    schema: OnceLock::from(schema),
                },
            );
        }
        if versions.is_empty() {
            return Err(format!("CRD {name}: no versions"));
        }
        let mut cache = self.cache.lock().unwrap();
        cache.retain(|k, _| !(k.group == group && k.kind == kind));
        drop(cache);
        let annotations = crd
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        self.crds.insert(
            (group.to_string(), kind.to_string()),
            Crd {
                name,
                annotations,
                versions,
                file: None,
            },
        );
        Ok(())
    }

    /// Load the core definitions (`_definitions.json` of kubernetes-validate, draft 2020-12).
    pub fn load_core_definitions(&mut self, path: &Path) -> Result<(), UserError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UserError::usage(format!("cannot read the core Kubernetes schemas: {e}"))
                .subject(path.display().to_string())
        })?;
        let defs: Value = serde_json::from_str(&text).map_err(|e| {
            UserError::usage(format!("malformed core Kubernetes schemas: {e}")).subject(path.display().to_string())
        })?;
        let mut kinds = HashMap::new();
        if let Some(map) = defs.get("$defs").and_then(Value::as_object) {
            for (name, d) in map {
                let Some(gvks) = d.get("x-kubernetes-group-version-kind").and_then(Value::as_array) else {
                    continue;
                };
                // Shared types (DeleteOptions, WatchEvent) list many GVKs: not a kind of their own.
                if gvks.len() != 1 {
                    continue;
                }
                let g = &gvks[0];
                let gvk = Gvk {
                    group: g.get("group").and_then(Value::as_str).unwrap_or("").to_string(),
                    version: g.get("version").and_then(Value::as_str).unwrap_or("").to_string(),
                    kind: g.get("kind").and_then(Value::as_str).unwrap_or("").to_string(),
                };
                kinds.insert(gvk, name.clone());
            }
        }
        let registry = jsonschema::Registry::new()
            .add(CORE_DEFINITIONS_ID, Resource::from_contents(defs))
            .and_then(|b| b.prepare())
            .map_err(|e| {
                UserError::usage(format!("cannot index the core Kubernetes schemas: {e}"))
                    .subject(path.display().to_string())
            })?;
        self.core_kinds = kinds;
        self.registry = Some(registry);
        self.cache.lock().unwrap().clear();
        if self.source == "none" {
            self.source = path.display().to_string();
        }
        Ok(())
    }
}

/// Find `_core/<version>/local-strict/_definitions.json` under a CRD dir (newest version first).
pub fn find_core_definitions(dir: &Path) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(dir.join("_core"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("local-strict").join("_definitions.json"))
        .find(|p| p.is_file())
}

/// Names, sizes and times of a CRD directory's files (and its core definitions): what its index is keyed by.
fn dir_fingerprint(dir: &Path) -> Option<String> {
    use sha2::Digest;
    use std::os::unix::fs::MetadataExt;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    files.extend(find_core_definitions(dir));
    files.sort();
    let mut h = sha2::Sha256::new();
    h.update(b"fleetctl-schema-index-v1\0");
    h.update(dir.canonicalize().ok()?.to_string_lossy().as_bytes());
    for f in files {
        let m = std::fs::metadata(&f).ok()?;
        h.update(format!("\0{} {} {}.{}", f.display(), m.len(), m.mtime(), m.mtime_nsec()).as_bytes());
    }
    Some(hex::encode(h.finalize()))
}

/// One CRD in the index.
#[derive(serde::Serialize, serde::Deserialize)]
struct IndexEntry {
    group: String,
    kind: String,
    name: String,
    annotations: BTreeMap<String, String>,
    /// (version, served, has a schema)
    versions: Vec<(String, bool, bool)>,
    /// The file (in the index directory) holding `{version: schema}`.
    file: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Index {
    crds: Vec<IndexEntry>,
    warnings: Vec<String>,
}

fn read_index(dir: &Path, at: &Path) -> Option<SchemaSet> {
    let index: Index = serde_json::from_slice(&std::fs::read(at.join("index.json")).ok()?).ok()?;
    let mut set = SchemaSet::empty();
    set.source = dir.display().to_string();
    set.load_warnings = index.warnings;
    for e in index.crds {
        let versions = e
            .versions
            .into_iter()
            .map(|(v, served, has_schema)| {
                let cv = CrdVersion {
                    served,
                    has_schema,
                    schema: OnceLock::new(),
                };
                (v, cv)
            })
            .collect();
        let crd = Crd {
            name: e.name,
            annotations: e.annotations,
            versions,
            file: Some(at.join(e.file)),
        };
        set.crds.insert((e.group, e.kind), crd);
    }
    if let Some(defs) = find_core_definitions(dir) {
        set.load_core_definitions(&defs).ok()?;
    }
    Some(set)
}

/// Write the index (atomically: a half-written index is never read).
fn write_index(set: &SchemaSet, at: &Path) {
    let Some(parent) = at.parent() else { return };
    let Ok(tmp) = std::fs::create_dir_all(parent).and_then(|_| tempfile::tempdir_in(parent)) else {
        return;
    };
    let mut crds = Vec::new();
    for (i, ((group, kind), crd)) in set.crds.iter().enumerate() {
        let file = format!("{i}.json");
        let schemas: BTreeMap<&String, Option<&Value>> = crd
            .versions
            .iter()
            .map(|(v, cv)| (v, cv.schema.get().and_then(Option::as_ref)))
            .collect();
        if serde_json::to_vec(&schemas)
            .ok()
            .and_then(|b| std::fs::write(tmp.path().join(&file), b).ok())
            .is_none()
        {
            return;
        }
        crds.push(IndexEntry {
            group: group.clone(),
            kind: kind.clone(),
            name: crd.name.clone(),
            annotations: crd.annotations.clone(),
            versions: crd
                .versions
                .iter()
                .map(|(v, cv)| (v.clone(), cv.served, cv.has_schema))
                .collect(),
            file,
        });
    }
    let index = Index {
        crds,
        warnings: set.load_warnings.clone(),
    };
    let written = serde_json::to_vec(&index)
        .ok()
        .and_then(|b| std::fs::write(tmp.path().join("index.json"), b).ok());
    if written.is_some() {
        let _ = std::fs::rename(tmp.keep(), at);
    }
}

/// A CRD version's schema from its index file.
pub(super) fn deferred_schema(file: &Path, version: &str) -> Option<Value> {
    let mut all: BTreeMap<String, Option<Value>> = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    all.remove(version).flatten()
}
