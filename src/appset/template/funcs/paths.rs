//! Sprig's path functions (`path` package: always `/`-separated).

use super::add;
use super::args::{s, string, want};
use gotmpl::{FuncMap, Value};

/// `path.Clean`: lexical `.`/`..` processing, no trailing slash, "." for empty.
pub(super) fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// `path.Base`: the last element, trailing slashes removed; "." for empty, "/" for all slashes.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// `path.Dir`: everything but the last element, cleaned.
fn dir(p: &str) -> String {
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(head)
}

/// `path.Ext`: the suffix from the last `.` of the last element.
fn ext(p: &str) -> String {
    let last = p.rsplit('/').next().unwrap_or(p);
    last.rfind('.').map(|i| last[i..].to_string()).unwrap_or_default()
}

/// A path function of one string.
type PathFn = (&'static str, fn(&str) -> String);

pub(super) fn register(m: &mut FuncMap) {
    let fns: [PathFn; 8] = [
        ("base", base),
        ("dir", dir),
        ("ext", ext),
        ("clean", clean),
        ("osBase", base),
        ("osDir", dir),
        ("osExt", ext),
        ("osClean", clean),
    ];
    for (name, f) in fns {
        add(m, name, move |a| {
            want(name, a, 1)?;
            Ok(s(f(&string(name, &a[0])?)))
        });
    }
    for name in ["isAbs", "osIsAbs"] {
        add(m, name, move |a| {
            want(name, a, 1)?;
            Ok(Value::Bool(string(name, &a[0])?.starts_with('/')))
        });
    }
}
