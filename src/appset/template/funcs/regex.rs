//! Sprig's regular-expression functions (`regex.go`). Go's `regexp` is RE2; the `regex` crate
//! implements the same syntax, including `$1`/`${name}` in replacements.

use super::add;
use super::args::{fail, int, l, s, string, want, R};
use gotmpl::{FuncMap, Value};
use regex::Regex;

fn compile(f: &str, re: &str) -> Result<Regex, gotmpl::TemplateError> {
    Regex::new(re).map_err(|e| fail(f, format!("regexp: Compile({re:?}): {e}")))
}

/// `regexp.QuoteMeta`: escapes exactly `\.+*?()|[]{}^$`.
fn quote_meta(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn find_all(a: &[Value]) -> R {
    want("regexFindAll", a, 3)?;
    let re = compile("regexFindAll", &string("regexFindAll", &a[0])?)?;
    let v = string("regexFindAll", &a[1])?;
    let n = int("regexFindAll", &a[2])?;
    let take = if n < 0 { usize::MAX } else { n as usize };
    Ok(l(re.find_iter(&v).take(take).map(|m| s(m.as_str())).collect()))
}

fn split(a: &[Value]) -> R {
    want("regexSplit", a, 3)?;
    let re = compile("regexSplit", &string("regexSplit", &a[0])?)?;
    let v = string("regexSplit", &a[1])?;
    let n = int("regexSplit", &a[2])?;
    Ok(l(match n {
        0 => Vec::new(),
        n if n < 0 => re.split(&v).map(s).collect(),
        n => re.splitn(&v, n as usize).map(s).collect(),
    }))
}

pub(super) fn register(m: &mut FuncMap) {
    // A malformed pattern makes regexMatch false (Sprig ignores the error); the others fail.
    add(m, "regexMatch", |a| {
        want("regexMatch", a, 2)?;
        let (re, v) = (string("regexMatch", &a[0])?, string("regexMatch", &a[1])?);
        Ok(Value::Bool(Regex::new(&re).is_ok_and(|r| r.is_match(&v))))
    });
    add(m, "regexFind", |a| {
        want("regexFind", a, 2)?;
        let re = compile("regexFind", &string("regexFind", &a[0])?)?;
        let v = string("regexFind", &a[1])?;
        Ok(s(re.find(&v).map(|m| m.as_str()).unwrap_or("")))
    });
    add(m, "regexFindAll", find_all);
    add(m, "regexReplaceAll", |a| {
        want("regexReplaceAll", a, 3)?;
        let re = compile("regexReplaceAll", &string("regexReplaceAll", &a[0])?)?;
        let (v, repl) = (string("regexReplaceAll", &a[1])?, string("regexReplaceAll", &a[2])?);
        Ok(s(re.replace_all(&v, repl.as_str()).into_owned()))
    });
    add(m, "regexReplaceAllLiteral", |a| {
        want("regexReplaceAllLiteral", a, 3)?;
        let re = compile("regexReplaceAllLiteral", &string("regexReplaceAllLiteral", &a[0])?)?;
        let v = string("regexReplaceAllLiteral", &a[1])?;
        let repl = string("regexReplaceAllLiteral", &a[2])?;
        Ok(s(re.replace_all(&v, regex::NoExpand(&repl)).into_owned()))
    });
    add(m, "regexSplit", split);
    add(m, "regexQuoteMeta", |a| {
        want("regexQuoteMeta", a, 1)?;
        Ok(s(quote_meta(&string("regexQuoteMeta", &a[0])?)))
    });
}
