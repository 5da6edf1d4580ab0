//! Legacy fasttemplate: `{{key}}` tags replaced from flat string parameters.

use super::TemplateError;
use serde_json::{Map, Value};

/// Substitute `{{key}}` tags from flat string parameters; unknown tags stay as written.
pub fn render_legacy(tmpl: &str, params: &Map<String, Value>) -> Result<String, TemplateError> {
    // Argo CD only templates strings where some single line has `{{` followed by `}}`.
    if !tmpl
        .lines()
        .any(|l| l.find("{{").is_some_and(|i| l[i + 2..].contains("}}")))
    {
        return Ok(tmpl.to_string());
    }
    let mut out = String::new();
    let mut rest = tmpl;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError::msg(format!(
                "cannot find end tag '}}}}' in template '{tmpl}'"
            )));
        };
        let tag = &after[..end];
        let key = tag.trim();
        match params.get(key) {
            Some(Value::String(v)) if !key.is_empty() => out.push_str(v),
            _ => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
