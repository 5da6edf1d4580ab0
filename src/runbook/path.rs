//! Field paths into objects, as written in runbooks: `status.state`, `spec.versions[0].name`,
//! `status.conditions[type=Ready].status`, `metadata.annotations["storageclass.kubernetes.io/is-default-class"]`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
    /// Select the first list element whose `field` equals `value`.
    Match(String, String),
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    text: String,
    segs: Vec<Seg>,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let mut segs = Vec::new();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty field path".into());
        }
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                rest = r;
                continue;
            }
            if let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("unclosed '[' in field path '{text}'"))?;
                let inner = r[..end].trim();
                rest = &r[end + 1..];
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    segs.push(Seg::Key(q.to_string()));
                } else if let Ok(i) = inner.parse::<usize>() {
                    segs.push(Seg::Index(i));
                } else if let Some((k, v)) = inner.split_once('=') {
                    let v = v.trim().trim_matches('"');
                    segs.push(Seg::Match(k.trim().to_string(), v.to_string()));
                } else {
                    return Err(format!("bad selector '[{inner}]' in field path '{text}'"));
                }
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segs.push(Seg::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        Ok(FieldPath {
            text: text.to_string(),
            segs,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path, if present.
    pub fn get<'a>(&self, obj: &'a Value) -> Option<&'a Value> {
        let mut cur = obj;
        for s in &self.segs {
            cur = match s {
                Seg::Key(k) => cur.get(k)?,
                Seg::Index(i) => cur.get(*i)?,
                Seg::Match(f, v) => cur
                    .as_array()?
                    .iter()
                    .find(|e| e.get(f).map(scalar_string).as_deref() == Some(v.as_str()))?,
            };
        }
        Some(cur)
    }
}

/// Whether a field of this object holds secret material that must never be shown (a Secret's data).
pub fn is_secret_field(obj: &Value, field: &str) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && (field.starts_with("data") || field.starts_with("stringData"))
}

/// What a report may show of a field's value: the value, or `<redacted>` for secret material.
pub fn shown_value(obj: &Value, field: &str, v: &Value) -> String {
    if is_secret_field(obj, field) {
        "<redacted>".into()
    } else {
        scalar_string(v)
    }
}

/// A scalar as the string a runbook author would write (`true`, `3`, `Ready`); other values as JSON.
pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_keys_indexes_and_list_matches() {
        let o = json!({"status": {"conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]},
                        "metadata": {"annotations": {"x.io/y": "true"}}, "spec": {"l": [1, 2]}});
        assert_eq!(
            FieldPath::parse("status.conditions[type=Ready].status")
                .unwrap()
                .get(&o),
            Some(&json!("True"))
        );
        assert_eq!(
            FieldPath::parse("metadata.annotations[\"x.io/y\"]").unwrap().get(&o),
            Some(&json!("true"))
        );
        assert_eq!(FieldPath::parse("spec.l[1]").unwrap().get(&o), Some(&json!(2)));
        assert_eq!(FieldPath::parse("spec.missing").unwrap().get(&o), None);
        assert!(FieldPath::parse("a[").is_err());
    }
}
