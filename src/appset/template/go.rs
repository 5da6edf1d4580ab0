//! Running a Go template with gotmpl: parameters in, text out, errors in Argo CD's words.

use super::funcs;
use super::{GoOptions, TemplateError};
use gotmpl::{MissingKey, Template, Value as G};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Parsed templates by (source, missingkey=error): the same strings come back for every
/// parameter set of an ApplicationSet.
type Cache = HashMap<(String, bool), Result<Template, TemplateError>>;

thread_local! {
    static PARSED: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// Render one string with Go template semantics against JSON parameters.
pub fn render_go(tmpl: &str, data: &Value, opts: GoOptions) -> Result<String, TemplateError> {
    // Argo CD parses every string of the template, with or without `{{`; a string without an
    // action renders as itself, so skip the engine.
    if !tmpl.contains("{{") {
        return Ok(tmpl.to_string());
    }
    let key = (tmpl.to_string(), opts.missingkey_error);
    let parsed = PARSED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 4096 {
            c.clear();
        }
        c.entry(key).or_insert_with(|| parse(tmpl, opts)).clone()
    })?;
    parsed.execute_to_string(&to_go(data)).map_err(|e| exec_error(tmpl, e))
}

fn parse(tmpl: &str, opts: GoOptions) -> Result<Template, TemplateError> {
    let mk = if opts.missingkey_error {
        MissingKey::Error
    } else {
        MissingKey::Invalid
    };
    Template::new("")
        .funcs(funcs::func_map().clone())
        .missing_key(mk)
        .parse(tmpl)
        .map_err(|e| TemplateError::msg(format!("failed to parse template {tmpl}: {}", describe(&e))))
}

fn describe(e: &gotmpl::TemplateError) -> String {
    match e {
        gotmpl::TemplateError::UndefinedFunction(name) => funcs::undefined(name),
        other => other.to_string(),
    }
}

fn exec_error(tmpl: &str, e: gotmpl::TemplateError) -> TemplateError {
    match e {
        gotmpl::TemplateError::MissingKey { key } => {
            let chain = field_chain(tmpl, &key).unwrap_or_else(|| format!(".{key}"));
            TemplateError {
                message: format!("executing at <{chain}>: map has no entry for key \"{key}\""),
                missing_key: Some(chain),
            }
        }
        other => TemplateError::msg(format!("failed to execute go template {tmpl}: {}", describe(&other))),
    }
}

/// The first field chain in the template (`.values.namespace`, `$.a.b`) with `key` as a segment.
fn field_chain(tmpl: &str, key: &str) -> Option<String> {
    let re = regex::Regex::new(r"[$\w]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+").ok()?;
    let found = re
        .find_iter(tmpl)
        .map(|m| m.as_str().to_string())
        .find(|c| c.split('.').any(|s| s == key));
    found
}

/// JSON parameters as Go sees them after `json.Unmarshal` into `map[string]any`: every number a float64.
pub(super) fn to_go(v: &Value) -> G {
    match v {
        Value::Null => G::Nil,
        Value::Bool(b) => G::Bool(*b),
        Value::Number(n) => G::Float(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => G::String(s.as_str().into()),
        Value::Array(a) => G::List(a.iter().map(to_go).collect::<Vec<_>>().into()),
        Value::Object(m) => {
            let map: BTreeMap<Arc<str>, G> = m.iter().map(|(k, v)| (Arc::from(k.as_str()), to_go(v))).collect();
            G::Map(Arc::new(map))
        }
    }
}

/// A template value as JSON (`json.Marshal`): whole floats become integers, functions null.
pub(super) fn to_json(v: &G) -> Value {
    match v {
        G::Bool(b) => Value::Bool(*b),
        G::Int(n) => Value::from(*n),
        G::Uint(n) => Value::from(*n),
        G::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(*f as i64),
        G::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        G::String(s) => Value::String(s.to_string()),
        G::List(a) => Value::Array(a.iter().map(to_json).collect()),
        G::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
        _ => Value::Null,
    }
}
