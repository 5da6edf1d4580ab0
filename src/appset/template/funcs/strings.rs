//! Sprig's string functions (`strings.go` in Sprig v3), with Go's byte-based slicing.

use super::add;
use super::args::{at_least, fail, int, s, strval, want, R};
use gotmpl::{FuncMap, Value};

/// Go's `%q` (`strconv.Quote`): `"` and `\` escaped, control characters as escapes.
pub(super) fn go_quote(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s[a:b]` on bytes, as Go slices strings.
fn byte_slice(v: &str, a: usize, b: usize) -> String {
    String::from_utf8_lossy(&v.as_bytes()[a..b]).into_owned()
}

/// `strings.Title`: the first letter of every word upper case (words split at non-letters,
/// non-digits, non-underscores).
fn title(v: &str) -> String {
    let mut out = String::new();
    let mut prev_sep = true;
    for c in v.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn untitle(v: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in v.chars() {
        if start {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

fn one(m: &mut FuncMap, name: &'static str, f: fn(&str) -> String) {
    add(m, name, move |a: &[Value]| {
        want(name, a, 1)?;
        Ok(s(f(&super::args::string(name, &a[0])?)))
    });
}

fn two(m: &mut FuncMap, name: &'static str, f: fn(&str, &str) -> Value) {
    add(m, name, move |a: &[Value]| {
        want(name, a, 2)?;
        let str = |i: usize| super::args::string(name, &a[i]);
        Ok(f(&str(0)?, &str(1)?))
    });
}

fn trunc(a: &[Value]) -> R {
    want("trunc", a, 2)?;
    let (c, v) = (int("trunc", &a[0])?, super::args::string("trunc", &a[1])?);
    let n = v.len() as i64;
    Ok(s(if c < 0 && n + c > 0 {
        byte_slice(&v, (n + c) as usize, v.len())
    } else if c >= 0 && n > c {
        byte_slice(&v, 0, c as usize)
    } else {
        v
    }))
}

fn substr(a: &[Value]) -> R {
    want("substr", a, 3)?;
    let (start, end) = (int("substr", &a[0])?, int("substr", &a[1])?);
    let v = super::args::string("substr", &a[2])?;
    let n = v.len() as i64;
    let bad = |i: i64| fail("substr", format!("slice bounds out of range [{i}:{n}]"));
    if start < 0 {
        return if (0..=n).contains(&end) {
            Ok(s(byte_slice(&v, 0, end as usize)))
        } else {
            Err(bad(end))
        };
    }
    if start > n {
        return Err(bad(start));
    }
    if end < 0 || end > n {
        return Ok(s(byte_slice(&v, start as usize, v.len())));
    }
    if end < start {
        return Err(bad(start));
    }
    Ok(s(byte_slice(&v, start as usize, end as usize)))
}

fn indent(a: &[Value], name: &str) -> Result<String, gotmpl::TemplateError> {
    want(name, a, 2)?;
    let n = int(name, &a[0])?.max(0) as usize;
    let pad = " ".repeat(n);
    let v = super::args::string(name, &a[1])?;
    Ok(format!("{pad}{}", v.replace('\n', &format!("\n{pad}"))))
}

pub(super) fn register(m: &mut FuncMap) {
    one(m, "upper", |v| v.to_uppercase());
    one(m, "lower", |v| v.to_lowercase());
    one(m, "title", title);
    one(m, "untitle", untitle);
    one(m, "trim", |v| v.trim().to_string());
    one(m, "nospace", |v| v.chars().filter(|c| !c.is_whitespace()).collect());
    two(m, "trimAll", |cut, v| s(v.trim_matches(|c| cut.contains(c))));
    two(m, "trimall", |cut, v| s(v.trim_matches(|c| cut.contains(c))));
    two(m, "trimPrefix", |p, v| s(v.strip_prefix(p).unwrap_or(v)));
    two(m, "trimSuffix", |p, v| s(v.strip_suffix(p).unwrap_or(v)));
    two(m, "contains", |sub, v| Value::Bool(v.contains(sub)));
    two(m, "hasPrefix", |p, v| Value::Bool(v.starts_with(p)));
    two(m, "hasSuffix", |p, v| Value::Bool(v.ends_with(p)));
    add(m, "replace", |a| {
        want("replace", a, 3)?;
        let str = |i: usize| super::args::string("replace", &a[i]);
        Ok(s(str(2)?.replace(&str(0)?, &str(1)?)))
    });
    add(m, "repeat", |a| {
        want("repeat", a, 2)?;
        let n = int("repeat", &a[0])?;
        if n < 0 {
            return Err(fail("repeat", "strings: negative Repeat count"));
        }
        Ok(s(super::args::string("repeat", &a[1])?.repeat(n as usize)))
    });
    add(m, "trunc", trunc);
    add(m, "substr", substr);
    add(m, "indent", |a| Ok(s(indent(a, "indent")?)));
    add(m, "nindent", |a| Ok(s(format!("\n{}", indent(a, "nindent")?))));
    add(m, "plural", |a| {
        want("plural", a, 3)?;
        let n = int("plural", &a[2])?;
        super::args::string("plural", &a[if n == 1 { 0 } else { 1 }]).map(s)
    });
    // Sprig skips nil arguments: `quote .missing` is "", not `"<nil>"`.
    let non_nil = |a: &[Value]| {
        a.iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(strval)
            .collect::<Vec<_>>()
    };
    add(m, "quote", move |a| {
        Ok(s(non_nil(a).iter().map(|v| go_quote(v)).collect::<Vec<_>>().join(" ")))
    });
    add(m, "squote", move |a| {
        Ok(s(non_nil(a)
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(" ")))
    });
    add(m, "cat", move |a| Ok(s(non_nil(a).join(" "))));
    add(m, "toString", |a| {
        want("toString", a, 1)?;
        Ok(s(strval(&a[0])))
    });
    add(m, "toStrings", |a| {
        at_least("toStrings", a, 1)?;
        Ok(super::args::l(
            super::args::strslice(&a[0]).into_iter().map(s).collect(),
        ))
    });
}
