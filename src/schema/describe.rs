//! Schema errors in Kubernetes terms: a dotted path (`spec.rules[0].x`) and a short message.

use super::convert;
use jsonschema::error::ValidationErrorKind;
use jsonschema::ValidationError;
use serde_json::Value;

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

/// `s` cut to at most `max` bytes (on a character boundary), `...` marking the cut.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let end = s
        .char_indices()
        .take_while(|(i, _)| *i < max - 3)
        .last()
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    format!("{}...", &s[..end])
}

fn short(v: &Value) -> String {
    truncate(&v.to_string(), 80)
}

/// Turn one jsonschema error into (path, message) pairs in Kubernetes terms.
pub(super) fn describe(err: &ValidationError<'_>) -> Vec<(String, String)> {
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
            vec![(path, no_form_matches(err, context, instance))]
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            vec![(path, "matches more than one of the exclusive forms".into())]
        }
        ValidationErrorKind::Not { .. } => {
            vec![(path, format!("{} is not allowed here", short(instance)))]
        }
        _ => vec![(path, truncate(&err.to_string(), 200))],
    }
}

/// The message for a value that matches none of `anyOf`/`oneOf`'s branches: the types allowed when every
/// branch is a type (int-or-string and friends), else the closest branch's first problem.
fn no_form_matches(err: &ValidationError<'_>, context: &[Vec<ValidationError<'_>>], instance: &Value) -> String {
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
    if let Some(ts) = types.filter(|ts| !ts.is_empty()) {
        let ts: Vec<String> = ts.into_iter().filter(|t| t != "null").collect();
        return format!("expected {}, got {}", ts.join(" or "), type_name(instance));
    }
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
    format!("matches none of the allowed forms{hint}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn pointer_to_dotted_path() {
        assert_eq!(super::pointer_to_path("/spec/rules/0/x"), "spec.rules[0].x");
        assert_eq!(
            super::pointer_to_path("/metadata/annotations/a.b~1c"),
            r#"metadata.annotations["a.b/c"]"#
        );
    }
}
