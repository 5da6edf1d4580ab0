//! Converting a CRD's OpenAPI v3 schema into a JSON Schema (draft 2020-12) that validates the way the
//! API server does with `fieldValidation=Strict`, and a direct walker that lists unknown fields.
//!
//! The differences handled here:
//! - `nullable: true` adds `null` to `type` (and `enum`);
//! - `x-kubernetes-int-or-string: true` becomes `anyOf: [integer, string]`;
//! - an object level without `x-kubernetes-preserve-unknown-fields: true` and without
//!   `additionalProperties` gets `additionalProperties: false` (the API server prunes unknown fields;
//!   strict field validation rejects them);
//! - `x-kubernetes-embedded-resource: true` allows `apiVersion`, `kind` and `metadata` at that level;
//! - keywords whose value is `null` are dropped (an upstream quirk, e.g. `anyOf: null` in routes);
//! - subschemas under `allOf`/`anyOf`/`oneOf`/`not` only add value validations (structural schema
//!   rule), so they never get `additionalProperties: false`;
//! - other `x-kubernetes-*` extensions (CEL validations, list/map types) and documentation keywords are
//!   dropped; CEL rules are not evaluated.

use serde_json::{json, Map, Value};

/// Where ObjectMeta lives in the core definitions.
pub const OBJECT_META_REF: &str =
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Convert the `openAPIV3Schema` of one CRD version into a JSON Schema for the whole object.
/// `object_meta` is the schema used for `metadata` (a `$ref` to ObjectMeta when core schemas are known).
pub fn crd_to_json_schema(openapi: &Value, object_meta: Option<Value>) -> Value {
    let mut root = convert(openapi, true);
    let obj = match root.as_object_mut() {
        Some(o) => o,
        None => return root,
    };
    let props = obj.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    if let Some(props) = props.as_object_mut() {
        props.insert("apiVersion".into(), json!({"type": "string"}));
        props.insert("kind".into(), json!({"type": "string"}));
        let original = openapi
            .get("properties")
            .and_then(|p| p.get("metadata"))
            .map(|m| convert(m, false));
        let meta = match (object_meta, original) {
            (Some(om), Some(orig)) => json!({"allOf": [om, orig]}),
            (Some(om), None) => om,
            (None, Some(orig)) => orig,
            (None, None) => json!({"type": "object"}),
        };
        props.insert("metadata".into(), meta);
    }
    obj.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    root
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

fn is_object_type(o: &Map<String, Value>) -> bool {
    match o.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => o.contains_key("properties"),
    }
}

/// Convert one schema node. `strict` says whether unknown fields at object levels are errors.
pub fn convert(schema: &Value, strict: bool) -> Value {
    let o = match schema.as_object() {
        Some(o) => o,
        None => return schema.clone(),
    };
    let preserve = is_true(o.get("x-kubernetes-preserve-unknown-fields"));
    let int_or_string = is_true(o.get("x-kubernetes-int-or-string"));
    let nullable = is_true(o.get("nullable"));
    let embedded = is_true(o.get("x-kubernetes-embedded-resource"));
    let mut out = Map::new();
    for (k, v) in o {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "description" | "example" | "externalDocs" | "default" | "nullable" | "title" => {}
            k if k.starts_with("x-kubernetes-") => {}
            "properties" | "patternProperties" | "$defs" | "definitions" => {
                if let Some(props) = v.as_object() {
                    let m: Map<String, Value> =
                        props.iter().map(|(pk, pv)| (pk.clone(), convert(pv, strict))).collect();
                    out.insert(k.clone(), Value::Object(m));
                }
            }
            "additionalProperties" | "items" | "additionalItems" => {
                if v.is_object() {
                    out.insert(k.clone(), convert(v, strict));
                } else if let Some(arr) = v.as_array() {
                    out.insert(
                        k.clone(),
                        Value::Array(arr.iter().map(|s| convert(s, strict)).collect()),
                    );
                } else {
                    out.insert(k.clone(), v.clone());
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                if let Some(arr) = v.as_array() {
                    out.insert(k.clone(), Value::Array(arr.iter().map(|s| convert(s, false)).collect()));
                }
            }
            "not" => {
                out.insert(k.clone(), convert(v, false));
            }
            "type" if int_or_string => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if int_or_string && !out.contains_key("anyOf") {
        out.insert("anyOf".into(), json!([{"type": "integer"}, {"type": "string"}]));
    }
    if nullable {
        if let Some(t) = out.get_mut("type") {
            match t {
                Value::String(s) => *t = json!([s.clone(), "null"]),
                Value::Array(ts) if !ts.iter().any(|x| x == "null") => ts.push(json!("null")),
                _ => {}
            }
        }
        if let Some(Value::Array(e)) = out.get_mut("enum") {
            if !e.iter().any(Value::is_null) {
                e.push(Value::Null);
            }
        }
    }
    if embedded {
        let props = out.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Some(p) = props.as_object_mut() {
            p.entry("apiVersion").or_insert_with(|| json!({"type": "string"}));
            p.entry("kind").or_insert_with(|| json!({"type": "string"}));
            p.entry("metadata").or_insert_with(|| json!({"type": "object"}));
        }
    }
    if strict && !preserve && is_object_type(o) && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// Append a field name to a dotted path (`spec.rules`), quoting names that contain dots or slashes.
pub fn join_field(path: &str, field: &str) -> String {
    let simple = !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    match (path.is_empty(), simple) {
        (true, true) => field.to_string(),
        (false, true) => format!("{path}.{field}"),
        (_, false) => format!("{path}[{}]", serde_json::to_string(field).unwrap_or_default()),
    }
}

/// The fields of `obj` that `schema` (a CRD's `openAPIV3Schema`, or a whole CRD whose version is picked
/// from `obj.apiVersion`) does not know, as dotted paths (`spec.resourceHealthChecks`,
/// `spec.rules[0].retry`). `apiVersion`, `kind` and `metadata` at the root are never reported.
pub fn unknown_fields(obj: &Value, schema: &Value) -> Vec<String> {
    let schema = match crd_version_schema(schema, obj) {
        Some(s) => s,
        None => schema,
    };
    let mut out = Vec::new();
    if let (Some(o), Some(s)) = (obj.as_object(), schema.as_object()) {
        let props = s.get("properties").and_then(Value::as_object);
        for (k, v) in o {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match props.and_then(|p| p.get(k)) {
                Some(sub) => walk_unknown(v, sub, &join_field("", k), &mut out),
                None => {
                    if !is_true(s.get("x-kubernetes-preserve-unknown-fields")) {
                        out.push(k.clone())
                    }
                }
            }
        }
    }
    out
}

/// If `schema` is a whole CustomResourceDefinition, the `openAPIV3Schema` of `obj`'s version.
fn crd_version_schema<'a>(schema: &'a Value, obj: &Value) -> Option<&'a Value> {
    if schema.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return None;
    }
    let version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|a| a.rsplit('/').next().unwrap_or(a))?;
    schema
        .pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?
        .pointer("/schema/openAPIV3Schema")
}

