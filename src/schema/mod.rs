//! Validation of Kubernetes objects against CRD schemas and the core Kubernetes JSON schemas.
//!
//! One place for the offline verifier (`fleetctl verify`) and the engine (which passes CRDs read
//! from a live cluster). Validation is strict, like the API server with `fieldValidation=Strict`:
//! unknown fields are errors unless a level says `x-kubernetes-preserve-unknown-fields: true`.
//!
//! Sources:
//! - a CRD directory: every `*.yaml`/`*.yml`/`*.json` file holding CustomResourceDefinitions;
//! - CRDs as JSON values (e.g. read from a cluster);
//! - the core schemas of the `kubernetes-validate` wheel: `_core/<version>/local-strict/_definitions.json`
//!   inside the CRD directory. Every definition with an `x-kubernetes-group-version-kind` becomes a
//!   validatable built-in kind (Deployment, Service, ConfigMap, ...), not only the wrapper files.
//!
//! Each schema is compiled once and the validator cached per (group, version, kind).

pub mod convert;

pub use convert::unknown_fields;

use crate::error::UserError;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{Resource, ValidationError, Validator};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The `$id` of the core definitions document.
pub const CORE_DEFINITIONS_ID: &str = "https://kubernetes.io/api/_definitions.json";

/// group, version, kind. The core group is "".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// From an object's `apiVersion` and `kind`.
    pub fn of(obj: &Value) -> Option<Gvk> {
        let api = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let (group, version) = match api.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api.to_string()),
        };
        Some(Gvk {
            group,
            version,
            kind: kind.to_string(),
        })
    }
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.api_version(), self.kind)
    }
}

/// One schema problem in one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaFinding {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// Dotted path of the problem (`spec.replicas`, `spec.rules[0].matches`); empty for the root.
    pub path: String,
    /// What is wrong (`unknown field`, `expected integer`).
    pub message: String,
}

impl std::fmt::Display for SchemaFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The result of validating one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A schema was found and the object satisfies it.
    Valid,
    /// A schema was found and the object breaks it.
    Invalid(Vec<SchemaFinding>),
    /// No schema is known for this kind (`"<apiVersion> <Kind>"`): not an error, listed separately.
    NotValidated(String),
}

#[derive(Debug, Clone)]
struct CrdVersion {
    served: bool,
    schema: Option<Value>,
}

#[derive(Debug, Clone)]
struct Crd {
    name: String,
    annotations: BTreeMap<String, String>,
    versions: BTreeMap<String, CrdVersion>,
}

type Compiled = Arc<Result<Validator, String>>;

/// The set of schemas objects are validated against.
pub struct SchemaSet {
    /// (group, kind) -> CRD.
    crds: HashMap<(String, String), Crd>,
    /// Core definitions: GVK -> definition name; plus the registry holding `_definitions.json`.
    core_kinds: HashMap<Gvk, String>,
    registry: Option<jsonschema::Registry<'static>>,
    cache: Mutex<HashMap<Gvk, Arc<OnceLock<Compiled>>>>,
    /// Human description of where the schemas came from.
    pub source: String,
    /// Problems met while loading (unreadable files, CRDs without schemas); not fatal.
    pub load_warnings: Vec<String>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("source", &self.source)
            .field("crds", &self.crds.len())
            .field("core_kinds", &self.core_kinds.len())
            .finish()
    }
}

