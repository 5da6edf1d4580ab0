//! Argument handling shared by the functions: Go's parameter typing, Sprig's conversions.

use gotmpl::{TemplateError, Value};
use std::sync::Arc;

pub(super) type R = gotmpl::Result<Value>;

/// An error from inside a function, as Go reports it.
pub(super) fn fail(f: &str, m: impl std::fmt::Display) -> TemplateError {
    TemplateError::Exec(format!("error calling {f}: {m}"))
}

/// A fixed number of arguments (Go checks this before calling).
pub(super) fn want(f: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    if args.len() == n {
        return Ok(());
    }
    Err(TemplateError::Exec(format!(
        "wrong number of args for {f}: want {n} got {}",
        args.len()
    )))
}

/// At least `n` arguments (variadic functions).
pub(super) fn at_least(f: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    if args.len() >= n {
        return Ok(());
    }
    Err(TemplateError::Exec(format!(
        "wrong number of args for {f}: want at least {n} got {}",
        args.len()
    )))
}

/// Go's name for a value's type in messages.
pub(super) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        other => other.type_name(),
    }
}

/// A `string` parameter: a string, nothing else (Go refuses nil and numbers).
pub(super) fn string(f: &str, v: &Value) -> Result<String, TemplateError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Nil => Err(fail(f, "invalid value; expected string")),
        other => Err(fail(
            f,
            format!("wrong type for value; expected string; got {}", go_type(other)),
        )),
    }
}

/// An `int` parameter: an integer literal or variable (a float64 parameter is refused, as in Go).
pub(super) fn int(f: &str, v: &Value) -> Result<i64, TemplateError> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Uint(n) => Ok(*n as i64),
        Value::Nil => Err(fail(f, "invalid value; expected int")),
        other => Err(fail(
            f,
            format!("wrong type for value; expected int; got {}", go_type(other)),
        )),
    }
}

/// A list parameter (`[]interface{}`); a string is not a list.
pub(super) fn list(f: &str, v: &Value) -> Result<Arc<[Value]>, TemplateError> {
    match v {
        Value::List(l) => Ok(l.clone()),
        other => Err(fail(f, format!("Cannot find {f} on type {}", go_type(other)))),
    }
}

pub(super) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into().into())
}

pub(super) fn l(v: Vec<Value>) -> Value {
    Value::List(v.into())
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits, in
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), as
/// `fmt.Sprint` prints it.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// Sprig's `strval`: `fmt.Sprintf("%v", v)` for anything but a string.
pub(super) fn strval(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::String(s) => s.to_string(),
        Value::Float(f) => go_float(*f),
        Value::List(a) => format!("[{}]", a.iter().map(strval).collect::<Vec<_>>().join(" ")),
        Value::Map(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", strval(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

/// `cast.ToInt64` as Sprig's math uses it: numbers truncate, strings parse (else 0), bools 1/0.
pub(super) fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        Value::Uint(n) => *n as i64,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => *b as i64,
        Value::String(s) => s.trim().parse::<i64>().unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`.
pub(super) fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(n) => *n as f64,
        Value::Uint(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        Value::String(s) => s.trim().parse::<f64>().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`: the zero value of its type (nil, "", 0, false, empty list or map).
pub(super) fn is_empty(v: &Value) -> bool {
    !v.is_truthy() || matches!(v, Value::Nil)
}

/// Sprig's `strslice`: a list's elements as strings, nil elements skipped; nil is no element;
/// anything else one element.
pub(super) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(a) => a.iter().filter(|x| !matches!(x, Value::Nil)).map(strval).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}