fn walk_unknown(v: &Value, s: &Value, path: &str, out: &mut Vec<String>) {
    let so = match s.as_object() {
        Some(o) => o,
        None => return,
    };
    match v {
        Value::Object(m) => {
            let preserve = is_true(so.get("x-kubernetes-preserve-unknown-fields"));
            let embedded = is_true(so.get("x-kubernetes-embedded-resource"));
            let props = so.get("properties").and_then(Value::as_object);
            let addl = so.get("additionalProperties");
            for (k, child) in m {
                let p = join_field(path, k);
                if let Some(sub) = props.and_then(|pr| pr.get(k)) {
                    walk_unknown(child, sub, &p, out);
                } else if let Some(a) = addl.filter(|a| a.is_object()) {
                    walk_unknown(child, a, &p, out);
                } else {
                    let allowed = addl.and_then(Value::as_bool) == Some(true)
                        || preserve
                        || (embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
                    if !allowed && is_object_type(so) {
                        out.push(p);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = so.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_unknown(item, is, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Apply the `default`s of a CRD's OpenAPI schema to `obj`, as the API server does before validating
/// (only below objects that exist; array items and map values too).
pub fn apply_defaults(obj: &mut Value, schema: &Value) {
    let Some(so) = schema.as_object() else { return };
    match obj {
        Value::Object(m) => {
            if let Some(props) = so.get("properties").and_then(Value::as_object) {
                for (k, ps) in props {
                    match m.get_mut(k) {
                        Some(child) => apply_defaults(child, ps),
                        None => {
                            if let Some(d) = ps.get("default").filter(|d| !d.is_null()) {
                                let mut d = d.clone();
                                apply_defaults(&mut d, ps);
                                m.insert(k.clone(), d);
                            }
                        }
                    }
                }
            }
            if let Some(a) = so.get("additionalProperties").filter(|a| a.is_object()) {
                let known = so.get("properties").and_then(Value::as_object);
                for (k, child) in m.iter_mut() {
                    if known.is_none_or(|p| !p.contains_key(k)) {
                        apply_defaults(child, a);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = so.get("items") {
                for i in items {
                    apply_defaults(i, is);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_or_string_and_nullable() {
        let s = json!({"type": "object", "properties": {
            "port": {"x-kubernetes-int-or-string": true},
            "n": {"type": "string", "nullable": true}}});
        let c = convert(&s, true);
        assert_eq!(c["additionalProperties"], json!(false));
        assert!(c["properties"]["port"].get("anyOf").is_some());
        assert_eq!(c["properties"]["n"]["type"], json!(["string", "null"]));
    }

    #[test]
    fn unknown_fields_walks_arrays_and_preserve() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}});
        let obj = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"},
            "spec": {"a": [{"x": "1", "y": 2}], "free": {"anything": 1}, "zzz": true}});
        assert_eq!(
            unknown_fields(&obj, &s),
            vec!["spec.a[0].y".to_string(), "spec.zzz".to_string()]
        );
    }
}
