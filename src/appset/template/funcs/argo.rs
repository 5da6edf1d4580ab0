//! Argo CD's own template functions (`applicationset/utils/utils.go`,
//! `template_functions.go`): `normalize`, `slugify`, `toYaml`, `fromYaml`, `fromYamlArray`.

use super::add;
use super::args::{fail, go_type, s, string, want, R};
use crate::appset::template::go::{to_go, to_json};
use gotmpl::{FuncMap, Value};

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

/// `slugify [maxSize [smartTruncate]] name`: `normalize`, then gosimple/slug's `Make` with
/// `MaxLength = maxSize` (default 50) and `EnableSmartTruncate` (default true): `.` becomes
/// `-`, dashes collapse, and a long slug is cut at the last `-` within the limit (smart) or
/// at the limit.
pub(crate) fn slugify(name: &str, max: usize, smart: bool) -> String {
    let mut v = sanitize_name(name);
    if !smart && max > 0 && v.len() >= max {
        v.truncate(max);
    }
    let mut out = String::new();
    for c in v.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '_').to_string();
    if !(smart && max > 0 && out.len() > max) {
        return out;
    }
    match out.as_bytes()[..=max].iter().rposition(|b| *b == b'-') {
        Some(i) => out[..i].to_string(),
        None => out[..max].to_string(),
    }
}

fn slugify_fn(a: &[Value]) -> R {
    let Some((last, opts)) = a.split_last() else {
        return Ok(s(""));
    };
    let name = string("slugify", last)?;
    let max = match opts.first() {
        None => 50,
        Some(Value::Int(n)) => (*n).max(0) as usize,
        Some(other) => {
            return Err(fail(
                "slugify",
                format!("interface conversion: interface {{}} is {}, not int", go_type(other)),
            ))
        }
    };
    let smart = match opts.get(1) {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(fail(
                "slugify",
                format!("interface conversion: interface {{}} is {}, not bool", go_type(other)),
            ))
        }
    };
    Ok(s(slugify(&name, max, smart)))
}

/// `sigs.k8s.io/yaml.Marshal` with the final newline trimmed.
fn to_yaml(v: &Value) -> Result<String, gotmpl::TemplateError> {
    let text = serde_yaml::to_string(&to_json(v)).map_err(|e| fail("toYaml", e))?;
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

fn from_yaml(a: &[Value], name: &str, want_list: bool) -> R {
    want(name, a, 1)?;
    let text = string(name, &a[0])?;
    let v: serde_json::Value = serde_yaml::from_str(&text).map_err(|e| fail(name, e))?;
    let v = match v {
        serde_json::Value::Null if want_list => serde_json::Value::Array(vec![]),
        serde_json::Value::Null => serde_json::Value::Object(Default::default()),
        v @ serde_json::Value::Array(_) if want_list => v,
        v @ serde_json::Value::Object(_) if !want_list => v,
        other => {
            let want = if want_list {
                "[]interface {}"
            } else {
                "map[string]interface {}"
            };
            return Err(fail(
                name,
                format!(
                    "error unmarshaling JSON: cannot unmarshal {} into Go value of type {want}",
                    other
                ),
            ));
        }
    };
    Ok(to_go(&v))
}

pub(super) fn register(m: &mut FuncMap) {
    add(m, "normalize", |a| {
        want("normalize", a, 1)?;
        Ok(s(sanitize_name(&string("normalize", &a[0])?)))
    });
    add(m, "slugify", slugify_fn);
    add(m, "toYaml", |a| {
        want("toYaml", a, 1)?;
        Ok(s(to_yaml(&a[0])?))
    });
    add(m, "fromYaml", |a| from_yaml(a, "fromYaml", false));
    add(m, "fromYamlArray", |a| from_yaml(a, "fromYamlArray", true));
}
