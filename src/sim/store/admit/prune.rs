//! Unknown fields, as the API server's decoding treats them: a field the schema does not know is dropped
//! (structural pruning for custom resources, the typed decoder for built-in kinds).
//! `fieldValidation=Strict` (kubectl's default) refuses the request with 400 BadRequest
//! (`strict decoding error: unknown field "spec.x"`), `Warn` (the server's default) adds a `Warning`
//! header, `Ignore` drops them silently. `x-kubernetes-preserve-unknown-fields`, `additionalProperties`
//! and embedded resources keep what they allow; an `old-schema` fault therefore makes a newer field
//! disappear, like an older operator's CRD.

use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::schema::{Node, ObjectSchema};
use crate::sim::store::StoreError;
use serde_json::Value;

fn walk(v: &mut Value, node: Node, path: &str, unknown: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if node.preserves_unknown() && node.properties().is_none() {
                return;
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match node.child(&k) {
                    Some(c) => walk(m.get_mut(&k).unwrap(), c, &child, unknown),
                    None => {
                        m.remove(&k);
                        unknown.push(child);
                    }
                }
            }
        }
        Value::Array(a) => {
            let items = node.items();
            for (i, x) in a.iter_mut().enumerate() {
                walk(x, items, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

/// Drops the fields `schema` does not know from `obj`; returns their paths.
pub fn prune(obj: &mut Value, schema: &ObjectSchema) -> Vec<String> {
    let mut unknown = vec![];
    if schema.known() {
        walk(obj, schema.root(), "", &mut unknown);
    }
    unknown
}

/// Applies the request's fieldValidation directive. Returns the warnings to send.
pub fn check(
    ri: &ResourceInfo,
    version: &str,
    schema: &ObjectSchema,
    directive: Option<&str>,
    obj: &mut Value,
) -> Result<Vec<String>, StoreError> {
    let unknown = prune(obj, schema);
    if unknown.is_empty() {
        return Ok(vec![]);
    }
    let msgs: Vec<String> = unknown.iter().map(|u| format!("unknown field \"{u}\"")).collect();
    match directive.unwrap_or("Warn") {
        "Strict" => Err(StoreError::bad_request(format!(
            "{} in version \"{version}\" cannot be handled as a {}: strict decoding error: {}",
            ri.kind,
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
    use serde_json::json;

    #[test]
    fn prunes_unknown_fields_only() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string"},
                "list": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "map": {"type": "object", "additionalProperties": {"type": "string"}}}}}});
        let mut o = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}},
            "spec": {"a": "1", "gone": 2, "list": [{"n": "x", "bad": 1}], "free": {"any": 1}, "map": {"k": "v"}}});
        let unknown = prune(&mut o, &ObjectSchema::custom(Some(schema)));
        assert_eq!(unknown, vec!["spec.gone", "spec.list[0].bad"]);
        assert_eq!(o["spec"]["free"]["any"], 1);
        assert_eq!(o["spec"]["map"]["k"], "v");
        assert_eq!(o["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn built_in_kinds_drop_fields_their_schema_does_not_have() {
        let mut o = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "bogus": 1},
            "spec": {"replicas": 1, "colour": "red", "template": {"spec": {"containers": [{"name": "c", "image": "x", "imagePolicy": "y"}]}}}});
        let unknown = prune(&mut o, &ObjectSchema::builtin("apps", "v1", "Deployment"));
        assert_eq!(
            unknown,
            vec![
                "metadata.bogus",
                "spec.colour",
                "spec.template.spec.containers[0].imagePolicy"
            ]
        );
    }
}
