//! Admission of a write, in the order the API server runs it: decoding (unknown fields by the
//! request's fieldValidation, values of the wrong type), defaulting, validation (built-in rules or the
//! CRD's schema), the size etcd keeps. The API layer runs it for client writes; the simulated Argo CD for
//! what it syncs, so a manifest a real cluster refuses is refused in a rehearsal too.

mod defaults;
mod names;
pub mod prune;
pub mod quantity;
mod schema_check;
mod validate;

use super::kinds::{builtins, ResourceInfo};
use super::schema::{self, ObjectSchema};
use super::{meta_str, Store, StoreError};
use serde_json::Value;

/// etcd's default request size limit (`--max-request-bytes`, 1.5 MiB): a bigger object is not stored.
pub const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// How one kind at one version is admitted.
pub struct Admit<'a> {
    pub ri: &'a ResourceInfo,
    pub version: &'a str,
    pub schema: ObjectSchema,
}

impl<'a> Admit<'a> {
    /// The schema for `ri` at `version`: the built-in definition, or the served CRD's (with the
    /// `old-schema` faults in force).
    pub fn new(store: &Store, ri: &'a ResourceInfo, version: &'a str, old_schema: &[(String, String)]) -> Self {
        let builtin = builtins().iter().any(|b| b.gr() == ri.gr());
        let schema = if builtin {
            ObjectSchema::builtin(&ri.group, version, &ri.kind)
        } else {
            ObjectSchema::custom(schema::crd_schema(store, &ri.gr(), version, old_schema))
        };
        Admit { ri, version, schema }
    }

    /// Decoding: unknown fields by `directive` (Strict: 400; Warn: the warnings to send; Ignore), and a
    /// built-in object whose values have the wrong type (400).
    pub fn decode(&self, obj: &mut Value, directive: Option<&str>) -> Result<Vec<String>, StoreError> {
        if self.schema.is_builtin() {
            if let Some(def) = schema::definition_for(&self.ri.group, self.version, &self.ri.kind) {
                let root =
                    schema::Node::builtin(&self.ri.group, self.version, &self.ri.kind).unwrap_or(schema::Node::Deduced);
                if let Some(msg) = schema_check::builtin_types(&self.ri.kind, self.version, def, root, obj) {
                    return Err(StoreError::bad_request(msg));
                }
            }
        }
        prune::check(self.ri, self.version, &self.schema, directive, obj)
    }

    /// Defaulting (`create`: the first write).
    pub fn default(&self, obj: &mut Value, create: bool) {
        defaults::apply(self.ri, &self.schema, obj, create);
    }

    /// Validation of the object to store (`old`: the stored one, for an update).
    pub fn validate(&self, old: Option<&Value>, obj: &Value) -> Result<(), StoreError> {
        let name = meta_str(obj, "name");
        let errs = if self.schema.is_builtin() {
            let mut e = validate::builtin(self.ri, &self.schema, old, obj);
            if self.ri.plural == "customresourcedefinitions" {
                crd_name(obj, &mut e);
            }
            e
        } else {
            let mut e = vec![];
            validate::meta(self.ri, obj, &mut e);
            if let Some(s) = self.schema.root().raw().filter(|_| self.schema.known()) {
                e.extend(schema_check::custom(s, obj));
            }
            e
        };
        let mut errs = errs;
        if let Some(old) = old.filter(|o| o.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())) {
            let fins = |o: &Value| -> Vec<Value> {
                o.pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let added: Vec<String> = fins(obj)
                .into_iter()
                .filter(|f| !fins(old).contains(f))
                .map(|f| format!("{f}"))
                .collect();
            if !added.is_empty() {
                let why = format!("no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}", added.join(", "));
                errs.push(super::error::FieldError::Forbidden("metadata.finalizers".into(), why));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::invalid_fields(&self.ri.kind, &self.ri.group, name, errs));
        }
        if serde_json::to_vec(obj).map_or(0, |b| b.len()) > MAX_OBJECT_BYTES {
            return Err(StoreError::too_large("etcdserver: request is too large"));
        }
        Ok(())
    }
}

/// A CRD is named `<plural>.<group>` and names its group, kind, plural, scope and versions.
fn crd_name(obj: &Value, errs: &mut Vec<super::error::FieldError>) {
    use super::error::{printed, FieldError};
    let name = meta_str(obj, "name");
    match ResourceInfo::from_crd(obj) {
        None => errs.push(FieldError::Required(
            "spec".into(),
            "group, names (plural, kind), scope and versions are required".into(),
        )),
        Some(ri) if ri.gr() != name => errs.push(FieldError::Invalid(
            "metadata.name".into(),
            printed(&serde_json::json!(name)),
            "must be spec.names.plural+\".\"+spec.group".into(),
        )),
        Some(_) => {}
    }
}
