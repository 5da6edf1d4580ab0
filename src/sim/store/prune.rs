//! Structural pruning of custom resources against the served CRD schema, as the real API server
//! does: unknown fields are dropped (`fieldValidation=Warn`, the default, adds a `Warning` header;
//! `Ignore` drops silently; `Strict` refuses the request with 400 BadRequest). Built-in kinds are not
//! checked. An `old-schema` fault therefore makes a newer field disappear, like an older operator's CRD.

use super::kinds::ResourceInfo;
use super::StoreError;
use serde_json::{json, Value};

fn walk(v: &mut Value, s: &Value, path: &str, unknown: &mut Vec<String>) {
    let preserve = s.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
    match v {
        Value::Object(m) => {
            let props = s.get("properties").and_then(Value::as_object);
            let addl = s.get("additionalProperties");
            let embedded = s.get("x-kubernetes-embedded-resource") == Some(&json!(true));
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(ps) = props.and_then(|p| p.get(&k)) {
                    walk(m.get_mut(&k).unwrap(), ps, &child, unknown);
                } else if let Some(a) = addl.filter(|a| a.is_object()) {
                    walk(m.get_mut(&k).unwrap(), a, &child, unknown);
                } else if preserve
                    || addl == Some(&json!(true))
                    || (embedded && ["apiVersion", "kind", "metadata"].contains(&k.as_str()))
                {
                } else {
                    m.remove(&k);
                    unknown.push(child);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.get("items") {
                for (i, x) in a.iter_mut().enumerate() {
                    walk(x, items, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// Prunes `obj` against `schema` (a version's openAPIV3Schema); returns the dropped field paths.
pub fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut s = schema.clone();
    if s.get("properties").is_some() {
        for k in ["apiVersion", "kind", "metadata"] {
            s["properties"][k] = json!({"x-kubernetes-preserve-unknown-fields": true});
        }
    }
    let mut unknown = vec![];
    walk(obj, &s, "", &mut unknown);
    unknown
}

/// Applies the request's fieldValidation directive. Returns the warnings to send.
pub fn check(
    ri: &ResourceInfo,
    schema: Option<Value>,
    directive: Option<&str>,
    obj: &mut Value,
) -> Result<Vec<String>, StoreError> {
    let Some(schema) = schema else {
        return Ok(vec![]);
    };
    let unknown = prune(obj, &schema);
    if unknown.is_empty() {
        return Ok(vec![]);
    }
    let msgs: Vec<String> = unknown.iter().map(|u| format!("unknown field \"{u}\"")).collect();
    match directive.unwrap_or("Warn") {
        "Strict" => Err(StoreError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            ri.kind,
            ri.versions.first().cloned().unwrap_or_default(),
            ri.kind,
            msgs.join(", ")
        ))),
        "Ignore" => Ok(vec![]),
        _ => Ok(msgs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_unknown_fields_only() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string"},
                "list": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "map": {"type": "object", "additionalProperties": {"type": "string"}}}}}});
        let mut o = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}},
            "spec": {"a": "1", "gone": 2, "list": [{"n": "x", "bad": 1}], "free": {"any": 1}, "map": {"k": "v"}}});
        let unknown = prune(&mut o, &schema);
        assert_eq!(unknown, vec!["spec.gone", "spec.list[0].bad"]);
        assert_eq!(o["spec"]["free"]["any"], 1);
        assert_eq!(o["spec"]["map"]["k"], "v");
        assert_eq!(o["metadata"]["labels"]["a"], "b");
    }
}