impl Default for SchemaSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl SchemaSet {
    /// No schemas: every kind is "not validated".
    pub fn empty() -> SchemaSet {
        SchemaSet {
            crds: HashMap::new(),
            core_kinds: HashMap::new(),
            registry: None,
            cache: Mutex::new(HashMap::new()),
            source: "none".into(),
            load_warnings: Vec::new(),
        }
    }

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
                    schema,
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
            },
        );
        Ok(())
    }

    /// The resource (plural) name of a kind a loaded CRD defines (`<plural>.<group>` is the CRD's name).
    pub fn crd_resource(&self, group: &str, kind: &str) -> Option<&str> {
        let crd = self.crds.get(&(group.to_string(), kind.to_string()))?;
        crd.name.strip_suffix(&format!(".{group}"))
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

    /// How many CRDs and core kinds are known.
    pub fn counts(&self) -> (usize, usize) {
        (self.crds.len(), self.core_kinds.len())
    }

    /// True when neither CRDs nor core schemas are loaded.
    pub fn is_empty(&self) -> bool {
        self.crds.is_empty() && self.core_kinds.is_empty()
    }

    /// Whether a schema is known for this kind (CRD of that group/kind, or a core kind).
    pub fn knows(&self, gvk: &Gvk) -> bool {
        self.crds.contains_key(&(gvk.group.clone(), gvk.kind.clone())) || self.core_kinds.contains_key(gvk)
    }

    /// The raw `openAPIV3Schema` of a CRD version, if known.
    pub fn crd_schema(&self, gvk: &Gvk) -> Option<&Value> {
        self.crds
            .get(&(gvk.group.clone(), gvk.kind.clone()))?
            .versions
            .get(&gvk.version)?
            .schema
            .as_ref()
    }

    /// An annotation of the CRD defining this kind (e.g. `gateway.networking.k8s.io/channel`).
    pub fn crd_annotation(&self, gvk: &Gvk, key: &str) -> Option<&str> {
        self.crds
            .get(&(gvk.group.clone(), gvk.kind.clone()))?
            .annotations
            .get(key)
            .map(String::as_str)
    }

    /// The fields of `obj` that its CRD does not know (`None` when the CRD is not loaded). For the engine:
    /// "the live ArgoCD CRD does not know spec.resourceHealthChecks".
    pub fn unknown_fields(&self, obj: &Value) -> Option<Vec<String>> {
        let gvk = Gvk::of(obj)?;
        Some(unknown_fields(obj, self.crd_schema(&gvk)?))
    }

    /// Validate one object by its apiVersion and kind.
    pub fn validate(&self, obj: &Value) -> Outcome {
        let (kind, name, namespace) = identity(obj);
        let finding = |path: &str, message: String| SchemaFinding {
            kind: kind.clone(),
            name: name.clone(),
            namespace: namespace.clone(),
            path: path.to_string(),
            message,
        };
        let Some(gvk) = Gvk::of(obj) else {
            return Outcome::Invalid(vec![finding("", "object has no apiVersion or kind".into())]);
        };
        if let Some(crd) = self.crds.get(&(gvk.group.clone(), gvk.kind.clone())) {
            let served: Vec<&str> = crd
                .versions
                .iter()
                .filter(|(_, v)| v.served)
                .map(|(n, _)| n.as_str())
                .collect();
            match crd.versions.get(&gvk.version) {
                None => {
                    return Outcome::Invalid(vec![finding(
                        "apiVersion",
                        format!(
                            "version {} is not defined by CRD {} (served: {})",
                            gvk.version,
                            crd.name,
                            served.join(", ")
                        ),
                    )])
                }
                Some(v) if !v.served => {
                    return Outcome::Invalid(vec![finding(
                        "apiVersion",
                        format!(
                            "version {} is not served by CRD {} (served: {})",
                            gvk.version,
                            crd.name,
                            served.join(", ")
                        ),
                    )])
                }
                Some(v) if v.schema.is_none() => return Outcome::NotValidated(gvk.to_string()),
                Some(_) => {}
            }
        } else if !self.core_kinds.contains_key(&gvk) {
            // A built-in kind at a version Kubernetes no longer (or not yet) serves, e.g. batch/v1beta1.
            let mut known: Vec<&str> = self
                .core_kinds
                .keys()
                .filter(|k| k.group == gvk.group && k.kind == gvk.kind)
                .map(|k| k.version.as_str())
                .collect();
            if !known.is_empty() {
                known.sort();
                return Outcome::Invalid(vec![finding(
                    "apiVersion",
                    format!(
                        "{} {} is not a built-in API version (served: {})",
                        gvk.api_version(),
                        gvk.kind,
                        known.join(", ")
                    ),
                )]);
            }
            return Outcome::NotValidated(gvk.to_string());
        }
        let compiled = self.compiled(&gvk);
        let validator = match compiled.as_ref() {
            Ok(v) => v,
            Err(e) => {
                return Outcome::Invalid(vec![finding(
                    "",
                    format!("schema for {gvk} could not be compiled: {e}"),
                )])
            }
        };
        let mut instance = strip_nulls(obj);
        if let Some(raw) = self.crd_schema(&gvk) {
            convert::apply_defaults(&mut instance, raw);
        }
        let mut out = Vec::new();
        for err in validator.iter_errors(&instance) {
            for (path, message) in describe(&err) {
                out.push(finding(&path, message));
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path).then(a.message.cmp(&b.message)));
        out.dedup();
        if out.is_empty() {
            Outcome::Valid
        } else {
            Outcome::Invalid(out)
        }
    }

    fn compiled(&self, gvk: &Gvk) -> Compiled {
        let cell = {
            let mut cache = self.cache.lock().unwrap();
            cache.entry(gvk.clone()).or_default().clone()
        };
        cell.get_or_init(|| Arc::new(self.compile(gvk))).clone()
    }

    fn compile(&self, gvk: &Gvk) -> Result<Validator, String> {
        let schema = if let Some(crd) = self.crds.get(&(gvk.group.clone(), gvk.kind.clone())) {
            let raw = crd
                .versions
                .get(&gvk.version)
                .and_then(|v| v.schema.as_ref())
                .ok_or("no schema")?;
            let meta = self
                .registry
                .as_ref()
                .map(|_| json!({"$ref": convert::OBJECT_META_REF}));
            convert::crd_to_json_schema(raw, meta)
        } else {
            let def = self.core_kinds.get(gvk).ok_or("no schema")?;
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("{CORE_DEFINITIONS_ID}#/$defs/{def}"),
            })
        };
        match self.build(&schema) {
            Ok(v) => Ok(v),
            // Upstream patterns are Go RE2; the few a Rust engine cannot compile are dropped
            // rather than losing the whole kind.
            Err(first) => {
                let mut relaxed = schema.clone();
                strip_keyword(&mut relaxed, "pattern");
                self.build(&relaxed).map_err(|_| first)
            }
        }
    }

    fn build(&self, schema: &Value) -> Result<Validator, String> {
        let mut opts = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(false);
        if let Some(r) = &self.registry {
            opts = opts.with_registry(r);
        }
        opts.build(schema).map_err(|e| e.to_string())
    }
}

