//! The template functions: Go's builtins and the Sprig/Argo CD functions supported offline.

use super::eval::{go_type, sprint, GVal};
use super::TemplateError;
use serde_json::Value;

fn as_str(v: &GVal) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => sprint(other),
    }
}

fn as_int(v: &GVal, f: &str) -> Result<i64, TemplateError> {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| TemplateError::msg(format!("error calling {f}: non-integer index"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| TemplateError::msg(format!("error calling {f}: cannot use '{s}' as a number"))),
        _ => Err(TemplateError::msg(format!("error calling {f}: expected an integer"))),
    }
}

fn empty(v: &GVal) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
    }
}

/// Argo CD's `normalize` (and its path.basenameNormalized): lower case, characters outside
/// `[-a-z0-9.]` become `-`, at most 253 characters, no leading/trailing `-` or `.`.
pub fn sanitize_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut s: String = lower
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.len() > 253 {
        let mut cut = 253;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s.trim_matches(|c| c == '-' || c == '.').to_string()
}

fn arity(f: &str, args: &[GVal], n: usize) -> Result<(), TemplateError> {
    if args.len() != n {
        return Err(TemplateError::msg(format!(
            "wrong number of args for {f}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn s(v: String) -> Result<GVal, TemplateError> {
    Ok(Some(Value::String(v)))
}

pub(super) fn call(name: &str, args: Vec<GVal>) -> Result<GVal, TemplateError> {
    match name {
        "index" | "len" | "print" | "toString" | "printf" => go_builtin(name, args),
        _ => sprig(name, args),
    }
}

/// text/template's own functions (and Sprig's `toString`, which is `print` of one value).
fn go_builtin(name: &str, args: Vec<GVal>) -> Result<GVal, TemplateError> {
    match name {
        "index" => {
            if args.is_empty() {
                return Err(TemplateError::msg("wrong number of args for index"));
            }
            let mut cur = args[0].clone();
            for idx in &args[1..] {
                cur = match cur {
                    Some(Value::Array(a)) => {
                        let i = as_int(idx, "index")?;
                        if i < 0 || i as usize >= a.len() {
                            return Err(TemplateError::msg(format!(
                                "error calling index: index out of range: {i}"
                            )));
                        }
                        Some(a[i as usize].clone())
                    }
                    Some(Value::Object(m)) => {
                        // Go returns the element type's zero value for a missing key.
                        m.get(&as_str(idx)).cloned()
                    }
                    None | Some(Value::Null) => {
                        return Err(TemplateError::msg("error calling index: index of untyped nil"))
                    }
                    Some(other) => {
                        return Err(TemplateError::msg(format!(
                            "error calling index: can't index item of type {}",
                            go_type(&other)
                        )))
                    }
                };
            }
            Ok(cur)
        }
        "len" => {
            arity(name, &args, 1)?;
            let n = match &args[0] {
                Some(Value::String(s)) => s.len(),
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(m)) => m.len(),
                _ => return Err(TemplateError::msg("error calling len: len of invalid value")),
            };
            Ok(Some(Value::from(n as i64)))
        }
        "print" | "toString" => {
            let mut out = String::new();
            let mut prev_string = true;
            for (i, a) in args.iter().enumerate() {
                let is_string = matches!(a, Some(Value::String(_)));
                if i > 0 && !is_string && !prev_string {
                    out.push(' ');
                }
                out.push_str(&match a {
                    None => "<nil>".to_string(),
                    Some(v) => sprint(v),
                });
                prev_string = is_string;
            }
            s(out)
        }
        "printf" => {
            let fmt = as_str(
                args.first()
                    .ok_or_else(|| TemplateError::msg("wrong number of args for printf: want at least 1"))?,
            );
            let mut out = String::new();
            let mut it = args[1..].iter();
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some(verb @ ('s' | 'v' | 'd' | 'q')) => match it.next() {
                        Some(a) => {
                            let t = match a {
                                None => "<nil>".to_string(),
                                Some(v) => sprint(v),
                            };
                            if verb == 'q' {
                                out.push_str(&format!("{t:?}"));
                            } else {
                                out.push_str(&t);
                            }
                        }
                        None => out.push_str(&format!("%!{verb}(MISSING)")),
                    },
                    Some(other) => {
                        return Err(TemplateError::msg(format!(
                            "printf verb %{other} is not supported offline (use %s, %v, %d, %q)"
                        )))
                    }
                    None => out.push_str("%!(NOVERB)"),
                }
            }
            s(out)
        }
        other => Err(TemplateError::msg(format!("function \"{other}\" not defined"))),
    }
}

/// The Sprig and Argo CD functions.
fn sprig(name: &str, args: Vec<GVal>) -> Result<GVal, TemplateError> {
    match name {
        "lower" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).to_lowercase())
        }
        "upper" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).to_uppercase())
        }
        "title" => {
            arity(name, &args, 1)?;
            let mut out = String::new();
            let mut start = true;
            for c in as_str(&args[0]).chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            s(out)
        }
        "trim" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).trim().to_string())
        }
        "trimPrefix" => {
            arity(name, &args, 2)?;
            let (p, v) = (as_str(&args[0]), as_str(&args[1]));
            s(v.strip_prefix(p.as_str()).unwrap_or(&v).to_string())
        }
        "trimSuffix" => {
            arity(name, &args, 2)?;
            let (p, v) = (as_str(&args[0]), as_str(&args[1]));
            s(v.strip_suffix(p.as_str()).unwrap_or(&v).to_string())
        }
        "replace" => {
            arity(name, &args, 3)?;
            s(as_str(&args[2]).replace(&as_str(&args[0]), &as_str(&args[1])))
        }
        "default" => {
            if args.is_empty() || args.len() > 2 {
                return Err(TemplateError::msg("wrong number of args for default"));
            }
            if args.len() == 1 || empty(&args[1]) {
                Ok(args[0].clone())
            } else {
                Ok(args[1].clone())
            }
        }
        "quote" => s(args
            .iter()
            .filter(|a| a.is_some())
            .map(|a| format!("{:?}", as_str(a)))
            .collect::<Vec<_>>()
            .join(" ")),
        "squote" => s(args
            .iter()
            .filter(|a| a.is_some())
            .map(|a| format!("'{}'", as_str(a)))
            .collect::<Vec<_>>()
            .join(" ")),
        "trunc" => {
            arity(name, &args, 2)?;
            let n = as_int(&args[0], "trunc")?;
            let v: Vec<char> = as_str(&args[1]).chars().collect();
            let out: String = if n >= 0 {
                v.iter().take(n as usize).collect()
            } else {
                let k = v.len().saturating_sub((-n) as usize);
                v[k..].iter().collect()
            };
            s(out)
        }
        "join" => {
            arity(name, &args, 2)?;
            let sep = as_str(&args[0]);
            let parts: Vec<String> = match &args[1] {
                Some(Value::Array(a)) => a.iter().map(|x| as_str(&Some(x.clone()))).collect(),
                other => vec![as_str(other)],
            };
            s(parts.join(&sep))
        }
        "splitList" => {
            arity(name, &args, 2)?;
            let sep = as_str(&args[0]);
            let v = as_str(&args[1]);
            Ok(Some(Value::Array(
                v.split(sep.as_str()).map(|x| Value::String(x.to_string())).collect(),
            )))
        }
        "normalize" => {
            arity(name, &args, 1)?;
            s(sanitize_name(&as_str(&args[0])))
        }
        other => Err(TemplateError::msg(format!("function \"{other}\" not defined"))),
    }
}
