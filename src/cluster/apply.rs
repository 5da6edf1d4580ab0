//! The apply step: objects rendered by kustomize, each observed first and server-side applied only when
//! the live object does not already carry every desired field. CRDs are waited on until Established.

use super::wait::wait_for_kind;
use crate::cluster::{describe, identify, Cluster};
use crate::error::UserError;
use serde_json::Value;
use std::time::Duration;

/// What an apply did to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Created,
    Updated(Vec<String>),
}

/// Does `live` already carry every field of `desired`? (The test behind "a second run writes nothing".)
pub fn is_subset(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => d
            .iter()
            .all(|(k, dv)| l.get(k).is_some_and(|lv| is_subset(dv, lv)) || (dv.is_null() && !l.contains_key(k))),
        (Value::Array(d), Value::Array(l)) => d.len() == l.len() && d.iter().zip(l).all(|(a, b)| is_subset(a, b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Object(d), _) if d.is_empty() => true,
        (a, b) => a == b,
    }
}

/// The top-level-ish paths where desired and live differ (for --dry-run output).
pub fn differing_paths(desired: &Value, live: &Value, prefix: &str, out: &mut Vec<String>) {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            for (k, dv) in d {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match l.get(k) {
                    Some(lv) => differing_paths(dv, lv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (a, b) if !is_subset(a, b) => out.push(prefix.to_string()),
        _ => {}
    }
}

/// Secrets are compared on `data`: fold `stringData` into base64 `data` as the API server does.
fn normalise(obj: &Value) -> Value {
    let mut o = obj.clone();
    if o.get("kind").and_then(Value::as_str) == Some("Secret")
        && o.get("apiVersion").and_then(Value::as_str) == Some("v1")
    {
        if let Some(Value::Object(sd)) = o.as_object_mut().and_then(|m| m.remove("stringData")) {
            let data = o
                .as_object_mut()
                .unwrap()
                .entry("data")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(dm) = data {
                for (k, v) in sd {
                    dm.insert(
                        k,
                        Value::String(base64_encode(v.as_str().unwrap_or_default().as_bytes())),
                    );
                }
            }
        }
    }
    o
}

/// Observe one object and apply it if needed.
pub async fn apply_one(
    cluster: &Cluster,
    obj: &Value,
    dry_run: bool,
    crd_timeout: Duration,
) -> Result<Change, UserError> {
    let (av, kind, ns, name) = identify(obj)?;
    if cluster.resolve(&av, &kind).await?.is_none() {
        if dry_run {
            return Err(
                UserError::failed(format!("{kind} ({av}) is not served yet")).subject(describe(
                    &kind,
                    ns.as_deref(),
                    &name,
                )),
            );
        }
        wait_for_kind(cluster, &av, &kind, crd_timeout).await?;
    }
    let desired = normalise(obj);
    let live = cluster.get(&av, &kind, ns.as_deref(), &name).await?;
    let change = match &live {
        Some(l) if is_subset(&desired, l) => return Ok(Change::Unchanged),
        Some(l) => {
            let mut paths = Vec::new();
            differing_paths(&desired, l, "", &mut paths);
            Change::Updated(paths)
        }
        None => Change::Created,
    };
    cluster.apply(obj, dry_run).await?;
    if !dry_run && kind == "CustomResourceDefinition" {
        let group = obj.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
        let ckind = obj
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = obj
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().find(|v| v.get("served") == Some(&Value::Bool(true))))
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("v1");
        wait_for_kind(cluster, &format!("{group}/{version}"), ckind, crd_timeout).await?;
    }
    Ok(change)
}

/// Standard base64 with padding (Secret `data` encoding).
pub fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_ignores_server_added_fields_and_catches_changes() {
        let d =
            json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"replicas": 2, "list": [{"name": "c"}]}});
        let l = json!({"metadata": {"name": "a", "uid": "u", "labels": {"x": "1"}}, "spec": {"replicas": 2.0, "list": [{"name": "c", "extra": 1}]}, "status": {}});
        assert!(is_subset(&d, &l));
        let l2 =
            json!({"metadata": {"name": "a", "labels": {"x": "2"}}, "spec": {"replicas": 2, "list": [{"name": "c"}]}});
        assert!(!is_subset(&d, &l2));
        let mut p = Vec::new();
        differing_paths(&d, &l2, "", &mut p);
        assert_eq!(p, vec!["metadata.labels.x".to_string()]);
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(b"hi!"), "aGkh");
        assert_eq!(base64_encode(b""), "");
    }
}
