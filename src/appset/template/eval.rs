//! Evaluating parsed pipelines against the parameters, as text/template does.

use super::funcs::call;
use super::parse::{Command, Operand, Pipeline};
use super::{GoOptions, TemplateError};
use serde_json::Value;

pub(super) struct Eval<'a> {
    pub(super) root: &'a Value,
    pub(super) opts: GoOptions,
}

/// The result of evaluating something: `None` is Go's invalid value (prints `<no value>`).
pub(super) type GVal = Option<Value>;

impl Eval<'_> {
    pub(super) fn pipeline(&self, p: &Pipeline) -> Result<GVal, TemplateError> {
        let mut prev: Option<GVal> = None;
        for cmd in p {
            prev = Some(self.command(cmd, prev)?);
        }
        Ok(prev.unwrap_or(None))
    }

    fn command(&self, cmd: &Command, piped: Option<GVal>) -> Result<GVal, TemplateError> {
        match &cmd[0] {
            Operand::Func(name) => {
                let mut args = Vec::new();
                for a in &cmd[1..] {
                    args.push(self.operand(a)?);
                }
                if let Some(p) = piped {
                    args.push(p);
                }
                call(name, args)
            }
            first => {
                if cmd.len() > 1 || piped.is_some() {
                    return Err(TemplateError::msg("can't give argument to non-function".to_string()));
                }
                self.operand(first)
            }
        }
    }

    fn operand(&self, op: &Operand) -> Result<GVal, TemplateError> {
        Ok(match op {
            Operand::Str(s) => Some(Value::String(s.clone())),
            Operand::Int(n) => Some(Value::from(*n)),
            Operand::Float(f) => Some(Value::from(*f)),
            Operand::Bool(b) => Some(Value::Bool(*b)),
            Operand::Nil => return Err(TemplateError::msg("nil is not a command")),
            Operand::Sub(p) => self.pipeline(p)?,
            Operand::Func(name) => call(name, Vec::new())?,
            Operand::Field { chain, .. } => self.field(chain)?,
        })
    }

    fn field(&self, chain: &[String]) -> Result<GVal, TemplateError> {
        let mut cur: GVal = Some(self.root.clone());
        let mut seen = String::new();
        for name in chain {
            seen.push('.');
            seen.push_str(name);
            cur = match cur {
                None => {
                    if self.opts.missingkey_error {
                        return Err(TemplateError {
                            message: format!("nil data; no entry for key \"{name}\""),
                            missing_key: Some(seen),
                        });
                    }
                    None
                }
                Some(Value::Object(m)) => match m.get(name) {
                    Some(v) => Some(v.clone()),
                    None => {
                        if self.opts.missingkey_error {
                            return Err(TemplateError {
                                message: format!("map has no entry for key \"{name}\""),
                                missing_key: Some(seen),
                            });
                        }
                        None
                    }
                },
                Some(Value::Null) => {
                    return Err(TemplateError::msg(format!(
                        "nil pointer evaluating interface {{}}.{name}"
                    )))
                }
                Some(other) => {
                    return Err(TemplateError::msg(format!(
                        "can't evaluate field {name} in type {}",
                        go_type(&other)
                    )))
                }
            };
        }
        Ok(cur)
    }
}

pub(super) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "interface {}",
    }
}

/// `fmt.Sprint` of a value, as text/template prints it.
pub fn print_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<no value>".to_string(),
        Some(v) => sprint(v),
    }
}

pub(super) fn sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(sprint).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            format!(
                "map[{}]",
                keys.iter()
                    .map(|k| format!("{k}:{}", sprint(&m[*k])))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    }
}