/// kind, name, namespace of an object (empty strings when missing).
pub fn identity(obj: &Value) -> (String, String, Option<String>) {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_string);
    (
        s("/kind").unwrap_or_default(),
        s("/metadata/name").unwrap_or_default(),
        s("/metadata/namespace"),
    )
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

/// Object fields whose value is null are dropped, as the API server does before validation.
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn strip_keyword(v: &mut Value, kw: &str) {
    match v {
        Value::Object(m) => {
            if m.get(kw).is_some_and(Value::is_string) {
                m.remove(kw);
            }
            for (_, c) in m.iter_mut() {
                strip_keyword(c, kw);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| strip_keyword(c, kw)),
        _ => {}
    }
}

/// A JSON pointer (`/spec/rules/0/x`) as a dotted path (`spec.rules[0].x`).
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out = convert::join_field(&out, &seg);
        }
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}...",
            &s[..s
                .char_indices()
                .take_while(|(i, _)| *i < 77)
                .last()
                .map(|(i, c)| i + c.len_utf8())
                .unwrap_or(0)]
        )
    } else {
        s
    }
}

/// Turn one jsonschema error into (path, message) pairs in Kubernetes terms.
fn describe(err: &ValidationError<'_>) -> Vec<(String, String)> {
    let path = pointer_to_path(err.instance_path().as_str());
    let instance: &Value = err.instance().as_ref();
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|f| (convert::join_field(&path, f), "unknown field".to_string()))
            .collect(),
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => ts
                    .iter()
                    .filter(|t| t.to_string() != "null")
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            vec![(path, format!("expected {expected}, got {}", type_name(instance)))]
        }
        ValidationErrorKind::Required { property } => {
            let p = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            vec![(convert::join_field(&path, &p), "required field is missing".to_string())]
        }
        ValidationErrorKind::Enum { options } => {
            vec![(path, format!("{} is not one of {}", short(instance), short(options)))]
        }
        ValidationErrorKind::Constant { expected_value } => {
            vec![(path, format!("{} is not {}", short(instance), short(expected_value)))]
        }
        ValidationErrorKind::Pattern { pattern } => {
            vec![(path, format!("{} does not match pattern {pattern}", short(instance)))]
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // int-or-string and friends: every branch is a type mismatch here.
            let types: Option<Vec<String>> = context
                .iter()
                .map(|branch| match branch.as_slice() {
                    [e] if e.instance_path().as_str() == err.instance_path().as_str() => match e.kind() {
                        ValidationErrorKind::Type {
                            kind: jsonschema::error::TypeKind::Single(t),
                        } => Some(t.to_string()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            match types {
                Some(ts) if !ts.is_empty() => {
                    let ts: Vec<String> = ts.into_iter().filter(|t| t != "null").collect();
                    vec![(
                        path,
                        format!("expected {}, got {}", ts.join(" or "), type_name(instance)),
                    )]
                }
                _ => {
                    let best = context.iter().filter(|b| !b.is_empty()).min_by_key(|b| b.len());
                    let hint = best
                        .and_then(|b| describe(&b[0]).into_iter().next())
                        .map(|(p, m)| {
                            if p.is_empty() {
                                format!(" (closest: {m})")
                            } else {
                                format!(" (closest: {p}: {m})")
                            }
                        })
                        .unwrap_or_default();
                    vec![(path, format!("matches none of the allowed forms{hint}"))]
                }
            }
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            vec![(path, "matches more than one of the exclusive forms".into())]
        }
        ValidationErrorKind::Not { .. } => {
            vec![(path, format!("{} is not allowed here", short(instance)))]
        }
        _ => {
            let msg = err.to_string();
            let msg = if msg.len() > 200 {
                format!(
                    "{}...",
                    &msg[..msg
                        .char_indices()
                        .take_while(|(i, _)| *i < 197)
                        .last()
                        .map(|(i, c)| i + c.len_utf8())
                        .unwrap_or(0)]
                )
            } else {
                msg
            };
            vec![(path, msg)]
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_set_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::SchemaSet>();
    }

    #[test]
    fn pointer_to_dotted_path() {
        assert_eq!(super::pointer_to_path("/spec/rules/0/x"), "spec.rules[0].x");
        assert_eq!(
            super::pointer_to_path("/metadata/annotations/a.b~1c"),
            r#"metadata.annotations["a.b/c"]"#
        );
    }
}
