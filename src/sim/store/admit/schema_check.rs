//! Checks against the OpenAPI schemas, with the jsonschema crate:
//! - a built-in object whose values have the wrong type cannot be decoded into the Go types: 400
//!   BadRequest, `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
//!   string into Go struct field DeploymentSpec.spec.replicas of type int32`;
//! - a custom resource is validated against its CRD version's openAPIV3Schema (type, required, enum,
//!   minimum/maximum, pattern, lengths, item counts), with the messages of the apiextensions apiserver
//!   (k8s.io/apiextensions-apiserver `pkg/apiserver/validation`): `spec.replicas: Invalid value: 5:
//!   spec.replicas in body should be less than or equal to 3`. CEL rules (`x-kubernetes-validations`) are
//!   not evaluated (docs/sim.md says why).

use crate::sim::store::error::{printed, FieldError};
use crate::sim::store::schema::{definitions, Node};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::Validator;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn cached(key: String, make: impl FnOnce() -> Option<Validator>) -> Option<Arc<Validator>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Validator>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let v = make().map(Arc::new);
    cache.lock().unwrap().insert(key, v.clone());
    v
}

/// `/spec/list/0/name` -> `spec.list[0].name`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The Go type a built-in field decodes into, as its schema says.
fn go_type(schema: Option<&Value>) -> String {
    let Some(s) = schema else { return "string".into() };
    let t = match &s["type"] {
        Value::Array(a) => a.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        t => t.clone(),
    };
    match (t.as_str(), s["format"].as_str()) {
        (Some("integer"), Some(f)) => f.into(),
        (Some("integer"), None) => "int".into(),
        (Some("number"), _) => "float64".into(),
        (Some("boolean"), _) => "bool".into(),
        (Some("array"), _) => "[]interface {}".into(),
        (Some("object"), _) => "map[string]interface {}".into(),
        (Some(t), _) => t.into(),
        _ => "intstr.IntOrString".into(),
    }
}

/// The schema node and the Go struct holding the field at a JSON pointer of a built-in object.
fn locate(root: Node<'static>, pointer: &str) -> (String, Option<&'static Value>) {
    let mut node = root;
    let mut parent = String::new();
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        if let Some(raw) = node.raw() {
            if let Some((name, _)) = definitions().iter().find(|(_, d)| std::ptr::eq(*d, raw)) {
                parent = name.rsplit('.').next().unwrap_or_default().to_string();
            }
        }
        node = if seg.chars().all(|c| c.is_ascii_digit()) && node.raw().is_some_and(|r| r.get("items").is_some()) {
            node.items()
        } else {
            node.child(seg).unwrap_or(Node::Deduced)
        };
    }
    (parent, node.raw())
}

/// The first wrong-typed value of a built-in object, as the 400 the decoder answers; None if it decodes.
pub fn builtin_types(kind: &str, version: &str, def: &str, root: Node<'static>, obj: &Value) -> Option<String> {
    let v = cached(format!("builtin/{def}"), || {
        let schema = json!({"$defs": definitions(), "$ref": format!("#/$defs/{def}")});
        jsonschema::options().should_validate_formats(false).build(&schema).ok()
    })?;
    let err = v.iter_errors(obj).find(|e| {
        matches!(
            e.kind(),
            ValidationErrorKind::Type { .. } | ValidationErrorKind::OneOfNotValid { .. }
        )
    })?;
    let pointer = err.instance_path().to_string();
    let (parent, schema) = locate(root, &pointer);
    Some(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: json: cannot unmarshal {} into Go struct field {parent}.{} of type {}",
        json_type(err.instance()),
        field_path(&pointer),
        go_type(schema)
    ))
}

/// An openAPIV3Schema as a JSON Schema: `nullable` admits null, `x-kubernetes-int-or-string` admits an
/// integer or a string; the root's `metadata` is checked as ObjectMeta elsewhere.
fn to_json_schema(s: &Value, root: bool) -> Value {
    let Value::Object(m) = s else { return s.clone() };
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        let conv = match k.as_str() {
            "properties" | "patternProperties" | "definitions" => Value::Object(
                v.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(name, _)| !(root && *name == "metadata"))
                    .map(|(n, x)| (n.clone(), to_json_schema(x, false)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(v, false),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| to_json_schema(x, false))
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), conv);
    }
    if out.get("x-kubernetes-int-or-string") == Some(&json!(true)) {
        out.remove("type");
        out.insert("anyOf".into(), json!([{"type": "integer"}, {"type": "string"}]));
    }
    if out.get("nullable") == Some(&json!(true)) {
        if let Some(t) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
    }
    Value::Object(out)
}

fn supported(options: &Value) -> Vec<String> {
    options
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| o.as_str().map(str::to_string).unwrap_or_else(|| o.to_string()))
        .collect()
}

fn cr_error(e: &jsonschema::ValidationError) -> Option<FieldError> {
    let path = field_path(&e.instance_path().to_string());
    let v = printed(e.instance());
    let inv = |d: String| {
        Some(FieldError::Invalid(
            path.clone(),
            v.clone(),
            format!("{path} in body {d}"),
        ))
    };
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            let p = property.as_str().unwrap_or_default();
            Some(FieldError::Required(
                if path.is_empty() {
                    p.into()
                } else {
                    format!("{path}.{p}")
                },
                String::new(),
            ))
        }
        ValidationErrorKind::Type { kind } => {
            let t = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join("/"),
            };
            Some(FieldError::TypeInvalid(
                path.clone(),
                v.clone(),
                format!("{path} in body must be of type {t}: {v}"),
            ))
        }
        ValidationErrorKind::Enum { options } => Some(FieldError::NotSupported(path, v, supported(options))),
        ValidationErrorKind::Maximum { limit } => inv(format!("should be less than or equal to {limit}")),
        ValidationErrorKind::Minimum { limit } => inv(format!("should be greater than or equal to {limit}")),
        ValidationErrorKind::ExclusiveMaximum { limit } => inv(format!("should be less than {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => inv(format!("should be greater than {limit}")),
        ValidationErrorKind::Pattern { pattern } => inv(format!("should match '{pattern}'")),
        ValidationErrorKind::MinLength { limit } => inv(format!("should be at least {limit} chars long")),
        ValidationErrorKind::MaxLength { limit } => {
            Some(FieldError::TooLong(path, format!("may not be more than {limit} bytes")))
        }
        ValidationErrorKind::MinItems { limit } => inv(format!("should have at least {limit} items")),
        ValidationErrorKind::MaxItems { limit } => {
            Some(FieldError::TooLong(path, format!("must have at most {limit} items")))
        }
        ValidationErrorKind::MinProperties { limit } => inv(format!("should have at least {limit} properties")),
        ValidationErrorKind::MaxProperties { limit } => inv(format!("should have at most {limit} properties")),
        ValidationErrorKind::MultipleOf { .. } => inv("should be a multiple of the schema's multipleOf".into()),
        ValidationErrorKind::UniqueItems => Some(FieldError::Duplicate(path, v)),
        _ => None,
    }
}

/// A custom resource against its openAPIV3Schema.
pub fn custom(schema: &Value, obj: &Value) -> Vec<FieldError> {
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        schema.to_string().hash(&mut h);
        format!("crd/{:x}", h.finish())
    };
    let Some(v) = cached(key, || {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&to_json_schema(schema, true))
            .ok()
    }) else {
        return vec![];
    };
    let mut errs: Vec<FieldError> = v.iter_errors(obj).filter_map(|e| cr_error(&e)).collect();
    errs.dedup();
    errs
}
