//! One ApplicationSet being expanded: its errors (pointing at a line of its file) and the
//! rendering of template strings and values against one parameter set.

use super::template::{render_go, render_legacy, GoOptions, TemplateError};
use super::AppSetFile;
use crate::error::UserError;
use serde_json::{Map, Value};

pub(crate) struct Ctx<'a> {
    pub(crate) a: &'a AppSetFile,
    pub(crate) go: bool,
    pub(crate) opts: GoOptions,
}

impl Ctx<'_> {
    /// An input error about this ApplicationSet, at the line holding `needle` if found.
    pub(crate) fn err(&self, cause: impl Into<String>, needle: Option<&str>) -> UserError {
        let line = needle.map(|n| find_line(self.a, n)).unwrap_or(self.a.line);
        UserError::usage(format!("ApplicationSet '{}': {}", self.a.name, cause.into()))
            .subject(format!("{}:{line}", self.a.path.display()))
    }

    pub(crate) fn unsupported(&self, what: &str, needle: &str) -> UserError {
        self.err(format!("{what} is not supported offline"), Some(needle)).next(
            "expand this ApplicationSet with `argocd appset generate` against a live Argo CD, \
             or rewrite it with git directory / list generators",
        )
    }
}

/// The line (1-based, in the file) of the first line of the document that contains `needle`.
fn find_line(a: &AppSetFile, needle: &str) -> usize {
    let n = needle.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if n.is_empty() {
        return a.line;
    }
    a.text
        .lines()
        .position(|l| l.contains(n))
        .map(|i| a.line + i)
        .unwrap_or(a.line)
}

fn template_error(ctx: &Ctx, field: &str, src: &str, e: TemplateError) -> UserError {
    match &e.missing_key {
        Some(key) => ctx
            .err(
                format!(
                    "template field {field}: missing key {key} ({}; goTemplateOptions has missingkey=error)",
                    e.message
                ),
                Some(src),
            )
            .next(format!(
                "fix the key in '{}' (the generator parameters are listed in docs/appset.md)",
                src.trim()
            )),
        None => ctx.err(format!("template field {field}: {}", e.message), Some(src)),
    }
}

pub(crate) fn render_string(ctx: &Ctx, s: &str, params: &Value, field: &str) -> Result<String, UserError> {
    let r = if ctx.go {
        render_go(s, params, ctx.opts)
    } else {
        match params {
            Value::Object(m) => render_legacy(s, m),
            _ => Ok(s.to_string()),
        }
    };
    r.map_err(|e| template_error(ctx, field, s, e))
}

pub(crate) fn render_value(ctx: &Ctx, v: &Value, params: &Value, field: &str) -> Result<Value, UserError> {
    Ok(match v {
        Value::String(s) => Value::String(render_string(ctx, s, params, field)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| render_value(ctx, x, params, &format!("{field}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let sub = if field.is_empty() {
                    k.clone()
                } else {
                    format!("{field}.{k}")
                };
                // Map keys are templated too (Argo CD does it for annotation/label names).
                let key = if k.contains("{{") {
                    render_string(ctx, k, params, &sub)?
                } else {
                    k.clone()
                };
                out.insert(key, render_value(ctx, x, params, &sub)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}
