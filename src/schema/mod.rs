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
mod describe;
mod load;
pub mod resource;

pub use convert::unknown_fields;
pub use describe::pointer_to_path;
pub use load::find_core_definitions;

use jsonschema::Validator;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
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
    has_schema: bool,
    /// The `openAPIV3Schema`: set when the CRD was read, or read from [`Crd::file`] on first use.
    schema: OnceLock<Option<Value>>,
}

#[derive(Debug, Clone)]
struct Crd {
    name: String,
    annotations: BTreeMap<String, String>,
    versions: BTreeMap<String, CrdVersion>,
    /// Where the versions' schemas wait to be read (a schema index entry), when not read yet.
    file: Option<std::path::PathBuf>,
}

type Compiled = Arc<Result<Validator, String>>;

/// What a kind's apiVersion allows.
enum VersionCheck {
    /// A schema to validate against.
    Schema,
    /// Known or unknown, but no schema: not validated.
    NoSchema,
    /// The version is not served (message says which are).
    NotServed(String),
}

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

    /// The resource (plural) name of a kind a loaded CRD defines (`<plural>.<group>` is the CRD's name).
    pub fn crd_resource(&self, group: &str, kind: &str) -> Option<&str> {
        let crd = self.crds.get(&(group.to_string(), kind.to_string()))?;
        crd.name.strip_suffix(&format!(".{group}"))
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
        let crd = self.crds.get(&(gvk.group.clone(), gvk.kind.clone()))?;
        let v = crd.versions.get(&gvk.version)?;
        if !v.has_schema {
            return None;
        }
        v.schema
            .get_or_init(|| load::deferred_schema(crd.file.as_deref()?, &gvk.version))
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
        match self.version_check(&gvk) {
            VersionCheck::Schema => {}
            VersionCheck::NoSchema => return Outcome::NotValidated(gvk.to_string()),
            VersionCheck::NotServed(m) => return Outcome::Invalid(vec![finding("apiVersion", m)]),
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
            for (path, message) in describe::describe(&err) {
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

    /// Whether this apiVersion of the kind has a schema, has none, or is not served at all.
    fn version_check(&self, gvk: &Gvk) -> VersionCheck {
        if let Some(crd) = self.crds.get(&(gvk.group.clone(), gvk.kind.clone())) {
            let served: Vec<&str> = crd
                .versions
                .iter()
                .filter(|(_, v)| v.served)
                .map(|(n, _)| n.as_str())
                .collect();
            let problem = match crd.versions.get(&gvk.version) {
                None => "defined",
                Some(v) if !v.served => "served",
                Some(v) if !v.has_schema => return VersionCheck::NoSchema,
                Some(_) => return VersionCheck::Schema,
            };
            return VersionCheck::NotServed(format!(
                "version {} is not {problem} by CRD {} (served: {})",
                gvk.version,
                crd.name,
                served.join(", ")
            ));
        }
        if self.core_kinds.contains_key(gvk) {
            return VersionCheck::Schema;
        }
        // A built-in kind at a version Kubernetes no longer (or not yet) serves, e.g. batch/v1beta1.
        let mut known: Vec<&str> = self
            .core_kinds
            .keys()
            .filter(|k| k.group == gvk.group && k.kind == gvk.kind)
            .map(|k| k.version.as_str())
            .collect();
        if known.is_empty() {
            return VersionCheck::NoSchema;
        }
        known.sort();
        VersionCheck::NotServed(format!(
            "{} {} is not a built-in API version (served: {})",
            gvk.api_version(),
            gvk.kind,
            known.join(", ")
        ))
    }

    fn compiled(&self, gvk: &Gvk) -> Compiled {
        let cell = {
            let mut cache = self.cache.lock().unwrap();
            cache.entry(gvk.clone()).or_default().clone()
        };
        cell.get_or_init(|| Arc::new(self.compile(gvk))).clone()
    }

    fn compile(&self, gvk: &Gvk) -> Result<Validator, String> {
        let schema = if self.crds.contains_key(&(gvk.group.clone(), gvk.kind.clone())) {
            let raw = self.crd_schema(gvk).ok_or("no schema")?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn schema_set_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::SchemaSet>();
    }
}
